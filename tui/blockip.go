package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// TargetIPs is block-ip's target: source addresses or CIDR blocks in ID
// (space separated); empty: the suspect families' addresses, as the
// containment engine reads them from the journal.
const TargetIPs TargetKind = "ips"

// Actions of :block-ip.
const (
	ActionBlockIP   = "block-ip"
	ActionUnblockIP = "unblock-ip"
)

// requestBlockIP plans :block-ip [IP…] [--undo]: the addresses need no
// selection.
func (m *Model) requestBlockIP(arg string) tea.Cmd {
	if m.opts.readOnly() {
		m.flash(m.refusal(m.keys.Deactivate), true)
		return nil
	}
	action := ActionBlockIP
	var ips []string
	for _, f := range strings.Fields(strings.ReplaceAll(arg, ",", " ")) {
		if f == "--undo" {
			action = ActionUnblockIP
			continue
		}
		ips = append(ips, f)
	}
	t := Target{Kind: TargetIPs, ID: strings.Join(ips, " ")}
	id := m.nextID()
	m.planReq = id
	what := "the suspect families' source IPs"
	if len(ips) > 0 {
		what = clean(t.ID)
	}
	m.flash("planning "+action+" for "+what+"…", false)
	c, ctx := m.opts.Containment, m.ctx
	return func() tea.Msg {
		p, err := c.Plan(ctx, action, t)
		return resultMsg{ID: id, Kind: taskPlan, Plan: p, Err: err}
	}
}
