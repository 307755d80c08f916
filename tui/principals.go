package tui

import (
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"

	"github.com/warroom-ir/warroom/state"
)

// prow is one row of the principals pane.
type prow struct {
	sel    selection
	depth  int
	kind   string // "root", "user", "key", "temp", "role"
	label  string // name or key id (attacker-controllable: cleaned when drawn)
	status string
	lin    *state.Lineage // temporary keys: expiry counted down at draw time
	info   string
	admin  bool
}

// principalsPane lists the inventory: the root user, users with their
// access keys and each key's temporary-key family, roles, and suspect keys
// the inventory does not know.
type principalsPane struct {
	w, h    int
	focused bool
	rows    []prow
	seq     int64
	built   bool
	cur     listCursor
}

func newPrincipalsPane() *principalsPane { return &principalsPane{} }

// Title implements pane.
func (p *principalsPane) Title(v *viewCtx) string {
	inv := v.store.Inventory
	if inv == nil {
		return "Principals · no inventory yet"
	}
	keys := 0
	for _, u := range inv.Users {
		keys += len(u.Keys)
	}
	return "Principals · " + itoa(len(inv.Users)) + " users, " + itoa(keys) + " keys, " + itoa(len(inv.Roles)) + " roles · " + ago(v.now, inv.TakenAt)
}

// SetSize implements pane.
func (p *principalsPane) SetSize(w, h int) {
	p.w, p.h = w, h
	p.cur.rows = max(h, 1)
	p.cur.clamp()
}

// Focus implements pane.
func (p *principalsPane) Focus() { p.focused = true }

// Blur implements pane.
func (p *principalsPane) Blur() { p.focused = false }

// Refresh implements pane.
func (p *principalsPane) Refresh(v *viewCtx) {
	if p.built && p.seq == v.store.Seq {
		return
	}
	p.built, p.seq = true, v.store.Seq
	p.rows = p.rows[:0]
	inv := v.store.Inventory
	known := map[string]bool{}
	family := func(keyID, arn string, depth int) {
		fam := v.store.Events.Family(keyID)
		for i := 1; i < len(fam); i++ {
			l := fam[i]
			known[l.Key] = true
			info := l.Call
			if l.RoleARN != "" {
				info += " " + shortARN(l.RoleARN)
			}
			p.rows = append(p.rows, prow{
				sel:   selection{kind: selKey, key: l.Key, arn: arn, lineage: &fam[i]},
				depth: depth + l.Depth, kind: "temp", label: l.Key, lin: &fam[i], info: info,
			})
		}
	}
	if inv != nil {
		if r := inv.Root; r != nil {
			info := "MFA"
			if !r.MFA {
				info = "no MFA"
			}
			if r.AccessKeys > 0 {
				info += ", " + itoa(r.AccessKeys) + " root keys"
			}
			p.rows = append(p.rows, prow{sel: selection{kind: selRoot, arn: r.ARN, name: "root"},
				kind: "root", label: "root", status: "", info: info + ", used " + ago(v.now, laterOf(r.PasswordLastUsed, r.KeyLastUsed))})
		}
		users := append([]state.User(nil), inv.Users...)
		sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
		for _, u := range users {
			var info []string
			if u.ConsolePassword {
				info = append(info, "console password")
			}
			if len(u.MFA) > 0 {
				info = append(info, itoa(len(u.MFA))+" MFA")
			}
			if len(u.Groups) > 0 {
				info = append(info, "groups "+strings.Join(u.Groups, ","))
			}
			p.rows = append(p.rows, prow{sel: selection{kind: selUser, arn: u.ARN, name: u.Name},
				kind: "user", label: u.Name, info: strings.Join(info, ", "), admin: u.Admin,
				status: "created " + u.Created.UTC().Format("2006-01-02")})
			for _, k := range u.Keys {
				known[k.ID] = true
				p.rows = append(p.rows, prow{sel: selection{kind: selKey, key: k.ID, arn: u.ARN, name: u.Name},
					depth: 1, kind: "key", label: k.ID, status: k.Status,
					info: "used " + ago(v.now, k.LastUsed) + lastWhere(k)})
				family(k.ID, u.ARN, 1)
			}
		}
		roles := append([]state.Role(nil), inv.Roles...)
		sort.Slice(roles, func(i, j int) bool { return roles[i].Name < roles[j].Name })
		for _, r := range roles {
			var info []string
			if len(r.External) > 0 {
				info = append(info, "trusts "+strings.Join(r.External, ","))
			}
			if r.ServiceLinked {
				info = append(info, "service-linked")
			}
			info = append(info, "used "+ago(v.now, r.LastUsed))
			p.rows = append(p.rows, prow{sel: selection{kind: selRole, arn: r.ARN, name: r.Name},
				kind: "role", label: r.Name, admin: r.Admin, info: strings.Join(info, ", "),
				status: "created " + r.Created.UTC().Format("2006-01-02")})
		}
	}
	// Suspect keys the inventory does not list (another account's key, a
	// key already deleted, a temporary key): they still have families.
	var extra []string
	for id := range v.store.Suspects {
		if !strings.HasPrefix(id, "arn:") && !known[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(extra)
	for _, id := range extra {
		known[id] = true
		p.rows = append(p.rows, prow{sel: selection{kind: selKey, key: id}, kind: "key", label: id,
			status: "not in inventory", info: "marked suspect"})
		family(id, "", 1)
	}
	p.cur.n = len(p.rows)
	p.cur.clamp()
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func lastWhere(k state.AccessKey) string {
	if k.LastService == "" && k.LastRegion == "" {
		return ""
	}
	return " (" + strings.TrimSpace(k.LastService+" "+k.LastRegion) + ")"
}

// Navigate implements pane.
func (p *principalsPane) Navigate(n nav) { p.cur.navigate(n) }

// Selected implements pane.
func (p *principalsPane) Selected(*viewCtx) (selection, bool) {
	if len(p.rows) == 0 {
		return selection{}, false
	}
	return p.rows[p.cur.sel].sel, true
}

// Render implements pane.
func (p *principalsPane) Render(v *viewCtx) string {
	lines := make([]string, 0, p.h)
	if len(p.rows) == 0 {
		lines = append(lines, v.st.Subtle.Render(fit("waiting for the inventory", p.w)))
	}
	nameW := min(max(p.w/3, 26), 40)
	statusW := 17
	end := min(p.cur.top+p.cur.rows, len(p.rows))
	for i := p.cur.top; i < end; i++ {
		r := &p.rows[i]
		sus := v.sus.has(r.sel.key, r.sel.arn) || v.sus.marked[r.sel.key] || v.sus.marked[r.sel.arn]
		mark := " "
		if sus {
			mark = markSuspect
		}
		admin := " "
		if r.admin {
			admin = "A"
		}
		status, info := r.status, r.info
		if r.lin != nil {
			status = expiry(v.now, r.lin.Expires)
		}
		indent := strings.Repeat("  ", r.depth)
		text := mark + admin + " " + fit(r.kind, 4) + " " + fit(indent+clean(r.label), nameW) + " " +
			fit(clean(status), statusW) + " " + clean(info)
		text = fit(text, p.w)
		switch {
		case i == p.cur.sel:
			text = v.st.Selected.Render(text)
		case sus:
			text = v.st.Suspect.Render(text)
		case r.lin != nil && !r.lin.Expires.IsZero() && r.lin.Expires.After(v.now):
			text = v.st.Warning.Render(text)
		case r.kind == "key" && r.status == "Inactive", r.lin != nil:
			text = v.st.Subtle.Render(text)
		default:
			text = v.st.Base.Render(text)
		}
		lines = append(lines, text)
	}
	return block(strings.Join(lines, "\n"), p.w, p.h)
}

// ShortHelp implements pane.
func (p *principalsPane) ShortHelp(k KeyMap) []key.Binding {
	return []key.Binding{k.Suspect, k.Detail, k.Copy, k.Deactivate, k.Revoke}
}

// FullHelp implements pane.
func (p *principalsPane) FullHelp(k KeyMap) [][]key.Binding {
	return [][]key.Binding{listHelp(k), {k.Suspect, k.Detail, k.Copy}}
}
