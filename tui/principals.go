package tui

import (
	"slices"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"

	"github.com/warroom-ir/warroom/state"
)

// prow is one row of the principals pane.
type prow struct {
	sel     selection
	depth   int
	kind    string // "root", "user", "key", "temp", "role"
	label   string // name or key id (attacker-controllable: cleaned when drawn)
	status  string
	lin     *state.Lineage // temporary keys: expiry counted down at draw time
	info    string
	admin   bool
	new     bool      // made since the incident began
	created time.Time // zero: not known
	used    time.Time // last used, to AWS's hour
	usedAt  string    // where it was last used
	// act is the newest containment action on the row's key or principal.
	act *state.Action
	// actMark is the action's outcome as the row reads it: ✓ it holds
	// (verified, or the fresher inventory agrees), ✗ it failed or was
	// undone, ? no outcome yet.
	actMark string
	// creator is the key that created the user (iam:CreateUser), if known.
	creator string
	group   int // index of the top-level row this row belongs under
	// acct is the account the row is in (organisation mode); touched
	// marks an account's row whose account the suspect families acted in.
	acct    string
	touched bool
	// awsq is the AWS quarantine policy on a user ("" when none).
	awsq string
}

// principalCols are the principals pane's columns, in reading order, with
// their narrowest widths and priorities (lower is kept longer): the name
// (key id, user) and its status go last. "arn" is only in wide mode.
var principalCols = []struct {
	name       string
	minW, maxW int
	prio       int
	wide       bool
	org        bool // only in organisation mode
}{
	{"kind", 4, 4, 2, false, false},
	{"name", 24, 40, 0, false, false}, // a key id under a user, indented twice
	{"status", 10, 18, 1, false, false},
	{"created", 8, 8, 4, false, false},
	{"used", 10, 14, 3, false, false},
	{"info", 10, 200, 5, false, false},
	{"arn", 20, 70, 6, true, false},
	{"account", 12, 12, 2, false, true},
}

// principalOrder is the order the columns are drawn in: the account
// first (organisation mode), then the rest as listed.
var principalOrder = []int{7, 0, 1, 2, 3, 4, 5, 6}

// principalSorts are the principals pane's sortable columns; "tree" (users
// with their keys, then roles) is its natural order.
var principalSorts = []string{"tree", "name", "kind", "status", "created", "used"}

// principalsPane lists the inventory: the root user, users with their
// access keys and each key's temporary-key family, roles, and suspect keys
// the inventory does not know.
type principalsPane struct {
	w, h    int
	focused bool
	wide    bool
	all     []prow // every row, in tree order
	rows    []prow // the rows shown: filtered and sorted
	seq     int64
	built   bool
	cur     listCursor
	sort    listSort
	filter  textFilter
	susSeen *state.SuspectSet
	// org is organisation mode (orgMode); fam the accounts the suspect
	// families touched (state.Store.FamilyAccounts).
	org bool
	fam []string
}

func newPrincipalsPane() *principalsPane { return &principalsPane{} }

// Title implements pane.
func (p *principalsPane) Title(v *viewCtx) string {
	if p.org {
		t := "Principals · " + state.Plural(len(v.store.AccountIDs()), "account")
		if len(p.fam) > 0 {
			t += " · " + markSuspect + " suspects in " + itoa(len(p.fam))
		}
		if !p.filter.empty() {
			t += " · " + itoa(len(p.rows)) + " shown"
		}
		return titleParts(t, p.filter, p.sort, principalSorts)
	}
	inv := v.store.Inventory
	if inv == nil {
		return "Principals · no inventory yet"
	}
	keys := 0
	for _, u := range inv.Users {
		keys += len(u.Keys)
	}
	t := "Principals · " + state.Plural(len(inv.Users), "user") + ", " + state.Plural(keys, "key") + ", " + state.Plural(len(inv.Roles), "role") + " · " + ago(v.now, inv.TakenAt)
	if !p.filter.empty() {
		t += " · " + itoa(len(p.rows)) + " shown"
	}
	return titleParts(t, p.filter, p.sort, principalSorts)
}

// SetSize implements pane.
func (p *principalsPane) SetSize(w, h int) {
	p.w, p.h = w, h
	p.cur.rows = max(h-1, 1)
	p.cur.clamp()
}

// SetWide shows every column, the ARN too.
func (p *principalsPane) SetWide(wide bool) { p.wide = wide }

// Focus implements pane.
func (p *principalsPane) Focus() { p.focused = true }

// Blur implements pane.
func (p *principalsPane) Blur() { p.focused = false }

// Sort cycles the sort column, or reverses it.
func (p *principalsPane) Sort(reverse bool) {
	if reverse {
		p.sort.desc = !p.sort.desc
	} else {
		p.sort.cycle(len(principalSorts))
	}
	p.arrange()
}

// FilterText returns the free-text filter.
func (p *principalsPane) FilterText() string { return p.filter.text }

// SetTextFilter replaces the free-text filter.
func (p *principalsPane) SetTextFilter(text string) {
	p.filter = parseTextFilter(text, principalFilterCols)
	p.cur.sel, p.cur.top = 0, 0
	p.arrange()
}

// principalFilterCols are the names a "col:text" filter term may use.
var principalFilterCols = []string{"kind", "name", "status", "info", "arn", "key", "account"}

// keyAction is what a key action leaves the key as, when it holds.
var keyAction = map[string]string{
	"deactivate-key": "Inactive",
	"rotate-key":     "Inactive",
	"reactivate-key": "Active",
	"delete-key":     "Deleted",
}

// actionTarget reads an intent's target as a key id, or a principal's kind
// and name: "AKIA…@user", "user/NAME", "role/NAME", a user's or a role's
// ARN (a role session's is its role's).
func actionTarget(t string) (keyID, kind, name string) {
	if strings.HasPrefix(t, "arn:") {
		p, ok := state.ParsePrincipal(t)
		switch {
		case ok && p.Role():
			return "", string(state.PrincipalRole), p.Name // a session is its role's
		case ok && p.Kind == state.PrincipalUser:
			return "", string(p.Kind), p.Name
		}
		return "", "", ""
	}
	if k, n, ok := strings.Cut(t, "/"); ok {
		return "", k, n
	}
	id, _, _ := strings.Cut(t, "@")
	return id, "", ""
}

// rowActions indexes the newest action on each key and principal.
func rowActions(s *state.Store) map[string]*state.Action {
	out := map[string]*state.Action{}
	for _, a := range s.Actions {
		id, kind, name := actionTarget(a.Intent.Target)
		if id != "" {
			out["key:"+id] = a
		} else if name != "" {
			out[kind+":"+name] = a
		}
	}
	return out
}

// keyStatus is a key's status from the fold: the inventory's, unless a key
// action was journaled after that inventory was taken, when the action's
// outcome says (verified, or done by AWS's answer). mark is the action's
// outcome as the row shows it.
func (p *principalsPane) keyStatus(v *viewCtx, invStatus string, a *state.Action) (status, mark string) {
	status = invStatus
	if a == nil {
		return status, ""
	}
	o := a.Outcome()
	want, isKeyAction := keyAction[a.Intent.Action]
	inv := v.store.Inventory
	fresher := inv != nil && v.store.InventorySeq > a.IntentSeq && (a.Result == nil || !inv.TakenAt.Before(a.ResultAt))
	switch {
	case o == state.OutcomeFailed, o == state.OutcomeBroken:
		return status, "✗"
	case o == state.OutcomeUnknown:
		return status, "?"
	case !isKeyAction:
		return status, "✓"
	case fresher && invStatus != "" && invStatus != want:
		// AWS, read after the action, says otherwise: undone since.
		return status, "✗"
	case fresher:
		return status, "✓"
	}
	return want, "✓"
}

// Refresh implements pane.
func (p *principalsPane) Refresh(v *viewCtx) {
	if p.built && p.seq == v.store.Seq && p.susSeen == v.sus {
		return
	}
	p.built, p.seq, p.susSeen = true, v.store.Seq, v.sus
	acts := rowActions(v.store)
	p.all = p.all[:0]
	p.org = orgMode(v.store)
	p.fam = nil
	if p.org {
		p.fam = v.store.FamilyAccounts()
	}
	inv := v.store.Inventory
	began := v.store.Incident.Began
	if inv != nil && !inv.Since.IsZero() {
		began = inv.Since
	}
	isNew := func(flag bool, created time.Time) bool {
		return flag || !began.IsZero() && !created.IsZero() && !created.Before(began)
	}
	group := 0
	acct := "" // the account whose rows are being added (organisation mode)
	add := func(r prow) {
		if r.depth == 0 {
			group = len(p.all)
		}
		r.group = group
		if r.acct == "" {
			r.acct = acct
		}
		p.all = append(p.all, r)
	}
	known := map[string]bool{}
	family := func(keyID, arn string, depth int) {
		fam := v.store.Events.Family(keyID)
		for i := 1; i < len(fam); i++ {
			l := fam[i]
			if known[l.Key] {
				continue // a key of a user listed above (created by the family)
			}
			known[l.Key] = true
			info := l.Call
			if l.RoleARN != "" {
				info += " " + shortARN(l.RoleARN)
			}
			if l.Created && l.User != "" {
				info += " for " + l.User
			}
			r := prow{
				sel:   selection{kind: selKey, key: l.Key, arn: arn, lineage: &fam[i]},
				depth: depth + l.Depth, kind: "temp", label: l.Key, info: info, created: l.MintedAt,
				act: acts["key:"+l.Key],
			}
			if a, ok := state.ParseARN(l.RoleARN); ok && p.org && state.ValidAccount(a.Account) {
				r.acct = a.Account // a role session acts in its role's account
			}
			if !l.Created {
				r.lin = &fam[i]
			} else {
				r.kind, r.new = "key", true
			}
			r.status, r.actMark = p.keyStatus(v, r.status, r.act)
			add(r)
		}
	}
	addInventory := func(inv *state.Inventory) {
		if r := inv.Root; r != nil {
			info := "MFA"
			if !r.MFA {
				info = "no MFA"
			}
			if r.AccessKeys > 0 {
				info += ", " + itoa(r.AccessKeys) + " root keys"
			}
			add(prow{sel: selection{kind: selRoot, arn: r.ARN, name: "root"},
				kind: "root", label: "root", info: info, used: laterOf(r.PasswordLastUsed, r.KeyLastUsed)})
		}
		quarantined := quarantinedUsers(v.store)
		users := append([]state.User(nil), inv.Users...)
		sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
		for _, u := range users {
			for _, k := range u.Keys {
				known[k.ID] = true
			}
		}
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
			if sg, ok := quarantined[u.Name]; ok {
				info = append([]string{"▲ AWS quarantine " + strings.TrimPrefix(sg.Policy, "AWSCompromisedKeyQuarantine")}, info...)
			}
			r := prow{sel: selection{kind: selUser, arn: u.ARN, name: u.Name},
				kind: "user", label: u.Name, info: strings.Join(info, ", "), admin: u.Admin,
				new: isNew(u.New, u.Created), created: u.Created, used: u.PasswordLastUsed,
				act: acts["user:"+u.Name], awsq: quarantined[u.Name].Policy}
			if c, ok := v.store.Events.UserCreator(u.Name); ok {
				r.creator = c
				r.info = strings.TrimPrefix(r.info+", created by "+c, ", ")
			}
			_, r.actMark = p.keyStatus(v, "", r.act)
			add(r)
			for _, k := range u.Keys {
				kr := prow{sel: selection{kind: selKey, key: k.ID, arn: u.ARN, name: u.Name},
					depth: 1, kind: "key", label: k.ID, new: isNew(k.New, k.Created), created: k.Created,
					used: k.LastUsed, usedAt: lastWhere(k), act: acts["key:"+k.ID]}
				kr.status, kr.actMark = p.keyStatus(v, k.Status, kr.act)
				add(kr)
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
			rr := prow{sel: selection{kind: selRole, arn: r.ARN, name: r.Name},
				kind: "role", label: r.Name, admin: r.Admin, info: strings.Join(info, ", "),
				new: isNew(false, r.Created), created: r.Created, used: r.LastUsed, act: acts["role:"+r.Name]}
			_, rr.actMark = p.keyStatus(v, "", rr.act)
			add(rr)
		}
	}
	if !p.org {
		if inv != nil {
			addInventory(inv)
		}
	} else {
		// One row per account (its access, why, whether the suspect
		// families acted there), its principals under it.
		for _, id := range v.store.AccountIDs() {
			acct = id
			af, _ := v.store.Account(id)
			r := prow{sel: selection{kind: selAccount, account: id, name: accountName(v.store, id)}, kind: "acct",
				label: id, status: accessText(v.store, id), touched: touched(p.fam, id)}
			if n := accountName(v.store, id); n != "" {
				r.label = id + " " + n
			}
			switch {
			case af.Access != nil && !af.Access.V.OK():
				r.info = af.Access.V.Error
				if !af.Access.V.Retry.IsZero() {
					r.info = "retry " + clock(af.Access.V.Retry, false) + " · " + r.info
				}
			case af.Inventory == nil:
				r.info = "no inventory yet"
			}
			if r.touched {
				r.info = strings.TrimSuffix("suspect family acted here · "+r.info, " · ")
			}
			add(r)
			if af.Inventory != nil {
				addInventory(af.Inventory)
			}
		}
		acct = ""
	}
	p.addIdentityCenter(v, add, acts)
	// Suspect keys the inventory does not list (another account's key, a
	// key already deleted, a temporary key): they still have families.
	var extra []string
	for _, id := range v.sus.Roots {
		if !known[id] {
			extra = append(extra, id)
		}
	}
	for _, id := range extra {
		known[id] = true
		r := prow{sel: selection{kind: selKey, key: id}, kind: "key", label: id,
			status: "not in inventory", info: "marked suspect", act: acts["key:"+id]}
		r.status, r.actMark = p.keyStatus(v, r.status, r.act)
		add(r)
		family(id, "", 1)
	}
	p.arrange()
}

// arrange filters and sorts the rows; the tree order keeps each key under
// its user, any other sort lists rows flat.
func (p *principalsPane) arrange() {
	p.rows = p.rows[:0]
	for _, r := range p.all {
		if p.filter.empty() || p.filter.match(principalFilterCols, func(c int) string {
			switch principalFilterCols[c] {
			case "kind":
				return r.kind
			case "name":
				return r.label
			case "status":
				return r.status
			case "info":
				return r.info
			case "arn":
				return r.sel.arn
			case "key":
				return r.sel.key
			case "account":
				return r.acct
			}
			return ""
		}) {
			p.rows = append(p.rows, r)
		}
	}
	if col := principalSorts[min(p.sort.col, len(principalSorts)-1)]; col != "tree" {
		desc := p.sort.desc
		slices.SortStableFunc(p.rows, func(a, b prow) int {
			var c int
			switch col {
			case "name":
				c = compareText(a.label, b.label)
			case "kind":
				c = compareText(a.kind, b.kind)
			case "status":
				c = compareText(a.sortStatus(), b.sortStatus())
				if c == 0 && a.lin != nil && b.lin != nil {
					c = a.lin.Expires.Compare(b.lin.Expires)
				}
			case "created":
				c = a.created.Compare(b.created)
			case "used":
				c = a.used.Compare(b.used)
			}
			if desc {
				return -c
			}
			return c
		})
	} else if p.sort.desc {
		// The tree upside down by group: the last user first, keys kept under it.
		var out []prow
		for end := len(p.rows); end > 0; {
			start := end - 1
			for start > 0 && p.rows[start].depth > 0 {
				start--
			}
			out = append(out, p.rows[start:end]...)
			end = start
		}
		p.rows = out
	}
	p.cur.n = len(p.rows)
	p.cur.clamp()
}

// sortStatus is the status a sort orders by: what the status column shows
// but for a temporary key's countdown (ordered by expiry).
func (r *prow) sortStatus() string {
	switch {
	case r.actMark != "" && r.kind != "key" && r.kind != "temp":
		return r.actMark + " " + r.act.Intent.Action
	case r.lin != nil && r.status == "":
		return "expires"
	}
	return r.status
}

// compactDate is a date in at most 8 cells: "Nov 23" within half a year of
// now, else "Nov 2025" (the detail view has the full time).
func compactDate(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	t = t.UTC()
	if d := now.Sub(t); d < 180*24*time.Hour && d > -180*24*time.Hour {
		return t.Format("Jan 02")
	}
	return t.Format("Jan 2006")
}

// lastUsed is when a key or principal was last used as AWS reports it: to
// the hour at best (iam:GetAccessKeyLastUsed and the credential report
// round down), so it never claims minutes: "≤1h ago", "≤5h ago", then the
// date.
func lastUsed(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d <= time.Hour:
		return "≤1h ago"
	case d < 48*time.Hour:
		return "≤" + itoa(int((d+time.Hour-1)/time.Hour)) + "h ago"
	}
	return compactDate(now, t)
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

// suspectRow reports whether a row is suspect: its key or principal is of
// a suspect family or marked, or a suspect family's key created the user.
func suspectRow(v *viewCtx, r *prow) bool {
	return r.touched || v.sus.Has(r.sel.key, r.sel.arn) || v.sus.IsMarked(r.sel.key) || v.sus.IsMarked(r.sel.arn) ||
		r.creator != "" && (v.sus.Key(r.creator) || v.sus.IsMarked(r.creator))
}

// Render implements pane.
func (p *principalsPane) Render(v *viewCtx) string {
	// Columns: three marks (suspect », new +, admin A), then the columns
	// that fit by priority.
	minW, prio := make([]int, len(principalCols)), make([]int, len(principalCols))
	for i, c := range principalCols {
		minW[i], prio[i] = c.minW, c.prio
		if c.wide && !p.wide || c.org && !p.org {
			prio[i] = 1 << 20
			minW[i] = 1 << 20
		}
	}
	keep := dropFit(minW, prio, p.w-4)
	widths := make([]int, len(principalCols))
	used := 3
	for i, c := range principalCols {
		if keep[i] {
			widths[i] = c.minW
			used += c.minW + 1
		}
	}
	left := p.w - used
	// Grow in steps (column index, width): the status first (a countdown
	// is 16 cells), then some info, then the name, then the rest.
	for _, g := range [][2]int{{2, 16}, {5, 24}, {1, 28}, {2, 18}, {4, 14}, {6, 70}, {1, 40}, {5, 200}} {
		if i := g[0]; keep[i] && left > 0 && widths[i] < g[1] {
			add := min(left, g[1]-widths[i])
			widths[i] += add
			left -= add
		}
	}
	sortCol := ""
	if p.sort.col > 0 {
		sortCol = principalSorts[p.sort.col]
	}
	var hdr strings.Builder
	hdr.WriteString("   ")
	for _, i := range principalOrder {
		c := principalCols[i]
		if !keep[i] {
			continue
		}
		t := c.name
		if t == sortCol {
			t += arrow(p.sort.desc)
		}
		hdr.WriteString(" " + fit(t, widths[i]))
	}
	lines := make([]string, 0, p.h)
	lines = append(lines, v.st.Header.Render(fit(hdr.String(), p.w)))
	switch {
	case len(p.all) == 0:
		lines = append(lines, v.st.Subtle.Render(fit("waiting for the inventory", p.w)))
	case len(p.rows) == 0:
		lines = append(lines, v.st.Subtle.Render(fit("nothing matches /"+clean(p.filter.text)+" (x clears it)", p.w)))
	}
	tree := p.sort.col == 0
	end := min(p.cur.top+p.cur.rows, len(p.rows))
	for i := p.cur.top; i < end; i++ {
		r := &p.rows[i]
		sus := suspectRow(v, r)
		m1 := " "
		if sus {
			m1 = markSuspect
		}
		m2 := " "
		if r.new {
			m2 = "+"
		}
		m3 := " "
		if r.admin {
			m3 = "A"
		}
		status, info := r.status, r.info
		if r.lin != nil && status == "" {
			status = expiry(v.now, r.lin.Expires)
		}
		switch {
		case r.actMark != "" && r.kind == "key" || r.actMark != "" && r.kind == "temp":
			// The key's state and the action that set it, and when.
			status = strings.TrimSpace(status + " " + r.actMark)
			info = strings.TrimPrefix(info+" · "+r.actMark+" "+r.act.Intent.Action+" "+clock(r.act.At, false), " · ")
		case r.actMark != "":
			status = r.actMark + " " + r.act.Intent.Action
		}
		if r.awsq != "" {
			// AWS's quarantine is the top alert: it takes the status
			// column, an action's mark moves to the info.
			if r.actMark != "" {
				info = strings.TrimPrefix(info+" · "+status, " · ")
			}
			status = "▲ AWS quarantine"
		}
		usedText := ""
		if r.kind != "temp" && r.kind != "acct" && r.kind != "idc" && r.kind != "sso" {
			usedText = lastUsed(v.now, r.used)
		}
		var sb strings.Builder
		sb.WriteString(m1 + m2 + m3)
		for _, c := range principalOrder {
			col := principalCols[c]
			if !keep[c] {
				continue
			}
			var s string
			switch col.name {
			case "kind":
				s = r.kind
			case "name":
				s = clean(r.label)
				if tree {
					s = strings.Repeat("  ", r.depth) + s
				}
			case "status":
				s = clean(status)
			case "created":
				if r.kind == "acct" || r.kind == "idc" || r.kind == "sso" {
					break
				}
				if r.kind != "temp" || !r.created.IsZero() {
					s = compactDate(v.now, r.created)
				}
			case "used":
				s = usedText
			case "info":
				s = clean(info + r.usedAt)
			case "arn":
				s = clean(r.sel.arn)
			case "account":
				s = r.acct
			}
			sb.WriteString(" " + fit(s, widths[c]))
		}
		text := fit(sb.String(), p.w)
		switch {
		case i == p.cur.sel:
			text = v.st.Selected.Render(text)
		case sus:
			text = v.st.Suspect.Render(text)
		case r.awsq != "":
			text = v.st.Warning.Render(text)
		case r.new:
			text = v.st.New.Render(text)
		case r.lin != nil && !r.lin.Expires.IsZero() && r.lin.Expires.After(v.now):
			text = v.st.Warning.Render(text)
		case r.kind == "key" && (r.status == "Inactive" || r.status == "Deleted"), r.lin != nil:
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
	more := []key.Binding{k.Filter, k.ClearFilter, k.Suspect, k.Detail, k.Copy, k.CopyMore, k.PasswordReset}
	if p.org && k.ContainAll.Enabled() {
		// What the containment key does on an account's row.
		more = append(more, key.NewBinding(key.WithKeys(k.ContainAll.Keys()...),
			key.WithHelp(k.ContainAll.Help().Key, "account: deny-all SCP (again: undo)")))
	}
	return [][]key.Binding{append(listHelp(k), k.Sort, k.SortReverse, k.Wide), more}
}
