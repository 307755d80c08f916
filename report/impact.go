package report

import (
	"fmt"
	"strings"

	"github.com/warroom-ir/warroom/state"
)

// impact fills After containment: the impact watch over every credential
// warroom deactivated or whose sessions it revoked, as of the report's
// last fact (state.Store.Impact).
func (r *Report) impact(s *state.Store, opts Options) {
	r.AfterContainment = s.Impact(state.ImpactOptions{Raw: opts.Raw})
}

// renderImpact writes the section "After containment", when a credential
// was contained.
func renderImpact(sb *strings.Builder, r *Report, st style) {
	if len(r.AfterContainment) == 0 {
		return
	}
	e := st.esc
	sb.WriteString(st.heading(2, "After containment"))
	sb.WriteString(st.para("Every call made with a deactivated key or a revoked session since its containment, by source address and user agent. " +
		"A group that used the credential the same way before the incident is likely its owner's application, which needs a new credential " +
		"before the old one is deleted; a new one is likely the attacker."))
	for _, im := range r.AfterContainment {
		sb.WriteString(st.heading(3, e(im.Credential)))
		judged := "NOT YET SAFE TO DELETE"
		if im.SafeToDelete {
			judged = "safe to delete"
		}
		start := "unknown"
		if !im.LeakAt.IsZero() {
			start = ts(im.LeakAt) + " (" + e(im.LeakFrom) + ")"
		}
		rows := [][]string{
			{"contained", e(im.Action) + " at " + ts(im.ContainedAt) + " (" + e(im.ContainedBy) + ")"},
			{"incident start", start},
			{"calls before it", fmt.Sprint(im.Baseline)},
			{"judgement", judged + ": " + e(im.Why)},
		}
		switch {
		case len(im.LastUsedErrors) > 0:
			for _, ce := range im.LastUsedErrors {
				rows = append(rows, []string{"IAM last use", "not read: " + e(ce.Call+": "+ce.Error)})
			}
		case !im.LastUsedAt.IsZero():
			rows = append(rows, []string{"IAM last use", ts(im.LastUsed) + " (read " + ts(im.LastUsedAt) + ")"})
		}
		sb.WriteString(st.table([]string{"", ""}, rows))
		if len(im.Groups) == 0 {
			sb.WriteString(st.para("No call since containment."))
			continue
		}
		var g [][]string
		for _, x := range im.Groups {
			match := "new"
			if x.Match == state.MatchBefore {
				match = "matches use before the incident"
			}
			if x.Note != "" {
				match += " (" + e(x.Note) + ")"
			}
			g = append(g, []string{e(x.SourceIP), e(x.UserAgent), match, fmt.Sprintf("%d (%d failed)", x.Calls, x.Failed),
				e(strings.Join(x.Errors, ", ")), ts(x.First) + " – " + ts(x.Last)})
		}
		sb.WriteString(st.table([]string{"source", "user agent", "match", "calls", "errors", "when"}, g))
	}
}
