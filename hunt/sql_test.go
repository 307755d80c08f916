package hunt

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
)

var update = flag.Bool("update", false, "rewrite the golden SQL in testdata")

var (
	testTable = Table{Database: "warroom", Name: "cloudtrail_org"}
	testNow   = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
)

// goldenFilters are the filters whose SQL is kept in testdata/NAME.sql.
var goldenFilters = []struct{ name, filter string }{
	{"empty", ""},
	{"key", "key:AKIAEXAMPLE000000001"},
	{"key_family_of_fields", `key:AKIA1,ASIA* user:alice type:IAMUser principal:arn:aws:iam::111122223333:user/alice`},
	{"event_source_region", "event:CreateUser,Create* source:iam region:eu-west-1,us-east-1"},
	{"account_region_window", "account:111122223333,444455556666 region:eu-west-1 since:2026-11-18T10:00:00Z until:2026-11-19T23:30:00Z"},
	{"relative_window", "since:2d until:90m"},
	{"ip_error_agent_msg", `ip:203.0.113.* error:AccessDenied agent:boto3 msg:"not authorized"`},
	{"negations", "-readonly -region:us-east-1 -error:* -account:111122223333"},
	{"failed_id", "failed id:0b0e6b0e-7f3a-4c58-9d3b-1a2b3c4d5e6f,CUSTOM-ID"},
	{"free_text", `"carol smith" -alice`},
	{"hostile_literals", `user:"o'brien" agent:"50%_\\'x" "a'b*c"`},
}

func TestCompileGolden(t *testing.T) {
	for _, g := range goldenFilters {
		t.Run(g.name, func(t *testing.T) {
			f, err := state.ParseFilter(g.filter)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Compile(f, testTable, testNow)
			if err != nil {
				t.Fatal(err)
			}
			got := "-- filter: " + g.filter + "\n-- partitions: " + q.Partitions.String() + "\n" + q.SQL + "\n"
			path := filepath.Join("testdata", g.name+".sql")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("SQL differs from %s:\n%s", path, got)
			}
		})
	}
}

func TestCompilePartitions(t *testing.T) {
	tests := []struct {
		name, filter string
		want         Partitions
	}{
		{"none", "user:alice", Partitions{}},
		{"accounts and regions", "account:444455556666,111122223333 region:EU-WEST-1", Partitions{Accounts: []string{"111122223333", "444455556666"}, Regions: []string{"eu-west-1"}}},
		{"two region terms intersect", "region:eu-west-1,us-east-1 region:us-east-1", Partitions{Regions: []string{"us-east-1"}}},
		{"disjoint regions scan nothing", "region:eu-west-1 region:us-east-1", Partitions{Regions: []string{}}},
		{"a glob does not restrict", "region:eu-*", Partitions{}},
		{"negated does not restrict", "-account:111122223333 -since:2026-11-01", Partitions{}},
		{"the latest since, the earliest until, a day's delivery after it", "since:2026-11-01 since:2026-11-03T05:00:00Z until:2026-11-10 until:2026-11-12",
			Partitions{From: "2026/11/03", To: "2026/11/11"}},
		{"relative", "since:1d", Partitions{From: "2026/11/19"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := state.ParseFilter(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Compile(f, testTable, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Partitions.String(); got != tc.want.String() || (q.Partitions.Regions == nil) != (tc.want.Regions == nil) {
				t.Errorf("partitions %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, expr := range []string{"family:AKIA1", "ours", "-impersonation", "minted", "conflict", "user:\x01x"} {
		f, err := state.ParseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Compile(f, testTable, testNow)
		var te *TermError
		if !errors.As(err, &te) {
			t.Errorf("%q: %v, want a TermError", expr, err)
			continue
		}
		name := strings.TrimPrefix(strings.SplitN(expr, ":", 2)[0], "-")
		if !strings.Contains(err.Error(), name) || te.Col != 1 {
			t.Errorf("%q: %q does not name the term at column 1", expr, err)
		}
	}
	if _, err := Compile(&state.Filter{}, Table{Database: "x;drop", Name: "t"}, testNow); err == nil {
		t.Error("a database name with ';' was taken")
	}
}

// Every field of the language is either compiled or refused by name:
// a term added to state's language without a meaning here fails this.
func TestEveryFieldHasAMeaning(t *testing.T) {
	names, flags := state.FilterFields()
	for _, n := range names {
		expr := n + ":x"
		if n == "since" || n == "until" {
			expr = n + ":2h"
		}
		f, err := state.ParseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Compile(f, testTable, testNow); err != nil && !errors.As(err, new(*TermError)) {
			t.Errorf("%s: %v", expr, err)
		} else if err != nil {
			if _, refused := noSQL[f.Terms[0].Field]; !refused {
				t.Errorf("%s: refused without a reason: %v", expr, err)
			}
		}
	}
	for _, w := range flags {
		f, _ := state.ParseFilter(w)
		if _, err := Compile(f, testTable, testNow); err != nil {
			if _, refused := noSQL[f.Terms[0].Field]; !refused {
				t.Errorf("%s: %v", w, err)
			}
		}
	}
}
