package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// GuardDuty is what Amazon GuardDuty said, from the journal's guardduty
// facts: the findings tied to the suspect family, the others counted, and
// where GuardDuty is not enabled (it saw nothing there) or could not be read.
type GuardDuty struct {
	ReadAt     time.Time `json:"read_at"`
	NotEnabled []string  `json:"not_enabled"`
	// Unread names the Regions whose last read failed, with why.
	Unread []string `json:"unread,omitempty"`
	// Family are the findings that name a key, principal, instance or
	// address of a suspect family; Others the rest (bounded).
	Family         []Finding `json:"family"`
	Others         []Finding `json:"others,omitempty"`
	OthersNotShown int       `json:"others_not_shown,omitempty"`
}

// Finding is one GuardDuty finding as the report shows it. Title and names
// may be the attacker's.
type Finding struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Region    string    `json:"region"`
	Severity  float64   `json:"severity"`
	Level     string    `json:"severity_word"`
	Title     string    `json:"title,omitempty"`
	Key       string    `json:"access_key_id,omitempty"`
	User      string    `json:"user_name,omitempty"`
	Instance  string    `json:"instance_id,omitempty"`
	RemoteIP  string    `json:"remote_ip,omitempty"`
	Count     int       `json:"count"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	Ties      []string  `json:"ties,omitempty"` // "key AKIA…", "ip 203.0.113.7"
}

// othersShown bounds the findings not tied to the family that are listed.
const othersShown = 50

func (r *Report) guardduty(s *state.Store, sus *state.SuspectSet, opts Options) {
	if len(s.GuardDuty) == 0 {
		return
	}
	g := &GuardDuty{NotEnabled: s.GuardDutyOff(), Family: []Finding{}}
	for _, d := range s.GuardDuty {
		if d.At.After(g.ReadAt) {
			g.ReadAt = d.At
		}
		switch d.V.Status {
		case state.GuardDutyEnabled, state.GuardDutyNotEnabled:
		default:
			g.Unread = append(g.Unread, d.V.Region+" "+d.V.Status+": "+d.V.Error)
		}
	}
	slices.Sort(g.Unread)
	var cr *state.Creators
	if opts.Raw != nil {
		for _, f := range s.GuardDutyFindings() {
			if f.InstanceID != "" {
				cr, _ = state.FindCreators(s.Events, opts.Raw) // its problems are the Regions section's to report
				break
			}
		}
	}
	for _, t := range s.TiedFindings(sus, cr) {
		f := Finding{ID: t.ID, Type: t.Type, Region: t.Region, Severity: t.Severity, Level: t.SeverityWord(), Title: t.Title,
			Key: t.AccessKeyID, User: t.UserName, Instance: t.InstanceID, RemoteIP: t.RemoteIP, Count: t.Count,
			FirstSeen: t.FirstSeen, LastSeen: t.LastSeen}
		for _, tie := range t.Ties {
			f.Ties = append(f.Ties, tie.String())
		}
		switch {
		case t.Family():
			g.Family = append(g.Family, f)
		case len(g.Others) < othersShown:
			g.Others = append(g.Others, f)
		default:
			g.OthersNotShown++
		}
	}
	r.GuardDuty = g
}

// renderGuardDuty writes the section "GuardDuty", when GuardDuty was read.
func renderGuardDuty(sb *strings.Builder, r *Report, st style) {
	g := r.GuardDuty
	if g == nil {
		return
	}
	e := st.esc
	sb.WriteString(st.heading(2, "GuardDuty"))
	sb.WriteString(st.para("Amazon GuardDuty's findings, as last read " + ts(g.ReadAt) + " in every enabled Region; a finding is the family's when it names one of its keys, a suspect principal, an instance it launched or an address it called from."))
	if len(g.NotEnabled) > 0 {
		sb.WriteString(st.para("GuardDuty is not enabled in " + e(strings.Join(g.NotEnabled, ", ")) + ": it saw nothing the attacker did there."))
	}
	for _, u := range g.Unread {
		sb.WriteString(st.para("Not read: " + e(u)))
	}
	table := func(fs []Finding) {
		rows := [][]string{}
		for _, f := range fs {
			names := []string{}
			for _, n := range []string{f.Key, f.User, f.Instance, f.RemoteIP} {
				if n != "" {
					names = append(names, n)
				}
			}
			rows = append(rows, []string{strconv.FormatFloat(f.Severity, 'f', -1, 64) + " " + f.Level, e(f.Type), e(f.Region),
				e(strings.Join(names, ", ")), strconv.Itoa(f.Count), ts(f.FirstSeen), ts(f.LastSeen), e(strings.Join(f.Ties, "; ")), e(f.Title)})
		}
		sb.WriteString(st.table([]string{"severity", "type", "region", "names", "count", "first seen", "last seen", "tied by", "title"}, rows))
	}
	if len(g.Family) == 0 {
		sb.WriteString(st.para("No finding names the suspect family."))
	} else {
		sb.WriteString(st.heading(3, "Findings tied to the family"))
		table(g.Family)
	}
	if len(g.Others) > 0 {
		sb.WriteString(st.heading(3, "Other findings"))
		table(g.Others)
		if g.OthersNotShown > 0 {
			sb.WriteString(st.para(fmt.Sprintf("And %d more.", g.OthersNotShown)))
		}
	}
}
