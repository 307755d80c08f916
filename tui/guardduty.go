package tui

import (
	"strconv"
	"strings"

	"github.com/warroom-ir/warroom/state"
)

// GuardDuty in the console: a status line part (the family's findings and
// their worst severity, where GuardDuty is not enabled or not read), a
// line in an event's detail for each finding naming its key or address,
// and `:findings`, every finding in full, most severe first.

// severityGlyph marks a finding's severity with a glyph and its word.
func severityGlyph(f state.GuardDutyFinding) string {
	switch f.SeverityWord() {
	case "critical":
		return "▲▲ critical"
	case "high":
		return "▲ high"
	case "medium":
		return "◆ medium"
	}
	return "· low"
}

// guarddutyPart is GuardDuty for the status line: "GD ▲ high 2 family/5"
// (the worst severity among the family's findings, their count, of all),
// "GD off: ap-east-1 +18" (where it is not enabled), "✗ eu-west-1 denied"
// (where it could not be read). Empty when GuardDuty was never read.
func guarddutyPart(s *state.Store, x *state.SuspectSet) string {
	if len(s.GuardDuty) == 0 {
		return ""
	}
	all := s.TiedFindings(x, nil)
	var worst *state.TiedFinding
	fam := 0
	for i := range all {
		if all[i].Family() {
			fam++
			if worst == nil {
				worst = &all[i] // most severe first
			}
		}
	}
	out := "GD"
	switch {
	case worst != nil:
		out += " " + severityGlyph(worst.GuardDutyFinding) + " " + itoa(fam) + " family/" + itoa(len(all))
	case len(all) > 0:
		out += " " + itoa(len(all)) + " findings, none of the family"
	default:
		out += " no findings"
	}
	if off := s.GuardDutyOff(); len(off) > 0 {
		out += " · off: " + off[0]
		if len(off) > 1 {
			out += " +" + itoa(len(off)-1)
		}
	}
	for _, u := range s.GuardDutyUnread() {
		out += " · ✗ " + clean(u)
	}
	return out
}

// gdCache is the GuardDuty part as of a store's line and suspect set:
// tying findings to the family reads posting lists, not a draw's work.
type gdCache struct {
	seq  int64
	sus  *state.SuspectSet
	part string
	ok   bool
}

// guarddutyPart is the status line's part, from the cache while neither
// the store nor the suspect set changed.
func (m *Model) guarddutyPart(v *viewCtx) string {
	c := &m.gd
	if !c.ok || c.seq != m.store.Seq || c.sus != v.sus {
		*c = gdCache{seq: m.store.Seq, sus: v.sus, part: guarddutyPart(m.store, v.sus), ok: true}
	}
	return c.part
}

// findingsOf returns the findings that name key or ip.
func findingsOf(s *state.Store, key, ip string) []state.GuardDutyFinding {
	var out []state.GuardDutyFinding
	for _, f := range s.GuardDutyFindings() {
		if key != "" && f.AccessKeyID == key || ip != "" && f.RemoteIP == ip {
			out = append(out, f)
		}
	}
	return out
}

// findingsText is `:findings`: where GuardDuty is off or unread, then
// every finding in full, the family's first. Every string is cleaned by
// the text view.
func findingsText(v *viewCtx) string {
	var sb strings.Builder
	s := v.store
	if len(s.GuardDuty) == 0 {
		return "GuardDuty has not been read yet (the console reads it every few minutes; warroom findings reads it now)."
	}
	if off := s.GuardDutyOff(); len(off) > 0 {
		sb.WriteString("! GuardDuty is not enabled in " + strings.Join(off, ", ") + ": it sees nothing there.\n")
	}
	for _, u := range s.GuardDutyUnread() {
		sb.WriteString("✗ GuardDuty could not be read in " + u + ": " + s.GuardDuty[strings.Fields(u)[0]].V.Error + "\n")
	}
	all := s.TiedFindings(v.sus, nil)
	if len(all) == 0 {
		sb.WriteString("\nNo findings.\n")
		return sb.String()
	}
	for _, fam := range []bool{true, false} {
		for _, f := range all {
			if f.Family() != fam {
				continue
			}
			sb.WriteString("\n" + severityGlyph(f.GuardDutyFinding) + " " + strconv.FormatFloat(f.Severity, 'f', -1, 64) + "  " + f.Type)
			if fam {
				sb.WriteString("   » suspect family")
			}
			sb.WriteString("\n")
			line := func(label, value string) {
				if value != "" {
					sb.WriteString("  " + fit(label, 12) + " " + value + "\n")
				}
			}
			line("title", f.Title)
			line("region", f.Region)
			line("access key", strings.TrimSpace(f.AccessKeyID+" "+paren(strings.TrimSpace(f.UserType+" "+f.UserName))))
			line("instance", f.InstanceID)
			line("remote ip", f.RemoteIP)
			line("api", strings.TrimSpace(f.API+" "+paren(f.ServiceName)))
			line("domain", f.Domain)
			line("count", itoa(f.Count))
			if !f.FirstSeen.IsZero() {
				line("seen", clock(f.FirstSeen, true)+" – "+clock(f.LastSeen, true)+" UTC")
			}
			var ties []string
			for _, t := range f.Ties {
				ties = append(ties, t.String())
			}
			line("tied by", strings.Join(ties, ", "))
			line("description", f.Desc)
			line("finding id", f.ID)
		}
	}
	return sb.String()
}
