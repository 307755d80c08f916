package state

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

var impT0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

const (
	impKey     = "AKIALEAKED000000001"
	appIP      = "198.51.100.10"
	appAgent   = "reporting-job/3.2 aws-sdk-go-v2/1.30"
	evilIP     = "203.0.113.66"
	evilAgent  = "Boto3/1.9.201 Python/2.7.16 Linux/4.19.0-kali5-amd64"
	containMin = 60
)

// impCall is one call with the key at impT0+min.
type impCall struct {
	min       int
	ip, agent string
	name, err string
	key       string // impKey when empty
	identity  string // IAMUser when empty
	arn       string
	user      string
}

// impStore builds a store holding calls and a deactivate-key of impKey at
// impT0+containMin whose result is journaled then, plus extra facts.
func impStore(t testing.TB, calls []impCall, extra ...journal.Entry) *Store {
	t.Helper()
	s := NewStore()
	seq := int64(0)
	at := func(min int) time.Time { return impT0.Add(time.Duration(min) * time.Minute) }
	apply := func(kind Kind, v any, when time.Time) {
		t.Helper()
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		seq++
		if err := s.Apply(journal.Entry{Seq: seq, At: when, Kind: string(kind), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	apply(KindIncidentOpened, IncidentOpened{ID: "wr-impact"}, impT0)
	for i, c := range calls {
		r := &ctlog.Record{EventID: uuidOf(i + 1), EventTime: at(c.min), EventName: c.name, EventSource: "sts.amazonaws.com",
			Region: "us-east-1", SourceIP: c.ip, UserAgent: c.agent, ErrorCode: c.err, IdentityType: "IAMUser",
			PrincipalARN: "arn:aws:iam::111122223333:user/legacy-reporting", UserName: "legacy-reporting", AccessKeyID: impKey,
			RecipientAccountID: "111122223333", Raw: []byte(fmt.Sprintf(`{"n":%d}`, i))}
		switch c.name {
		case "":
			r.EventName = "GetCallerIdentity"
		case "GetSessionToken":
		default:
			r.EventSource = "iam.amazonaws.com"
		}
		if c.key != "" {
			r.AccessKeyID = c.key
		}
		if c.identity != "" {
			r.IdentityType, r.PrincipalARN, r.UserName = c.identity, c.arn, c.user
		}
		s.Events.Add(r, EventRef{})
	}
	apply(KindActionIntent, ActionIntent{ActionID: "a1", Action: "deactivate-key", Target: impKey + "@legacy-reporting"}, at(containMin))
	apply(KindActionResult, ActionResult{ActionID: "a1", OK: true}, at(containMin))
	for _, e := range extra {
		seq++
		e.Seq = seq
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func impEntry(t testing.TB, kind Kind, v any, min int) journal.Entry {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return journal.Entry{At: impT0.Add(time.Duration(min) * time.Minute), Kind: string(kind), Data: data}
}

// baseline: the application before the incident, the attacker's recon and
// first call of note (GetSessionToken: credential access).
func impBaseline() []impCall {
	return []impCall{
		{min: 0, ip: appIP, agent: appAgent},
		{min: 10, ip: appIP, agent: appAgent},
		{min: 20, ip: appIP, agent: appAgent},
		{min: 40, ip: evilIP, agent: evilAgent},
		{min: 41, ip: evilIP, agent: evilAgent, name: "GetSessionToken"},
		{min: 50, ip: appIP, agent: appAgent},
	}
}

func TestImpactGroups(t *testing.T) {
	calls := append(impBaseline(),
		impCall{min: 70, ip: appIP, agent: appAgent, err: "InvalidClientTokenId"},
		impCall{min: 80, ip: appIP, agent: appAgent, err: "InvalidClientTokenId"},
		impCall{min: 75, ip: evilIP, agent: evilAgent, err: "InvalidClientTokenId", name: "ListUsers"},
	)
	day := 24 * 60
	cases := []struct {
		name     string
		now      int // minutes after impT0
		calls    []impCall
		safe     bool
		why      string
		matching int
		new      int
	}{
		{name: "watched too short", now: 200, calls: calls, why: "watched for", matching: 1, new: 1},
		{name: "quiet for a day", now: 80 + day + 1, calls: calls, safe: true, why: "no call matching", matching: 1, new: 1},
		{name: "application still calling", now: containMin + day + 60,
			calls: append(slices.Clone(calls), impCall{min: containMin + day + 30, ip: appIP, agent: appAgent, err: "InvalidClientTokenId"}),
			why:   "still called", matching: 1, new: 1},
		{name: "attacker still calling does not hold deletion", now: containMin + day + 60,
			calls: append(slices.Clone(calls), impCall{min: containMin + day + 30, ip: evilIP, agent: evilAgent, err: "InvalidClientTokenId"}),
			safe:  true, why: "no call matching", matching: 1, new: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := impStore(t, c.calls)
			im := s.Impact(ImpactOptions{Now: impT0.Add(time.Duration(c.now) * time.Minute)})
			if len(im) != 1 {
				t.Fatalf("%d impacts, want 1", len(im))
			}
			got := im[0]
			if got.Credential != impKey || got.Kind != "key" || !got.ContainedAt.Equal(impT0.Add(containMin*time.Minute)) {
				t.Fatalf("impact %+v", got)
			}
			if !got.LeakAt.Equal(impT0.Add(40 * time.Minute)) {
				t.Errorf("leak at %v, want the attacker's first call (t0+40m)", got.LeakAt)
			}
			if got.Baseline != 3 {
				t.Errorf("baseline %d calls, want the application's 3", got.Baseline)
			}
			j := got.Judgement()
			if got.SafeToDelete != c.safe || !strings.Contains(got.Why, c.why) || j.Matching != c.matching || j.New != c.new {
				t.Errorf("safe %v (%s), %d matching, %d new; want %v %q %d %d", got.SafeToDelete, got.Why, j.Matching, j.New, c.safe, c.why, c.matching, c.new)
			}
			app := got.Groups[0]
			if app.Match != MatchBefore || app.SourceIP != appIP || app.Before != 3 || app.Failed != app.Calls || app.Errors[0] != "InvalidClientTokenId" {
				t.Errorf("application group %+v", app)
			}
			evil := got.Groups[1]
			if evil.Match != MatchNew || evil.SourceIP != evilIP || evil.Before != 0 {
				t.Errorf("attacker group %+v", evil)
			}
		})
	}
}

// TestImpactMatchEdges: the edge cases of telling the owner's application
// from the attacker.
func TestImpactMatchEdges(t *testing.T) {
	after := func(ip, agent string) impCall {
		return impCall{min: 70, ip: ip, agent: agent, err: "InvalidClientTokenId"}
	}
	cases := []struct {
		name   string
		before []impCall
		after  impCall
		match  Match
		note   string
	}{
		{"same address and agent", impBaseline(), after(appIP, appAgent), MatchBefore, ""},
		{"same address, another agent", impBaseline(), after(appIP, "reporting-job/3.3 aws-sdk-go-v2/1.31"), MatchNew, "another user agent"},
		{"same agent, another address", impBaseline(), after("198.51.100.99", appAgent), MatchNew, "another address"},
		{"IPv6 spelled differently", []impCall{{min: 0, ip: "2001:DB8:0:0::10", agent: appAgent}, {min: 40, ip: evilIP, agent: evilAgent, name: "CreateUser"}},
			after("2001:db8::10", appAgent), MatchBefore, ""},
		{"IPv4-mapped IPv6", []impCall{{min: 0, ip: appIP, agent: appAgent}, {min: 40, ip: evilIP, agent: evilAgent, name: "CreateUser"}},
			after("::ffff:"+appIP, appAgent), MatchBefore, ""},
		{"a service name, not an address", []impCall{{min: 0, ip: "lambda.amazonaws.com", agent: "lambda.amazonaws.com"}, {min: 40, ip: evilIP, agent: evilAgent, name: "CreateUser"}},
			after("lambda.amazonaws.com", "lambda.amazonaws.com"), MatchBefore, ""},
		{"the attacker's own pair", impBaseline(), after(evilIP, evilAgent), MatchNew, ""},
		{"no use before the incident", []impCall{{min: 40, ip: evilIP, agent: evilAgent, name: "CreateUser"}}, after(appIP, appAgent), MatchNew, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := impStore(t, append(c.before, c.after))
			im := s.Impact(ImpactOptions{Now: impT0.Add(90 * time.Minute)})[0]
			if len(im.Groups) != 1 {
				t.Fatalf("groups %+v", im.Groups)
			}
			g := im.Groups[0]
			if g.Match != c.match || !strings.Contains(g.Note, c.note) || c.note == "" && g.Note != "" {
				t.Errorf("group %+v: want %q, note %q", g, c.match, c.note)
			}
		})
	}
}

// TestImpactNoBaseline: with nothing before the incident to compare with,
// any call within the quiet period holds deletion.
func TestImpactNoBaseline(t *testing.T) {
	calls := []impCall{{min: 40, ip: evilIP, agent: evilAgent, name: "CreateUser"}, {min: 70, ip: evilIP, agent: evilAgent, err: "InvalidClientTokenId"}}
	s := impStore(t, calls)
	im := s.Impact(ImpactOptions{Now: impT0.Add(80 * time.Minute), QuietFor: 15 * time.Minute})[0]
	if im.Baseline != 0 || im.SafeToDelete {
		t.Fatalf("no baseline: %+v", im)
	}
	im = s.Impact(ImpactOptions{Now: impT0.Add(90 * time.Minute), QuietFor: 15 * time.Minute})[0]
	if !im.SafeToDelete || !strings.Contains(im.Why, "no call at all") {
		t.Fatalf("quiet with no baseline: %v %s", im.SafeToDelete, im.Why)
	}
	// No call of note at all: the incident's start cannot be told.
	s = impStore(t, []impCall{{min: 10, ip: appIP, agent: appAgent}, {min: 70, ip: appIP, agent: appAgent, err: "InvalidClientTokenId"}})
	im = s.Impact(ImpactOptions{Now: impT0.Add(80 * time.Minute), QuietFor: 15 * time.Minute})[0]
	if !im.LeakAt.IsZero() || im.Baseline != 0 || im.SafeToDelete {
		t.Fatalf("no call of note: %+v", im)
	}
	// The responder says when it began.
	im = s.Impact(ImpactOptions{Now: impT0.Add(80 * time.Minute), QuietFor: 15 * time.Minute, LeakAt: impT0.Add(30 * time.Minute)})[0]
	if im.Baseline != 1 || im.Groups[0].Match != MatchBefore || im.SafeToDelete {
		t.Fatalf("leak given: %+v", im)
	}
}

// TestImpactTruthAndUndo: IAM's last use after containment, and an undo,
// each hold deletion; a last-used read that failed is carried.
func TestImpactTruthAndUndo(t *testing.T) {
	calls := impBaseline()
	now := impT0.Add(3 * 24 * time.Hour)
	used := impEntry(t, KindKeyInfo, KeyInfo{AccessKeyID: impKey, CheckedAt: now, Ours: true, LastUsed: impT0.Add(2 * time.Hour)}, 3*24*60)
	im := impStore(t, calls, used).Impact(ImpactOptions{Now: now})[0]
	if im.SafeToDelete || !strings.Contains(im.Why, "active again") || !im.LastUsed.Equal(impT0.Add(2*time.Hour)) {
		t.Errorf("used after containment: %v %s", im.SafeToDelete, im.Why)
	}
	denied := impEntry(t, KindKeyInfo, KeyInfo{AccessKeyID: impKey, CheckedAt: now,
		Errors: []CallError{{Call: "iam:GetAccessKeyLastUsed", Class: "access-denied", Error: "AccessDenied"}}}, 3*24*60)
	im = impStore(t, calls, denied).Impact(ImpactOptions{Now: now})[0]
	if !im.SafeToDelete || len(im.LastUsedErrors) != 1 {
		t.Errorf("denied read: the judgement goes on from CloudTrail and carries the error: %+v", im)
	}
	stale := impEntry(t, KindKeyInfo, KeyInfo{AccessKeyID: impKey, CheckedAt: impT0, LastUsed: impT0.Add(50 * time.Minute)}, 59)
	if im = impStore(t, calls, stale).Impact(ImpactOptions{Now: now})[0]; !im.LastUsedAt.IsZero() {
		t.Errorf("a read from before containment is not the truth check: %+v", im)
	}
	undo := []journal.Entry{
		impEntry(t, KindActionIntent, ActionIntent{ActionID: "a2", Action: "reactivate-key", Target: impKey + "@legacy-reporting"}, 90),
		impEntry(t, KindActionResult, ActionResult{ActionID: "a2", OK: true}, 90),
	}
	im = impStore(t, append(calls, impCall{min: 100, ip: appIP, agent: appAgent}), undo...).Impact(ImpactOptions{Now: now})[0]
	if im.SafeToDelete || !strings.Contains(im.Why, "reactivated") || len(im.Groups) != 0 {
		t.Errorf("undone: %+v", im)
	}
	again := append(undo,
		impEntry(t, KindActionIntent, ActionIntent{ActionID: "a3", Action: "deactivate-key", Target: impKey}, 120),
		impEntry(t, KindActionResult, ActionResult{ActionID: "a3", OK: true}, 120))
	im = impStore(t, calls, again...).Impact(ImpactOptions{Now: now})[0]
	if !im.Undone.IsZero() || !im.ContainedAt.Equal(impT0.Add(2*time.Hour)) || !im.SafeToDelete {
		t.Errorf("contained again: %+v", im)
	}
}

// TestImpactRevokedSessions: a role whose sessions were revoked: its
// sessions' calls since, denied.
func TestImpactRevokedSessions(t *testing.T) {
	arn := "arn:aws:sts::111122223333:assumed-role/deploy/app"
	evilARN := "arn:aws:sts::111122223333:assumed-role/deploy/x"
	calls := []impCall{
		{min: 5, ip: appIP, agent: appAgent, key: "ASIAAPP0000000000001", identity: "AssumedRole", arn: arn, user: "deploy"},
		{min: 40, ip: evilIP, agent: evilAgent, key: "ASIAEVIL000000000001", identity: "AssumedRole", arn: evilARN, user: "deploy", name: "CreateUser"},
		{min: 130, ip: appIP, agent: appAgent, key: "ASIAAPP0000000000001", identity: "AssumedRole", arn: arn, user: "deploy", err: "AccessDenied"},
		{min: 131, ip: evilIP, agent: evilAgent, key: "ASIAEVIL000000000001", identity: "AssumedRole", arn: evilARN, user: "deploy", err: "AccessDenied"},
		{min: 132, ip: evilIP, agent: evilAgent, key: "ASIAOTHER00000000001", identity: "AssumedRole", arn: "arn:aws:sts::111122223333:assumed-role/other/x", user: "other"},
	}
	revoke := []journal.Entry{
		impEntry(t, KindActionIntent, ActionIntent{ActionID: "r1", Action: "revoke-sessions", Target: "role/deploy"}, 120),
		impEntry(t, KindActionResult, ActionResult{ActionID: "r1", OK: true}, 120),
	}
	all := impStore(t, calls, revoke...).Impact(ImpactOptions{Now: impT0.Add(140 * time.Minute), Credential: "role/deploy"})
	if len(all) != 1 || all[0].Kind != "sessions" {
		t.Fatalf("impacts %+v", all)
	}
	im := all[0]
	if len(im.Groups) != 2 || im.Groups[0].Match != MatchBefore || im.Groups[1].Match != MatchNew || im.Groups[1].Calls != 1 {
		t.Errorf("groups %+v", im.Groups)
	}
}

// FuzzImpactGroups: whatever the calls, every call since containment is
// in exactly one group, a group matches exactly when its pair called
// before the incident, and spellings of one address fall in one group.
func FuzzImpactGroups(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 70, 71, 200}, "2001:db8::1", "a")
	f.Add([]byte{5, 45, 90}, "::ffff:10.0.0.1", "")
	f.Add([]byte{}, "not an address", "x")
	f.Fuzz(func(t *testing.T, mins []byte, ip, agent string) {
		addrs := []string{ip, appIP, "2001:DB8::1", "2001:db8:0::1", evilIP}
		var calls []impCall
		for i, m := range mins {
			c := impCall{min: int(m), ip: addrs[i%len(addrs)], agent: agent}
			if i%3 == 0 {
				c.agent = appAgent
			}
			if i%7 == 6 {
				c.name = "CreateUser"
			}
			calls = append(calls, c)
		}
		s := impStore(t, calls)
		im := s.Impact(ImpactOptions{Now: impT0.Add(300 * time.Minute), QuietFor: time.Hour})[0]
		n := 0
		for _, c := range calls {
			if c.min >= containMin {
				n++
			}
		}
		seen := map[pairKey]bool{}
		total := 0
		for _, g := range im.Groups {
			total += g.Calls
			k := pairKey{g.SourceIP, g.UserAgent}
			if seen[k] {
				t.Fatalf("pair %q in two groups", k)
			}
			seen[k] = true
			if (g.Match == MatchBefore) != (g.Before > 0) {
				t.Fatalf("group %+v", g)
			}
		}
		if total != n {
			t.Fatalf("%d calls in groups, %d since containment", total, n)
		}
		if seen[pairKey{"2001:DB8::1", agent}] {
			t.Fatal("an address not in its canonical spelling")
		}
	})
}

// TestImpactAuthFailureIsNotOfNote: the owner's call that failed to
// authenticate just before the containment was journaled (CloudTrail's
// times are to the second) does not make it the attacker.
func TestImpactAuthFailureIsNotOfNote(t *testing.T) {
	calls := append(impBaseline(), impCall{min: containMin - 1, ip: appIP, agent: appAgent, err: "InvalidClientTokenId"},
		impCall{min: 70, ip: appIP, agent: appAgent, err: "InvalidClientTokenId"})
	im := impStore(t, calls).Impact(ImpactOptions{Now: impT0.Add(90 * time.Minute)})[0]
	if !im.LeakAt.Equal(impT0.Add(40*time.Minute)) || im.Groups[0].Match != MatchBefore {
		t.Fatalf("leak %v, groups %+v", im.LeakAt, im.Groups)
	}
}

// TestImpactAccountClock: with the raw records, the containment's time is
// when CloudTrail recorded warroom's call (the account's clock), found by
// its request id, not when the result was journaled.
func TestImpactAccountClock(t *testing.T) {
	s := NewStore()
	apply := func(seq int64, kind Kind, v any, min int) {
		data, _ := json.Marshal(v)
		if err := s.Apply(journal.Entry{Seq: seq, At: impT0.Add(time.Duration(min) * time.Minute), Kind: string(kind), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	apply(1, KindIncidentOpened, IncidentOpened{ID: "wr-clock"}, 0)
	// The account's clock runs 2 hours behind the responder's.
	acct := impT0.Add(-2 * time.Hour)
	raw := []byte(`{"requestID":"req-1","eventName":"UpdateAccessKey"}`)
	s.Events.Add(&ctlog.Record{EventID: uuidOf(1), EventTime: acct.Add(60 * time.Minute), EventName: "UpdateAccessKey",
		EventSource: "iam.amazonaws.com", Raw: raw}, EventRef{})
	s.Events.Add(&ctlog.Record{EventID: uuidOf(2), EventTime: acct.Add(70 * time.Minute), EventName: "GetCallerIdentity",
		EventSource: "sts.amazonaws.com", AccessKeyID: impKey, SourceIP: appIP, UserAgent: appAgent, ErrorCode: "InvalidClientTokenId", Raw: raw}, EventRef{})
	apply(2, KindActionIntent, ActionIntent{ActionID: "a1", Action: "deactivate-key", Target: impKey}, 60)
	apply(3, KindActionResult, ActionResult{ActionID: "a1", OK: true, Calls: []CallResult{{API: "iam:UpdateAccessKey", RequestID: "req-1"}}}, 60)
	now := acct.Add(80 * time.Minute)
	im := s.Impact(ImpactOptions{Now: now, Raw: func(EventRef) ([]byte, error) { return raw, nil }})[0]
	if im.ContainedBy != "cloudtrail" || !im.ContainedAt.Equal(acct.Add(60*time.Minute)) || len(im.Groups) != 1 {
		t.Fatalf("with the records: %s %v, %d groups", im.ContainedBy, im.ContainedAt, len(im.Groups))
	}
	im = s.Impact(ImpactOptions{Now: now})[0]
	if im.ContainedBy != "journal" || len(im.Groups) != 0 {
		t.Fatalf("without: %s %v, %d groups", im.ContainedBy, im.ContainedAt, len(im.Groups))
	}
}
