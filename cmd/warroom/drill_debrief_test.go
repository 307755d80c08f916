package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/report"
)

// TestDrillDebriefIsTheReport plays the drill with several seeds, each
// until the attacker holds every foothold (with one seed the responder
// first deactivates the leaked key from the console). At the exit the
// debrief's open footholds are the report's Still open: the same list
// `warroom report --format json` writes from the same journal. And both
// match the drill account, read back through the SDK as an outside client:
// every key listed open (read back) is Active and every instance listed
// open runs; every one of the attacker's keys that is Active and every one
// of its instances that runs is listed.
func TestDrillDebriefIsTheReport(t *testing.T) {
	if testing.Short() {
		t.Skip("plays drills")
	}
	for _, tc := range []struct {
		seed    uint64
		contain bool
	}{{seed: 2}, {seed: 7}, {seed: 5, contain: true}} {
		t.Run(fmt.Sprintf("seed %d", tc.seed), func(t *testing.T) {
			var mu sync.Mutex
			var last *report.Debrief
			var lastErr error
			var acct account
			var exiting atomic.Bool
			var r *drillRun
			debriefed = func(db report.Debrief, checkErr error) {
				mu.Lock()
				defer mu.Unlock()
				last, lastErr = &db, checkErr
				if exiting.Load() {
					// The drill has stopped its attacker and still serves
					// its account: read it back now, as the debrief did.
					acct = readAccount(r.drill)
				}
			}
			t.Cleanup(func() { debriefed = nil })
			r = startDrillRun(t, func(a *drillArgs) { a.seed = tc.seed })
			leaked := r.drill.sc.LeakedKey()
			if tc.contain {
				r.waitFor("the leaked key's events in the journal", func() bool { return keyEvents(r.store(), leaked) > 0 })
				r.press("/key:" + leaked + "\r")
				mark := len(r.screen.String())
				r.press("D")
				r.screenShows(mark, "Run plan")
				r.press("\t\r")
				r.waitFor("the deactivation verified", func() bool {
					for _, a := range r.store().Actions {
						if a.Intent.Action == "deactivate-key" && len(a.Verifies) > 0 {
							return true
						}
					}
					return false
				})
			}
			r.waitEstablished()
			exiting.Store(true)
			if err := r.quit(); err != nil {
				t.Fatalf("drill: %v; stderr %s", err, r.errb.String())
			}
			mu.Lock()
			db, checkErr := last, lastErr
			mu.Unlock()
			if db == nil {
				t.Fatalf("no debrief built; stdout %s", r.out.String())
			}
			if checkErr != nil || db.Verdict == nil {
				t.Fatalf("the verdict was not read back: %v (verdict %+v)", checkErr, db.Verdict)
			}
			if tc.contain && len(db.Steps) == 0 {
				t.Error("the debrief shows no containment step")
			}
			// A contained verdict and a family credential the drill
			// account would still serve cannot both be true.
			if db.Verdict.Word == "contained" {
				for _, h := range db.Held {
					if h.Member != nil && h.Works {
						t.Errorf("contained, yet the family's %s %s works in the drill account", h.Kind, h.Key)
					}
				}
			}

			// The report of the same journal, as warroom report writes it.
			code, out, errOut := warroom(t, "report", r.path, "--format", "json")
			if code != 0 {
				t.Fatalf("report: exit %d: %s", code, errOut)
			}
			var rep struct {
				Open []report.Open `json:"open"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(db.Open, rep.Open) {
				t.Errorf("the debrief's open footholds differ from the report's Still open:\ndebrief %+v\nreport  %+v", db.Open, rep.Open)
			}
			for _, o := range db.Open {
				if !strings.Contains(r.out.String(), o.ID) {
					t.Errorf("the printed debrief lacks open %s %s:\n%s", o.Kind, o.ID, r.out.String())
				}
			}

			if acct.err != nil {
				t.Fatalf("the account could not be read back: %v", acct.err)
			}
			status, running, attackerInstances := acct.status, acct.running, acct.attackerInstances
			listed := map[string]bool{}
			for _, o := range rep.Open {
				switch o.Kind {
				case "key":
					listed[o.ID] = true
					if o.Source == "verdict" && status[o.ID] != "Active" && strings.HasPrefix(o.ID, "AKIA") {
						t.Errorf("the report lists key %s open, the account reads it %q", o.ID, status[o.ID])
					}
				case "spot", "ec2:spot-request":
					// A spot request's step cancels it and ends its
					// instances: they are listed by their request.
					for _, id := range strings.Split(o.ID, ",") {
						listed[id] = true
					}
				case "instance", "ec2:instance": // what the family launched; what was made after the leak, unattributed
					for _, id := range strings.Split(o.ID, ",") {
						listed[id] = true
						if o.Source == "verdict" && running[id] != o.Region {
							t.Errorf("the report lists instance %s in %s open, the account runs it in %q", id, o.Region, running[id])
						}
					}
				}
			}
			for _, h := range r.drill.sc.Attacker().Holds() {
				if status[h.AccessKeyID] == "Active" && !listed[h.AccessKeyID] {
					t.Errorf("the attacker's %s %s is Active in the account, but not in Still open", h.Kind, h.AccessKeyID)
				}
			}
			for _, id := range attackerInstances {
				if running[id] != "" && !listed[id] && !listed[acct.spot[id]] {
					t.Errorf("the attacker's instance %s runs in %s, but is not in Still open", id, running[id])
				}
			}
			if listed[leaked] != (status[leaked] == "Active") {
				t.Errorf("the leaked key is %q in the account; listed open: %v", status[leaked], listed[leaked])
			}
			active := 0
			for _, h := range r.drill.sc.Attacker().Holds() {
				if status[h.AccessKeyID] == "Active" {
					active++
				}
			}
			if t.Failed() {
				for _, o := range rep.Open {
					t.Logf("open: %+v", o)
				}
				for _, in := range r.drill.sim.Instances() {
					t.Logf("instance %+v", in)
				}
			}
			t.Logf("seed %d: verdict %s, %d open, %d steps; the account: %d of the attacker's keys Active, %d of its %d instances run",
				tc.seed, db.Verdict.Word, len(db.Open), len(db.Steps), active, len(slices.DeleteFunc(slices.Clone(attackerInstances),
					func(id string) bool { return running[id] == "" })), len(attackerInstances))
		})
	}
}

// account is what the drill account holds, read back through the SDK as
// the responder, an outside client.
type account struct {
	status            map[string]string // every IAM access key: Active or Inactive
	running           map[string]string // pending or running instances: their Region
	attackerInstances []string          // the attacker's instances, by the drill's truth
	spot              map[string]string // instance → its spot request, by the drill's truth
	err               error
}

// readAccount reads the drill account back through the SDK.
func readAccount(d *drillAccount) (a account) {
	ctx := context.Background()
	resp := d.sim.Responder()
	cfg := func(region string) aws.Config {
		return aws.Config{Region: region, BaseEndpoint: aws.String(d.endpoint),
			Credentials: credentials.NewStaticCredentialsProvider(resp.AccessKeyID, resp.SecretAccessKey, "")}
	}
	a.status, a.running, a.spot = map[string]string{}, map[string]string{}, map[string]string{}
	client := iam.NewFromConfig(cfg("us-east-1"))
	users := iam.NewListUsersPaginator(client, &iam.ListUsersInput{})
	for users.HasMorePages() {
		page, err := users.NextPage(ctx)
		if err != nil {
			a.err = err
			return a
		}
		for _, u := range page.Users {
			keys := iam.NewListAccessKeysPaginator(client, &iam.ListAccessKeysInput{UserName: u.UserName})
			for keys.HasMorePages() {
				kp, err := keys.NextPage(ctx)
				if err != nil {
					a.err = err
					return a
				}
				for _, k := range kp.AccessKeyMetadata {
					a.status[aws.ToString(k.AccessKeyId)] = string(k.Status)
				}
			}
		}
	}
	// Which instances are the attacker's is the drill's truth: launched by
	// a principal the attacker acted as. Their state is read through EC2.
	attackerARNs := map[string]bool{}
	for _, c := range d.sc.Attacker().CallsSince(time.Time{}) {
		if c.PrincipalARN != "" {
			attackerARNs[c.PrincipalARN] = true
		}
	}
	regions := map[string]bool{}
	for _, in := range d.sim.Instances() {
		regions[in.Region] = true
		if attackerARNs[in.Requester] {
			a.attackerInstances = append(a.attackerInstances, in.ID)
			if in.SpotRequestID != "" {
				a.spot[in.ID] = in.SpotRequestID
			}
		}
	}
	for region := range regions {
		pages := ec2.NewDescribeInstancesPaginator(ec2.NewFromConfig(cfg(region)), &ec2.DescribeInstancesInput{})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				a.err = fmt.Errorf("%s: %w", region, err)
				return a
			}
			for _, res := range page.Reservations {
				for _, in := range res.Instances {
					if st := string(in.State.Name); st == "pending" || st == "running" {
						a.running[aws.ToString(in.InstanceId)] = region
					}
				}
			}
		}
	}
	return a
}
