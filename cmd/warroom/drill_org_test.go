package main

import (
	"bufio"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/warroom-ir/warroom/report"
	"github.com/warroom-ir/warroom/state"
)

// TestDrillOrg plays warroom drill --org-accounts 3: the console opens in
// organisation mode on the management account, reads both members through
// their role (their access journaled ok), shows the accounts; once the
// attacker has pivoted into the second member, the debrief's ground truth
// holds what it planted there (its sessions and key, judged by that
// account, and its miners), not only the leaked account's.
func TestDrillOrg(t *testing.T) {
	var got []report.Debrief
	debriefed = func(db report.Debrief, _ error) { got = append(got, db) }
	t.Cleanup(func() { debriefed = nil })
	r := startDrillRun(t, func(a *drillArgs) { a.orgAccounts = 3 })
	if r.drill.org == nil || r.drill.osc == nil {
		t.Fatal("the drill is not an organisation")
	}
	leakedAcct, pivotAcct := r.drill.osc.LeakedAccount(), r.drill.osc.PivotAccount()
	r.waitFor("both members read through their role", func() bool {
		s := r.store()
		for _, id := range []string{leakedAcct, pivotAcct} {
			af, ok := s.Account(id)
			if !ok || af.Access == nil || af.Access.V.Status != state.AccessOK || af.Inventory == nil {
				return false
			}
		}
		return true
	})
	mark := len(r.screen.String())
	r.press("2")
	r.screenShows(mark, "3 accounts")
	r.waitFor("the attacker's pivot", r.drill.osc.PivotEstablished)
	if err := r.quit(); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatalf("no debrief; stdout %s", r.out.String())
	}
	db := got[len(got)-1]
	pivotHeld := 0
	for _, h := range db.Held {
		if strings.HasSuffix(h.Kind, " in "+pivotAcct) {
			pivotHeld++
		}
	}
	if pivotHeld == 0 {
		t.Errorf("the debrief holds nothing of the pivot account %s: %+v", pivotAcct, db.Held)
	}
	if db.Running < 2 {
		t.Errorf("the debrief counts %d running instances; the pivot's miners alone are 2", db.Running)
	}
	if out := r.out.String(); !strings.Contains(out, "in "+pivotAcct) {
		t.Errorf("the printed debrief does not name the pivot account:\n%s", out)
	}
}

// TestDrillOrgHunt: in warroom drill --org-accounts 3 the console's :hunt
// runs on the organisation trail: its table made on first use over the
// org trail bucket, the leaked key's records found there and journaled
// (source athena:…) in the leaked account and in the pivot account.
func TestDrillOrgHunt(t *testing.T) {
	r := startDrillRun(t, func(a *drillArgs) { a.orgAccounts = 3 })
	leakedAcct, pivotAcct := r.drill.osc.LeakedAccount(), r.drill.osc.PivotAccount()
	r.waitFor("the attacker's pivot", r.drill.osc.PivotEstablished)
	s3c := s3.NewFromConfig(orgCfg(r.drill.endpoint, r.drill.org.Responder(), "us-east-1"), func(op *s3.Options) { op.UsePathStyle = true })
	keys := map[string]bool{}
	r.waitFor("the org trail to hold the family's calls in both accounts", func() bool {
		recs := orgTrailRecords(t, s3c, r.drill.org, []string{leakedAcct, pivotAcct}, func(rec orgRecord) bool {
			return rec.Key == r.drill.osc.LeakedKey() || slices.Contains(r.drill.osc.Truth().PivotSessions, rec.Key)
		})
		keys = map[string]bool{}
		for _, rec := range recs {
			keys[rec.Account] = true
		}
		return keys[leakedAcct] && keys[pivotAcct]
	})
	// A log file delivered while a query loads the table is read by the
	// next query, as at Athena: hunt again (as a responder would) until
	// both accounts are in, a few times at most.
	var in map[string]int
	for try := 0; try < 4; try++ {
		mark := len(r.screen.String())
		filter := "key:" + strings.Join(append([]string{r.drill.osc.LeakedKey()}, r.drill.osc.Truth().PivotSessions...), ",")
		r.press(":hunt " + filter + "\r")
		r.screenShows(mark, " new, ")
		if s := r.screen.String()[mark:]; strings.Contains(s, "does not exist") || strings.Contains(s, "hunt: athena") {
			t.Fatalf("the hunt failed:\n%s", s)
		}
		if in = athenaEventsByAccount(t, r.path); in[leakedAcct] > 0 && in[pivotAcct] > 0 {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if in[leakedAcct] == 0 || in[pivotAcct] == 0 {
		t.Errorf(":hunt journaled by account %v; want the leaked account %s and the pivot %s", in, leakedAcct, pivotAcct)
	}
}

// athenaEventsByAccount counts the records of path's events facts that a
// hunt journaled (source athena:…) by the account they happened in.
func athenaEventsByAccount(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var line struct {
			Kind string       `json:"kind"`
			Data state.Events `json:"data"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Kind != string(state.KindEvents) || !strings.HasPrefix(line.Data.Source, "athena:") {
			continue
		}
		for _, raw := range line.Data.Records {
			var rec struct{ RecipientAccountID string }
			if json.Unmarshal(raw, &rec) == nil {
				in[rec.RecipientAccountID]++
			}
		}
	}
	return in
}
