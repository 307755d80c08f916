package state

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// Pools for random events. Some strings differ only in case, on purpose.
var (
	poolEvent  = []string{"CreateUser", "createuser", "ListBuckets", "AssumeRole", "GetSessionToken", "Decrypt", "RunInstances"}
	poolSource = []string{"iam.amazonaws.com", "s3.amazonaws.com", "sts.amazonaws.com", "ec2.amazonaws.com", "kms.amazonaws.com"}
	poolRegion = []string{"us-east-1", "eu-west-1", "ap-south-1", "us-north-2r", ""}
	poolUser   = []string{"alice", "Alice", "bob", "carol smith", ""}
	poolType   = []string{"IAMUser", "AssumedRole", "Root", "AWSService"}
	poolKey    = []string{"AKIA1", "AKIA2", "AKIA3", "ASIA1", "ASIA2", "ASIA3", "ASIA4", ""}
	poolIP     = []string{"203.0.113.7", "198.51.100.9", "253.252.51.07", "ec2.amazonaws.com", ""}
	poolAgent  = []string{"aws-cli/2.15", "Boto3/1.34 app/warroom", "console.amazonaws.com", ""}
	poolError  = []string{"", "", "", "AccessDenied", "ThrottlingException", "accessdenied"}
	poolMsg    = []string{"", "User is not authorized", "Rate exceeded"}
	poolAcct   = []string{"111122223333", "444455556666", ""}
	// Minting: a key may only be minted once (see the lineage tests for
	// double claims), so these are handed out in turn.
	poolMint = [][2]string{{"AKIA1", "ASIA1"}, {"ASIA1", "ASIA2"}, {"ASIA2", "ASIA3"}, {"AKIA2", "ASIA4"}}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// randomRecord makes a record with an event id from a small pool, so that
// duplicates and corrections happen.
func randomRecord(r *rand.Rand, g *gen) *ctlog.Record {
	if g.prev == nil {
		g.prev = map[string]*ctlog.Record{}
	}
	mint := &g.mint
	n := r.IntN(400)
	rc := &ctlog.Record{
		EventID:      uuidOf(n),
		EventTime:    t0.Add(time.Duration(r.IntN(300)) * time.Minute),
		EventName:    pick(r, poolEvent),
		EventSource:  pick(r, poolSource),
		Region:       pick(r, poolRegion),
		SourceIP:     pick(r, poolIP),
		UserAgent:    pick(r, poolAgent),
		ErrorCode:    pick(r, poolError),
		ErrorMessage: pick(r, poolMsg),
		ReadOnly:     ctlog.ReadOnly(r.IntN(3)),
		IdentityType: pick(r, poolType),
		UserName:     pick(r, poolUser),
		AccessKeyID:  pick(r, poolKey),
	}
	rc.RecipientAccountID = pick(r, poolAcct)
	rc.PrincipalARN = "arn:aws:iam::111122223333:user/" + rc.UserName
	switch r.IntN(10) {
	case 0:
		rc.EventTime = time.Time{}
	case 1:
		rc.EventID = fmt.Sprintf("custom-%d", n)
	case 2:
		rc.Addendum = &ctlog.Addendum{Reason: "UPDATED_DATA"}
	case 3, 4:
		// A copy of an event already made: the same again, an addendum
		// CloudTrail could send (the fields it names changed), or one
		// that changes more than it names.
		if old := g.prev[rc.EventID]; old != nil {
			c := *old
			switch r.IntN(4) {
			case 0:
			case 1:
				c.SourceIP, c.UserAgent = pick(r, poolIP), pick(r, poolAgent)
				c.Addendum = &ctlog.Addendum{Reason: "UPDATED_DATA", UpdatedFields: "sourceIPAddress,userAgent"}
			case 2:
				c.Region, c.ErrorCode = pick(r, poolRegion), pick(r, poolError)
				c.Addendum = &ctlog.Addendum{Reason: "UPDATED_DATA", UpdatedFields: "awsRegion"}
			case 3:
				c.Addendum = &ctlog.Addendum{Reason: "DELIVERY_DELAY"}
				c.ReadOnly = ctlog.ReadOnly(r.IntN(3))
			}
			return &c
		}
	}
	if *mint < len(poolMint) && r.IntN(20) == 0 && rc.Addendum == nil {
		rc.AccessKeyID = poolMint[*mint][0]
		rc.Minted = &ctlog.Minted{AccessKeyID: poolMint[*mint][1]}
		rc.EventID = uuidOf(1000 + *mint) // its own id: never replaced
		*mint++
	}
	if g.prev[rc.EventID] == nil {
		g.prev[rc.EventID] = rc
	}
	return rc
}

// gen is randomRecord's state: the next minting pair, and the first
// record made for each event id (for copies).
type gen struct {
	mint int
	prev map[string]*ctlog.Record
}

// model is the naive reference: every distinct event as the copy it
// shows, with the copy rule stated simply (see judgeCopy), and the
// credentials warroom ran on.
type model struct {
	recs     []*ctlog.Record
	byID     map[string]int
	copies   map[int][]*ctlog.Record // every distinct copy of recs[i]
	conflict map[int]bool
	creds    []modelCred
}

// modelCred is a credential warroom ran on, in [from, to].
type modelCred struct {
	key      string
	from, to time.Time
}

func newModel() *model {
	return &model{byID: map[string]int{}, copies: map[int][]*ctlog.Record{}, conflict: map[int]bool{}}
}

// sameCopy compares what tells copies apart (the generator sets nothing else).
func sameCopy(a, b *ctlog.Record) bool {
	x, y := *a, *b
	x.Raw, y.Raw = nil, nil
	return reflect.DeepEqual(x, y)
}

func (m *model) add(r *ctlog.Record) {
	i, ok := m.byID[r.EventID]
	if !ok {
		m.byID[r.EventID] = len(m.recs)
		m.copies[len(m.recs)] = []*ctlog.Record{r}
		m.recs = append(m.recs, r)
		return
	}
	for _, c := range m.copies[i] {
		if sameCopy(c, r) {
			return
		}
	}
	m.copies[i] = append(m.copies[i], r)
	s := m.recs[i]
	if !s.EventTime.Equal(r.EventTime) || s.EventName != r.EventName || s.EventSource != r.EventSource ||
		s.PrincipalARN != r.PrincipalARN || s.UserName != r.UserName || s.IdentityType != r.IdentityType || s.AccessKeyID != r.AccessKeyID ||
		s.Minted != nil && (r.Minted == nil || *r.Minted != *s.Minted) {
		m.conflict[i] = true
		return
	}
	var diff []string
	if s.Region != r.Region {
		diff = append(diff, "awsRegion")
	}
	if s.SourceIP != r.SourceIP {
		diff = append(diff, "sourceIPAddress")
	}
	if s.UserAgent != r.UserAgent {
		diff = append(diff, "userAgent")
	}
	if s.ErrorCode != r.ErrorCode {
		diff = append(diff, "errorCode")
	}
	if s.ErrorMessage != r.ErrorMessage {
		diff = append(diff, "errorMessage")
	}
	if s.ReadOnly != r.ReadOnly {
		diff = append(diff, "readOnly")
	}
	if s.Minted == nil && r.Minted != nil {
		diff = append(diff, "responseElements")
	}
	names := func(a *ctlog.Addendum) bool {
		for _, d := range diff {
			if !slices.Contains(strings.Split(a.UpdatedFields, ","), d) {
				return false
			}
		}
		return true
	}
	switch {
	case r.Addendum != nil && names(r.Addendum):
		m.recs[i] = r
	case r.Addendum == nil && s.Addendum != nil && names(s.Addendum):
	default:
		m.conflict[i] = true
	}
}

// ours reports whether r is warroom's own call.
func (m *model) ours(r *ctlog.Record) bool {
	if !strings.Contains(strings.ToLower(r.UserAgent), "app/warroom") || r.EventTime.IsZero() {
		return false
	}
	for _, c := range m.creds {
		if r.AccessKeyID == c.key && !r.EventTime.Before(c.from.Add(-OursSkew)) && !r.EventTime.After(c.to.Add(OursSkew)) {
			return true
		}
	}
	return false
}

var reCache = map[string]*regexp.Regexp{}

// globRE turns a filter value into the regexp the language promises.
func globRE(v string, substr bool) *regexp.Regexp {
	key := "=" + v
	if substr {
		key = "~" + v
	}
	if re, ok := reCache[key]; ok {
		return re
	}
	parts := strings.Split(v, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	re := strings.Join(parts, ".*")
	if substr {
		re = ".*" + re + ".*"
	}
	reCache[key] = regexp.MustCompile("(?is)^" + re + "$")
	return reCache[key]
}

// textFields are the fields free text searches.
var textFields = []Field{FieldEvent, FieldSource, FieldRegion, FieldPrincipal, FieldUser, FieldType,
	FieldKey, FieldIP, FieldAgent, FieldError, FieldMessage, FieldAccount}

func fieldText(r *ctlog.Record, f Field) string {
	switch f {
	case FieldEvent:
		return r.EventName
	case FieldSource:
		return r.EventSource
	case FieldRegion:
		return r.Region
	case FieldPrincipal:
		return r.PrincipalARN
	case FieldUser:
		return r.UserName
	case FieldType:
		return r.IdentityType
	case FieldKey:
		return r.AccessKeyID
	case FieldIP:
		return r.SourceIP
	case FieldAgent:
		return r.UserAgent
	case FieldError:
		return r.ErrorCode
	case FieldMessage:
		return r.ErrorMessage
	case FieldAccount:
		return r.RecipientAccountID
	}
	panic("no text for field " + f.String())
}

// family returns the keys minted from key, recursively, plus key.
func (m *model) family(key string) map[string]bool {
	fam := map[string]bool{key: true}
	for changed := true; changed; {
		changed = false
		for _, cs := range m.copies {
			for _, r := range cs {
				if r.Minted != nil && fam[r.AccessKeyID] && r.AccessKeyID != "" && !fam[r.Minted.AccessKeyID] {
					fam[r.Minted.AccessKeyID] = true
					changed = true
				}
			}
		}
	}
	return fam
}

// familyOf returns the keys of the families of the keys matching a family:
// term's values.
func (m *model) familyOf(term Term) map[string]bool {
	keys := map[string]bool{}
	for _, q := range m.recs {
		keys[q.AccessKeyID] = true
	}
	out := map[string]bool{}
	for _, v := range term.Value {
		for k := range keys {
			if k != "" && globRE(v, false).MatchString(k) {
				for f := range m.family(k) {
					out[f] = true
				}
			}
		}
	}
	return out
}

func (m *model) matchTerm(r *ctlog.Record, term Term, res []*regexp.Regexp, fam map[string]bool, now time.Time) bool {
	anyValue := func(text string, _ bool) bool {
		for _, re := range res {
			if text != "" && re.MatchString(text) {
				return true
			}
		}
		return false
	}
	switch term.Field {
	case FieldText:
		for _, fld := range textFields {
			if anyValue(fieldText(r, fld), true) {
				return true
			}
		}
		return false
	case FieldFamily:
		return r.AccessKeyID != "" && fam[r.AccessKeyID]
	case FieldID:
		for _, v := range term.Value {
			if v == r.EventID || strings.EqualFold(v, r.EventID) && len(v) == 36 && strings.Count(v, "-") == 4 {
				return true
			}
		}
		return false
	case FieldSince, FieldUntil:
		at := term.at
		if term.rel {
			at = now.Add(-term.ago)
		}
		if term.Field == FieldSince {
			return !r.EventTime.IsZero() && !r.EventTime.Before(at)
		}
		return r.EventTime.IsZero() || !r.EventTime.After(at)
	case FieldReadOnly:
		return r.ReadOnly == ctlog.ReadOnlyTrue
	case FieldOurs:
		return m.ours(r)
	case FieldImpersonation:
		return strings.Contains(strings.ToLower(r.UserAgent), "app/warroom") && !m.ours(r)
	case FieldConflict:
		return m.conflict[m.byID[r.EventID]]
	case FieldMinted:
		for _, c := range m.copies[m.byID[r.EventID]] {
			if c.Minted != nil {
				return true
			}
		}
		return false
	case FieldFailed:
		return r.ErrorCode != ""
	}
	return anyValue(fieldText(r, term.Field), fields[term.Field].substr)
}

// query returns the EventIDs matching f in (time, arrival) order.
func (m *model) query(f *Filter, now time.Time) []string {
	fams := make([]map[string]bool, len(f.Terms))
	res := make([][]*regexp.Regexp, len(f.Terms))
	for i, term := range f.Terms {
		if term.Field == FieldFamily {
			fams[i] = m.familyOf(term)
		}
		for _, v := range term.Value {
			res[i] = append(res[i], globRE(v, fields[term.Field].substr))
		}
	}
	var hits []int
	for i, r := range m.recs {
		ok := true
		for j, term := range f.Terms {
			if m.matchTerm(r, term, res[j], fams[j], now) == term.Neg {
				ok = false
				break
			}
		}
		if ok {
			hits = append(hits, i)
		}
	}
	slices.SortStableFunc(hits, func(a, b int) int {
		ta, tb := unixNanos(m.recs[a].EventTime), unixNanos(m.recs[b].EventTime)
		switch {
		case ta < tb:
			return -1
		case ta > tb:
			return 1
		}
		return a - b
	})
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = m.recs[h].EventID
	}
	return out
}

// randomFilter writes a random filter expression from the pools.
func randomFilter(r *rand.Rand) string {
	value := func(pool []string) string {
		v := pick(r, pool)
		if v == "" {
			v = "x"
		}
		switch r.IntN(4) {
		case 0: // a glob from a piece of the value
			i := r.IntN(len(v))
			v = "*" + v[i:i+1+r.IntN(len(v)-i)] + "*"
		case 1:
			v = strings.ToUpper(v)
		}
		if strings.ContainsAny(v, " ,") {
			v = `"` + v + `"`
		}
		return v
	}
	values := func(pool []string) string {
		vs := []string{value(pool)}
		if r.IntN(3) == 0 {
			vs = append(vs, value(pool))
		}
		return strings.Join(vs, ",")
	}
	var terms []string
	for range 1 + r.IntN(3) {
		var t string
		switch r.IntN(19) {
		case 0:
			t = "key:" + values(poolKey)
		case 1:
			t = "family:" + values(poolKey)
		case 2:
			var arns []string
			for _, u := range poolUser {
				arns = append(arns, "arn:aws:iam::111122223333:user/"+u)
			}
			t = "principal:" + values(arns)
		case 3:
			t = "user:" + values(poolUser)
		case 4:
			t = "type:" + values(poolType)
		case 5:
			t = "ip:" + values(poolIP)
		case 6:
			t = "event:" + values(poolEvent)
		case 7:
			t = "source:" + values(poolSource)
		case 8:
			t = "region:" + values(poolRegion)
		case 9:
			t = "error:" + values(poolError)
		case 10:
			t = "msg:" + values(poolMsg)
		case 11:
			t = "agent:" + values(poolAgent)
		case 12:
			t = fmt.Sprintf("id:%s,custom-%d", uuidOf(r.IntN(400)), r.IntN(400))
		case 13:
			t = fmt.Sprintf("since:%dm", r.IntN(400))
		case 14:
			t = "until:" + t0.Add(time.Duration(r.IntN(300))*time.Minute).Format(time.RFC3339)
		case 17:
			t = "account:" + values(poolAcct)
		case 15:
			t = pick(r, []string{"readonly", "ours", "minted", "failed", "impersonation", "conflict"})
		default:
			t = value(append(append(poolUser, poolEvent...), poolAgent...))
			if !strings.HasPrefix(t, `"`) {
				t = `"` + t + `"`
			}
		}
		if r.IntN(3) == 0 {
			t = "-" + t
		}
		terms = append(terms, t)
	}
	return strings.Join(terms, " ")
}

func TestQueryDifferential(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			tb := NewEventTable()
			m := newModel()
			now := t0.Add(300 * time.Minute)
			g := &gen{}
			// warroom ran on AKIA2 from minute 100; its window grows by
			// batch, and ASIA1 is added half way.
			from := t0.Add(100 * time.Minute)
			ci := tb.AddOurs("AKIA2", "", from)
			m.creds = append(m.creds, modelCred{"AKIA2", from, from})
			for batch := range 5 {
				if batch == 2 {
					tb.AddOurs("ASIA1", "", t0)
					m.creds = append(m.creds, modelCred{"ASIA1", t0, t0.Add(time.Minute)})
					tb.ExtendOurs(1, t0.Add(time.Minute))
				}
				to := from.Add(time.Duration(batch*30) * time.Minute)
				tb.ExtendOurs(ci, to)
				m.creds[0].to = to
				for range 120 {
					rc := randomRecord(r, g)
					tb.Add(rc, EventRef{})
					m.add(rc)
				}
				if tb.Len() != len(m.recs) {
					t.Fatalf("Len = %d, model has %d", tb.Len(), len(m.recs))
				}
				for range 30 {
					expr := randomFilter(r)
					f, err := ParseFilter(expr)
					if err != nil {
						t.Fatalf("ParseFilter(%q): %v", expr, err)
					}
					want := m.query(f, now)
					var got []string
					for _, id := range tb.QueryAt(f, now).IDs() {
						got = append(got, tb.Event(id).EventID)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("batch %d, %q: got %d events, want %d; first difference at %d",
							batch, expr, len(got), len(want), firstDiff(got, want))
					}
				}
			}
		})
	}
}

func TestCounts(t *testing.T) {
	tb := fixture()
	f, err := ParseFilter("-ours")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		field Field
		f     *Filter
		want  []Count
	}{
		{"regions of everything", FieldRegion, nil, []Count{{"us-east-1", 3}, {"eu-west-1", 2}, {"us-north-2r", 1}, {"us-west-2", 1}}},
		{"regions, filtered", FieldRegion, f, []Count{{"us-east-1", 3}, {"eu-west-1", 1}, {"us-north-2r", 1}, {"us-west-2", 1}}},
		{"absent values are not counted", FieldError, nil, []Count{{"AccessDenied", 1}, {"UnauthorizedOperation", 1}}},
		{"family counts keys", FieldFamily, nil, []Count{{"AKIAALICE0000000001", 4}, {"AKIABOB000000000001", 1}, {"ASIASESSION00000001", 1}}},
		{"flags have no values", FieldReadOnly, nil, nil},
		{"time has no values", FieldSince, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tb.CountsAt(tc.field, tc.f, t0); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// BenchmarkQuery1M runs filters over a million corpus events and reports
// how many each matched. Build cost is excluded.
func BenchmarkQuery1M(b *testing.B) {
	tb := loadCorpus(1_000_000)
	c := newCorpus(1) // same pools as the table's
	now := tb.Event(tb.order[len(tb.order)-1]).Time
	for _, bc := range []struct{ name, filter string }{
		{"key+region", "key:" + c.keys[7] + " region:eu-west-1"},
		{"event", "event:CreateUser"},
		{"error-readonly", "error:AccessDenied -readonly"},
		{"user", "user:user-0042"},
		{"glob+source+since", "source:iam event:Create* since:2h"},
		{"family", "family:" + c.keys[3]},
		{"ip-alternatives", "ip:" + c.ips[1] + "," + c.ips[2] + "," + c.ips[3]},
		{"freetext", `"user-004"`},
		{"freetext-rare", "notauthorized"},
		{"agent-substring", "agent:app/warroom"},
		{"failed", "failed"},
		{"negation-only", "-event:ListUsers"},
		{"not-readonly", "-readonly"},
		{"since-1h", "since:1h"},
		{"all", ""},
	} {
		f, err := ParseFilter(bc.filter)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			var n int
			cpu := cpuNanos()
			for b.Loop() {
				n = tb.QueryAt(f, now).Len()
			}
			b.ReportMetric(float64(cpuNanos()-cpu)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(n), "matches")
		})
	}
}

// BenchmarkLateBatch1M adds batches of 50 late events to a table of a
// million and settles the time order (as the next query does).
func BenchmarkLateBatch1M(b *testing.B) {
	tb := loadCorpus(1_000_000)
	c := newCorpus(2)
	c.clock = tb.Event(tb.order[len(tb.order)-1]).Time
	first := tb.Event(tb.order[0]).Time
	span := c.clock.Sub(first)
	for _, bc := range []struct {
		name string
		late func() time.Duration
	}{
		{"up-to-15m-late", func() time.Duration { return time.Duration(c.r.Int64N(int64(15 * time.Minute))) }},
		{"anywhere-in-incident", func() time.Duration { return time.Duration(c.r.Int64N(int64(span))) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var r ctlog.Record
			cpu := cpuNanos()
			defer func() { b.ReportMetric(float64(cpuNanos()-cpu)/float64(b.N), "cpu-ns/op") }()
			for b.Loop() {
				for range 50 {
					c.next(&r)
					r.EventTime = c.clock.Add(-bc.late())
					tb.Add(&r, EventRef{})
				}
				tb.settle()
			}
		})
	}
}

// cpuNanos returns the process's CPU time: the machine these benchmarks run
// on is shared, so wall time per op overstates the cost; both are reported.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// TestLazyPostsMatchEager holds the posting lists that settle builds in
// bulk to those built one event at a time: one table settles after every
// Add (each event posted alone), the other only when a query runs, after
// batches of random sizes, with duplicates and addendum replacements of
// events on both sides of what was posted. A query posts the columns its
// terms read and no other; a column posted holds the eager table's lists,
// and every query must give the same events.
func TestLazyPostsMatchEager(t *testing.T) {
	tests := []struct {
		name     string
		seed     uint64
		maxBatch int
	}{
		{"single events", 1, 1},
		{"small batches", 2, 8},
		{"mixed batches", 3, 200},
		{"one bulk load", 4, 5000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(tc.seed, 11))
			eager, lazy := NewEventTable(), NewEventTable()
			now := t0.Add(300 * time.Minute)
			posted, unposted := 0, 0
			defer func() {
				if posted == 0 || unposted == 0 {
					t.Errorf("%d columns compared posted, %d left unposted: the test tests little", posted, unposted)
				}
			}()
			g := &gen{}
			for added := 0; added < 5000; {
				for range 1 + r.IntN(tc.maxBatch) {
					rc := randomRecord(r, g)
					ide, che := eager.Add(rc, EventRef{})
					eager.Settle()
					idl, chl := lazy.Add(rc, EventRef{})
					if ide != idl || che != chl {
						t.Fatalf("Add: eager (%d, %v), lazy (%d, %v)", ide, che, idl, chl)
					}
					added++
				}
				expr := randomFilter(r)
				f, err := ParseFilter(expr)
				if err != nil {
					t.Fatalf("ParseFilter(%q): %v", expr, err)
				}
				got, want := lazy.QueryAt(f, now).IDs(), eager.QueryAt(f, now).IDs()
				if !slices.Equal(got, want) {
					t.Fatalf("after %d adds, %q: lazy gives %d events, eager %d", added, expr, len(got), len(want))
				}
				if lazy.indexed != uint32(lazy.Len()) {
					t.Fatalf("a query left %d of %d events posted", lazy.indexed, lazy.Len())
				}
				// A query posts the columns its terms read, and only those.
				for _, term := range f.Terms {
					if c := fields[term.Field].col; c >= 0 && lazy.cols[c].posted != uint32(lazy.Len()) {
						t.Fatalf("after %d adds, %q: column %d not posted", added, expr, c)
					}
				}
				for c := range lazy.cols {
					if lazy.cols[c].posted == uint32(lazy.Len()) {
						posted++
						if !slices.EqualFunc(lazy.cols[c].posts, eager.cols[c].posts, slices.Equal) {
							t.Fatalf("after %d adds: column %d's posting lists differ", added, c)
						}
					} else if !text(f) && lazy.cols[c].posted == 0 && lazy.Len() > 0 {
						unposted++
					}
				}
				if !slices.Equal(lazy.roPost, eager.roPost) {
					t.Fatalf("after %d adds: readOnly posting lists differ", added)
				}
				for b := range lazy.flagPost {
					if !slices.Equal(lazy.flagPost[b], eager.flagPost[b]) {
						t.Fatalf("after %d adds: flag %d posting lists differ", added, b)
					}
				}
			}
		})
	}
}

// TestAddBatchMatchesAdd: AddBatch leaves a table exactly as Add does, one
// record at a time in the same order, skipping records without an event
// id, whatever the batch sizes (shorter and longer than its runs), with
// duplicates, corrections, ids that are not UUIDs and minted keys.
func TestAddBatchMatchesAdd(t *testing.T) {
	for _, maxBatch := range []int{1, 5, 16, 17, 40, 300} {
		t.Run(fmt.Sprint("batches up to ", maxBatch), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(maxBatch), 5))
			one, batched := NewEventTable(), NewEventTable()
			g := &gen{}
			for offset, total := int64(0), 0; total < 4000; offset++ {
				recs := make([]ctlog.Record, 1+r.IntN(maxBatch))
				for i := range recs {
					if r.IntN(25) == 0 {
						continue // a failed parse: a zero record
					}
					recs[i] = *randomRecord(r, g)
				}
				total += len(recs)
				base := EventRef{Offset: offset, Index: uint32(r.IntN(3))}
				want := 0
				for i := range recs {
					if recs[i].EventID == "" {
						continue
					}
					if _, changed := one.Add(&recs[i], EventRef{Offset: base.Offset, Index: base.Index + uint32(i)}); changed {
						want++
					}
				}
				if got := batched.AddBatch(recs, base); got != want {
					t.Fatalf("batch %d of %d records: AddBatch says %d changed, Add %d", offset, len(recs), got, want)
				}
			}
			one.Settle()
			batched.Settle()
			if one.Len() != batched.Len() {
				t.Fatalf("%d events one at a time, %d in batches", one.Len(), batched.Len())
			}
			for id := range uint32(one.Len()) {
				if a, b := one.Event(id), batched.Event(id); !reflect.DeepEqual(a, b) {
					t.Fatalf("event %d: one at a time %+v, in batches %+v", id, a, b)
				}
			}
			for c := range one.cols {
				if !slices.Equal(one.cols[c].strs, batched.cols[c].strs) || !slices.EqualFunc(one.cols[c].posts, batched.cols[c].posts, slices.Equal) {
					t.Fatalf("column %d differs", c)
				}
			}
			if !slices.Equal(one.order, batched.order) || !slices.Equal(one.eid.strs, batched.eid.strs) {
				t.Fatal("time order or event id column differ")
			}
		})
	}
}

// text is whether f has a free-text term (which reads every column).
func text(f *Filter) bool {
	for _, t := range f.Terms {
		if t.Field == FieldText {
			return true
		}
	}
	return false
}
