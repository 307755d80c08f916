// Package report builds the post-incident record from a journal: who
// responded and when, the attacker's first event, the containment steps and
// how long each took, the significant events, every action with its AWS
// request ids, the leaked credential's family and what became of each key,
// the resources found per Region and what was done to them, the notes, what
// is still open, and the journal's head hash. It renders it as Markdown,
// HTML or JSON, each escaping what came from CloudTrail for its format.
//
// It imports only state, sanitize and the standard library: a report is a
// fold over the journal like the console, and needs no AWS.
package report

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// Report is the post-incident record. Every string in it may come from
// CloudTrail or AWS, and is escaped only when rendered.
type Report struct {
	Incident Incident `json:"incident"`
	Journal  Journal  `json:"journal"`
	Summary  Summary  `json:"summary"`
	Timeline []Event  `json:"timeline"`
	Actions  []Action `json:"actions"`
	Family   []Member `json:"family"`
	Regions  []Region `json:"regions"`
	Notes    []Note   `json:"notes"`
	Open     []Open   `json:"open"`
	// Verdicts are the verdicts read back from AWS (the newest per
	// suspect key); Still open rests on them.
	Verdicts []Verdict `json:"verdicts"`
	Credits  []Credit  `json:"credits"`
	// Trails is the CloudTrail log-file integrity of each trail validated.
	Trails []Trail `json:"trail_integrity,omitempty"`
	// BlockedIPs are the source addresses block-ip acted on (blockip.go).
	BlockedIPs []BlockedIP `json:"blocked_ips,omitempty"`
	// GuardDuty is what GuardDuty found, when it was read (guardduty.go).
	GuardDuty *GuardDuty `json:"guardduty,omitempty"`
	// AWSQuarantine is AWS's own quarantine of users (quarantine.go);
	// Passwords the console passwords created or changed in the incident.
	AWSQuarantine []AWSQuarantine        `json:"aws_quarantine,omitempty"`
	Passwords     []state.PasswordChange `json:"passwords,omitempty"`
	// AfterContainment is the impact watch over each contained credential (impact.go).
	AfterContainment []state.Impact `json:"after_containment,omitempty"`
	// IdentityCenter is the account's IAM Identity Center as last read.
	IdentityCenter *IdentityCenter `json:"identity_center,omitempty"`
	// BlastRadius and ConfigHistory are what Access Advisor and AWS
	// Config said when read (reach.go).
	BlastRadius   []Reach         `json:"blast_radius,omitempty"`
	ConfigHistory []ConfigHistory `json:"config_history,omitempty"`
	Problems      []Problem       `json:"problems,omitempty"`
}

// Incident is the journal's line 1.
type Incident struct {
	ID       string    `json:"id"`
	Title    string    `json:"title,omitempty"`
	OpenedAt time.Time `json:"opened_at"`
	Began    time.Time `json:"began,omitzero"`
	// AsOf is the time of the last fact: the report describes the incident then.
	AsOf time.Time `json:"as_of"`
}

// Journal says what the record rests on.
type Journal struct {
	Entries  int    `json:"entries"`
	Head     string `json:"head"` // SHA-256 of the last good line, to publish
	Verified bool   `json:"verified"`
	Problem  string `json:"problem,omitempty"` // why it did not verify
}

// Summary is the incident at a glance.
type Summary struct {
	Account    string   `json:"account,omitempty"`
	Responders []string `json:"responders"`
	// Suspects are the keys and principals marked suspect.
	Suspects []string `json:"suspects"`
	// FirstAttackerEvent is the first event by a suspect key, its family,
	// or a suspect principal, leaving out the calls from an address that
	// called with that key before the incident began (its owner's
	// application: Store.AddressesBefore); nil when none is known.
	FirstAttackerEvent *Event `json:"first_attacker_event,omitempty"`
	// Containment lists the actions in order with the time each took.
	Containment []Step `json:"containment"`
}

// Step is one containment action's place in time.
type Step struct {
	Action string `json:"action"`
	Target string `json:"target"`
	// Account is the member account the step acted in ("" : the
	// session's own).
	Account string    `json:"account,omitempty"`
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"` // the result's time, or the intent's when there is none
	// SinceFirstEvent and SinceOpened are how long after the attacker's
	// first event and the incident's opening the step landed; 0 when
	// unknown.
	SinceFirstEvent time.Duration `json:"since_first_event,omitempty"`
	SinceOpened     time.Duration `json:"since_opened"`
}

// Event is a significant CloudTrail event.
type Event struct {
	Time      time.Time `json:"time"`
	EventID   string    `json:"event_id,omitempty"`
	Name      string    `json:"name"`
	Source    string    `json:"source"`
	Region    string    `json:"region,omitempty"`
	Principal string    `json:"principal,omitempty"`
	Key       string    `json:"access_key_id,omitempty"`
	SourceIP  string    `json:"source_ip,omitempty"`
	Error     string    `json:"error,omitempty"`
	Class     string    `json:"class,omitempty"`    // state.Classify's class, "" for none
	Severity  string    `json:"severity,omitempty"` // low, medium, high, critical
	Rule      string    `json:"rule,omitempty"`     // the detection rule that says so
	Authors   string    `json:"rule_authors,omitempty"`
	RuleSet   string    `json:"rule_set,omitempty"` // "SigmaHQ", or "" for warroom's own
	Suspect   bool      `json:"suspect"`            // by a suspect key, family or principal
	// Conflict: the journal holds copies of this event that differ where
	// CloudTrail's addendum rules do not allow; Copies lists them.
	Conflict bool   `json:"conflict,omitempty"`
	Copies   []Copy `json:"copies,omitempty"`
}

// Copy is one distinct copy of an event in the journal.
type Copy struct {
	Offset  int64    `json:"journal_offset"`
	Index   uint32   `json:"record_index"`
	Verdict string   `json:"verdict"`
	Reason  string   `json:"addendum_reason,omitempty"`
	Differs []string `json:"differs,omitempty"`
}

// Action is a containment action as journaled.
type Action struct {
	ID       string       `json:"id"`
	Action   string       `json:"action"`
	Target   string       `json:"target"`
	Region   string       `json:"region,omitempty"`
	By       string       `json:"by"`
	IntentAt time.Time    `json:"intent_at"`
	ResultAt time.Time    `json:"result_at,omitzero"`
	Outcome  string       `json:"outcome"`
	Error    string       `json:"error,omitempty"`
	Calls    []Call       `json:"calls"`
	Verified []Verify     `json:"verified,omitempty"`
	Undo     string       `json:"undo,omitempty"`
	Plan     []state.Call `json:"plan,omitempty"`
	// Account and Role: the account acted in and the role assumed there
	// (both empty: the session's own account, with its own credentials).
	Account string `json:"account,omitempty"`
	Role    string `json:"role,omitempty"`
}

// Call is one API call an action made, with AWS's request id.
type Call struct {
	API       string `json:"api"`
	Region    string `json:"region,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Verify is one read-back of an action's effect.
type Verify struct {
	Holds  bool   `json:"holds"`
	Detail string `json:"detail,omitempty"`
}

// Member is one key of the suspect credential family.
type Member struct {
	Key      string    `json:"access_key_id"`
	Issuer   string    `json:"issuer,omitempty"`
	Depth    int       `json:"depth"`
	Call     string    `json:"minted_by,omitempty"` // GetSessionToken, AssumeRole …
	Role     string    `json:"role,omitempty"`
	MintedAt time.Time `json:"minted_at,omitzero"`
	Expires  time.Time `json:"expires,omitzero"`
	Created  bool      `json:"created,omitempty"` // a long-term key the family created (CreateAccessKey)
	Owner    string    `json:"owner,omitempty"`   // the IAM user, from the inventory
	Status   string    `json:"status"`            // Active, Inactive, expired, valid, unknown
	Fate     string    `json:"fate"`              // what became of it, in words
	Open     bool      `json:"open"`              // it may still work
}

// Region is the resources found in one Region.
type Region struct {
	Name      string     `json:"name"`
	Resources []Resource `json:"resources"`
	Errors    []string   `json:"errors,omitempty"` // kinds that could not be read, and why
}

// Resource is one resource a sweep found.
type Resource struct {
	Kind    string    `json:"kind"`
	ID      string    `json:"id"`
	Name    string    `json:"name,omitempty"`
	State   string    `json:"state,omitempty"`
	Created time.Time `json:"created,omitzero"`
	Creator string    `json:"creator,omitempty"` // principal and key of the creating event
	New     bool      `json:"new"`               // created since the incident began
	Suspect bool      `json:"suspect"`           // created by the suspect family
	Done    []string  `json:"done,omitempty"`    // actions on it and their outcomes
}

// Note is a responder's note.
type Note struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Text string    `json:"text"`
}

// Open is something still open as of the last fact.
type Open struct {
	Kind   string `json:"kind"` // key, instance, trust, …, action
	ID     string `json:"id"`
	Region string `json:"region,omitempty"`
	Detail string `json:"detail"`
	// Source says where it comes from: "verdict" (read back from AWS at
	// the verdict's time), "unsure" (the verdict could not decide), or
	// "journal" (the journal's memory: no verdict was read back after it).
	Source string `json:"source"`
}

// Verdict is a verdict as journaled: read back from AWS at CheckedAt.
type Verdict struct {
	Key       string    `json:"key"`
	Word      string    `json:"verdict"` // contained, not contained, unsure
	CheckedAt time.Time `json:"checked_at"`
	Footholds int       `json:"footholds"`
	Held      int       `json:"held"`
	// Stale is set when containment actions were journaled after it.
	Stale bool `json:"stale,omitempty"`
}

// Credit names a published detection rule whose result the report shows.
type Credit struct {
	Rule    string `json:"rule"`
	Authors string `json:"authors"`
	RuleSet string `json:"rule_set"`
	License string `json:"license,omitempty"`
}

// Problem is something in the journal the report could not use.
type Problem struct {
	Seq  int64  `json:"seq,omitempty"`
	What string `json:"what"`
}

// Options tune Build.
type Options struct {
	// Raw reads an event's raw record (a state.RawReader's Raw); with it,
	// resources are tied to the events that created them. Nil: they are not.
	Raw func(state.EventRef) ([]byte, error)
}

// Build makes the report of the store s, the fold of a journal whose
// verification found rep.
func Build(s *state.Store, rep journal.Report, opts Options) *Report {
	r := &Report{
		Incident: Incident{ID: s.Incident.ID, Title: s.Incident.Title, OpenedAt: s.Incident.OpenedAt, Began: s.Incident.Began, AsOf: s.At},
		Journal:  Journal{Entries: rep.Lines, Head: rep.Head, Verified: rep.OK()},
		Verdicts: []Verdict{},
	}
	if rep.Problem != nil {
		r.Journal.Problem = rep.Problem.Error()
	}
	for _, p := range s.Problems {
		r.Problems = append(r.Problems, Problem{Seq: p.Seq, What: p.Kind + ": " + p.Err})
	}
	sus := s.SuspectSet()
	r.Summary.Suspects = sus.Marked
	r.summaryWho(s)
	r.events(s, sus)
	r.actions(s)
	r.blockedIPs()
	r.family(s, sus)
	r.regions(s, sus, opts)
	for _, n := range s.Notes {
		r.Notes = append(r.Notes, Note{At: n.At, By: actor(n.By), Text: n.V.Text})
	}
	r.containment(s)
	r.open(s)
	r.trails(s)
	r.guardduty(s, sus, opts)
	r.quarantine(s, opts)
	r.impact(s, opts)
	r.identityCenter(s)
	r.reach(s)
	return r
}

func actor(a journal.Actor) string {
	s := a.User
	if a.Host != "" {
		s += "@" + a.Host
	}
	if a.SSH != "" {
		s += " (ssh from " + a.SSH + ")"
	}
	return s
}

// summaryWho fills in the account and the responders.
func (r *Report) summaryWho(s *state.Store) {
	seen := map[string]bool{}
	add := func(who string) {
		if who != "" && !seen[who] {
			seen[who] = true
			r.Summary.Responders = append(r.Summary.Responders, who)
		}
	}
	for _, ss := range s.Sessions {
		who := actor(ss.By)
		if ss.V.CallerARN != "" {
			who += " as " + ss.V.CallerARN
		}
		add(who)
		if ss.V.AccountID != "" && r.Summary.Account == "" {
			r.Summary.Account = ss.V.AccountID
			if ss.V.Alias != "" {
				r.Summary.Account += " (" + ss.V.Alias + ")"
			}
		}
	}
	for _, n := range s.Notes {
		add(actor(n.By))
	}
	for _, a := range s.Actions {
		add(actor(a.By))
	}
	if r.Summary.Account == "" && s.Inventory != nil {
		r.Summary.Account = s.Inventory.AccountID
	}
}

// events lists the significant events: those state.Classify marks, and
// every event of the suspects.
func (r *Report) events(s *state.Store, sus *state.SuspectSet) {
	credits := map[Credit]bool{}
	owners := map[string][]string{} // key → the addresses that used it before the incident
	owner := func(e *state.Event) bool {
		if e.AccessKeyID == "" {
			return false
		}
		a, ok := owners[e.AccessKeyID]
		if !ok {
			a = s.AddressesBefore(e.AccessKeyID)
			owners[e.AccessKeyID] = a
		}
		return slices.Contains(a, state.CanonicalIP(e.SourceIP))
	}
	for _, id := range s.Events.Query(nil).IDs() {
		e := s.Events.Event(id)
		f := state.ClassifyEvent(&e)
		suspect := sus.Has(e.AccessKeyID, e.Principal)
		if suspect && r.Summary.FirstAttackerEvent == nil && !owner(&e) {
			ev := eventOf(e, f, true)
			r.Summary.FirstAttackerEvent = &ev
		}
		if f.Class == state.ClassNone && !suspect && !e.Conflict {
			continue
		}
		ev := eventOf(e, f, suspect)
		if e.Conflict {
			ev.Conflict = true
			for _, c := range s.Events.Copies(e.ID) {
				ev.Copies = append(ev.Copies, Copy{Offset: c.Ref.Offset, Index: c.Ref.Index, Verdict: c.Verdict.String(), Reason: c.Reason, Differs: c.Differs})
			}
		}
		r.Timeline = append(r.Timeline, ev)
		if f.Rule != "" && f.Source != "" {
			c := Credit{Rule: f.Rule, Authors: f.Authors, RuleSet: f.Source}
			if f.Source == "SigmaHQ" {
				c.License = "Detection Rule License 1.1"
			}
			if !credits[c] {
				credits[c] = true
				r.Credits = append(r.Credits, c)
			}
		}
	}
	sort.Slice(r.Credits, func(i, j int) bool { return r.Credits[i].Rule < r.Credits[j].Rule })
}

var levelNames = map[state.Level]string{state.LevelLow: "low", state.LevelMedium: "medium", state.LevelHigh: "high", state.LevelCritical: "critical"}

func eventOf(e state.Event, f state.Finding, suspect bool) Event {
	return Event{
		Time: e.Time, EventID: e.EventID, Name: e.Name, Source: e.Source, Region: e.Region,
		Principal: e.Principal, Key: e.AccessKeyID, SourceIP: e.SourceIP, Error: e.ErrorCode,
		Class: f.Class.String(), Severity: levelNames[f.Class.Level()],
		Rule: f.Rule, Authors: f.Authors, RuleSet: f.Source, Suspect: suspect,
	}
}

// actions lists every action with its calls and request ids.
func (r *Report) actions(s *state.Store) {
	for _, a := range s.Actions {
		ra := Action{
			ID: a.Intent.ActionID, Action: a.Intent.Action, Target: a.Intent.Target, Region: a.Intent.Region,
			By: actor(a.By), IntentAt: a.At, ResultAt: a.ResultAt, Outcome: string(a.Outcome()),
			Undo: a.Intent.Undo, Plan: a.Intent.Plan, Calls: []Call{}, Account: a.Intent.Account, Role: a.Intent.Role,
		}
		if a.Result != nil {
			ra.Error = a.Result.Error
			for _, c := range a.Result.Calls {
				ra.Calls = append(ra.Calls, Call{API: c.API, Region: c.Region, RequestID: c.RequestID, Error: c.Error})
			}
		}
		for _, v := range a.Verifies {
			ra.Verified = append(ra.Verified, Verify{Holds: v.Holds, Detail: v.Detail})
		}
		r.Actions = append(r.Actions, ra)
	}
}

// containment puts each action in time: after the attacker's first event
// and after the incident opened.
func (r *Report) containment(s *state.Store) {
	for _, a := range s.Actions {
		at := a.ResultAt
		if at.IsZero() {
			at = a.At
		}
		st := Step{Action: a.Intent.Action, Target: a.Intent.Target, Account: a.Intent.Account, Outcome: string(a.Outcome()), At: at}
		if !s.Incident.OpenedAt.IsZero() {
			st.SinceOpened = at.Sub(s.Incident.OpenedAt)
		}
		if f := r.Summary.FirstAttackerEvent; f != nil && !f.Time.IsZero() {
			st.SinceFirstEvent = at.Sub(f.Time)
		}
		r.Summary.Containment = append(r.Summary.Containment, st)
	}
}

// done reports the actions that targeted id and succeeded, and lists every
// action on it with its outcome.
func done(s *state.Store, id string) (ok []*state.Action, all []string) {
	for _, a := range s.Actions {
		if a.Intent.Target != id {
			continue
		}
		o := a.Outcome()
		all = append(all, a.Intent.Action+": "+string(o))
		if o == state.OutcomeDone || o == state.OutcomeVerified || o == state.OutcomeAlready {
			ok = append(ok, a)
		}
	}
	return ok, all
}

// revoked returns the first successful revoke-sessions action journaled
// after t, or nil.
func revoked(s *state.Store, t time.Time) *state.Action {
	for _, a := range s.Actions {
		if a.Intent.Action != "revoke-sessions" {
			continue
		}
		if o := a.Outcome(); (o == state.OutcomeDone || o == state.OutcomeVerified) && !a.At.Before(t) {
			return a
		}
	}
	return nil
}

// family lists every key of the suspect families and what became of it.
func (r *Report) family(s *state.Store, sus *state.SuspectSet) {
	seen := map[string]bool{}
	for _, root := range sus.Roots {
		fam := s.Events.Family(root)
		if fam == nil {
			fam = []state.Lineage{{Key: root}}
		}
		for _, l := range fam {
			if seen[l.Key] {
				continue
			}
			seen[l.Key] = true
			m := Member{Key: l.Key, Issuer: l.Issuer, Depth: l.Depth, Call: l.Call, Role: l.RoleARN, MintedAt: l.MintedAt, Expires: l.Expires, Created: l.Created}
			r.fate(s, &m)
			r.Family = append(r.Family, m)
		}
	}
}

// fate says what became of a family member as of the last fact.
func (r *Report) fate(s *state.Store, m *Member) {
	ok, all := done(s, m.Key)
	var words []string
	switch {
	case (strings.HasPrefix(m.Key, "ASIA") || m.Call != "") && !m.Created:
		m.Status, m.Open = "valid", true
		switch {
		case !m.Expires.IsZero() && !m.Expires.After(s.At):
			m.Status, m.Open = "expired", false
			words = append(words, "expired "+m.Expires.UTC().Format(time.RFC3339))
		case !m.Expires.IsZero():
			words = append(words, "valid until "+m.Expires.UTC().Format(time.RFC3339))
		default:
			m.Status = "unknown"
			words = append(words, "expiry unknown")
		}
		if a := revoked(s, m.MintedAt); a != nil && m.Open {
			m.Open = false
			words = append(words, "sessions revoked on "+a.Intent.Target+" ("+string(a.Outcome())+")")
		}
	default:
		m.Status, m.Open = "unknown", true
		if u := state.KeyOwner(s.Inventory, m.Key); u != nil {
			m.Owner = u.Name
			for _, k := range u.Keys {
				if k.ID == m.Key {
					m.Status = k.Status
					m.Open = k.Status == "Active"
				}
			}
			words = append(words, m.Status+" in the last inventory")
		} else if s.Inventory != nil {
			m.Status, m.Open = "absent", false
			words = append(words, "not in the last inventory (deleted, or another account's)")
		} else {
			words = append(words, "no inventory taken")
		}
		if len(ok) > 0 {
			m.Open = false
		}
	}
	words = append(words, all...)
	m.Fate = strings.Join(words, "; ")
}

// regions lists the resources found in each Region and what was done.
func (r *Report) regions(s *state.Store, sus *state.SuspectSet, opts Options) {
	var cr *state.Creators
	if opts.Raw != nil {
		var problems []error
		cr, problems = state.FindCreators(s.Events, opts.Raw)
		for _, p := range problems {
			r.Problems = append(r.Problems, Problem{What: "creator: " + p.Error()})
		}
	}
	byName := map[string]*Region{}
	var names []string
	for _, sw := range s.SweepList() {
		reg := byName[sw.V.Region]
		if reg == nil {
			reg = &Region{Name: sw.V.Region, Resources: []Resource{}}
			byName[sw.V.Region] = reg
			names = append(names, sw.V.Region)
		}
		if e := sw.V.Error; e != nil {
			reg.Errors = append(reg.Errors, sw.V.Kind+": "+e.Class+": "+e.Error)
		}
		for _, res := range sw.V.Resources {
			c, known := cr.Of(sw.V.Region, res)
			out := Resource{Kind: sw.V.Kind, ID: res.ID, Name: res.Name, State: res.State, Created: res.Created,
				New: state.NewSince(s.Incident.Began, res, c, known)}
			if known {
				out.Creator = c.Principal
				if c.AccessKeyID != "" {
					out.Creator += " (" + c.AccessKeyID + ")"
				}
				out.Suspect = sus.Has(c.AccessKeyID, c.Principal)
			}
			_, out.Done = done(s, res.ID)
			reg.Resources = append(reg.Resources, out)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		r.Regions = append(r.Regions, *byName[n])
	}
}

// open lists what still needs doing. With a verdict in the journal (read
// back from AWS by the same function the CLI and the console use), it is
// the verdict's open and unsure footholds, as of its time; the journal's
// own memory (keys and instances it last saw, actions without a good
// outcome) is added only for what no verdict covers, marked as such.
func (r *Report) open(s *state.Store) {
	covered := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(s.Verdicts)) {
		d := s.Verdicts[k]
		v := d.V
		rv := Verdict{Key: v.Key, Word: v.Word(), CheckedAt: v.CheckedAt, Footholds: v.Footholds, Held: v.Held}
		for _, a := range s.Actions {
			if a.At.After(d.At) {
				rv.Stale = true
			}
		}
		r.Verdicts = append(r.Verdicts, rv)
		for _, lg := range s.Events.Family(k) {
			covered[lg.Key] = true
		}
		covered[k] = true
		for _, o := range v.Open {
			r.Open = append(r.Open, Open{Kind: o.Kind, ID: o.ID, Region: o.Region, Detail: o.Detail, Source: "verdict"})
		}
		for _, o := range v.Unsure {
			r.Open = append(r.Open, Open{Kind: o.Kind, ID: o.ID, Region: o.Region, Detail: o.Detail, Source: "unsure"})
		}
	}
	for _, m := range r.Family {
		if m.Open && !covered[m.Key] {
			r.Open = append(r.Open, Open{Kind: "key", ID: m.Key, Detail: m.Status + ": " + m.Fate, Source: "journal"})
		}
	}
	if len(s.Verdicts) == 0 && s.Inventory != nil {
		for _, u := range s.Inventory.Users {
			for _, k := range u.Keys {
				if !k.New || k.Status != "Active" || slices.ContainsFunc(r.Family, func(m Member) bool { return m.Key == k.ID }) {
					continue
				}
				if ok, _ := done(s, k.ID); len(ok) == 0 {
					r.Open = append(r.Open, Open{Kind: "key", ID: k.ID, Detail: "created during the incident for user " + u.Name + ", still Active", Source: "journal"})
				}
			}
		}
	}
	if len(s.Verdicts) == 0 {
		for _, reg := range r.Regions {
			for _, res := range reg.Resources {
				if res.Kind != "ec2:instance" || res.State != "running" || !res.New && !res.Suspect {
					continue
				}
				if ok, _ := done(s, res.ID); len(ok) == 0 {
					r.Open = append(r.Open, Open{Kind: "instance", ID: res.ID, Region: reg.Name, Detail: "still running in " + reg.Name + " (" + res.Creator + ")", Source: "journal"})
				}
			}
		}
	}
	for _, a := range s.Actions {
		switch o := a.Outcome(); o {
		case state.OutcomeUnknown, state.OutcomeFailed, state.OutcomeBroken:
			r.Open = append(r.Open, Open{Kind: "action", ID: a.Intent.ActionID, Detail: a.Intent.Action + " " + a.Intent.Target + ": " + string(o), Source: "journal"})
		}
	}
}
