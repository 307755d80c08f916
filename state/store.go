package state

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// Store is the fold of a journal: everything the console shows, built by
// applying facts in journal order. Live, replay and follow all use Apply.
//
// A Store is not safe for concurrent use: it is mutated only on the UI's
// update loop (or by one command's goroutine), so it needs no locks.
type Store struct {
	// Incident is line 1 of the journal.
	Incident IncidentOpened
	// Seq and Head are the sequence number and hash of the last entry applied.
	Seq  int64
	Head string
	// At is the time of the last entry applied (the "as of" time in replay).
	At time.Time

	// Events is every CloudTrail event seen, deduplicated, in event-time order.
	Events *EventTable
	// Skipped lists records that ingest could not parse.
	Skipped []Skipped

	Sessions []Dated[SessionStarted]
	// Ends lists the sessions that ended, in journal order (SessionEnd
	// pairs them with Sessions).
	Ends  []Dated[SessionEnded]
	Notes []Dated[Note]
	// Suspects maps an access key id or principal ARN to its latest mark;
	// cleared marks are removed.
	Suspects map[string]Dated[Suspect]
	Regions  []Region
	// RegionsAt is when the Region list was last read.
	RegionsAt time.Time
	// Health maps an event source ("lookup:eu-west-1") to its latest health.
	Health map[string]Dated[StreamHealth]
	// Inventory is the latest snapshot of principals and keys, nil before
	// one; InventorySeq is the journal line it came from (an action
	// journaled after it is newer than what it says).
	Inventory    *Inventory
	InventorySeq int64
	// Sweeps holds the latest sweep of each Region and resource kind.
	Sweeps map[SweepKey]Dated[Sweep]
	// ActionLedger holds the containment actions (Actions), in the order
	// their intents were journaled.
	ActionLedger
	// Repairs lists torn tails that writers cut.
	Repairs []Dated[JournalRepaired]
	// Anchors lists the heads recorded in CloudTrail.
	Anchors []Dated[Anchor]
	// KeyInfos maps an access key id to the latest "is this key ours?" answer.
	KeyInfos map[string]Dated[KeyInfo]
	// Verdicts maps a suspect key to its latest verdict, read back from AWS.
	Verdicts map[string]Dated[Verdict]
	// Impacts maps "ACCOUNT|CREDENTIAL" to the latest impact judgement
	// journaled for a contained credential (impact.go).
	Impacts map[string]Dated[ImpactJudgement]
	// Integrity maps a trail source (s3://bucket/prefix, a folder) to its
	// latest validation against CloudTrail's digests.
	Integrity map[string]Dated[TrailIntegrity]
	// IdentityCenter is the latest read of the home account's IAM
	// Identity Center (nil before one).
	IdentityCenter *Dated[IdentityCenter]
	unvouched      map[string]bool // the keys (and bucket/keys) of Integrity's unvouched files
	// unvouchedEvents maps the event ids Integrity's facts name to the
	// file each was read from ("" when the fact does not say).
	unvouchedEvents map[string]string
	// Trusts keeps, per role name, every distinct trust policy the
	// inventories saw, oldest first: the known-good document to restore
	// when the attacker changed it.
	Trusts map[string][]Dated[string]
	// GuardDuty holds, per Region, GuardDuty's latest answer and the
	// findings last read there (guardduty.go).
	GuardDuty map[string]Dated[GuardDutyRegion]
	// Reaches maps a principal ARN to its latest Access Advisor report;
	// ConfigHistories a resource (ConfigKey) to its latest AWS Config
	// history (reach.go).
	Reaches         map[string]Dated[Reach]
	ConfigHistories map[string]Dated[ConfigHistory]
	// Accounts holds the facts of member accounts, by account id
	// (accounts.go): the home account's stay in the fields above.
	Accounts map[string]*AccountFacts

	// Timeline has one item per fact applied, for the journal pane.
	Timeline []TimelineItem
	// Problems lists facts that were in the journal but could not be applied.
	Problems []FactProblem

	// ours maps an actor to the indexes of the credentials its current
	// session runs on (EventTable.AddOurs): each fact the actor journals
	// extends their window. oursActor and oursIdx cache the last lookup.
	ours      map[journal.Actor][]int
	oursActor journal.Actor
	oursIdx   []int

	// lastActor and lastBy remember the last entry's actor and its
	// user@host, which most entries share.
	lastActor journal.Actor
	lastBy    string
	// strs interns the short strings of frequent facts.
	strs interner
}

// Dated is a fact payload with where and when it was journaled, and by whom.
type Dated[T any] struct {
	Seq int64
	At  time.Time
	By  journal.Actor
	V   T
}

// SweepKey names one Region's resources of one kind.
type SweepKey struct{ Region, Kind string }

// FactProblem is a journal entry the store could not apply.
type FactProblem struct {
	Seq  int64
	Kind string
	Err  string
}

// TimelineItem is one fact as the journal pane lists it.
type TimelineItem struct {
	Seq     int64
	At      time.Time
	Kind    Kind
	By      string // OS user@host
	Summary string // one line, not yet sanitised for a terminal
	Offset  int64  // the line's byte offset in the journal
}

// Action is a containment action as the journal tells it: its intent, its
// result when there is one, and every verification.
type Action struct {
	Intent    ActionIntent
	IntentSeq int64
	At        time.Time
	By        journal.Actor
	Result    *ActionResult
	ResultAt  time.Time
	Verifies  []ActionVerify
}

// Outcome says where an action stands.
type Outcome string

// Outcomes.
const (
	// OutcomeUnknown: an intent with no result. While the writer lives this
	// means "in progress"; after a restart it means the process died between
	// the intent and the result, and the action must be verified.
	OutcomeUnknown  Outcome = "outcome unknown"
	OutcomeFailed   Outcome = "failed"
	OutcomeDone     Outcome = "done"
	OutcomeAlready  Outcome = "already in effect"
	OutcomeVerified Outcome = "verified"
	OutcomeBroken   Outcome = "does not hold"
)

// Outcome reports the action's state from its facts.
func (a *Action) Outcome() Outcome {
	if n := len(a.Verifies); n > 0 {
		if a.Verifies[n-1].Holds {
			return OutcomeVerified
		}
		return OutcomeBroken
	}
	switch {
	case a.Result == nil:
		return OutcomeUnknown
	case !a.Result.OK:
		return OutcomeFailed
	case a.Result.Already:
		return OutcomeAlready
	}
	return OutcomeDone
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{
		Events:       NewEventTable(),
		Suspects:     map[string]Dated[Suspect]{},
		Health:       map[string]Dated[StreamHealth]{},
		Sweeps:       map[SweepKey]Dated[Sweep]{},
		KeyInfos:     map[string]Dated[KeyInfo]{},
		Impacts:      map[string]Dated[ImpactJudgement]{},
		Verdicts:     map[string]Dated[Verdict]{},
		Integrity:    map[string]Dated[TrailIntegrity]{},
		Trusts:       map[string][]Dated[string]{},
		ActionLedger: ActionLedger{byID: map[string]*Action{}},
		strs:         interner{},
		ours:         map[journal.Actor][]int{},
	}
}

// Grow makes room in the timeline for n more facts, for a caller that
// knows how many it is about to apply (replay).
func (s *Store) Grow(n int) { s.Timeline = slices.Grow(s.Timeline, n) }

// Apply folds one journal entry into the store. An entry whose payload
// cannot be decoded is recorded in Problems and in the timeline, and Apply
// returns nil: one bad fact must not hide the rest of the incident. Apply
// returns an error only when entries arrive out of order.
func (s *Store) Apply(e journal.Entry) error {
	if Kind(e.Kind) == KindEvents {
		ev, ok := decodeEvents(e.Data)
		if !ok {
			ev = Events{}
			if err := json.Unmarshal(e.Data, &ev); err != nil {
				return s.applyUndecodable(e, err)
			}
		} else if e.DataAt > 0 {
			s.Events.keepSpans(e, ev.Records)
		}
		recs := make([]ctlog.Record, 0, len(ev.Records))
		var bad []FactProblem
		for i, raw := range ev.Records {
			r, err := ctlog.ParseRecord(raw)
			if err != nil {
				bad = append(bad, FactProblem{Seq: e.Seq, Kind: e.Kind, Err: fmt.Sprintf("record %d: %v", i, err)})
				// Keep the index aligned with the journal's record index.
				r = ctlog.Record{}
			}
			recs = append(recs, r)
		}
		err := s.ApplyEvents(e, ev, recs)
		s.Problems = append(s.Problems, bad...)
		return err
	}
	return s.apply(e)
}

// ApplyEvents folds an events entry whose records the caller has already
// parsed (the live path parses once, before journaling). recs[i] must be
// ev.Records[i] parsed; a zero Record (no EventID) is skipped.
func (s *Store) ApplyEvents(e journal.Entry, ev Events, recs []ctlog.Record) error {
	if err := s.advance(e); err != nil {
		return err
	}
	added := s.Events.AddBatch(recs, EventRef{Offset: e.Offset})
	s.Skipped = append(s.Skipped, ev.Skipped...)
	sum := strconv.Itoa(len(recs)) + " events from " + ev.Source
	if added != len(recs) {
		sum = strconv.Itoa(len(recs)) + " events (" + strconv.Itoa(added) + " new) from " + ev.Source
	}
	if len(ev.Skipped) > 0 {
		n := 0
		for _, sk := range ev.Skipped {
			n += sk.Records()
		}
		sum += ", " + strconv.Itoa(n) + " skipped"
	}
	s.timeline(e, sum)
	return nil
}

func (s *Store) advance(e journal.Entry) error {
	if s.Seq != 0 && e.Seq != s.Seq+1 {
		return fmt.Errorf("store: entry seq %d applied after %d", e.Seq, s.Seq)
	}
	s.Seq, s.Head, s.At = e.Seq, e.Hash, e.At
	s.extendOurs(e)
	return nil
}

// extendOurs extends the windows of the credentials the session of e's
// actor runs on to e's time: the session was running then.
func (s *Store) extendOurs(e journal.Entry) {
	if len(s.ours) == 0 {
		return
	}
	if e.By != s.oursActor {
		s.oursActor, s.oursIdx = e.By, s.ours[e.By]
	}
	for _, i := range s.oursIdx {
		s.Events.ExtendOurs(i, e.At)
	}
}

func (s *Store) applyUndecodable(e journal.Entry, err error) error {
	if aerr := s.advance(e); aerr != nil {
		return aerr
	}
	s.Problems = append(s.Problems, FactProblem{Seq: e.Seq, Kind: e.Kind, Err: err.Error()})
	s.timeline(e, "undecodable "+e.Kind+": "+err.Error())
	return nil
}

// decode unmarshals an entry's payload into a T.
func decode[T any](e journal.Entry) (T, error) {
	var v T
	err := json.Unmarshal(e.Data, &v)
	return v, err
}

func dated[T any](e journal.Entry, v T) Dated[T] {
	return Dated[T]{Seq: e.Seq, At: e.At, By: e.By, V: v}
}

// apply is the reducer: one case per fact kind.
func (s *Store) apply(e journal.Entry) error {
	var (
		sum string
		err error
	)
	switch Kind(e.Kind) {
	case KindIncidentOpened:
		var v IncidentOpened
		if v, err = decode[IncidentOpened](e); err == nil {
			s.Incident = v
			sum = "incident " + v.ID + " opened"
			if v.Title != "" {
				sum += ": " + v.Title
			}
		}
	case KindSessionStarted:
		var v SessionStarted
		if v, err = decode[SessionStarted](e); err == nil {
			s.Sessions = append(s.Sessions, dated(e, v))
			// A new session of an actor ends its previous one's window.
			var idx []int
			if v.CallerKeyID != "" {
				idx = append(idx, s.Events.AddOurs(v.CallerKeyID, v.CallerARN, e.At))
			}
			s.ours[e.By] = idx
			s.oursActor, s.oursIdx = e.By, idx
			sum = fmt.Sprintf("%s started (%s)", v.Command, v.Mode)
			if v.CallerARN != "" {
				sum += " as " + v.CallerARN
			}
		}
	case KindSessionKey:
		var v SessionKey
		if v, err = decode[SessionKey](e); err == nil {
			if v.KeyID == "" {
				err = fmt.Errorf("session.key without a key id")
				break
			}
			idx := append(slices.Clone(s.ours[e.By]), s.Events.AddOurs(v.KeyID, v.CallerARN, e.At))
			s.ours[e.By] = idx
			s.oursActor, s.oursIdx = e.By, idx
			sum = "session signs with " + v.KeyID
		}
	case KindSessionEnded:
		var v SessionEnded
		if v, err = decode[SessionEnded](e); err == nil {
			s.Ends = append(s.Ends, dated(e, v))
			sum = fmt.Sprintf("%s ended (%s)", v.Command, v.Reason)
			if v.Error != "" {
				sum += ": " + v.Error
			}
		}
	case KindNote:
		var v Note
		if v, err = decode[Note](e); err == nil {
			s.Notes = append(s.Notes, dated(e, v))
			sum = "note: " + v.Text
		}
	case KindSuspect:
		var v Suspect
		if v, err = decode[Suspect](e); err == nil {
			id := v.AccessKeyID
			if id == "" {
				id = v.PrincipalARN
			}
			if v.Clear {
				delete(s.Suspects, id)
				sum = "cleared suspect " + id
			} else {
				s.Suspects[id] = dated(e, v)
				sum = "suspect " + id
				if v.Reason != "" {
					sum += ": " + v.Reason
				}
			}
		}
	case KindRegions:
		var v Regions
		if v, err = decode[Regions](e); err == nil {
			if m := s.member(v.AccountID); m != nil {
				m.Regions, m.RegionsAt = v.Regions, e.At
			} else {
				s.Regions, s.RegionsAt = v.Regions, e.At
			}
			enabled := 0
			for _, r := range v.Regions {
				if r.Enabled() {
					enabled++
				}
			}
			sum = fmt.Sprintf("%d Regions, %d enabled", len(v.Regions), enabled)
		}
	case KindStreamHealth:
		v, ok := decodeHealth(e.Data, s.strs)
		if !ok {
			v, err = decode[StreamHealth](e)
		}
		if err == nil {
			if m := s.member(v.AccountID); m != nil {
				m.Health[v.Source] = dated(e, v)
				sum = v.AccountID + " "
			} else {
				s.Health[v.Source] = dated(e, v)
			}
			sum += v.Source + ": " + v.Status + ", " + time.Duration(v.Lag).Round(time.Second).String() + " behind"
			if v.Error != "" {
				sum += ": " + v.Error
			}
		}
	case KindInventory:
		var v Inventory
		if v, err = decode[Inventory](e); err == nil {
			m := s.member(v.AccountID)
			if m != nil {
				m.Inventory, m.InventorySeq = &v, e.Seq
			} else {
				s.Inventory, s.InventorySeq = &v, e.Seq
			}
			for _, r := range v.Roles {
				if m != nil {
					break // Trusts are the home account's roles
				}
				h := s.Trusts[r.Name]
				if r.TrustPolicy != "" && (len(h) == 0 || h[len(h)-1].V != r.TrustPolicy) {
					s.Trusts[r.Name] = append(h, Dated[string]{Seq: e.Seq, At: v.TakenAt, By: e.By, V: r.TrustPolicy})
				}
			}
			keys := 0
			for _, u := range v.Users {
				keys += len(u.Keys)
			}
			if m != nil {
				sum = "account " + v.AccountID + " "
			}
			sum += "inventory: " + Plural(len(v.Users), "user") + ", " + Plural(keys, "key") + ", " + Plural(len(v.Roles), "role")
			if len(v.Errors) > 0 {
				sum += fmt.Sprintf(", %d calls failed", len(v.Errors))
			}
		}
	case KindSweep:
		var v Sweep
		if v, err = decode[Sweep](e); err == nil {
			if m := s.member(v.AccountID); m != nil {
				m.Sweeps[SweepKey{v.Region, v.Kind}] = dated(e, v)
				sum = v.AccountID + " "
			} else {
				s.Sweeps[SweepKey{v.Region, v.Kind}] = dated(e, v)
			}
			if v.Error != nil {
				sum += fmt.Sprintf("%s %s: %s", v.Region, v.Kind, v.Error.Class)
			} else {
				sum += fmt.Sprintf("%s %s: %d", v.Region, v.Kind, len(v.Resources))
			}
		}
	case KindActionIntent, KindActionResult, KindActionVerify:
		var a *Action
		if a, err = s.ActionLedger.apply(e); err == nil {
			sum = actionSummary(Kind(e.Kind), a)
		}
	case KindJournalRepaired:
		var v JournalRepaired
		if v, err = decode[JournalRepaired](e); err == nil {
			s.Repairs = append(s.Repairs, dated(e, v))
			switch v.Action {
			case journal.RepairCompleted:
				sum = fmt.Sprintf("journal repaired: added the newline a complete last line had lost (offset %d)", v.Offset)
			case journal.RepairQuarantined:
				sum = fmt.Sprintf("journal repaired: cut %d stray line(s), %d bytes at offset %d, kept in %s: %s", v.Lines, v.Bytes, v.Offset, v.Quarantine, v.Reason)
			default:
				sum = fmt.Sprintf("journal repaired: cut %d torn bytes at offset %d", v.Bytes, v.Offset)
				if v.Quarantine != "" {
					sum += ", kept in " + v.Quarantine
				}
			}
		}
	case KindVerdict:
		var v Verdict
		if v, err = decode[Verdict](e); err == nil {
			s.Verdicts[v.Key] = dated(e, v)
			sum = fmt.Sprintf("verdict on %s: %s (%d of %d footholds held, %d open, %d unsure)", v.Key, v.Word(), v.Held, v.Footholds, len(v.Open), len(v.Unsure))
		}
	case KindKeyInfo:
		var v KeyInfo
		if v, err = decode[KeyInfo](e); err == nil {
			s.KeyInfos[v.AccessKeyID] = dated(e, v)
			switch {
			case v.Account == "":
				sum = fmt.Sprintf("key %s: owner unknown", v.AccessKeyID)
			case v.Ours:
				sum = fmt.Sprintf("key %s is ours", v.AccessKeyID)
				if v.UserName != "" {
					sum += " (user " + v.UserName + ")"
				}
			default:
				sum = fmt.Sprintf("key %s belongs to account %s", v.AccessKeyID, v.Account)
			}
		}
	case KindAccountAccess:
		var v AccountAccess
		if v, err = decode[AccountAccess](e); err == nil {
			sum = s.applyAccess(dated(e, v))
		}
	case KindIdentityCenter:
		var v IdentityCenter
		if v, err = decode[IdentityCenter](e); err == nil {
			d := dated(e, v)
			s.IdentityCenter = &d
			sum = v.Summary()
		}
	case KindAnchor:
		var v Anchor
		if v, err = decode[Anchor](e); err == nil {
			s.Anchors = append(s.Anchors, dated(e, v))
			sum = fmt.Sprintf("head of line %d anchored in CloudTrail (%s, %s, request %s)", v.Seq, v.Call, v.Region, v.RequestID)
		}
	case KindGuardDuty:
		var v GuardDuty
		if v, err = decode[GuardDuty](e); err == nil {
			sum = s.applyGuardDuty(dated(e, v))
		}
	case KindImpact:
		var v ImpactJudgement
		if v, err = decode[ImpactJudgement](e); err == nil {
			s.Impacts[v.Account+"|"+v.Credential] = dated(e, v)
			sum = v.Summary()
		}
	case KindReach:
		sum, err = s.applyReach(e)
	case KindConfigHistory:
		sum, err = s.applyConfigHistory(e)
	case KindTrailIntegrity:
		var v TrailIntegrity
		if v, err = decode[TrailIntegrity](e); err == nil {
			s.Integrity[v.Source] = dated(e, v)
			s.noteUnvouched()
			sum = v.Summary()
		}
	default:
		// A kind from a newer warroom: keep it visible, not fatal.
		sum = "unknown fact kind " + e.Kind
	}
	if err != nil {
		return s.applyUndecodable(e, err)
	}
	if err := s.advance(e); err != nil {
		return err
	}
	s.timeline(e, sum)
	return nil
}

func (s *Store) timeline(e journal.Entry, sum string) {
	if e.By != s.lastActor || s.lastBy == "" {
		by := e.By.User
		if e.By.Host != "" {
			by += "@" + e.By.Host
		}
		s.lastActor, s.lastBy = e.By, by
	}
	by := s.lastBy
	s.Timeline = append(s.Timeline, TimelineItem{Seq: e.Seq, At: e.At, Kind: Kind(e.Kind), By: by, Summary: sum, Offset: e.Offset})
}

// SessionEnd returns the end of Sessions[i]: the first session.ended its
// actor journaled after it. ok is false while it runs, as far as the
// journal knows (a killed process journals no end).
func (s *Store) SessionEnd(i int) (end Dated[SessionEnded], ok bool) {
	if i < 0 || i >= len(s.Sessions) {
		return end, false
	}
	st := s.Sessions[i]
	for _, e := range s.Ends {
		if e.Seq > st.Seq && e.By == st.By {
			return e, true
		}
	}
	return end, false
}

// SweepList returns the latest sweeps sorted by Region, then kind.
func (s *Store) SweepList() []Dated[Sweep] { return sweepList(s.Sweeps) }

// sweepList is sweeps sorted by Region and kind.
func sweepList(sweeps map[SweepKey]Dated[Sweep]) []Dated[Sweep] {
	out := make([]Dated[Sweep], 0, len(sweeps))
	for _, v := range sweeps {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].V.Region != out[j].V.Region {
			return out[i].V.Region < out[j].V.Region
		}
		return out[i].V.Kind < out[j].V.Kind
	})
	return out
}

// Plural is n and word, plural unless n is 1: "1 key", "3 keys".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
