package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// Trail is one trail's log-file integrity, from its newest trail.integrity
// fact: whether the CloudTrail files the investigation read are the ones
// CloudTrail delivered.
type Trail struct {
	Source            string    `json:"source"`
	CheckedAt         time.Time `json:"checked_at"`
	Start             time.Time `json:"start"`
	End               time.Time `json:"end"`
	State             string    `json:"state"` // intact, broken, gaps
	SignaturesChecked bool      `json:"signatures_checked"`
	Note              string    `json:"note,omitempty"`
	// Why says why the state is unsure (no digest yet) or unchecked (the
	// trails or the bucket could not be read).
	Why          string               `json:"why,omitempty"`
	Digests      string               `json:"digests"` // "23/24 valid"
	Logs         string               `json:"logs"`
	Gaps         []state.TrailGap     `json:"gaps,omitempty"`
	Problems     []state.TrailProblem `json:"problems,omitempty"`
	MoreProblems int                  `json:"more_problems,omitempty"`
}

// trailsShown bounds the problems the report lists per trail.
const trailsShown = 50

func (r *Report) trails(s *state.Store) {
	for _, src := range s.IntegritySources() {
		d := s.Integrity[src]
		v := d.V
		t := Trail{Source: v.Source, CheckedAt: d.At, Start: v.Start, End: v.End, State: v.Word(), SignaturesChecked: v.SignaturesChecked,
			Note: v.Note, Digests: fmt.Sprintf("%d/%d valid", v.DigestsValid, v.Digests), Logs: fmt.Sprintf("%d/%d valid", v.LogsValid, v.Logs),
			Gaps: v.Gaps, Problems: v.Problems, MoreProblems: v.MoreProblems, Why: v.Failed}
		if t.Why == "" {
			t.Why = v.Unsure
		}
		if len(t.Problems) > trailsShown {
			t.MoreProblems += len(t.Problems) - trailsShown
			t.Problems = t.Problems[:trailsShown]
		}
		r.Trails = append(r.Trails, t)
	}
}

// renderTrails writes the section "CloudTrail log integrity", when a trail was validated.
func renderTrails(sb *strings.Builder, r *Report, st style) {
	if len(r.Trails) == 0 {
		return
	}
	e := st.esc
	sb.WriteString(st.heading(2, "CloudTrail log integrity"))
	sb.WriteString(st.para("Each trail's log files checked against CloudTrail's signed, chained digest files (warroom trail validate): " +
		"a log file no valid digest vouches for may have been planted or edited by someone with write access to the bucket."))
	for _, t := range r.Trails {
		sb.WriteString(st.heading(3, e(t.Source)))
		sig := "verified"
		switch {
		case t.SignaturesChecked:
		case t.Note != "":
			sig = "NOT checked: " + e(t.Note)
		case t.Digests == "0/0 valid":
			sig = "none to check"
		default:
			sig = "NOT checked"
		}
		word := strings.ToUpper(t.State)
		if t.State == "intact" {
			word = "intact"
		}
		if t.Why != "" {
			word += ": " + e(t.Why)
		}
		sb.WriteString(st.table([]string{"", ""}, [][]string{
			{"state", word},
			{"range", ts(t.Start) + " – " + ts(t.End)},
			{"checked", ts(t.CheckedAt)},
			{"digest files", t.Digests},
			{"log files", t.Logs},
			{"signatures", sig},
		}))
		if len(t.Gaps) > 0 {
			rows := [][]string{}
			for _, g := range t.Gaps {
				rows = append(rows, []string{e(g.Chain), ts(g.From), ts(g.To)})
			}
			sb.WriteString(st.para("Gaps: times no digest covers (validation off, logging stopped, or the trail recreated)."))
			sb.WriteString(st.table([]string{"chain", "from", "to"}, rows))
		}
		if len(t.Problems) > 0 {
			rows := [][]string{}
			for _, p := range t.Problems {
				rows = append(rows, []string{e(p.What), e(p.Bucket + "/" + p.Key), e(p.Status), e(p.Why)})
			}
			sb.WriteString(st.table([]string{"file", "object", "status", "why"}, rows))
			if t.MoreProblems > 0 {
				sb.WriteString(st.para(fmt.Sprintf("And %d more.", t.MoreProblems)))
			}
		}
	}
}
