package tui

import (
	"strings"

	"github.com/warroom-ir/warroom/state"
)

// openImpact opens the impact watch (':impact') in the text view: for each
// credential warroom deactivated or whose sessions it revoked, the calls
// made with it since, grouped by source address and user agent, matched
// against its use before the incident, and whether it is safe to delete
// (state.Store.Impact, a fold: no AWS call, no file read; the command line's
// 'warroom impact --check' adds IAM's last use). A replay judges as of the
// fact it stands at.
func (m *Model) openImpact() {
	now := m.opts.Now()
	if m.opts.Replay != nil {
		now = m.store.At
	}
	im := m.store.Impact(state.ImpactOptions{QuietFor: m.opts.ImpactQuietFor, Now: now})
	if len(im) == 0 {
		m.flash("impact: no key deactivated or sessions revoked yet", true)
		return
	}
	var b strings.Builder
	b.WriteString("After containment: calls with each contained credential since, by source address and user agent.\n")
	b.WriteString("● matches use before the incident (likely its owner's application)   ▲ new (likely the attacker)\n")
	for i := range im {
		b.WriteString("\n")
		for _, l := range im[i].Lines() {
			b.WriteString(l + "\n")
		}
	}
	m.text = newTextView("impact", b.String())
	m.applySizes()
}
