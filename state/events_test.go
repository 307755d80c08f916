package state

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// uuidOf makes a canonical event id from a small number.
func uuidOf(n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n)
}

// rec builds a record: an IAMUser call at t0+minutes, changed by opts.
func rec(n int, minutes int, opts ...func(*ctlog.Record)) *ctlog.Record {
	r := &ctlog.Record{
		EventID:      uuidOf(n),
		EventTime:    t0.Add(time.Duration(minutes) * time.Minute),
		EventName:    "ListBuckets",
		EventSource:  "s3.amazonaws.com",
		Region:       "us-east-1",
		SourceIP:     "203.0.113.7",
		UserAgent:    "aws-cli/2.15.0",
		ReadOnly:     ctlog.ReadOnlyTrue,
		IdentityType: "IAMUser",
		PrincipalARN: "arn:aws:iam::111122223333:user/alice",
		UserName:     "alice",
		AccessKeyID:  "AKIAALICE0000000001",
		Raw:          []byte(fmt.Sprintf(`{"n":%d}`, n)),
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// ids returns the event ids (as rec numbers) of a result, via EventID.
func eventNums(t *testing.T, tb *EventTable, res Result) []int {
	t.Helper()
	var out []int
	for _, id := range res.IDs() {
		var n int
		e := tb.Event(id)
		if _, err := fmt.Sscanf(e.EventID, "%08x-", &n); err != nil {
			t.Fatalf("event %d has id %q", id, e.EventID)
		}
		out = append(out, n)
	}
	return out
}

func withAddendum(reason string) func(*ctlog.Record) {
	return func(r *ctlog.Record) { r.Addendum = &ctlog.Addendum{Reason: reason} }
}

func TestAddDedupe(t *testing.T) {
	type add struct {
		r       *ctlog.Record
		changed bool
		slot    uint32 // the id Add must return
	}
	noID := func(r *ctlog.Record) { r.EventID = "" }
	odd := func(r *ctlog.Record) { r.EventID = "EVENT-" + r.EventID }
	tests := []struct {
		name string
		adds []add
		len  int
	}{
		{"distinct ids", []add{{rec(1, 0), true, 0}, {rec(2, 1), true, 1}}, 2},
		{"same id twice is ignored", []add{{rec(1, 0), true, 0}, {rec(1, 0), false, 0}}, 1},
		{"same id, different content, no addendum: kept as a conflicting copy", []add{
			{rec(1, 0), true, 0}, {rec(1, 5, func(r *ctlog.Record) { r.EventName = "X" }), true, 0},
			{rec(1, 5, func(r *ctlog.Record) { r.EventName = "X" }), false, 0}}, 1},
		{"addendum copy replaces", []add{{rec(1, 0), true, 0}, {rec(1, 0, withAddendum("DELIVERY_DELAY")), true, 0}}, 1},
		{"same addendum copy twice changes nothing the second time", []add{
			{rec(1, 0), true, 0}, {rec(1, 0, withAddendum("UPDATED_DATA")), true, 0},
			{rec(1, 0, withAddendum("UPDATED_DATA")), false, 0}}, 1},
		{"differing second correction replaces", []add{
			{rec(1, 0, withAddendum("UPDATED_DATA")), true, 0},
			{rec(1, 0, withAddendum("UPDATED_DATA"), func(r *ctlog.Record) { r.ErrorCode = "AccessDenied" }), true, 0}}, 1},
		{"original after its correction is kept as a copy", []add{
			{rec(1, 0, withAddendum("DELIVERY_DELAY")), true, 0}, {rec(1, 0), true, 0}, {rec(1, 0), false, 0}}, 1},
		{"non-UUID ids dedupe", []add{{rec(1, 0, odd), true, 0}, {rec(2, 0, odd), true, 1}, {rec(1, 0, odd), false, 0}}, 2},
		{"upper-case UUID is a different spelling, kept apart", []add{
			{rec(10, 0), true, 0}, {rec(10, 0, func(r *ctlog.Record) { r.EventID = "0000000A-0000-4000-8000-00000000000A" }), true, 1}}, 2},
		{"UUID-shaped id with a dash out of place is a string, not a crash", []add{
			{rec(1, 0, func(r *ctlog.Record) { r.EventID = "00000000-0000-0000-0000-0000-0000000" }), true, 0},
			{rec(2, 0, func(r *ctlog.Record) { r.EventID = "00000000-0000-0000-0000-0000-0000000" }), false, 0}}, 1},
		{"no id: dedupe on raw bytes", []add{{rec(1, 0, noID), true, 0}, {rec(1, 0, noID), false, 0}, {rec(2, 0, noID), true, 1}}, 2},
		{"no id and no raw: never deduped", []add{
			{rec(1, 0, noID, func(r *ctlog.Record) { r.Raw = nil }), true, 0},
			{rec(1, 0, noID, func(r *ctlog.Record) { r.Raw = nil }), true, 1}}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewEventTable()
			for i, a := range tc.adds {
				id, changed := tb.Add(a.r, EventRef{Offset: int64(i)})
				if id != a.slot || changed != a.changed {
					t.Errorf("add %d: got (%d, %v), want (%d, %v)", i, id, changed, a.slot, a.changed)
				}
			}
			if tb.Len() != tc.len {
				t.Errorf("Len = %d, want %d", tb.Len(), tc.len)
			}
		})
	}
}

func TestDedupeManyGrows(t *testing.T) {
	tb := NewEventTable()
	const n = 5000
	for round := range 2 {
		for i := range n {
			_, changed := tb.Add(rec(i, i), EventRef{})
			if changed != (round == 0) {
				t.Fatalf("round %d, event %d: changed = %v", round, i, changed)
			}
		}
	}
	if tb.Len() != n {
		t.Fatalf("Len = %d, want %d", tb.Len(), n)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		id, ok := tb.lookupEventID(uuidOf(i))
		if !ok || tb.Event(id).EventID != uuidOf(i) {
			t.Errorf("lookup %s: (%d, %v)", uuidOf(i), id, ok)
		}
	}
}

// TestAddendumRules checks CloudTrail's addendum semantics: an addendum
// for the same call that changes only the fields it names is shown, with
// every index moved; a copy that changes more (the forged "addendum" that
// renamed the call) is kept as evidence and marks a conflict, shown copy
// unchanged; the same copy again changes nothing.
func TestAddendumRules(t *testing.T) {
	tb := NewEventTable()
	tb.Add(rec(1, 0), EventRef{Offset: 10})
	tb.Add(rec(2, 1), EventRef{Offset: 10, Index: 1})
	corrected := rec(1, 0, func(r *ctlog.Record) {
		r.Addendum = &ctlog.Addendum{Reason: "UPDATED_DATA", UpdatedFields: "awsRegion,errorCode,readOnly,userAgent"}
		r.Region = "eu-west-1"
		r.ErrorCode = "AccessDenied"
		r.ReadOnly = ctlog.ReadOnlyFalse
		r.UserAgent = "Boto3/1.0 app/warroom"
	})
	id, changed := tb.Add(corrected, EventRef{Offset: 99, Index: 3})
	if id != 0 || !changed {
		t.Fatalf("Add = (%d, %v), want (0, true)", id, changed)
	}
	if _, changed := tb.Add(corrected, EventRef{Offset: 120}); changed {
		t.Fatal("the same addendum again changed the table")
	}
	forged := rec(1, 30, func(r *ctlog.Record) {
		r.Addendum = &ctlog.Addendum{Reason: "UPDATED_DATA", UpdatedFields: "eventName,eventSource"}
		r.EventName, r.EventSource = "CreateUser", "iam.amazonaws.com"
	})
	if _, changed := tb.Add(forged, EventRef{Offset: 130}); !changed {
		t.Fatal("a forged addendum was dropped")
	}
	e := tb.Event(0)
	if e.Ref != (EventRef{Offset: 99, Index: 3}) || e.Name != "ListBuckets" || !e.Addendum || e.Ours || !e.Impersonation || !e.Conflict {
		t.Errorf("event = %+v", e)
	}
	cps := tb.Copies(0)
	if len(cps) != 3 || cps[0].Verdict != CopyFirst || cps[0].Ref.Offset != 10 || cps[1].Verdict != CopyApplied ||
		cps[2].Verdict != CopyConflict || cps[2].Ref.Offset != 130 || !slices.Contains(cps[2].Differs, "eventName") {
		t.Errorf("copies = %+v", cps)
	}
	tests := []struct {
		filter string
		want   []int
	}{
		{"event:ListBuckets", []int{1, 2}},
		{"event:CreateUser", nil},
		{"region:us-east-1", []int{2}},
		{"region:eu-west-1", []int{1}},
		{"error:AccessDenied", []int{1}},
		{"failed", []int{1}},
		{"readonly", []int{2}},
		{"-readonly", []int{1}},
		{"ours", nil},
		{"impersonation", []int{1}},
		{"conflict", []int{1}},
		{"-conflict", []int{2}},
		{"since:2026-11-20T10:10:00Z", nil},
		{"", []int{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			f, err := ParseFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if got := eventNums(t, tb, tb.QueryAt(f, t0)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCopiesNeverDropAFamilyMember is the red team's case: a forged
// addendum on an AssumeRole (same id, the credentials gone) must not take
// the minted key out of the family, and a plain duplicate with other
// content is kept and marked, not dropped.
func TestCopiesNeverDropAFamilyMember(t *testing.T) {
	tests := []struct {
		name     string
		copy     func(r *ctlog.Record)
		conflict bool
	}{
		{"forged addendum without the credentials", func(r *ctlog.Record) {
			r.Minted = nil
			r.Addendum = &ctlog.Addendum{Reason: "UPDATED_DATA", UpdatedFields: "responseElements"}
		}, true},
		{"forged addendum minting another key", func(r *ctlog.Record) {
			r.Minted = &ctlog.Minted{AccessKeyID: "ASIAFORGED", RoleARN: roleA}
			r.Addendum = &ctlog.Addendum{Reason: "UPDATED_DATA", UpdatedFields: "responseElements"}
		}, true},
		{"plain duplicate from elsewhere", func(r *ctlog.Record) {
			r.Minted = nil
			r.SourceIP = "198.51.100.1"
		}, true},
		{"delivery delay, the same record", func(r *ctlog.Record) {
			r.Addendum = &ctlog.Addendum{Reason: "DELIVERY_DELAY"}
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewEventTable()
			for _, r := range chain() {
				tb.Add(r, EventRef{})
			}
			c := mintRec(4, 4, "ASIA1", "AssumeRole", "ASIA2", roleA)
			tc.copy(c)
			id, changed := tb.Add(c, EventRef{Offset: 7})
			if !changed {
				t.Fatal("the copy was dropped")
			}
			var keys []string
			for _, l := range tb.Family("AKIA1") {
				keys = append(keys, l.Key)
			}
			if !slices.Contains(keys, "ASIA2") || !slices.Contains(keys, "ASIA3") {
				t.Errorf("family of AKIA1 = %v, lost ASIA2's line", keys)
			}
			e := tb.Event(id)
			if !e.Minted || e.Conflict != tc.conflict || len(tb.Copies(id)) != 2 {
				t.Errorf("event = %+v, copies %+v", e, tb.Copies(id))
			}
			f, _ := ParseFilter("minted")
			if !slices.Contains(tb.QueryAt(f, t0).IDs(), id) {
				t.Error("minted no longer finds the event")
			}
		})
	}
}

// TestOursIsCredentials: a user agent is not enough to be ours. Only a
// call signed with a key warroom ran on, by its principal, inside the
// session's window, is; one that claims app/warroom otherwise is an
// impersonation, whatever the case of the claim, and whichever arrives
// first, the session or the event.
func TestOursIsCredentials(t *testing.T) {
	const ourKey, ourARN = "AKIARESPONDER0000001", "arn:aws:iam::111122223333:user/responder"
	ours := func(r *ctlog.Record) {
		r.AccessKeyID, r.PrincipalARN, r.UserAgent = ourKey, ourARN, "aws-sdk-go-v2/1.30 app/warroom"
	}
	tests := []struct {
		name   string
		r      *ctlog.Record
		before bool // added before the session is known
		ours   bool
		imp    bool
	}{
		{"our key in our window", rec(1, 10, ours), false, true, false},
		{"our key, added before the session", rec(1, 10, ours), true, true, false},
		{"attacker with app id warroom", rec(1, 10, func(r *ctlog.Record) { r.UserAgent = "Boto3/1.34 app/warroom" }), false, false, true},
		{"attacker, claim in upper case", rec(1, 10, func(r *ctlog.Record) { r.UserAgent = "Boto3/1.34 APP/WARROOM" }), false, false, true},
		{"our key after our window", rec(1, 90, ours), false, false, true},
		{"our key, another principal", rec(1, 10, func(r *ctlog.Record) { ours(r); r.PrincipalARN = "arn:aws:iam::111122223333:user/x" }), false, false, true},
		{"our key without the claim: another tool", rec(1, 10, func(r *ctlog.Record) { ours(r); r.UserAgent = "aws-cli/2" }), false, false, false},
		{"no time", rec(1, 10, func(r *ctlog.Record) { ours(r); r.EventTime = time.Time{} }), false, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewEventTable()
			if tc.before {
				tb.Add(tc.r, EventRef{})
				tb.Settle()
			}
			i := tb.AddOurs(ourKey, ourARN, t0.Add(5*time.Minute))
			tb.ExtendOurs(i, t0.Add(20*time.Minute))
			if !tc.before {
				tb.Add(tc.r, EventRef{})
			}
			e := tb.Event(0)
			if e.Ours != tc.ours || e.Impersonation != tc.imp {
				t.Errorf("ours %v impersonation %v, want %v %v", e.Ours, e.Impersonation, tc.ours, tc.imp)
			}
			if got := ClassifyEvent(&e).Class == ClassImpersonation; got != tc.imp {
				t.Errorf("classified impersonation %v, want %v", got, tc.imp)
			}
			for word, want := range map[string]bool{"ours": tc.ours, "impersonation": tc.imp} {
				f, _ := ParseFilter(word)
				if got := tb.QueryAt(f, t0).Len() == 1; got != want {
					t.Errorf("%s matched %v, want %v", word, got, want)
				}
			}
		})
	}
}

// TestOursWindowGrows: an event of ours seen before the session's window
// reached it (another process journaled it first) becomes ours when the
// window grows past it.
func TestOursWindowGrows(t *testing.T) {
	tb := NewEventTable()
	i := tb.AddOurs("AKIAR", "", t0)
	tb.Add(rec(1, 30, func(r *ctlog.Record) { r.AccessKeyID, r.UserAgent = "AKIAR", "x app/warroom" }), EventRef{})
	tb.Settle()
	if e := tb.Event(0); e.Ours || !e.Impersonation {
		t.Fatalf("before: %+v", e)
	}
	tb.ExtendOurs(i, t0.Add(40*time.Minute))
	f, _ := ParseFilter("ours")
	if e := tb.Event(0); !e.Ours || e.Impersonation || tb.QueryAt(f, t0).Len() != 1 {
		t.Fatalf("after: %+v", e)
	}
}

func TestTimeOrder(t *testing.T) {
	tests := []struct {
		name    string
		batches [][]int // minutes of each event, by batch; a query runs between batches
	}{
		{"in order", [][]int{{1, 2, 3, 4}}},
		{"reversed", [][]int{{4, 3, 2, 1}}},
		{"late arrivals after a query", [][]int{{10, 20, 30}, {15, 5, 35, 25}, {1}}},
		{"equal times keep arrival order", [][]int{{5, 5, 5}, {5, 1, 5}}},
		{"late into an empty prefix", [][]int{{100}, {1, 2, 3}, {50, 200, 0}}},
		{"many shuffled", [][]int{{9, 3, 7, 1, 8, 2, 6, 4, 5, 0}, {19, 13, 17, 11}, {-5, 18, 12, 16}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewEventTable()
			type ev struct{ min, n int }
			var all []ev
			n := 0
			for _, batch := range tc.batches {
				for _, m := range batch {
					tb.Add(rec(n, m), EventRef{})
					all = append(all, ev{m, n})
					n++
				}
				want := slices.Clone(all)
				slices.SortStableFunc(want, func(a, b ev) int { return a.min - b.min })
				var wantNums []int
				for _, e := range want {
					wantNums = append(wantNums, e.n)
				}
				res := tb.QueryAt(nil, t0)
				if got := eventNums(t, tb, res); !slices.Equal(got, wantNums) {
					t.Fatalf("after %d events: got %v, want %v", n, got, wantNums)
				}
				for r, id := range tb.order {
					if tb.rank[id] != uint32(r) {
						t.Fatalf("rank[%d] = %d, want %d", id, tb.rank[id], r)
					}
				}
				if newest := res.Newest(2); len(all) >= 2 && !slices.Equal(newest, res.IDs()[len(all)-2:]) {
					t.Errorf("Newest(2) = %v", newest)
				}
			}
		})
	}
}

func TestTimeEdges(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"zero time stays unknown", time.Time{}, time.Time{}},
		{"far future clamps", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 1<<63-1).UTC()},
		{"far past clamps", time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC), time.Unix(0, -1<<63+1).UTC()},
		{"normal time keeps nanoseconds", t0.Add(123), t0.Add(123)},
		{"last second converted directly", time.Unix(1<<33-1, 5), time.Unix(1<<33-1, 5)},
		{"first second checked for range", time.Unix(1<<33, 5), time.Unix(1<<33, 5)},
		{"first second before 1970 checked", time.Unix(-1<<33, 5), time.Unix(-1<<33, 5)},
		{"latest time held", time.Unix(0, 1<<63-1), time.Unix(0, 1<<63-1)},
		{"a nanosecond later clamps", time.Unix(0, 1<<63-1).Add(1), time.Unix(0, 1<<63-1)},
		{"earliest time held", time.Unix(0, -1<<63+1), time.Unix(0, -1<<63+1)},
		{"the unknown time's instant clamps", time.Unix(0, -1<<63), time.Unix(0, -1<<63+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewEventTable()
			tb.Add(rec(1, 0, func(r *ctlog.Record) { r.EventTime = tc.at }), EventRef{})
			if got := tb.Event(0).Time; !got.Equal(tc.want) {
				t.Errorf("Time = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEventRoundTrip(t *testing.T) {
	r := rec(7, 3, func(r *ctlog.Record) {
		r.ErrorCode, r.ErrorMessage = "AccessDenied", "User: x is not authorized"
		r.Minted = &ctlog.Minted{AccessKeyID: "ASIAMINTED000000001"}
	})
	tb := NewEventTable()
	tb.Add(r, EventRef{Offset: 42, Index: 7})
	e := tb.Event(0)
	want := Event{
		ID: 0, EventID: r.EventID, Time: r.EventTime, Name: r.EventName, Source: r.EventSource,
		Region: r.Region, Principal: r.PrincipalARN, User: r.UserName, IdentityType: r.IdentityType,
		AccessKeyID: r.AccessKeyID, SourceIP: r.SourceIP, UserAgent: r.UserAgent,
		ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage, ReadOnly: r.ReadOnly,
		Minted: true, Flags: FlagMinted, Ref: EventRef{Offset: 42, Index: 7},
	}
	if e != want {
		t.Errorf("Event =\n%+v, want\n%+v", e, want)
	}
}

// corpus is a realistic large incident: a few thousand principals, keys and
// IPs, hundreds of event names, 17 Regions, about 5% errors, unique UUIDs.
// Events arrive mostly in time order, about one in ten up to 15 minutes
// late (delivery delay).
type corpus struct {
	r       *rand.Rand
	users   []string
	arns    []string
	keys    []string
	ips     []string
	names   []string
	sources []string
	regions []string
	agents  []string
	errs    []string
	msgs    []string
	clock   time.Time
}

func newCorpus(seed uint64) *corpus {
	c := &corpus{r: rand.New(rand.NewPCG(seed, 1)), clock: t0}
	for i := range 3000 {
		u := fmt.Sprintf("user-%04d", i)
		c.users = append(c.users, u)
		c.arns = append(c.arns, "arn:aws:iam::111122223333:user/"+u)
		c.keys = append(c.keys, fmt.Sprintf("AKIA%016X", c.r.Uint64()))
		c.ips = append(c.ips, fmt.Sprintf("%d.%d.%d.%d", 1+c.r.IntN(223), c.r.IntN(256), c.r.IntN(256), c.r.IntN(256)))
	}
	verbs := []string{"Create", "Delete", "Describe", "List", "Get", "Put", "Update", "Attach", "Detach", "Run"}
	nouns := []string{"User", "AccessKey", "Role", "Policy", "Bucket", "Instances", "SecurityGroup", "KeyPair",
		"Function", "Trail", "Alias", "Group", "LoginProfile", "Snapshot", "Volume", "Image", "Secret",
		"Parameter", "Queue", "Topic", "Table", "Stack", "LogGroup", "Key", "Certificate", "Distribution",
		"Cluster", "Repository", "Pipeline", "Vpc"}
	for _, v := range verbs {
		for _, n := range nouns {
			c.names = append(c.names, v+n)
		}
	}
	for _, s := range []string{"iam", "sts", "s3", "ec2", "lambda", "kms", "cloudtrail", "logs", "sqs", "sns",
		"dynamodb", "cloudformation", "secretsmanager", "ssm", "rds", "ecr", "ecs", "eks", "route53", "acm"} {
		c.sources = append(c.sources, s+".amazonaws.com")
	}
	c.regions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
		"eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1"}
	for i := range 40 {
		c.agents = append(c.agents, fmt.Sprintf("aws-cli/2.%d.%d Python/3.11 Linux/6.1 exe/x86_64", i/8, i%8))
	}
	c.agents = append(c.agents, "Boto3/1.34.0 md/Botocore#1.34.0 app/warroom")
	c.errs = []string{"AccessDenied", "UnauthorizedOperation", "ThrottlingException", "NoSuchEntity",
		"InvalidClientTokenId", "ValidationException", "ResourceNotFoundException", "Client.DryRunOperation"}
	for i := range 50 {
		c.msgs = append(c.msgs, fmt.Sprintf("User is not authorized to perform this action (%d)", i))
	}
	return c
}

// next fills r with the next event (reusing r's memory for nothing that the
// table could keep).
func (c *corpus) next(r *ctlog.Record) {
	c.clock = c.clock.Add(time.Duration(c.r.IntN(400)) * time.Millisecond)
	at := c.clock
	if c.r.IntN(10) == 0 {
		at = at.Add(-time.Duration(c.r.IntN(900)) * time.Second)
	}
	// A handful of principals do most of the work.
	u := c.r.IntN(len(c.users))
	if c.r.IntN(2) == 0 {
		u = c.r.IntN(50)
	}
	var id [16]byte
	for i := range id {
		id[i] = byte(c.r.Uint32())
	}
	*r = ctlog.Record{
		EventID:      formatUUID(id),
		EventTime:    at,
		EventName:    c.names[c.r.IntN(len(c.names))],
		EventSource:  c.sources[c.r.IntN(len(c.sources))],
		Region:       c.regions[c.r.IntN(len(c.regions))],
		SourceIP:     c.ips[(u+c.r.IntN(3))%len(c.ips)],
		UserAgent:    c.agents[c.r.IntN(len(c.agents))],
		ReadOnly:     ctlog.ReadOnly(1 + c.r.IntN(2)),
		IdentityType: "IAMUser",
		PrincipalARN: c.arns[u],
		UserName:     c.users[u],
		AccessKeyID:  c.keys[u],
	}
	if c.r.IntN(20) == 0 {
		r.ErrorCode = c.errs[c.r.IntN(len(c.errs))]
		r.ErrorMessage = c.msgs[c.r.IntN(len(c.msgs))]
	}
}

// loadCorpus builds a table of n corpus events, its indexes complete.
func loadCorpus(n int) *EventTable {
	tb := addCorpus(n)
	tb.Settle()
	return tb
}

// addCorpus adds n corpus events to a new table and leaves the indexes
// that settle builds to be built.
func addCorpus(n int) *EventTable {
	c := newCorpus(1)
	tb := NewEventTable()
	var r ctlog.Record
	for i := range n {
		c.next(&r)
		tb.Add(&r, EventRef{Offset: int64(i / 50 * 4096), Index: uint32(i % 50)})
	}
	return tb
}

// BenchmarkLoad measures bulk loading a million events and reports
// events/s and the table's bytes per event (live heap after a GC, raw
// JSON excluded: the table never holds it), with every index complete;
// settle-ns/event is the part of the load spent building the indexes that
// Add leaves to the first query (posting lists, late arrivals' order).
// Run with -benchtime=1x.
func BenchmarkLoad(b *testing.B) {
	const n = 1_000_000
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		tb := addCorpus(n)
		settle := time.Now()
		tb.Settle()
		b.ReportMetric(float64(time.Since(settle).Nanoseconds())/n, "settle-ns/event")
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/event")
		runtime.KeepAlive(tb)
	}
}

func TestParseUUID(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"canonical", "3038ebd2-c98a-4c65-9b6e-e22506292313", true},
		{"upper case kept as a string", "3038EBD2-C98A-4C65-9B6E-E22506292313", false},
		{"too short", "3038ebd2-c98a-4c65-9b6e-e2250629231", false},
		{"no dashes", "3038ebd2c98a4c659b6ee22506292313xxxx", false},
		{"dash out of place", "00000000-0000-0000-0000-0000-0000000", false},
		{"not hex", "3038ebd2-c98a-4c65-9b6e-e2250629231g", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, ok := parseUUID(tc.in)
			if ok != tc.ok {
				t.Fatalf("parseUUID(%q) ok = %v, want %v", tc.in, ok, tc.ok)
			}
			if ok && formatUUID(u) != tc.in {
				t.Errorf("formatUUID(parseUUID(%q)) = %q", tc.in, formatUUID(u))
			}
		})
	}
}

// TestParseUUIDEveryByte puts every byte value at every place of a
// canonical UUID, and random digits everywhere, and compares parseUUID
// with the plain definition: dashes at 8, 13, 18 and 23, lower-case hex
// digits elsewhere, and the digits' value.
func TestParseUUIDEveryByte(t *testing.T) {
	ref := func(s string) ([16]byte, bool) {
		var u [16]byte
		if len(s) != 36 {
			return u, false
		}
		var digits []byte
		for i := range len(s) {
			c := s[i]
			switch {
			case i == 8 || i == 13 || i == 18 || i == 23:
				if c != '-' {
					return u, false
				}
			case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
				digits = append(digits, c)
			default:
				return u, false
			}
		}
		if _, err := hex.Decode(u[:], digits); err != nil {
			t.Fatalf("hex.Decode(%q): %v", digits, err)
		}
		return u, true
	}
	check := func(s string) {
		gu, gok := parseUUID(s)
		wu, wok := ref(s)
		if gok != wok || gok && gu != wu {
			t.Fatalf("parseUUID(%q) = %x, %v; want %x, %v", s, gu, gok, wu, wok)
		}
	}
	base := []byte("0123abcd-ef45-6789-a0b1-c2d3e4f5a6b7")
	for i := range base {
		for c := range 256 {
			b := slices.Clone(base)
			b[i] = byte(c)
			check(string(b))
		}
	}
	r := rand.New(rand.NewPCG(9, 9))
	const digits = "0123456789abcdef"
	for range 10000 {
		b := slices.Clone(base)
		for i := range b {
			if b[i] != '-' {
				b[i] = digits[r.IntN(16)]
			}
		}
		check(string(b))
	}
}

// TestSortLate checks the late queue's sort against a plain sort by (time,
// id), for the shapes it takes: sorted, a few sorted runs (merged), many
// (sorted), ties and ids out of arrival order.
func TestSortLate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	runs := func(n, k int) []int64 {
		ts := make([]int64, n)
		for i := range ts {
			ts[i] = int64(i%(n/k+1)) * 10
		}
		return ts
	}
	random := func(n, span int) []int64 {
		ts := make([]int64, n)
		for i := range ts {
			ts[i] = int64(r.IntN(span))
		}
		return ts
	}
	tests := []struct {
		name     string
		times    []int64
		shuffled bool // late ids not in ascending order
	}{
		{"empty", nil, false},
		{"one", []int64{7}, false},
		{"sorted", runs(1000, 1), false},
		{"two runs", runs(1000, 2), false},
		{"seven runs", runs(1000, 7), false},
		{"sixty runs", runs(1000, 60), false},
		{"many runs", runs(1000, 300), false},
		{"random", random(1000, 1<<30), false},
		{"random ties", random(1000, 5), false},
		{"ties, ids shuffled", random(1000, 5), true},
		{"runs, ids shuffled", runs(1000, 3), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := &EventTable{time: tc.times}
			for id := range uint32(len(tc.times)) {
				tb.late = append(tb.late, id)
			}
			if tc.shuffled {
				// Swap neighbours now and then: ids of equal times come
				// out of order, and runs still mostly hold.
				for i := 1; i < len(tb.late); i += 1 + r.IntN(20) {
					tb.late[i-1], tb.late[i] = tb.late[i], tb.late[i-1]
				}
			}
			want := slices.Clone(tb.late)
			slices.SortFunc(want, func(a, b uint32) int {
				if c := cmp.Compare(tc.times[a], tc.times[b]); c != 0 {
					return c
				}
				return cmp.Compare(a, b)
			})
			if got := tb.sortLate(); !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}
