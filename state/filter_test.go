package state

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// fixture builds a small table, added out of time order. Event n happens at
// minute n (event 8 has no time: it sorts first).
func fixture() *EventTable {
	tb := NewEventTable()
	// warroom ran on bob's key from minute 0 to 10: event 3 is its own.
	i := tb.AddOurs(fixtureOurKey, fixtureOurARN, t0)
	tb.ExtendOurs(i, t0.Add(10*time.Minute))
	for i, r := range fixtureRecords() {
		tb.Add(r, EventRef{Offset: 100, Index: uint32(i)})
	}
	return tb
}

// The credential warroom ran on in the fixture.
const (
	fixtureOurKey = "AKIABOB000000000001"
	fixtureOurARN = "arn:aws:iam::111122223333:user/bob"
)

// fixtureModel is the model of fixture().
func fixtureModel() *model {
	m := newModel()
	m.creds = []modelCred{{fixtureOurKey, t0, t0.Add(10 * time.Minute)}}
	for _, r := range fixtureRecords() {
		m.add(r)
	}
	return m
}

func fixtureRecords() []*ctlog.Record {
	return []*ctlog.Record{
		rec(3, 3, func(r *ctlog.Record) {
			r.UserName, r.PrincipalARN, r.AccessKeyID = "bob", "arn:aws:iam::111122223333:user/bob", "AKIABOB000000000001"
			r.EventName, r.EventSource, r.Region = "CreateAccessKey", "iam.amazonaws.com", "eu-west-1"
			r.SourceIP, r.UserAgent, r.ReadOnly = "198.51.100.9", "Boto3/1.34 md/x app/warroom", ctlog.ReadOnlyFalse
			r.RecipientAccountID = "111122223333"
		}),
		rec(1, 1),
		rec(2, 2, func(r *ctlog.Record) {
			r.EventName, r.EventSource, r.ReadOnly = "CreateUser", "iam.amazonaws.com", ctlog.ReadOnlyFalse
			r.ErrorCode = "AccessDenied"
			r.ErrorMessage = "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:CreateUser"
		}),
		rec(6, 6, func(r *ctlog.Record) {
			r.EventName, r.EventSource, r.ReadOnly = "GetSessionToken", "sts.amazonaws.com", ctlog.ReadOnlyTrue
			r.Minted = &ctlog.Minted{AccessKeyID: "ASIASESSION00000001", Expiration: t0.Add(12 * time.Hour)}
		}),
		rec(4, 4, func(r *ctlog.Record) {
			r.IdentityType, r.UserName = "AssumedRole", "admin"
			r.PrincipalARN = "arn:aws:sts::111122223333:assumed-role/admin/sess"
			r.AccessKeyID = "ASIASESSION00000001"
			r.EventName, r.EventSource, r.Region = "RunInstances", "ec2.amazonaws.com", "eu-west-1"
			r.ErrorCode, r.ReadOnly = "UnauthorizedOperation", ctlog.ReadOnlyUnknown
			r.RecipientAccountID = "444455556666"
		}),
		rec(5, 5, func(r *ctlog.Record) {
			r.IdentityType, r.UserName, r.AccessKeyID = "IAMUser", "carol smith", ""
			r.PrincipalARN = "arn:aws:iam::111122223333:user/carol smith"
			r.EventName, r.EventSource, r.Region = "DescribeRegions", "ec2.amazonaws.com", "us-west-2"
			r.SourceIP = "ec2.amazonaws.com"
			r.RecipientAccountID = "444455556666"
		}),
		rec(8, 0, func(r *ctlog.Record) {
			r.EventTime = time.Time{}
			r.EventName, r.Region, r.SourceIP = "Decrypt", "us-north-2r", "253.252.51.07"
		}),
	}
}

func TestFilterFields(t *testing.T) {
	tb := fixture()
	now := t0.Add(10 * time.Minute)
	tests := []struct {
		name   string
		filter string
		want   []int
	}{
		{"empty", "", []int{8, 1, 2, 3, 4, 5, 6}},
		{"key", "key:AKIABOB000000000001", []int{3}},
		{"key lower case", "key:akiabob000000000001", []int{3}},
		{"key glob", "key:ASIA*", []int{4}},
		{"key not seen", "key:AKIANOPE", nil},
		{"family", "family:AKIAALICE0000000001", []int{8, 1, 2, 4, 6}},
		{"family of a minted key", "family:ASIASESSION00000001", []int{4}},
		{"principal glob", "principal:*assumed-role/admin/*", []int{4}},
		{"principal exact", "principal:arn:aws:iam::111122223333:user/bob", []int{3}},
		{"user", "user:alice", []int{8, 1, 2, 6}},
		{"user quoted", `user:"carol smith"`, []int{5}},
		{"user quoted with alternatives", `user:"carol smith",bob`, []int{3, 5}},
		{"type", "type:assumedrole", []int{4}},
		{"ip", "ip:198.51.100.9", []int{3}},
		{"ip glob", "ip:203.0.*", []int{1, 2, 4, 6}},
		{"ip as service name", "ip:ec2.amazonaws.com", []int{5}},
		{"ip malformed text", "ip:253.252.51.07", []int{8}},
		{"event", "event:CreateUser", []int{2}},
		{"event any case", "event:createuser", []int{2}},
		{"event alternatives", "event:CreateUser,CreateAccessKey", []int{2, 3}},
		{"event glob", "event:Create*", []int{2, 3}},
		{"event glob middle", "event:*Session*", []int{6}},
		{"source short", "source:iam", []int{2, 3}},
		{"source full", "source:ec2.amazonaws.com", []int{4, 5}},
		{"source glob", "source:*", []int{8, 1, 2, 3, 4, 5, 6}},
		{"region", "region:eu-west-1", []int{3, 4}},
		{"region fake", "region:us-north-2r", []int{8}},
		{"error", "error:AccessDenied", []int{2}},
		{"error any", "error:*", []int{2, 4}},
		{"error none", "-error:*", []int{8, 1, 3, 5, 6}},
		{"msg substring", "msg:authorized", []int{2}},
		{"msg quoted substring", `msg:"not authorized"`, []int{2}},
		{"agent substring", "agent:boto3", []int{3}},
		{"agent app id", "agent:app/warroom", []int{3}},
		{"account", "account:444455556666", []int{4, 5}},
		{"account alternatives", "account:111122223333,444455556666", []int{3, 4, 5}},
		{"account glob", "account:4444*", []int{4, 5}},
		{"not account (events without one included)", "-account:444455556666", []int{8, 1, 2, 3, 6}},
		{"account as free text", "44445555", []int{4, 5}},
		{"id", "id:" + uuidOf(4), []int{4}},
		{"id upper case", "id:" + strings.ToUpper(uuidOf(4)), []int{4}},
		{"id alternatives", "id:" + uuidOf(4) + "," + uuidOf(1) + ",nope", []int{1, 4}},
		{"since absolute", "since:2026-11-20T10:04:00Z", []int{4, 5, 6}},
		{"until absolute", "until:2026-11-20T10:02:00Z", []int{8, 1, 2}},
		{"since duration", "since:6m", []int{4, 5, 6}},
		{"since and until", "since:8m until:2026-11-20T10:05:00Z", []int{2, 3, 4, 5}},
		{"since date", "since:2026-11-21", nil},
		{"since the year 1", "since:0001-01-01T00:00:00Z", []int{1, 2, 3, 4, 5, 6}},
		{"since a local time, taken as UTC", "since:2026-11-20T10:05", []int{5, 6}},
		{"not since", "-since:6m", []int{8, 1, 2, 3}},
		{"readonly", "readonly", []int{8, 1, 5, 6}},
		{"not readonly includes unknown", "-readonly", []int{2, 3, 4}},
		{"ours", "ours", []int{3}},
		{"not ours", "-ours", []int{8, 1, 2, 4, 5, 6}},
		{"no impersonation", "impersonation", nil},
		{"no conflict", "conflict", nil},
		{"minted", "minted", []int{6}},
		{"failed", "failed", []int{2, 4}},
		{"not failed", "-failed", []int{8, 1, 3, 5, 6}},
		{"free text", "session", []int{4, 6}},
		{"free text any case", "CAROL", []int{5}},
		{"free text quoted", `"carol smith"`, []int{5}},
		{"free text word that is a flag, quoted", `"readonly"`, nil},
		{"free text negated", "-alice", []int{3, 4, 5}},
		{"negated field", "-user:alice", []int{3, 4, 5}},
		{"negated alternatives", "-region:us-east-1,eu-west-1", []int{8, 5}},
		{"and", "key:AKIAALICE0000000001 region:us-east-1 -readonly", []int{2}},
		{"and with error", "error:AccessDenied -readonly", []int{2}},
		{"and that matches nothing", "user:bob user:alice", nil},
		{"negation only", "-event:ListBuckets -event:Decrypt", []int{2, 3, 4, 5, 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			got := eventNums(t, tb, tb.QueryAt(f, now))
			if !slices.Equal(got, tc.want) {
				t.Errorf("%q: got %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	tests := []struct {
		name   string
		expr   string
		col    int
		substr string
	}{
		{"unknown field suggests", "key:A usr:alice", 7, `did you mean "user"`},
		{"unknown field lists fields", "colour:red", 1, "fields: key, family, principal"},
		{"arn typed bare", "arn:aws:iam::1:user/x", 1, "quote text that contains ':'"},
		{"empty value", "user: key:A", 6, "empty value for user:"},
		{"empty value at end", "region:", 8, "empty value"},
		{"empty alternative", "event:A,,B", 9, "empty value"},
		{"trailing comma", "event:A,", 9, "empty value"},
		{"empty quoted value", `user:""`, 6, "empty value"},
		{"unterminated quote", `user:alice "free text`, 12, "unterminated quote"},
		{"unterminated quoted value", `user:"alice`, 6, "unterminated quote"},
		{"text after quote", `"abc"def`, 6, "space after the closing quote"},
		{"text after quoted value", `user:"a"b`, 9, "after the closing quote"},
		{"quote in word", `ab"c`, 3, "quote inside a word"},
		{"quote in value", `user:a"b`, 7, "quote inside a value"},
		{"dash alone", "user:a - b", 8, "nothing after '-'"},
		{"double dash", "--readonly", 2, "negated only once"},
		{"bad time", "since:yesterday", 7, "bad time"},
		{"bad duration unit", "since:5y", 7, "unknown unit"},
		{"duration too long", "since:99999999999d", 7, "century"},
		{"time alternatives", "until:2h,3h", 9, "one time"},
		{"id glob", "id:abc*", 4, "exact event ids"},
		{"flag with value", "readonly:true", 1, "word without a value"},
		{"columns count characters", "ünïcödé wörd usr:x", 14, "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFilter(tc.expr)
			fe, ok := err.(*FilterError)
			if !ok {
				t.Fatalf("ParseFilter(%q) error = %v, want a *FilterError", tc.expr, err)
			}
			if fe.Col != tc.col || !strings.Contains(fe.Msg, tc.substr) {
				t.Errorf("ParseFilter(%q) = column %d %q, want column %d containing %q", tc.expr, fe.Col, fe.Msg, tc.col, tc.substr)
			}
		})
	}
}

func TestFilterString(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"canonical names", "USER:Alice Event:CreateUser", "user:Alice event:CreateUser"},
		{"source completed", "source:iam,ec2,s3.amazonaws.com", "source:iam.amazonaws.com,ec2.amazonaws.com,s3.amazonaws.com"},
		{"flags lower-cased", "-ReadOnly OURS", "-readonly ours"},
		{"quotes kept where needed", `user:"a b","c,d" "free text" "readonly" "-x" "a:b"`, `user:"a b","c,d" "free text" "readonly" "-x" "a:b"`},
		{"quotes dropped where not needed", `user:"alice" "word"`, `user:alice word`},
		{"escapes", `"say \"hi\" \\ now"`, `"say \"hi\" \\ now"`},
		{"backslash in bare value", `user:a\b`, `user:a\b`},
		{"times as typed", "since:2h until:2026-11-20T10:00:00Z", "since:2h until:2026-11-20T10:00:00Z"},
		{"white space collapsed", "  a \t  b  ", "a b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFilter(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			checkRoundTrip(t, f)
		})
	}
}

// checkRoundTrip asserts that f's canonical form parses to the same filter.
func checkRoundTrip(t *testing.T, f *Filter) {
	t.Helper()
	s := f.String()
	g, err := ParseFilter(s)
	if err != nil {
		t.Fatalf("canonical form %q does not parse: %v", s, err)
	}
	if !sameFilter(f, g) {
		t.Fatalf("canonical form %q parses to %+v, want %+v", s, g.Terms, f.Terms)
	}
	if g.String() != s {
		t.Fatalf("canonical form is not stable: %q then %q", s, g.String())
	}
}

// sameFilter compares two filters ignoring where their terms were written.
func sameFilter(a, b *Filter) bool {
	strip := func(f *Filter) []Term {
		ts := slices.Clone(f.Terms)
		for i := range ts {
			ts[i].Col = 0
		}
		return ts
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"", "key:AKIA123 user:alice ip:203.0.113.7 event:CreateUser region:eu-west-1 error:AccessDenied source:iam -readonly \"free text\"",
		`user:"a b",c -"x y" since:2h until:2026-11-20T10:00:00Z`, `"\\\""`, "event:Create*,Delete* -error:*",
		"family:AKIA1 id:abc ours minted failed agent:boto msg:denied type:Root principal:arn:aws:iam::1:user/x",
		"since:1d12h", "ü:x", "a,b", "-\"-\"", "\"a\\b\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := ParseFilter(expr)
		if err != nil {
			if _, ok := err.(*FilterError); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		checkRoundTrip(t, flt)
	})
}

// FuzzQuery runs any filter that parses over the fixture and compares the
// answer with the naive model. Only ASCII expressions are compared: the
// model's (?i) folding and the table's strings.ToLower differ on a few
// exotic runes, a difference that matters to nobody typing a filter.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"user:alice", "-readonly event:*e*", `"carol smith" -failed`, "family:AKIA*",
		"since:5m until:2026-11-20T10:05:00Z", "ip:*.*.*", "agent:app/ -ours", "error:*d,*n", "source:e*",
		"id:" + uuidOf(4), "event:**c**", "x*y*z"} {
		f.Add(s)
	}
	tb := fixture()
	m := fixtureModel()
	now := t0.Add(10 * time.Minute)
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := ParseFilter(expr)
		if err != nil {
			return
		}
		got := []string{}
		for _, id := range tb.QueryAt(flt, now).IDs() {
			got = append(got, tb.Event(id).EventID)
		}
		for _, c := range expr {
			if c >= utf8.RuneSelf {
				return
			}
		}
		if want := append([]string{}, m.query(flt, now)...); !slices.Equal(got, want) {
			t.Fatalf("%q: got %v, want %v", expr, got, want)
		}
	})
}
