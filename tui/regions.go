package tui

import (
	"slices"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"

	"github.com/warroom-ir/warroom/state"
)

// kindLabel shortens a sweep kind for a grid column; the result is clean.
func kindLabel(kind string) string {
	switch kind {
	case "ec2:instance":
		return "instances"
	case "ec2:spot-request":
		return "spot"
	case "ec2:key-pair":
		return "key pairs"
	case "ec2:security-group":
		return "sec groups"
	case "lambda:function":
		return "lambda"
	}
	if _, after, ok := strings.Cut(kind, ":"); ok {
		return clean(after)
	}
	return clean(kind)
}

// creatorAttrs are the resource attributes a sweep may set to say who made
// a resource (a key id or a principal ARN).
var creatorAttrs = []string{"creator", "created_by", "creator_key"}

// regionCell is one Region's resources of one kind, as counted for the grid.
type regionCell struct {
	swept   bool
	n       int
	new     int
	suspect int
	err     string // error class when the sweep failed
}

// regionsPane is a grid of Regions × resource kinds from the latest sweeps;
// enter lists one Region's resources.
type regionsPane struct {
	w, h    int
	focused bool
	seq     int64
	built   bool
	regions []string
	kinds   []string
	cells   map[state.SweepKey]regionCell
	cur     listCursor

	// open is the Region whose resources are listed ("" shows the grid).
	open    string
	res     []resRow
	resCur  listCursor
	susSeen *state.SuspectSet

	// all lists every Region, regions those the filter lets through in
	// the sort's order; the resource list has a sort of its own.
	all     []string
	sort    listSort
	resSort listSort
	filter  textFilter
	allRes  []resRow

	// org is organisation mode: a row is an account's Region, named
	// "ACCOUNT REGION", or an account warroom could not read, named
	// "ACCOUNT" alone (see splitRow).
	org bool
}

// splitRow reads a row's name as its account and Region: "" and the name
// outside organisation mode; the account and "" for an account not read.
func (p *regionsPane) splitRow(row string) (acct, region string) {
	if !p.org {
		return "", row
	}
	acct, region, _ = strings.Cut(row, " ")
	return acct, region
}

// regionSorts and resourceSorts are the sortable columns of the grid and
// of a Region's resource list; the first is the natural order.
var (
	regionSorts   = []string{"region", "resources", "new", "suspect", "failed"}
	resourceSorts = []string{"kind", "id", "state", "created", "name"}
	regionCols    = []string{"region", "kind", "id", "state", "name"}
)

// Sort cycles the sort column of what is shown (grid or list), or
// reverses it.
func (p *regionsPane) Sort(reverse bool) {
	s, names := &p.sort, regionSorts
	if p.open != "" {
		s, names = &p.resSort, resourceSorts
	}
	if reverse {
		s.desc = !s.desc
	} else {
		s.cycle(len(names))
	}
	p.arrange()
}

// FilterText returns the free-text filter.
func (p *regionsPane) FilterText() string { return p.filter.text }

// SetTextFilter filters the grid's Regions by name and a Region's
// resources by kind, id, state and name.
func (p *regionsPane) SetTextFilter(text string) {
	p.filter = parseTextFilter(text, regionCols)
	p.cur.sel, p.cur.top, p.resCur.sel, p.resCur.top = 0, 0, 0, 0
	p.arrange()
}

// arrange applies the filter and the sorts.
func (p *regionsPane) arrange() {
	p.regions = p.regions[:0]
	total := func(reg string) (n, nw, sus, failed int) {
		for _, k := range p.kinds {
			c := p.cells[state.SweepKey{Region: reg, Kind: k}]
			n, nw, sus = n+c.n, nw+c.new, sus+c.suspect
			if c.err != "" {
				failed++
			}
		}
		return
	}
	for _, reg := range p.all {
		if p.filter.match(regionCols, func(c int) string {
			if c == 0 {
				return reg
			}
			return ""
		}) {
			p.regions = append(p.regions, reg)
		}
	}
	if col := p.sort.col; col > 0 || p.sort.desc {
		desc := p.sort.desc
		slices.SortStableFunc(p.regions, func(a, b string) int {
			an, anw, asus, afail := total(a)
			bn, bnw, bsus, bfail := total(b)
			var c int
			switch regionSorts[col] {
			case "region":
				c = strings.Compare(a, b)
			case "resources":
				c = an - bn
			case "new":
				c = anw - bnw
			case "suspect":
				c = asus - bsus
			case "failed":
				c = afail - bfail
			}
			if desc {
				return -c
			}
			return c
		})
	}
	p.cur.n = len(p.regions)
	p.cur.clamp()
	if p.open == "" {
		return
	}
	p.res = p.res[:0]
	for _, r := range p.allRes {
		if p.filter.match(regionCols, func(c int) string {
			switch regionCols[c] {
			case "region":
				return p.open
			case "kind":
				return kindLabel(r.kind) + " " + r.kind
			case "id":
				return r.r.ID
			case "state":
				return r.r.State
			case "name":
				return r.r.Name
			}
			return ""
		}) {
			p.res = append(p.res, r)
		}
	}
	if col := p.resSort.col; col > 0 || p.resSort.desc {
		desc := p.resSort.desc
		slices.SortStableFunc(p.res, func(a, b resRow) int {
			var c int
			switch resourceSorts[col] {
			case "kind":
				c = strings.Compare(a.kind, b.kind)
			case "id":
				c = compareText(a.r.ID, b.r.ID)
			case "state":
				c = compareText(a.r.State, b.r.State)
			case "created":
				c = a.r.Created.Compare(b.r.Created)
			case "name":
				c = compareText(a.r.Name, b.r.Name)
			}
			if desc {
				return -c
			}
			return c
		})
	}
	p.resCur.n = len(p.res)
	p.resCur.clamp()
}

type resRow struct {
	kind    string
	r       state.Resource
	new     bool
	suspect bool
}

func newRegionsPane() *regionsPane { return &regionsPane{} }

// Title implements pane.
func (p *regionsPane) Title(v *viewCtx) string {
	if p.open != "" {
		return titleParts("Regions · "+clean(p.open)+" · "+plural(len(p.res), "resource")+" (esc: grid)", p.filter, p.resSort, resourceSorts)
	}
	if p.org {
		pairs, sweeps := 0, 0
		for _, row := range p.all {
			if _, reg := p.splitRow(row); reg != "" {
				pairs++
			}
		}
		for _, id := range v.store.AccountIDs() {
			af, _ := v.store.Account(id)
			sweeps += len(af.Sweeps)
		}
		return titleParts("Regions · "+state.Plural(len(v.store.AccountIDs()), "account")+" × Regions · "+itoa(pairs)+" read · "+itoa(sweeps)+" sweeps", p.filter, p.sort, regionSorts)
	}
	enabled := 0
	for _, r := range v.store.Regions {
		if r.Enabled() {
			enabled++
		}
	}
	return titleParts("Regions · "+itoa(enabled)+" enabled · "+itoa(len(v.store.Sweeps))+" sweeps", p.filter, p.sort, regionSorts)
}

// SetSize implements pane.
func (p *regionsPane) SetSize(w, h int) {
	p.w, p.h = w, h
	p.cur.rows = max(h-1, 1)
	p.resCur.rows = max(h-1, 1)
	p.cur.clamp()
	p.resCur.clamp()
}

// Focus implements pane.
func (p *regionsPane) Focus() { p.focused = true }

// Blur implements pane.
func (p *regionsPane) Blur() { p.focused = false }

// isNew reports whether a resource was made since the incident began.
func isNew(v *viewCtx, r *state.Resource) bool {
	b := v.store.Incident.Began
	return !b.IsZero() && !r.Created.IsZero() && !r.Created.Before(b)
}

// bySuspect reports whether a sweep says a suspect made the resource.
func bySuspect(v *viewCtx, r *state.Resource) bool {
	for _, a := range creatorAttrs {
		if c := r.Attrs[a]; c != "" && (v.sus.Has(c, c) || v.sus.IsMarked(c)) {
			return true
		}
	}
	return false
}

// Refresh implements pane.
func (p *regionsPane) Refresh(v *viewCtx) {
	if p.built && p.seq == v.store.Seq && p.susSeen == v.sus {
		return
	}
	p.built, p.seq, p.susSeen = true, v.store.Seq, v.sus
	p.org = orgMode(v.store)
	regions := map[string]bool{}
	kinds := map[string]bool{}
	p.cells = map[state.SweepKey]regionCell{}
	if !p.org {
		p.addAccount(v, "", v.store.Regions, v.store.Sweeps, regions, kinds)
	} else {
		for _, id := range v.store.AccountIDs() {
			af, _ := v.store.Account(id)
			n := len(regions)
			p.addAccount(v, id+" ", af.Regions, af.Sweeps, regions, kinds)
			if len(regions) == n {
				regions[id] = true // nothing read: the row says why
			}
		}
	}
	p.all = sortedKeys(regions)
	p.kinds = sortedKeys(kinds)
	if p.open != "" {
		p.openRegion(v, p.open)
	}
	p.arrange()
}

// addAccount adds one account's Regions and sweeps to the grid, each row
// named prefix+Region.
func (p *regionsPane) addAccount(v *viewCtx, prefix string, list []state.Region, sweeps map[state.SweepKey]state.Dated[state.Sweep], regions, kinds map[string]bool) {
	for _, r := range list {
		if r.Enabled() {
			regions[prefix+r.Name] = true
		}
	}
	for k, s := range sweeps {
		regions[prefix+k.Region], kinds[k.Kind] = true, true
		c := regionCell{swept: true, n: len(s.V.Resources)}
		if s.V.Error != nil {
			c.err = s.V.Error.Class
		}
		for i := range s.V.Resources {
			if isNew(v, &s.V.Resources[i]) {
				c.new++
			}
			if bySuspect(v, &s.V.Resources[i]) {
				c.suspect++
			}
		}
		p.cells[state.SweepKey{Region: prefix + k.Region, Kind: k.Kind}] = c
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Enter opens the selected Region's resource list. It reports false when
// the pane already lists resources (enter then opens the detail view).
func (p *regionsPane) Enter(v *viewCtx) bool {
	if p.open != "" || len(p.regions) == 0 {
		return false
	}
	if _, reg := p.splitRow(p.regions[p.cur.sel]); reg == "" {
		return false // an account not read: enter explains it
	}
	p.openRegion(v, p.regions[p.cur.sel])
	p.resCur.sel, p.resCur.top = 0, 0
	p.resCur.clamp()
	return true
}

func (p *regionsPane) openRegion(v *viewCtx, row string) {
	p.open = row
	p.allRes = p.allRes[:0]
	acct, region := p.splitRow(row)
	af, _ := v.store.Account(acct)
	for _, k := range p.kinds {
		s, ok := af.Sweeps[state.SweepKey{Region: region, Kind: k}]
		if !ok {
			continue
		}
		for _, r := range s.V.Resources {
			p.allRes = append(p.allRes, resRow{kind: k, r: r, new: isNew(v, &r), suspect: bySuspect(v, &r)})
		}
	}
	p.arrange()
}

// Back closes the resource list; false when the grid is already shown.
func (p *regionsPane) Back() bool {
	if p.open == "" {
		return false
	}
	p.open = ""
	return true
}

// Navigate implements pane.
func (p *regionsPane) Navigate(n nav) {
	if p.open != "" {
		p.resCur.navigate(n)
		return
	}
	p.cur.navigate(n)
}

// Selected implements pane.
func (p *regionsPane) Selected(v *viewCtx) (selection, bool) {
	if p.open != "" {
		if len(p.res) == 0 {
			return selection{}, false
		}
		r := p.res[p.resCur.sel]
		acct, region := p.splitRow(p.open)
		return selection{kind: selResource, region: region, account: acct, kindName: r.kind, resource: r.r, name: r.r.Name}, true
	}
	if len(p.regions) == 0 {
		return selection{}, false
	}
	acct, region := p.splitRow(p.regions[p.cur.sel])
	if region == "" {
		return selection{kind: selAccount, account: acct, name: accountName(v.store, acct)}, true
	}
	return selection{kind: selRegion, region: region, account: acct}, true
}

// Render implements pane.
func (p *regionsPane) Render(v *viewCtx) string {
	if p.open != "" {
		return p.renderList(v)
	}
	regionW := 15
	if p.org {
		regionW = 12 + 1 + 15 // "ACCOUNT REGION"
	}
	cellW := 10
	if n := len(p.kinds); n > 0 {
		cellW = max(min((p.w-regionW)/n-1, 12), 6)
	}
	hdr := fit("region", regionW)
	if p.org {
		hdr = fit(fit("account", 12)+" region", regionW)
	}
	for _, k := range p.kinds {
		hdr += " " + fitLeft(kindLabel(clean(k)), cellW)
	}
	lines := []string{v.st.Header.Render(fit(hdr, p.w))}
	switch {
	case len(p.all) == 0:
		lines = append(lines, v.st.Subtle.Render(fit("no Regions or sweeps yet", p.w)))
	case len(p.regions) == 0:
		lines = append(lines, v.st.Subtle.Render(fit("no Region matches /"+clean(p.filter.text)+" (x clears it)", p.w)))
	}
	end := min(p.cur.top+p.cur.rows, len(p.regions))
	for i := p.cur.top; i < end; i++ {
		reg := p.regions[i]
		selected := i == p.cur.sel
		var sb strings.Builder
		acct, region := p.splitRow(reg)
		plain := fit(clean(reg), regionW)
		if p.org {
			plain = fit(fit(acct, 12)+" "+clean(region), regionW)
		}
		if selected {
			sb.WriteString(v.st.Selected.Render(plain))
		} else {
			sb.WriteString(v.st.Base.Render(plain))
		}
		if p.org && region == "" {
			// An account warroom could not read: its access, and enter
			// for why.
			text, style := accessText(v.store, acct)+" · not read (enter: why)", v.st.Danger
			if touched(v.store.FamilyAccounts(), acct) {
				text = markSuspect + " " + text
			}
			lines = append(lines, fit(sb.String()+" "+style.Render(text), p.w))
			continue
		}
		for _, k := range p.kinds {
			sb.WriteString(" ")
			c, ok := p.cells[state.SweepKey{Region: reg, Kind: k}]
			text, style := "·", v.st.Subtle
			switch {
			case !ok:
			case c.err != "":
				text, style = "✗ "+c.err, v.st.Danger
			case c.suspect > 0:
				text, style = "» "+itoa(c.n), v.st.Suspect
			case c.new > 0:
				text, style = "+"+itoa(c.new)+" "+itoa(c.n), v.st.New
			case c.n > 0:
				text, style = itoa(c.n), v.st.Base
			default:
				text = "0"
			}
			sb.WriteString(style.Render(fitLeft(text, cellW)))
		}
		lines = append(lines, fit(sb.String(), p.w))
	}
	return block(strings.Join(lines, "\n"), p.w, p.h)
}

func (p *regionsPane) renderList(v *viewCtx) string {
	lines := []string{v.st.Header.Render(fit("  "+fit("kind", 10)+" "+fit("id", 22)+" "+fit("state", 10)+" created / name", p.w))}
	switch {
	case len(p.allRes) == 0:
		lines = append(lines, v.st.Subtle.Render(fit("nothing found in this Region", p.w)))
	case len(p.res) == 0:
		lines = append(lines, v.st.Subtle.Render(fit("nothing matches /"+clean(p.filter.text)+" (x clears it)", p.w)))
	}
	end := min(p.resCur.top+p.resCur.rows, len(p.res))
	for i := p.resCur.top; i < end; i++ {
		r := p.res[i]
		mark := " "
		style := v.st.Base
		switch {
		case r.suspect:
			mark, style = markSuspect, v.st.Suspect
		case r.new:
			mark, style = "+", v.st.New
		}
		created := "-"
		if !r.r.Created.IsZero() {
			created = r.r.Created.UTC().Format("2006-01-02 15:04")
		}
		text := fit(mark+" "+fit(kindLabel(r.kind), 10)+" "+cell(r.r.ID, 22)+" "+cell(r.r.State, 10)+" "+created+" "+clean(r.r.Name), p.w)
		if i == p.resCur.sel {
			style = v.st.Selected
		}
		lines = append(lines, style.Render(text))
	}
	return block(strings.Join(lines, "\n"), p.w, p.h)
}

// ShortHelp implements pane.
func (p *regionsPane) ShortHelp(k KeyMap) []key.Binding {
	if p.open != "" {
		return []key.Binding{k.Back, k.Detail, k.Copy, k.Quarantine}
	}
	return []key.Binding{k.Detail, k.Copy}
}

// FullHelp implements pane.
func (p *regionsPane) FullHelp(k KeyMap) [][]key.Binding {
	return [][]key.Binding{append(listHelp(k), k.Sort, k.SortReverse), append(slices.Clone(p.ShortHelp(k)), k.Filter, k.ClearFilter, k.CopyMore)}
}
