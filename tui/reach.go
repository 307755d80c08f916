package tui

import (
	"context"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// Advisor reads, on the responder's demand (b), what a credential could
// reach and what it used — IAM Access Advisor for a principal or a key's
// family — and a resource's AWS Config history. Each method reads AWS and
// journals what it read (principal.reach, config.history facts), which
// reach the console through the Feed like every fact; it returns a line
// for the flash. Both are called only inside a tea.Cmd.
type Advisor interface {
	Reach(ctx context.Context, t Target) (string, error)
	ConfigHistory(ctx context.Context, t Target) (string, error)
}

// requestReach starts the read the selection calls for: Access Advisor
// for a key (its family's users and roles) or a principal, Config history
// for a resource.
func (m *Model) requestReach() tea.Cmd {
	if m.opts.Advisor == nil {
		m.flash("reach needs AWS: this console reads a journal only", true)
		return nil
	}
	s, ok := m.selected()
	if !ok {
		m.flash("nothing selected to read the reach of", true)
		return nil
	}
	t, ok := s.target()
	if !ok || t.Kind == TargetAccount || t.Kind == TargetRoot {
		m.flash("reach reads a key, a user, a role or a resource: select one", true)
		return nil
	}
	a, ctx, id := m.opts.Advisor, m.ctx, m.nextID()
	if t.Kind == TargetResource {
		m.flash("reading the AWS Config history of "+t.ID+" in "+t.Region+"…", false)
		return func() tea.Msg {
			text, err := a.ConfigHistory(ctx, t)
			return resultMsg{ID: id, Kind: taskReach, Text: text, Err: err}
		}
	}
	m.flash("reading what "+t.ID+" can reach (IAM Access Advisor)…", false)
	return func() tea.Msg {
		text, err := a.Reach(ctx, t)
		return resultMsg{ID: id, Kind: taskReach, Text: text, Err: err}
	}
}

// reachDone says how a reach read ended; its facts come through the Feed.
func (m *Model) reachDone(r resultMsg) {
	if r.Err != nil {
		m.flash("reach: "+r.Err.Error(), true)
		return
	}
	m.flash(r.Text, false)
}

// refreshDetail rebuilds an open detail view when entries bring a reach
// or a Config history: it shows them as soon as they are folded.
func (m *Model) refreshDetail(entries []journal.Entry) {
	if m.detail == nil || m.detail.sel.kind == selEvent {
		return
	}
	for _, e := range entries {
		if k := state.Kind(e.Kind); k == state.KindReach || k == state.KindConfigHistory {
			top, w, h := m.detail.top, m.detail.w, m.detail.h
			m.detail = newDetail(m.vctx(), m.detail.sel)
			m.detail.top, m.detail.w, m.detail.h = top, w, h
			return
		}
	}
}

// reach draws a principal's Access Advisor report: the services its
// policies allow, used ones first (most recent first), then the ones never
// used.
func (d *detailView) reach(v *viewCtx, arn string) {
	rd, ok := v.store.Reaches[arn]
	if !ok {
		return
	}
	r := rd.V
	head := "reach (IAM Access Advisor, read " + ago(v.now, r.TakenAt) + "):"
	d.lines = append(d.lines, "", head)
	switch {
	case r.Error != nil:
		d.lines = append(d.lines, "  ✗ "+clean(r.Error.Call)+" "+clean(r.Error.Class)+": "+clean(r.Error.Error))
		return
	case r.Status != state.JobCompleted:
		d.lines = append(d.lines, "  ! job "+clean(r.JobID)+" "+clean(r.Status))
		return
	}
	d.lines = append(d.lines, "  "+itoa(len(r.Services))+" services allowed, "+itoa(r.UsedCount())+" used")
	used, unused := []state.ServiceReach{}, []string{}
	for _, s := range r.Services {
		if s.Used() {
			used = append(used, s)
		} else {
			unused = append(unused, s.Namespace)
		}
	}
	sortUsed(used)
	for _, s := range used {
		line := "  ● " + fit(clean(s.Namespace), 14) + " " + clock(s.LastUsed, true) + " UTC  " + fit(clean(s.Region), 14)
		if s.Entity != "" && s.Entity != arn {
			line += " via " + clean(shortARN(s.Entity))
		}
		d.lines = append(d.lines, line)
		var acts []string
		for _, a := range s.Actions {
			if !a.LastUsed.IsZero() {
				acts = append(acts, a.Name)
			}
		}
		if len(acts) > 0 {
			d.lines = append(d.lines, "      actions: "+clean(strings.Join(acts, ", ")))
		}
	}
	if len(unused) > 0 {
		d.lines = append(d.lines, "  ○ allowed, never used: "+clean(strings.Join(unused, ", ")))
	}
}

// sortUsed orders services by last use, newest first.
func sortUsed(s []state.ServiceReach) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].LastUsed.After(s[j-1].LastUsed); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// configHistory draws the AWS Config histories read of a resource id.
func (d *detailView) configHistory(v *viewCtx, id string) {
	for _, hd := range v.store.ConfigHistoriesOf(id) {
		h := hd.V
		d.lines = append(d.lines, "", "config history in "+clean(h.Region)+" ("+clean(h.ResourceType)+", read "+ago(v.now, h.TakenAt)+"):")
		switch {
		case h.Error != nil:
			d.lines = append(d.lines, "  ✗ "+clean(h.Error.Call)+" "+clean(h.Error.Class)+": "+clean(h.Error.Error))
			continue
		case h.Recording == state.ConfigNoRecorder || h.Recording == state.ConfigNotRecording:
			d.lines = append(d.lines, "  ! AWS Config is not recording here ("+h.Recording+")")
			continue
		case h.NotDiscovered:
			d.lines = append(d.lines, "  ! not discovered by AWS Config")
			continue
		}
		for _, it := range h.Items {
			d.lines = append(d.lines, "  "+clock(it.CaptureTime, true)+" UTC  "+clean(it.Status))
		}
	}
}
