package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/themes"
)

// paneID names one of the four panes.
type paneID int

// The panes, in focus order (and the 1–4 keys).
const (
	paneStream paneID = iota
	panePrincipals
	paneRegions
	paneJournal
	numPanes
)

var paneNames = [numPanes]string{"stream", "principals", "regions", "journal"}

// pane is the contract every pane keeps. Panes are plain structs with
// imperative methods that the root model calls; none of them is a
// bubbletea model, and none of them does I/O.
type pane interface {
	// Title is the pane's title line text (counts, mode).
	Title(v *viewCtx) string
	// SetSize gives the pane its content size (inside the border).
	SetSize(w, h int)
	Focus()
	Blur()
	// Refresh rebuilds what the pane lists after the store changed.
	Refresh(v *viewCtx)
	// Render draws exactly the content size: h lines of w cells.
	Render(v *viewCtx) string
	// Navigate moves the selection.
	Navigate(n nav)
	// Selected returns what the selected row names.
	Selected(v *viewCtx) (selection, bool)
	ShortHelp(k KeyMap) []key.Binding
	FullHelp(k KeyMap) [][]key.Binding
}

// nav is a movement in a list.
type nav int

const (
	navUp nav = iota
	navDown
	navPageUp
	navPageDown
	navTop
	navBottom
)

// viewCtx is what every pane reads while drawing: the store, the styles,
// the clock, and the derived suspect sets. It is rebuilt by the root, never
// kept by a pane.
type viewCtx struct {
	store *state.Store
	st    *themes.Styles
	now   time.Time
	sus   *state.SuspectSet
}

// selKind is what a selection names.
type selKind int

const (
	selEvent selKind = iota + 1
	selKey
	selUser
	selRole
	selRoot
	selRegion
	selResource
	selTimeline
	selAccount
	selSSOUser // an IAM Identity Center user (name, region)
)

// selection is the item under the cursor of the focused pane.
type selection struct {
	kind     selKind
	event    state.Event
	key      string // access key id
	arn      string // principal ARN
	name     string // user, role or resource name
	region   string
	kindName string // resource kind
	resource state.Resource
	lineage  *state.Lineage
	item     state.TimelineItem
	// account is the member account the item is in ("" or the home
	// account: the incident's own).
	account string
}

// target converts the selection to a containment target.
func (s selection) target() (Target, bool) {
	switch s.kind {
	case selEvent:
		if s.event.AccessKeyID != "" {
			return Target{Kind: TargetKey, ID: s.event.AccessKeyID, ARN: s.event.Principal, Name: s.event.AccessKeyID}, true
		}
		if s.event.Principal != "" {
			return principalTarget(s.event.Principal), true
		}
	case selKey:
		return Target{Kind: TargetKey, ID: s.key, ARN: s.arn, Name: s.key}, true
	case selUser:
		return Target{Kind: TargetUser, ID: s.name, ARN: s.arn, Name: s.name}, true
	case selRole:
		return Target{Kind: TargetRole, ID: s.name, ARN: s.arn, Name: s.name}, true
	case selRoot:
		return Target{Kind: TargetRoot, ID: "root", ARN: s.arn, Name: "root"}, true
	case selAccount:
		return Target{Kind: TargetAccount, ID: s.account, Name: s.account}, true
	case selSSOUser:
		return Target{Kind: TargetSSOUser, ID: s.name, Region: s.region, Name: s.name}, true
	case selResource:
		return Target{Kind: TargetResource, ID: s.resource.ID, ARN: s.resource.ARN, Region: s.region, Resource: s.kindName,
			Name: s.resource.ID}, true
	}
	return Target{}, false
}

// principalTarget makes a target of a principal ARN. A role session
// (assumed-role) is its role's. What is not a user, role or root ARN is
// taken as a user named by its last segment.
func principalTarget(arn string) Target {
	p, ok := state.ParsePrincipal(arn)
	switch {
	case ok && p.Role():
		return Target{Kind: TargetRole, ID: p.Name, ARN: arn, Name: p.Name}
	case ok && p.Kind == state.PrincipalRoot:
		return Target{Kind: TargetRoot, ID: "root", ARN: arn, Name: "root"}
	case ok && p.Kind == state.PrincipalUser:
		return Target{Kind: TargetUser, ID: p.Name, ARN: arn, Name: p.Name}
	}
	name := arn[strings.LastIndexByte(arn, '/')+1:]
	return Target{Kind: TargetUser, ID: name, ARN: arn, Name: name}
}

// copyField is one field of a selection that y or Y copies.
type copyField struct{ name, value string }

// copyFields lists what can be copied from the selection, the one a
// responder pastes first (a key id, an ARN) first: y copies it, Y each
// other field in turn. Empty fields are left out.
func (s selection) copyFields() []copyField {
	var fs []copyField
	add := func(name, value string) {
		if value != "" {
			fs = append(fs, copyField{name, value})
		}
	}
	switch s.kind {
	case selEvent:
		e := s.event
		add("key id", e.AccessKeyID)
		add("principal ARN", e.Principal)
		add("event id", e.EventID)
		add("source ip", e.SourceIP)
		add("event name", e.Name)
		add("user agent", e.UserAgent)
		add("error", e.ErrorCode)
	case selKey:
		add("key id", s.key)
		add("owner ARN", s.arn)
		add("user", s.name)
		if s.lineage != nil {
			add("issuer key", s.lineage.Issuer)
			add("role ARN", s.lineage.RoleARN)
			add("minting event id", s.lineage.EventID)
		}
	case selUser, selRole, selRoot:
		add("ARN", s.arn)
		add("name", s.name)
	case selResource:
		add("ARN", s.resource.ARN)
		add("id", s.resource.ID)
		add("name", s.resource.Name)
		add("region", s.region)
	case selRegion:
		add("region", s.region)
		add("account", s.account)
	case selAccount:
		add("account", s.account)
		add("name", s.name)
	case selSSOUser:
		add("user", s.name)
		add("session ARN", s.arn)
	case selTimeline:
		add("summary", s.item.Summary)
	}
	return fs
}

// suspectMark returns the key or principal that s marks suspect.
func (s selection) suspectMark() (keyID, arn string, ok bool) {
	switch s.kind {
	case selEvent:
		if s.event.AccessKeyID != "" {
			return s.event.AccessKeyID, "", true
		}
		return "", s.event.Principal, s.event.Principal != ""
	case selKey:
		return s.key, "", true
	case selUser, selRole, selRoot:
		return "", s.arn, s.arn != ""
	}
	return "", "", false
}

// listCursor is a selection and a scroll position over n rows of which
// rows are visible, row 0 at the top.
type listCursor struct{ sel, top, n, rows int }

func (c *listCursor) clamp() {
	c.sel = min(c.sel, c.n-1)
	c.sel = max(c.sel, 0)
	r := max(c.rows, 1)
	if c.sel < c.top {
		c.top = c.sel
	}
	if c.sel >= c.top+r {
		c.top = c.sel - r + 1
	}
	c.top = min(c.top, max(0, c.n-r))
	c.top = max(c.top, 0)
}

func (c *listCursor) navigate(n nav) {
	page := max(c.rows-1, 1)
	switch n {
	case navUp:
		c.sel--
	case navDown:
		c.sel++
	case navPageUp:
		c.sel -= page
	case navPageDown:
		c.sel += page
	case navTop:
		c.sel = 0
	case navBottom:
		c.sel = c.n - 1
	}
	c.clamp()
}

// listHelp is the help every list pane shares.
func listHelp(k KeyMap) []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom}
}

// shortARN drops the "arn:aws:iam::123456789012:" prefix, which is the
// same on every row of one account: what is left is the resource.
func shortARN(arn string) string {
	if a, ok := state.ParseARN(arn); ok {
		return a.Resource
	}
	return arn
}

// clock formats t as the table columns show it.
func clock(t time.Time, long bool) string {
	if t.IsZero() {
		if long {
			return "-------------------"
		}
		return "--:--:--"
	}
	if long {
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	return t.UTC().Format("15:04:05")
}

// ago formats how long before now t was, compactly ("3m", "2h", "5d").
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return span(now.Sub(t)) + " ago"
}

// span formats a duration compactly with at most two units.
func span(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return itoa(int(d/time.Minute)) + "m" + pad2(int(d%time.Minute/time.Second)) + "s"
	case d < 48*time.Hour:
		return itoa(int(d/time.Hour)) + "h" + pad2(int(d%time.Hour/time.Minute)) + "m"
	}
	return itoa(int(d/(24*time.Hour))) + "d"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}

// expiry formats a temporary key's expiry as a countdown.
func expiry(now, exp time.Time) string {
	switch {
	case exp.IsZero():
		return "expiry unknown"
	case exp.After(now):
		return "expires in " + span(exp.Sub(now))
	}
	return "expired " + span(now.Sub(exp)) + " ago"
}
