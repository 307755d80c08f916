package state

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// The impact watch: what still calls with a credential warroom contained.
// The write-ups say to deactivate a leaked key first and delete it later,
// once nothing legitimate breaks. Store.Impact is a fold over the event
// table and the action ledger (no AWS call): for each key warroom
// deactivated and each principal whose sessions it revoked, every call made
// with it since, grouped by source address and user agent, each group told
// apart by whether the same address and agent used the credential before
// the incident (likely its owner's application) or not (likely the
// attacker). A fresh iam:GetAccessKeyLastUsed read (a key.info fact) is
// the truth check: a key IAM says was used successfully after it was
// deactivated is active again.

// KindImpact is the kind of an ImpactJudgement fact.
const KindImpact Kind = "impact.judgement"

// DefaultQuietFor is how long no call matching a credential's use before
// the incident must have been seen before it is judged safe to delete.
const DefaultQuietFor = 24 * time.Hour

// ImpactJudgement is a judgement a responder acts on ("safe to delete"),
// journaled when the CLI shows it (warroom impact --journal).
type ImpactJudgement struct {
	// Credential is a key id, or "user/NAME" / "role/NAME" for revoked
	// sessions; Account the account it is in (empty: home).
	Credential string `json:"credential"`
	Account    string `json:"account,omitempty"`
	// SafeToDelete and Why: the judgement and the sentence that says why.
	SafeToDelete bool   `json:"safe_to_delete"`
	Why          string `json:"why"`
	// ContainedAt, QuietFor (a Go duration) and CheckedAt: what it was
	// judged against.
	ContainedAt time.Time `json:"contained_at"`
	QuietFor    string    `json:"quiet_for"`
	CheckedAt   time.Time `json:"checked_at"`
	// Matching and New count the groups of calls since containment.
	Matching int `json:"matching"`
	New      int `json:"new"`
	// LastLegitimate is the last call matching the use before the incident.
	LastLegitimate time.Time `json:"last_legitimate,omitzero"`
}

// Match says whether a group of calls looks like the credential's use
// before the incident.
type Match string

// Matches.
const (
	// MatchBefore: the same source address and user agent used the
	// credential before the incident: likely its owner's application.
	MatchBefore Match = "matches use before the incident"
	// MatchNew: not seen with the credential before: likely the attacker.
	MatchNew Match = "new"
)

// ImpactGroup is the calls of one source address and user agent made with
// a contained credential since its containment. SourceIP and UserAgent
// come from CloudTrail and may be the attacker's text.
type ImpactGroup struct {
	SourceIP  string `json:"source_ip"`
	UserAgent string `json:"user_agent"`
	Match     Match  `json:"match"`
	// Note says what else is known: the address seen before with another
	// agent, or the agent from another address.
	Note string `json:"note,omitempty"`
	// Calls since containment, how many failed, their error codes and
	// event names (distinct, sorted).
	Calls  int       `json:"calls"`
	Failed int       `json:"failed"`
	Errors []string  `json:"errors,omitempty"`
	Events []string  `json:"events,omitempty"`
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
	// Before is how many calls the same address and agent made with the
	// credential before the incident.
	Before int `json:"before"`
}

// Impact is the watch over one contained credential.
type Impact struct {
	// Credential is the key id, or "user/NAME" / "role/NAME" for revoked
	// sessions; Kind is "key" or "sessions".
	Credential string `json:"credential"`
	Kind       string `json:"kind"`
	Account    string `json:"account,omitempty"`
	// Action and ActionID: the containment action that started the watch;
	// ContainedAt its result's time.
	Action      string    `json:"action"`
	ActionID    string    `json:"action_id"`
	ContainedAt time.Time `json:"contained_at"`
	// ContainedBy says where ContainedAt comes from: "cloudtrail" (the
	// account's record of warroom's call) or "journal" (the result's line).
	ContainedBy string `json:"contained_by"`
	// Undone: warroom reactivated the key (or unrevoked) after; the watch
	// ends there.
	Undone time.Time `json:"undone,omitzero"`
	// LeakAt is when the incident began for this credential, and LeakFrom
	// how it was found; zero when it could not be told.
	LeakAt   time.Time `json:"leak_at,omitzero"`
	LeakFrom string    `json:"leak_from,omitempty"`
	// Baseline counts the calls before LeakAt: the credential's normal use.
	Baseline int           `json:"baseline"`
	Groups   []ImpactGroup `json:"groups"`
	// LastLegitimate is the last call since containment matching the use
	// before the incident; LastCall the last call of any group.
	LastLegitimate time.Time `json:"last_legitimate,omitzero"`
	LastCall       time.Time `json:"last_call,omitzero"`
	// LastUsed is IAM's last successful use of the key (GetAccessKeyLastUsed,
	// read at LastUsedAt; 15-minute granularity), when a key.info fact read
	// after containment has it; LastUsedErrors the calls of that read that
	// failed.
	LastUsed       time.Time   `json:"last_used,omitzero"`
	LastUsedAt     time.Time   `json:"last_used_checked_at,omitzero"`
	LastUsedErrors []CallError `json:"last_used_errors,omitempty"`
	// QuietFor, SafeToDelete and Why: the judgement, made at Now.
	QuietFor time.Duration `json:"-"`
	// Quiet is QuietFor as written ("24h"), for JSON.
	Quiet        string    `json:"quiet_for"`
	Now          time.Time `json:"now"`
	SafeToDelete bool      `json:"safe_to_delete"`
	Why          string    `json:"why"`
}

// Judgement is the fact to journal for im.
func (im *Impact) Judgement() ImpactJudgement {
	j := ImpactJudgement{Credential: im.Credential, Account: im.Account, SafeToDelete: im.SafeToDelete, Why: im.Why,
		ContainedAt: im.ContainedAt, QuietFor: im.QuietFor.String(), CheckedAt: im.Now, LastLegitimate: im.LastLegitimate}
	for _, g := range im.Groups {
		if g.Match == MatchBefore {
			j.Matching++
		} else {
			j.New++
		}
	}
	return j
}

// ImpactOptions tune Store.Impact.
type ImpactOptions struct {
	// Credential: only this one (a key id, "user/NAME" or "role/NAME");
	// empty: every contained credential.
	Credential string
	// QuietFor: DefaultQuietFor when zero.
	QuietFor time.Duration
	// LeakAt: when the incident began, if the responder knows; else the
	// incident's Began, else found from the calls (impactLeak).
	LeakAt time.Time
	// Now: when the judgement is made; the store's last fact time when zero.
	Now time.Time
	// Raw reads an event's raw record (a RawReader's Raw). With it, the
	// containment's time is the account's: when CloudTrail recorded
	// warroom's own call, found by its request id; without it, or before
	// CloudTrail has the call, when the result was journaled.
	Raw func(EventRef) ([]byte, error)
}

// Impact returns the watch over every credential warroom contained (a
// deactivate-key or rotate-key that succeeded, a revoke-sessions), in the
// order they were contained.
func (s *Store) Impact(o ImpactOptions) []Impact {
	if o.QuietFor <= 0 {
		o.QuietFor = DefaultQuietFor
	}
	if o.Now.IsZero() {
		o.Now = s.At
	}
	if o.LeakAt.IsZero() {
		o.LeakAt = s.Incident.Began
	}
	var out []Impact
	seen := map[string]int{}
	for _, a := range s.Actions {
		if a.Result == nil || !a.Result.OK {
			continue
		}
		if cred := undoneCredential(a); cred != "" {
			// An undo ends the watch.
			if i, ok := seen[a.Intent.Account+"|"+cred]; ok && out[i].Undone.IsZero() {
				out[i].Undone, _ = s.containedAt(a, o.Raw)
			}
			continue
		}
		kind, cred := containedCredential(a)
		if kind == "" || o.Credential != "" && o.Credential != cred {
			continue
		}
		id := a.Intent.Account + "|" + cred
		if i, ok := seen[id]; ok {
			// Contained again after an undo: the watch restarts.
			if !out[i].Undone.IsZero() {
				out[i].ContainedAt, out[i].ContainedBy = s.containedAt(a, o.Raw)
				out[i].Action, out[i].ActionID, out[i].Undone = a.Intent.Action, a.Intent.ActionID, time.Time{}
			}
			continue
		}
		seen[id] = len(out)
		at, by := s.containedAt(a, o.Raw)
		out = append(out, Impact{Credential: cred, Kind: kind, Account: a.Intent.Account, Action: a.Intent.Action,
			ActionID: a.Intent.ActionID, ContainedAt: at, ContainedBy: by, QuietFor: o.QuietFor, Now: o.Now})
	}
	for i := range out {
		out[i].Quiet, out[i].Groups = shortDur(o.QuietFor), []ImpactGroup{}
		s.watch(&out[i], o.LeakAt)
	}
	return out
}

// containedAt is when action a took effect by the account's clock: the
// latest time CloudTrail recorded one of its calls (matched by request
// id, which is unique), else when its result was journaled.
func (s *Store) containedAt(a *Action, raw func(EventRef) ([]byte, error)) (time.Time, string) {
	ids := map[string]bool{}
	var names []string
	for _, c := range a.Result.Calls {
		if c.RequestID != "" && c.Error == "" {
			ids[c.RequestID] = true
			_, name, _ := strings.Cut(c.API, ":")
			names = append(names, name)
		}
	}
	if raw == nil || len(ids) == 0 {
		return resultTime(a), "journal"
	}
	res := s.Events.Query(&Filter{Terms: []Term{{Field: FieldEvent, Value: names}}})
	var at time.Time
	for _, id := range res.IDs() {
		e := s.Events.Event(id)
		b, err := raw(e.Ref)
		if err != nil {
			continue
		}
		var r struct {
			RequestID string `json:"requestID"`
		}
		if json.Unmarshal(b, &r) == nil && ids[r.RequestID] && e.Time.After(at) {
			at = e.Time
		}
	}
	if at.IsZero() {
		return resultTime(a), "journal"
	}
	return at.UTC(), "cloudtrail"
}

// resultTime is when an action's result was journaled (its intent's time
// for a journal that has none).
func resultTime(a *Action) time.Time {
	if !a.ResultAt.IsZero() {
		return a.ResultAt.UTC()
	}
	return a.At.UTC()
}

// containedCredential says which credential an action contained: a key
// ("key", id) or a principal's sessions ("sessions", "user/NAME").
func containedCredential(a *Action) (kind, cred string) {
	switch a.Intent.Action {
	case "deactivate-key", "rotate-key":
		return "key", keyOfTarget(a.Intent.Target)
	case "revoke-sessions":
		if strings.HasPrefix(a.Intent.Target, "user/") || strings.HasPrefix(a.Intent.Target, "role/") {
			return "sessions", a.Intent.Target
		}
	}
	return "", ""
}

// undoneCredential says which credential an undo gave back.
func undoneCredential(a *Action) string {
	switch a.Intent.Action {
	case "reactivate-key":
		return keyOfTarget(a.Intent.Target)
	case "unrevoke-sessions":
		return a.Intent.Target
	}
	return ""
}

// keyOfTarget is the key id of a key target ("AKIA…@user" or "AKIA…").
func keyOfTarget(t string) string {
	k, _, _ := strings.Cut(t, "@")
	return k
}

// pairKey is a group's identity: the address in its canonical form (an
// IPv6 address has many spellings; an IPv4-mapped one is its IPv4) and
// the user agent exactly.
type pairKey struct{ ip, agent string }

// canonicalIP returns ip in one spelling; text that is not an address
// (CloudTrail writes service names such as "ec2.amazonaws.com") as is.
func canonicalIP(ip string) string {
	if a, err := netip.ParseAddr(strings.TrimSpace(ip)); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return ip
}

// watch fills im from the event table.
func (s *Store) watch(im *Impact, leakAt time.Time) {
	evs := s.credentialEvents(im)
	end := im.Now
	if !im.Undone.IsZero() && im.Undone.Before(end) {
		end = im.Undone
	}
	im.LeakAt, im.LeakFrom = leakAt, "the incident's start"
	if im.LeakAt.IsZero() {
		im.LeakAt, im.LeakFrom = impactLeak(evs, im.ContainedAt)
	}
	before := map[pairKey]int{}
	ipBefore, agentBefore := map[string]bool{}, map[string]bool{}
	groups := map[pairKey]*ImpactGroup{}
	for i := range evs {
		e := &evs[i]
		k := pairKey{canonicalIP(e.SourceIP), e.UserAgent}
		switch {
		case !im.LeakAt.IsZero() && e.Time.Before(im.LeakAt):
			before[k]++
			ipBefore[k.ip], agentBefore[k.agent] = true, true
			im.Baseline++
		case !e.Time.Before(im.ContainedAt) && !e.Time.After(end):
			g := groups[k]
			if g == nil {
				g = &ImpactGroup{SourceIP: k.ip, UserAgent: e.UserAgent, First: e.Time}
				groups[k] = g
			}
			g.Calls++
			if e.ErrorCode != "" {
				g.Failed++
				if !slices.Contains(g.Errors, e.ErrorCode) {
					g.Errors = append(g.Errors, e.ErrorCode)
				}
			}
			if !slices.Contains(g.Events, e.Name) {
				g.Events = append(g.Events, e.Name)
			}
			g.Last = e.Time
		}
	}
	for k, g := range groups {
		slices.Sort(g.Errors)
		slices.Sort(g.Events)
		g.Before = before[k]
		g.Match = MatchNew
		switch {
		case g.Before > 0:
			g.Match = MatchBefore
			im.LastLegitimate = later(im.LastLegitimate, g.Last)
		case ipBefore[k.ip]:
			g.Note = "this address used it before the incident with another user agent"
		case agentBefore[k.agent]:
			g.Note = "this user agent used it before the incident from another address"
		}
		im.LastCall = later(im.LastCall, g.Last)
		im.Groups = append(im.Groups, *g)
	}
	slices.SortFunc(im.Groups, func(a, b ImpactGroup) int {
		if a.Match != b.Match {
			if a.Match == MatchBefore {
				return -1
			}
			return 1
		}
		return cmp.Or(b.Calls-a.Calls, strings.Compare(a.SourceIP, b.SourceIP), strings.Compare(a.UserAgent, b.UserAgent))
	})
	if ki, ok := s.KeyInfos[im.Credential]; ok && im.Kind == "key" && !ki.V.CheckedAt.Before(im.ContainedAt) {
		im.LastUsed, im.LastUsedAt, im.LastUsedErrors = ki.V.LastUsed, ki.V.CheckedAt, ki.V.Errors
	}
	im.SafeToDelete, im.Why = judgeImpact(im)
}

// credentialEvents returns the calls made with im's credential (never
// warroom's own), in time order.
func (s *Store) credentialEvents(im *Impact) []Event {
	var f Filter
	switch {
	case im.Kind == "key":
		f.Terms = []Term{{Field: FieldKey, Value: []string{im.Credential}}}
	case strings.HasPrefix(im.Credential, "role/"):
		f.Terms = []Term{{Field: FieldPrincipal, Value: []string{"arn:*:sts::*:assumed-role/" + strings.TrimPrefix(im.Credential, "role/") + "/*"}}}
	default:
		// A user's temporary credentials: session and federation tokens.
		name := strings.TrimPrefix(im.Credential, "user/")
		f.Terms = []Term{{Field: FieldUser, Value: []string{name}}, {Field: FieldKey, Value: []string{"ASIA*"}}}
	}
	res := s.Events.Query(&f)
	out := make([]Event, 0, res.Len())
	for _, id := range res.IDs() {
		e := s.Events.Event(id)
		if e.Ours || im.Account != "" && e.Account != "" && e.Account != im.Account {
			continue
		}
		out = append(out, e)
	}
	return out
}

// impactLeak finds when the incident began for a credential whose calls
// are evs: the first call from any address and user agent that made a
// call of note (a severity class: recon, credential access, persistence …;
// not a call that failed to authenticate) with it before it was contained. A pair that did something notable is
// taken for the attacker's from its first call on; what came before is
// the credential's normal use. Zero when no call was of note.
func impactLeak(evs []Event, contained time.Time) (time.Time, string) {
	bad := map[pairKey]bool{}
	for i := range evs {
		e := &evs[i]
		if !e.Time.Before(contained) {
			break
		}
		if ClassifyEvent(e).Class != ClassNone && !authFailure[e.ErrorCode] {
			bad[pairKey{canonicalIP(e.SourceIP), e.UserAgent}] = true
		}
	}
	for i := range evs {
		if bad[pairKey{canonicalIP(evs[i].SourceIP), evs[i].UserAgent}] {
			return evs[i].Time, "the first call from the address and agent that made its first call of note"
		}
	}
	return time.Time{}, ""
}

// authFailure lists the error codes of a call whose credential did not
// authenticate: a dead key's caller, attacker or owner, says nothing of
// intent (EC2 records its codes with "Client." in front).
var authFailure = map[string]bool{
	"InvalidClientTokenId": true, "AuthFailure": true, "Client.AuthFailure": true, "UnrecognizedClientException": true,
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "ExpiredToken": true, "ExpiredTokenException": true,
	"Client.RequestExpired": true, "InvalidSignatureException": true,
}

// judgeImpact says whether the credential is safe to delete, and why. It
// is never safe while the watch is shorter than QuietFor, while IAM says
// the key was used successfully after containment, or while a call
// matching the use before the incident was seen within QuietFor; with no
// use before the incident to compare with, no call at all may have been
// seen within QuietFor.
func judgeImpact(im *Impact) (bool, string) {
	q := im.QuietFor
	since := im.Now.Add(-q)
	switch {
	case !im.Undone.IsZero():
		return false, fmt.Sprintf("warroom gave it back (%s at %s): it is not contained", undoName(im), im.Undone.Format(time.RFC3339))
	case !im.LastUsed.IsZero() && im.LastUsed.After(im.ContainedAt):
		return false, fmt.Sprintf("IAM says it was used successfully at %s, after it was contained at %s: it is active again",
			im.LastUsed.Format(time.RFC3339), im.ContainedAt.Format(time.RFC3339))
	case im.Now.Sub(im.ContainedAt) < q:
		return false, fmt.Sprintf("watched for %s of %s since containment", shortDur(im.Now.Sub(im.ContainedAt)), shortDur(q))
	case !im.LastLegitimate.IsZero() && im.LastLegitimate.After(since):
		return false, fmt.Sprintf("a caller that used it before the incident still called at %s: fix that application first, then wait %s",
			im.LastLegitimate.Format(time.RFC3339), shortDur(q))
	case im.Baseline == 0 && !im.LastCall.IsZero() && im.LastCall.After(since):
		return false, fmt.Sprintf("no use before the incident to compare with, and a call at %s, within %s", im.LastCall.Format(time.RFC3339), shortDur(q))
	case im.Baseline == 0:
		return true, fmt.Sprintf("no call at all for %s (no use before the incident to compare with)", shortDur(q))
	}
	return true, fmt.Sprintf("no call matching its use before the incident for %s", shortDur(q))
}

func undoName(im *Impact) string {
	if im.Kind == "key" {
		return "reactivated"
	}
	return "unrevoked"
}

// shortDur writes d without trailing zero units ("24h", "1h30m", "90s").
func shortDur(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Summary is the journal pane's line for the judgement.
func (j ImpactJudgement) Summary() string {
	word := "not yet safe to delete"
	if j.SafeToDelete {
		word = "safe to delete"
	}
	return fmt.Sprintf("impact watch on %s: %s: %s", j.Credential, word, j.Why)
}

// Lines is the watch as plain text, one line a string: the credential and
// the judgement, the incident's start, IAM's last use, then each group
// (address, calls, errors, times; its agent and calls; its note). The
// command line and the console both show it; the text from CloudTrail in
// it is raw: the caller sanitises it for where it goes.
func (im *Impact) Lines() []string {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.DateTime)
	}
	verdict := "✗ NOT YET SAFE TO DELETE"
	if im.SafeToDelete {
		verdict = "✓ SAFE TO DELETE"
	}
	where := ""
	if im.Account != "" {
		where = " in " + im.Account
	}
	out := []string{fmt.Sprintf("%s (%s%s at %s): %s — %s", im.Credential, im.Action, where, ts(im.ContainedAt), verdict, im.Why)}
	if im.LeakAt.IsZero() {
		out = append(out, "  incident start: unknown (no call of note before containment; --leak-at tells it)")
	} else {
		out = append(out, fmt.Sprintf("  incident start: %s (%s); %s before it", ts(im.LeakAt), im.LeakFrom, Plural(im.Baseline, "call")))
	}
	switch {
	case len(im.LastUsedErrors) > 0:
		for _, ce := range im.LastUsedErrors {
			out = append(out, fmt.Sprintf("  ! last use not read: %s: %s", ce.Call, ce.Error))
		}
	case !im.LastUsedAt.IsZero() && im.LastUsed.IsZero():
		out = append(out, fmt.Sprintf("  IAM (read %s): never used", ts(im.LastUsedAt)))
	case !im.LastUsedAt.IsZero():
		out = append(out, fmt.Sprintf("  IAM (read %s): last used successfully %s", ts(im.LastUsedAt), ts(im.LastUsed)))
	case im.Kind == "key":
		out = append(out, "  IAM: last use not read (warroom impact --check reads it)")
	}
	if len(im.Groups) == 0 {
		out = append(out, "  no call since containment")
	}
	for _, g := range im.Groups {
		glyph := "▲ new"
		if g.Match == MatchBefore {
			glyph = "● matches use before the incident"
		}
		failed := ""
		if g.Failed > 0 {
			failed = fmt.Sprintf(" (%d failed: %s)", g.Failed, strings.Join(g.Errors, ","))
		}
		out = append(out, fmt.Sprintf("  %s  %s  %s%s  %s … %s", glyph, g.SourceIP, Plural(g.Calls, "call"), failed, ts(g.First), ts(g.Last)),
			fmt.Sprintf("      agent %s; %s", g.UserAgent, strings.Join(g.Events, ", ")))
		if g.Note != "" {
			out = append(out, "      "+g.Note)
		}
	}
	return out
}

// AddressesBefore returns the source addresses that called with key
// before the incident began, sorted: the incident's Began when the
// responder gave it, else the impact watch's own rule (impactLeak: the
// first call from the address and agent that made its first call of
// note). They are likely its owner's application, which block-ip leaves
// out of its defaults. Nil when no call came before.
func (s *Store) AddressesBefore(key string) []string {
	evs := s.credentialEvents(&Impact{Kind: "key", Credential: key})
	leak := s.Incident.Began
	if leak.IsZero() {
		leak, _ = impactLeak(evs, time.Unix(1<<40, 0))
	}
	if leak.IsZero() {
		return nil
	}
	var out []string
	for i := range evs {
		if !evs[i].Time.Before(leak) {
			break
		}
		if ip := canonicalIP(evs[i].SourceIP); ip != "" && !slices.Contains(out, ip) {
			out = append(out, ip)
		}
	}
	slices.Sort(out)
	return out
}

// CanonicalIP is a source address as the impact watch compares them: an
// IPv6 spelling or an IPv4-mapped address as one, AWS service names as
// they are.
func CanonicalIP(ip string) string { return canonicalIP(ip) }
