package report

import (
	"fmt"
	"strings"

	"github.com/warroom-ir/warroom/state"
)

// AWSQuarantine is AWS's own quarantine of a user, as the journal shows it
// (CloudTrail's attachment and the inventory), with what its policy denies
// of the calls that plant or restore footholds and what it does not.
type AWSQuarantine struct {
	Sighting state.QuarantineSighting `json:"sighting"`
	Coverage state.QuarantineCoverage `json:"coverage"`
}

// quarantine fills AWSQuarantine (CloudTrail first, then the inventory)
// and Passwords from the events (raw records: without opts.Raw the
// records cannot be read and only the inventory is used).
func (r *Report) quarantine(s *state.Store, opts Options) {
	var seen []state.QuarantineSighting
	if opts.Raw != nil {
		ct, problems := state.FindQuarantines(s.Events, opts.Raw)
		seen = append(seen, ct...)
		for _, p := range problems {
			r.Problems = append(r.Problems, Problem{What: "AWS quarantine: " + p.Error()})
		}
		pw, problems := state.FindPasswordChanges(s.Events, s.Incident.Began, s.At, opts.Raw)
		r.Passwords = pw
		for _, p := range problems {
			r.Problems = append(r.Problems, Problem{What: "passwords: " + p.Error()})
		}
	}
	seen = append(seen, s.InventoryQuarantines()...)
	for _, sg := range seen {
		r.AWSQuarantine = append(r.AWSQuarantine, AWSQuarantine{Sighting: sg, Coverage: state.CoverActions(sg.ARN, state.FootholdActions())})
	}
}

// renderQuarantine writes the sections "AWS's quarantine" and "Console
// passwords", each when the journal holds something for it.
func renderQuarantine(sb *strings.Builder, r *Report, st style) {
	e := st.esc
	if len(r.AWSQuarantine) > 0 {
		sb.WriteString(st.heading(2, "AWS's quarantine"))
		sb.WriteString(st.para("AWS attached its quarantine policy to these users (it does so when it finds a key in public). " +
			"The policy denies a fixed list of actions, not everything: it is where containment starts, not containment."))
		rows := [][]string{}
		for _, q := range r.AWSQuarantine {
			sg := q.Sighting
			by := sg.By
			if by == "" {
				by = "(inventory)"
			}
			rows = append(rows, []string{e(sg.User), e(sg.Policy), e(sg.Source), ts(sg.At), e(by)})
		}
		sb.WriteString(st.table([]string{"user", "policy", "seen in", "at", "attached by"}, rows))
		done := map[string]bool{}
		for _, q := range r.AWSQuarantine {
			if done[q.Coverage.Policy] {
				continue
			}
			done[q.Coverage.Policy] = true
			sb.WriteString(st.para(e(q.Coverage.String())))
		}
	}
	if len(r.Passwords) > 0 {
		sb.WriteString(st.heading(2, "Console passwords"))
		sb.WriteString(st.para(fmt.Sprintf("Console passwords created or changed during the incident (%d), and by whom, from CloudTrail.", len(r.Passwords))))
		rows := [][]string{}
		for _, p := range r.Passwords {
			by := p.By
			if p.Ours {
				by += " (warroom)"
			}
			reset := ""
			if p.ResetRequired != nil {
				reset = "no"
				if *p.ResetRequired {
					reset = "yes"
				}
			}
			rows = append(rows, []string{ts(p.Time), e(p.User), e(p.Event), e(by), e(p.SourceIP), reset})
		}
		sb.WriteString(st.table([]string{"time", "user", "event", "by", "source IP", "reset at next sign-in"}, rows))
	}
}
