package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/charmbracelet/x/ansi"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// cfg is an SDK configuration for c at the drill's endpoint: an outside
// client.
func (r *drillRun) cfg(c sim.Credentials, region string) aws.Config {
	return aws.Config{Region: region, BaseEndpoint: aws.String(r.drill.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
}

// TestDrillOrgConsoleContain plays warroom drill --org-accounts 5 and
// contains from the console with the keys a responder presses. C on the
// leaked key (the playbook) plans steps in the leaked member account and
// in the pivot account, the confirmation naming each step's account and
// role; run, every action is journaled in its account, the verdict read
// back across accounts reaches the status line, and it says contained
// only if the leaked key is Inactive in its account, read through the
// SDK, and names no account out of reach. Then the
// organisation-level step: C on the pivot account's row previews the deny
// SCP and wants the account id typed; run, an intruder's call in that
// account fails with the SCP's message; C again plans the undo, and the
// call works again. C on the management account's row is refused.
func TestDrillOrgConsoleContain(t *testing.T) {
	if testing.Short() {
		t.Skip("plays an organisation drill")
	}
	r := startDrillRun(t, func(a *drillArgs) {
		a.orgAccounts = 5
		a.term.Width, a.term.Height = 200, 120 // the plan's steps on one screen
		// The verdict of the first round: what this test checks is that
		// it is read back in every account (TestOrgIncidentEndToEnd runs
		// the rounds to the end). Under -race on two loaded cores the
		// rounds up to the drill's 90 s took longer than the wait below.
		a.containWait = time.Millisecond
	})
	leaked := r.drill.sc.LeakedKey()
	leakedAcct, pivotAcct := r.drill.osc.LeakedAccount(), r.drill.osc.PivotAccount()
	mgmt := r.drill.org.Management().AccountID()
	r.waitFor("the attacker's pivot", r.drill.osc.PivotEstablished)
	r.waitFor("the leaked key's events in the journal", func() bool { return keyEvents(r.store(), leaked) > 0 })
	mark := len(r.screen.String())
	r.press("/key:" + leaked + "\r")
	r.screenShows(mark, "/-ours key:"+leaked)
	for i := 0; r.store().Suspects[leaked].V.AccessKeyID == ""; i++ {
		if i == 20 {
			t.Fatalf("no suspect mark for %s; stderr %s", leaked, r.errb.String())
		}
		r.press("s")
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) && r.store().Suspects[leaked].V.AccessKeyID == "" {
			time.Sleep(50 * time.Millisecond)
		}
	}

	// C: the playbook, planned across accounts.
	mark = len(r.screen.String())
	r.press("C")
	r.screenShows(mark, "Run plan")
	for _, want := range []string{"in account " + leakedAcct + " through", "in account " + pivotAcct + " through"} {
		for i := 0; !strings.Contains(ansi.Strip(r.screen.String()[mark:]), want); i++ {
			if i == 100 {
				t.Fatalf("the confirmation does not name %q (leaked %s, pivot %s):\n%s", want, leakedAcct, pivotAcct, tail(ansi.Strip(r.screen.String()[mark:]), 4000))
			}
			r.press("\x1b[6~") // pgdown: the rest of the plan
			time.Sleep(100 * time.Millisecond)
		}
	}
	if strings.Contains(ansi.Strip(r.screen.String()[mark:]), "to confirm:") {
		r.press(leaked + "\r") // irreversible steps: the key id typed
	} else {
		r.press("\t\r")
	}

	// Every action of the playbook in its account, through its role; the
	// verdict, read back across accounts.
	var v state.Verdict
	in := map[string]int{}
	for deadline := time.Now().Add(6 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		s := r.store()
		clear(in)
		for _, a := range s.Actions {
			in[a.Intent.Account]++
		}
		for _, d := range s.Verdicts {
			if d.V.Key == leaked && d.V.PlaybookID != "" {
				v = d.V
			}
		}
		if in[leakedAcct] > 0 && in[pivotAcct] > 0 && v.PlaybookID != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("actions by account %v, verdicts %d (none closing the playbook); stderr %s", in, len(s.Verdicts), r.errb.String())
		}
	}
	for _, a := range r.store().Actions {
		if acct := a.Intent.Account; acct != "" && a.Intent.Role != "arn:aws:iam::"+acct+":role/OrganizationAccountAccessRole" {
			t.Errorf("%s in %s through %q", a.Intent.Action, acct, a.Intent.Role)
		}
	}
	word := map[string]string{"contained": "✓ contained", "unsure": "? unsure", "not contained": "✗ not contained"}[v.Word()]
	r.screenShows(mark, word)
	t.Logf("verdict %s: open %v unsure %v", v.Word(), v.Open, v.Unsure)
	for _, f := range append(v.Open, v.Unsure...) {
		if f.Kind == "account" {
			t.Errorf("an account was out of reach: %+v", f)
		}
	}
	// One round that acted is never "contained": that needs a round with
	// nothing to do.
	if v.Contained {
		t.Errorf("contained after the first round, which acted: %+v", v)
	}
	// The verdict is what the account says: contained only if the leaked
	// key is Inactive there, read through the SDK as the account's own
	// responder. (At speed 100 the drill's attacker, through the outside
	// account it let into a role's trust, can undo steps between rounds:
	// then the verdict is "not contained", naming what is open.)
	ia := iam.NewFromConfig(r.cfg(r.drill.org.Account(leakedAcct).Responder(), "us-east-1"))
	keys, err := ia.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(r.drill.sc.LeakedUser())})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == leaked && k.Status != iamtypes.StatusTypeInactive && v.Contained {
			t.Errorf("verdict contained, yet in account %s the leaked key is %s", leakedAcct, k.Status)
		}
	}

	// The organisation-level step on the pivot account's row.
	pivot := r.drill.org.Account(pivotAcct)
	if err := pivot.AddUser("intruder"); err != nil {
		t.Fatal(err)
	}
	intruder, err := pivot.AddKey("intruder")
	if err != nil {
		t.Fatal(err)
	}
	call := func() error {
		_, err := ec2.NewFromConfig(r.cfg(intruder, "us-east-1")).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{})
		return err
	}
	if err := call(); err != nil {
		t.Fatalf("the intruder's call before the SCP: %v", err)
	}
	mark = len(r.screen.String())
	r.press("2/kind:acct account:" + mgmt + "\r")
	time.Sleep(time.Second) // the filter applied: the account's row alone
	r.press("C")
	r.screenShows(mark, "management account: service control policies do not apply to it")

	mark = len(r.screen.String())
	r.press("x/kind:acct account:" + pivotAcct + "\r") // x: the management account's filter cleared
	time.Sleep(time.Second)
	r.press("C")
	r.screenShows(mark, "Attach a deny-all service control policy to account "+pivotAcct)
	for _, want := range []string{"impact: every principal of account " + pivotAcct, "organizations:CreatePolicy", `"Effect": "Deny"`,
		"organizations:AttachPolicy", "type " + pivotAcct + " to confirm:"} {
		r.screenShows(mark, want)
	}
	r.press(pivotAcct + "\r")
	scpDone := func(action string) func() bool {
		return func() bool {
			for _, a := range r.store().Actions {
				if a.Intent.Action == action && a.Intent.Target == "account/"+pivotAcct && len(a.Verifies) > 0 {
					return a.Verifies[len(a.Verifies)-1].Holds
				}
			}
			return false
		}
	}
	r.waitFor("account-scp verified", scpDone("account-scp"))
	if err := call(); err == nil || !strings.Contains(err.Error(), "service control policy") {
		t.Errorf("the intruder's call with the SCP attached: %v", err)
	}

	// C again: the undo, read from Organizations.
	mark = len(r.screen.String())
	r.press("C")
	r.screenShows(mark, "Detach and delete warroom's deny SCP")
	r.screenShows(mark, "organizations:DetachPolicy")
	r.press("\t\r")
	r.waitFor("remove-account-scp verified", scpDone("remove-account-scp"))
	if err := call(); err != nil {
		t.Errorf("the intruder's call after the undo: %v", err)
	}
	if err := r.quit(); err != nil {
		t.Fatal(err)
	}
}

// tail is the last n bytes of s, for a failure's message.
func tail(s string, n int) string { return s[max(len(s)-n, 0):] }
