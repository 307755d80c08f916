package tui

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/warroom-ir/warroom/state"
)

// detailView shows one item in full: an event with its classification and
// raw record (read from the journal by a Cmd), a key with its family, a
// principal, a Region, a resource, or a journal fact.
type detailView struct {
	title string
	sel   selection
	// lines are cleaned text; they are wrapped to the width when drawn.
	lines   []string
	raw     []string // the pretty raw record, cleaned, once read
	rawNote string   // "reading…" or the error
	// req is the id of the raw-record request this view waits for (0: none).
	req     int
	top     int
	w, h    int
	wrapped []string
	wrapW   int
}

// newDetail builds the detail of a selection.
func newDetail(v *viewCtx, s selection) *detailView {
	d := &detailView{sel: s}
	add := func(label, value string) {
		if value != "" {
			d.lines = append(d.lines, fit(clean(label), 12)+" "+clean(value))
		}
	}
	blank := func() { d.lines = append(d.lines, "") }
	switch s.kind {
	case selEvent:
		e := s.event
		d.title = "Event " + clean(e.Name)
		add("event", e.Name+"  ("+e.Source+")")
		add("time", clock(e.Time, true)+" UTC")
		add("region", e.Region)
		add("principal", e.Principal)
		add("identity", strings.TrimSpace(e.IdentityType+" "+e.User))
		k := e.AccessKeyID
		if v.sus.Has(k, e.Principal) {
			k += "   » suspect family"
		}
		add("access key", k)
		add("source ip", e.SourceIP)
		add("user agent", e.UserAgent)
		if e.ErrorCode != "" {
			add("error", e.ErrorCode+": "+e.ErrorMessage)
		}
		add("event id", e.EventID)
		var flags []string
		if e.Ours {
			flags = append(flags, "ours (the console's own call)")
		}
		if e.Minted {
			flags = append(flags, "minted a temporary key")
		}
		if e.Addendum {
			flags = append(flags, "corrected copy (addendum)")
		}
		if e.Impersonation {
			flags = append(flags, "IMPERSONATION: claims warroom, not warroom's credentials")
		}
		if e.Conflict {
			flags = append(flags, "CONFLICT: copies differ where no addendum may")
		}
		add("flags", strings.Join(flags, ", "))
		if file, ok := v.store.UnvouchedEventFile(e.EventID); ok {
			if file == "" {
				file = "(the validation did not name it)"
			}
			add("integrity", markUnvouched+" from a log file no valid digest vouches for: "+file)
		}
		for i, c := range v.store.Events.Copies(e.ID) {
			line := fmt.Sprintf("journal offset %d record %d: %s", c.Ref.Offset, c.Ref.Index, c.Verdict)
			if c.Reason != "" {
				line += " (addendum " + c.Reason + ")"
			}
			if len(c.Differs) > 0 {
				line += "; differs in " + strings.Join(c.Differs, ", ")
			}
			add(fmt.Sprintf("copy %d", i+1), line)
		}
		if f := state.ClassifyEvent(&e); f.Class != state.ClassNone {
			c := classGlyph[f.Class] + " " + f.Class.String()
			if f.Rule != "" {
				c += ` — rule "` + f.Rule + `" by ` + f.Authors
				if f.Source != "" {
					c += " (" + f.Source + ", Detection Rule License 1.1)"
				}
			}
			add("class", c)
		}
		for _, f := range findingsOf(v.store, e.AccessKeyID, e.SourceIP) {
			add("guardduty", severityGlyph(f)+" "+f.Type+" in "+f.Region+" (:findings)")
		}
		if e.AccessKeyID != "" {
			d.family(v, e.AccessKeyID)
		}
		d.rawNote = "raw record: not available"
	case selKey:
		d.title = "Access key " + clean(s.key)
		add("key", s.key)
		add("owner", s.arn)
		if l := s.lineage; l != nil {
			add("minted by", l.Issuer+" with "+l.Call+" at "+clock(l.MintedAt, true))
			add("expiry", expiry(v.now, l.Expires))
			add("role", l.RoleARN)
			add("session", l.SessionName)
			add("event id", l.EventID)
		}
		if v.sus.IsMarked(s.key) {
			add("suspect", "marked: "+v.store.Suspects[s.key].V.Reason)
		} else if v.sus.Has(s.key, "") {
			add("suspect", "of a suspect family")
		}
		if f := keyFilter(s.key); f != nil {
			add("events", thousands(v.store.Events.QueryAt(f, v.now).Len())+" signed with this key")
		}
		d.family(v, s.key)
		for _, p := range v.store.FamilyPrincipals(s.key) {
			d.reach(v, p) // b on a key reads its family's users and roles
		}
	case selUser, selRole, selRoot:
		d.principal(v, s)
	case selAccount:
		d.account(v, s)
	case selSSOUser:
		d.ssoUser(v, s)
	case selRegion:
		d.title = "Region " + clean(s.region)
		add("region", s.region)
		af, _ := v.store.Account(s.account)
		if s.account != "" {
			d.title += " · account " + clean(s.account)
			add("account", strings.TrimSpace(s.account+" "+accountName(v.store, s.account)))
		}
		for _, r := range af.Regions {
			if r.Name == s.region {
				add("opt-in", r.OptInStatus)
			}
		}
		if h, ok := af.Health["lookup:"+s.region]; ok {
			add("stream", h.V.Status+", "+span(liveLag(h.V, v.now))+" behind"+suffix(": ", h.V.Error))
		}
		blank()
		sweeps := v.store.SweepList()
		if s.account != "" && s.account != v.store.Home() {
			sweeps = sweeps[:0:0]
			for _, k := range slices.SortedFunc(maps.Keys(af.Sweeps), func(a, b state.SweepKey) int {
				return cmp.Or(strings.Compare(a.Region, b.Region), strings.Compare(a.Kind, b.Kind))
			}) {
				sweeps = append(sweeps, af.Sweeps[k])
			}
		}
		for _, sw := range sweeps {
			if sw.V.Region != s.region {
				continue
			}
			if sw.V.Error != nil {
				add(kindLabel(sw.V.Kind), "✗ "+sw.V.Error.Class+": "+sw.V.Error.Error)
			} else {
				add(kindLabel(sw.V.Kind), itoa(len(sw.V.Resources))+" (swept "+ago(v.now, sw.V.TakenAt)+")")
			}
		}
	case selResource:
		r := s.resource
		d.title = kindLabel(s.kindName) + " " + clean(r.ID)
		add("id", r.ID)
		add("name", r.Name)
		add("arn", r.ARN)
		add("region", s.region)
		add("state", r.State)
		if !r.Created.IsZero() {
			c := clock(r.Created, true) + " UTC"
			if isNew(v, &r) {
				c += "   + new since the incident began"
			}
			add("created", c)
		}
		keys := make([]string, 0, len(r.Attrs))
		for k := range r.Attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			add(k, r.Attrs[k])
		}
		for _, t := range r.Tags {
			add("tag", t.Key+" = "+t.Value)
		}
		d.configHistory(v, r.ID)
	case selTimeline:
		it := s.item
		d.title = "Journal fact " + itoa(int(it.Seq))
		add("seq", itoa(int(it.Seq)))
		add("at", clock(it.At, true)+" UTC")
		add("kind", string(it.Kind))
		add("by", it.By)
		add("summary", it.Summary)
		for _, a := range v.store.Actions {
			if a.IntentSeq == it.Seq {
				d.action(v, a)
			}
		}
	}
	return d
}

// family lists a key's temporary-key family with expiry countdowns.
func (d *detailView) family(v *viewCtx, keyID string) {
	fam := v.store.Events.Family(keyID)
	if len(fam) < 2 {
		return
	}
	d.lines = append(d.lines, "", "temporary-key family:")
	for _, l := range fam[1:] {
		line := strings.Repeat("  ", l.Depth) + clean(l.Key) + "  " + clean(l.Call)
		if l.RoleARN != "" {
			line += " " + clean(shortARN(l.RoleARN))
		}
		line += "  " + expiry(v.now, l.Expires)
		d.lines = append(d.lines, line)
	}
}

func (d *detailView) principal(v *viewCtx, s selection) {
	add := func(label, value string) {
		if value != "" {
			d.lines = append(d.lines, fit(clean(label), 12)+" "+clean(value))
		}
	}
	defer func() {
		// The blast radius and Config history, once read (b), last.
		d.reach(v, s.arn)
		if s.kind != selRoot {
			d.configHistory(v, s.name)
		}
	}()
	d.title = clean(s.name)
	add("arn", s.arn)
	if v.sus.IsMarked(s.arn) {
		add("suspect", "marked: "+v.store.Suspects[s.arn].V.Reason)
	}
	inv := v.store.Inventory
	if s.account != "" && s.account != v.store.Home() {
		af, _ := v.store.Account(s.account)
		inv = af.Inventory
		add("account", strings.TrimSpace(s.account+" "+accountName(v.store, s.account)))
	}
	if inv == nil {
		return
	}
	policies := func(ps []state.Policy) {
		for _, p := range ps {
			t := p.Name
			if p.Group != "" {
				t += " (via group " + p.Group + ")"
			}
			if p.Inline {
				t += " inline"
			}
			if p.Admin {
				t += "  A admin-equivalent"
			}
			add("policy", t)
		}
	}
	for _, u := range inv.Users {
		if u.ARN != s.arn {
			continue
		}
		add("created", clock(u.Created, true)+" UTC")
		for _, sg := range v.store.InventoryQuarantines() {
			if sg.User == u.Name && inv == v.store.Inventory {
				d.lines = append(d.lines, quarantineLines(sg)...)
			}
		}
		if u.ConsolePassword {
			add("console", "password set, last used "+ago(v.now, u.PasswordLastUsed))
		}
		for _, m := range u.MFA {
			add("mfa", m.Serial+" enabled "+clock(m.Enabled, true))
		}
		for _, k := range u.Keys {
			add("key", k.ID+" "+k.Status+", used "+ago(v.now, k.LastUsed)+lastWhere(k))
		}
		add("groups", strings.Join(u.Groups, ", "))
		add("boundary", u.Boundary)
		policies(u.Policies)
		for _, k := range u.Keys {
			d.family(v, k.ID)
		}
	}
	for _, r := range inv.Roles {
		if r.ARN != s.arn {
			continue
		}
		add("created", clock(r.Created, true)+" UTC")
		add("last used", ago(v.now, r.LastUsed)+suffix(" in ", r.LastRegion))
		add("trusts", strings.Join(r.External, ", "))
		policies(r.Policies)
		if r.TrustPolicy != "" {
			d.lines = append(d.lines, "", "trust policy:")
			d.lines = append(d.lines, prettyLines([]byte(r.TrustPolicy))...)
		}
	}
	if r := inv.Root; r != nil && s.kind == selRoot {
		add("mfa", fmt.Sprint(r.MFA))
		add("root keys", itoa(r.AccessKeys)+" active")
		add("password", "last used "+ago(v.now, r.PasswordLastUsed))
	}
}

// action lists an action's plan, result and verifications.
func (d *detailView) action(v *viewCtx, a *state.Action) {
	badge, _ := outcomeBadge(v.st, a.Outcome())
	d.lines = append(d.lines, "", "action "+clean(a.Intent.Action)+" on "+clean(a.Intent.Target)+": "+badge)
	for _, c := range a.Intent.Plan {
		d.lines = append(d.lines, planCallLines(c)...)
	}
	if a.Intent.Undo != "" {
		d.lines = append(d.lines, "undo: "+clean(a.Intent.Undo))
	}
	if r := a.Result; r != nil {
		for _, c := range r.Calls {
			line := "  called " + clean(c.API) + suffix(" in ", clean(c.Region)) + suffix(", request id ", clean(c.RequestID))
			if c.Error != "" {
				line += " ✗ " + clean(c.Error)
			}
			d.lines = append(d.lines, line)
		}
		if r.Error != "" {
			d.lines = append(d.lines, "  ✗ "+clean(r.Error))
		}
	}
	for _, vf := range a.Verifies {
		g := "✗"
		if vf.Holds {
			g = "✓"
		}
		d.lines = append(d.lines, "  verified: "+g+" "+clean(vf.Detail))
	}
}

// planCallLines draws one planned call with its parameters verbatim (policy
// documents pretty-printed).
func planCallLines(c state.Call) []string {
	head := "• " + clean(c.API) + suffix(" in ", clean(c.Region))
	if c.Irreversible {
		head += "   ✗ irreversible"
	}
	out := []string{head}
	keys := make([]string, 0, len(c.Params))
	for k := range c.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := c.Params[k]
		if strings.HasPrefix(strings.TrimSpace(val), "{") {
			out = append(out, "    "+clean(k)+":")
			for _, l := range prettyLines([]byte(val)) {
				out = append(out, "      "+l)
			}
			continue
		}
		out = append(out, "    "+clean(k)+": "+clean(val))
	}
	return out
}

// prettyLines indents JSON and returns its cleaned lines; text that is not
// JSON comes back as its cleaned lines.
func prettyLines(b []byte) []string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		buf.Reset()
		buf.Write(b)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	for i, l := range lines {
		// Keep JSON's indentation: clean would turn nothing into something
		// here, but it must see every line.
		lines[i] = clean(l)
	}
	return lines
}

// setRaw stores the raw record a request returned.
func (d *detailView) setRaw(raw []byte, err error) {
	d.req = 0
	d.wrapW = 0
	if err != nil {
		d.rawNote = "raw record: " + clean(err.Error())
		return
	}
	d.rawNote = ""
	d.raw = prettyLines(raw)
}

func (d *detailView) all() []string {
	out := append([]string(nil), d.lines...)
	if d.rawNote != "" || len(d.raw) > 0 {
		out = append(out, "")
	}
	if d.rawNote != "" {
		out = append(out, d.rawNote)
	}
	if len(d.raw) > 0 {
		out = append(out, "raw record (sanitised):")
		out = append(out, d.raw...)
	}
	return out
}

// SetSize sets the content size.
func (d *detailView) SetSize(w, h int) { d.w, d.h = w, h }

func (d *detailView) wrap() []string {
	if d.wrapW == d.w && d.wrapped != nil {
		return d.wrapped
	}
	d.wrapped = d.wrapped[:0]
	for _, l := range d.all() {
		if width(l) <= d.w {
			d.wrapped = append(d.wrapped, l)
			continue
		}
		for _, part := range strings.Split(ansi.Hardwrap(l, max(d.w-1, 1), true), "\n") {
			d.wrapped = append(d.wrapped, truncate(part, d.w))
		}
	}
	d.wrapW = d.w
	return d.wrapped
}

// Navigate scrolls.
func (d *detailView) Navigate(n nav) {
	lines := d.wrap()
	maxTop := max(len(lines)-d.h, 0)
	switch n {
	case navUp:
		d.top--
	case navDown:
		d.top++
	case navPageUp:
		d.top -= max(d.h-1, 1)
	case navPageDown:
		d.top += max(d.h-1, 1)
	case navTop:
		d.top = 0
	case navBottom:
		d.top = maxTop
	}
	d.top = max(min(d.top, maxTop), 0)
}

// Render draws the visible lines.
func (d *detailView) Render(v *viewCtx) string {
	lines := d.wrap()
	end := min(d.top+d.h, len(lines))
	var out []string
	for _, l := range lines[min(d.top, end):end] {
		out = append(out, v.st.Base.Render(fit(l, d.w)))
	}
	return block(strings.Join(out, "\n"), d.w, d.h)
}

// ShortHelp is the detail view's help line.
func (d *detailView) ShortHelp(k KeyMap) []key.Binding {
	return []key.Binding{k.Back, k.Up, k.Down, k.Copy, k.Suspect}
}

func suffix(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

// keyFilter is the filter "key:ID", built without parsing attacker text.
func keyFilter(id string) *state.Filter {
	if id == "" {
		return nil
	}
	return &state.Filter{Terms: []state.Term{{Field: state.FieldKey, Value: []string{id}}}}
}

// account explains a member account: its name, the role warroom assumes
// there, its access (what it means, AWS's words, when warroom tries
// again), what was read, and whether the suspect families acted there.
func (d *detailView) account(v *viewCtx, s selection) {
	add := func(label, value string) {
		if value != "" {
			d.lines = append(d.lines, fit(clean(label), 12)+" "+clean(value))
		}
	}
	d.title = "Account " + clean(s.account)
	add("account", s.account)
	add("name", accountName(v.store, s.account))
	af, _ := v.store.Account(s.account)
	switch a := af.Access; {
	case s.account == v.store.Home():
		add("access", "the incident's own account: warroom's credentials act here")
	case a == nil:
		add("access", "! not tried yet")
	default:
		add("role", a.V.RoleARN)
		add("access", accessText(v.store, s.account)+" since "+clock(a.At, true)+" UTC")
		add("why", accessWhy[a.V.Status])
		add("AWS said", a.V.Error)
		if !a.V.Retry.IsZero() {
			add("retry", "warroom tries again at "+clock(a.V.Retry, true)+" UTC")
		} else if !a.V.OK() {
			add("retry", "not retried (a one-time read)")
		}
	}
	d.lines = append(d.lines, "")
	enabled := 0
	for _, r := range af.Regions {
		if r.Enabled() {
			enabled++
		}
	}
	add("regions", itoa(enabled)+" enabled")
	add("sweeps", itoa(len(af.Sweeps)))
	if af.Inventory != nil {
		keys := 0
		for _, u := range af.Inventory.Users {
			keys += len(u.Keys)
		}
		add("inventory", state.Plural(len(af.Inventory.Users), "user")+", "+state.Plural(keys, "key")+", "+
			state.Plural(len(af.Inventory.Roles), "role")+" · "+ago(v.now, af.Inventory.TakenAt))
	} else {
		add("inventory", "none yet")
	}
	if touched(v.store.FamilyAccounts(), s.account) {
		add("suspect", markSuspect+" the suspect families acted in this account")
	}
}
