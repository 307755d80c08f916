package contain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

func TestSelfLockout(t *testing.T) {
	ctx := context.Background()
	d := newDrill(t)
	me := d.sim.Responder()
	// A console running on an assumed role.
	ar := must(sts.NewFromConfig(d.cfg(me, "us-east-1")).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/IncidentResponse", d.sim.AccountID())), RoleSessionName: aws.String("warroom")}))(t)
	roleCreds := sim.Credentials{AccessKeyID: aws.ToString(ar.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(ar.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(ar.Credentials.SessionToken)}
	tests := []struct {
		name   string
		creds  sim.Credentials
		action Action
	}{
		{"own key", me, &SetKeyStatus{Key: me.AccessKeyID}},
		{"own user quarantined", me, &Quarantine{Kind: KindUser, Principal: "incident-responder"}},
		{"own user revoked", me, &RevokeSessions{Kind: KindUser, Principal: "incident-responder"}},
		{"own user torn down", me, &TeardownUser{User: "incident-responder"}},
		{"own role quarantined", roleCreds, &Quarantine{Kind: KindRole, Principal: "IncidentResponse"}},
		{"own role revoked", roleCreds, &RevokeSessions{Kind: KindRole, Principal: "IncidentResponse"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d.connect(t, tt.creds, false)
			before := len(mutating(d.sim.Calls(), tt.creds.AccessKeyID))
			o, err := d.runner.Run(ctx, tt.action, RunOptions{})
			if !errors.Is(err, ErrSelf) {
				t.Fatalf("err = %v, want ErrSelf", err)
			}
			if o == nil || o.Plan == nil || !o.Plan.Self {
				t.Error("the refused plan is not marked Self")
			}
			if after := len(mutating(d.sim.Calls(), tt.creds.AccessKeyID)); after != before {
				t.Errorf("%d mutating calls were sent", after-before)
			}
			for _, a := range d.store(t).Actions {
				if a.Intent.Target == tt.action.Target().String() {
					t.Errorf("an intent was journaled for a refused action: %+v", a.Intent)
				}
			}
		})
	}
	t.Run("override", func(t *testing.T) {
		d.connect(t, me, false)
		// Revoking sessions of its own user leaves the console's long-term key working.
		o, err := d.runner.Run(ctx, &RevokeSessions{Kind: KindUser, Principal: "incident-responder"}, RunOptions{OverrideSelf: true})
		if err != nil || !o.Verify.Holds {
			t.Fatalf("with override: %v %+v", err, o)
		}
		if !d.works(me) {
			t.Error("the console's key stopped working")
		}
	})
}

func TestTwoResponders(t *testing.T) {
	ctx := context.Background()
	d := newDrill(t)
	in := compromise(t, d)
	// The second responder is another process writing the same journal.
	other := state.LocalActor()
	other.PID, other.User = other.PID+100000, "bob"
	rec2, err := state.OpenRecorder(d.path, state.IncidentOpened{}, other)
	if err != nil {
		t.Fatal(err)
	}
	defer rec2.Close()
	bob := &Runner{Env: d.env, Journal: rec2, Path: d.path, Actor: other}

	var busy *BusyError
	var bobOutcome *Outcome
	d.runner.afterIntent = func(string) {
		// Bob acts while Alice's intent has no result yet.
		_, err := bob.Run(ctx, &SetKeyStatus{Key: in.leaked.AccessKeyID}, RunOptions{})
		if !errors.As(err, &busy) {
			t.Errorf("bob: err = %v, want a BusyError", err)
			return
		}
		bobOutcome, err = bob.Run(ctx, &SetKeyStatus{Key: in.leaked.AccessKeyID}, RunOptions{Proceed: true})
		if err != nil {
			t.Errorf("bob with Proceed: %v", err)
		}
	}
	alice, err := d.runner.Run(ctx, &SetKeyStatus{Key: in.leaked.AccessKeyID}, RunOptions{})
	d.runner.afterIntent = nil
	if err != nil {
		t.Fatal(err)
	}
	if busy == nil || busy.ActionID != alice.ActionID || !strings.Contains(busy.Error(), in.leaked.AccessKeyID) {
		t.Errorf("busy error %+v does not name alice's action %s on the key", busy, alice.ActionID)
	}
	if bobOutcome == nil || !bobOutcome.Verify.Holds || !alice.Verify.Holds {
		t.Fatalf("bob %+v, alice %+v", bobOutcome, alice)
	}
	// Both see each other's facts in one chained journal.
	s := d.store(t)
	if s.Action(alice.ActionID) == nil || s.Action(bobOutcome.ActionID) == nil {
		t.Fatal("the journal lacks one responder's action")
	}
	if by := s.Action(bobOutcome.ActionID).By.User; by != "bob" {
		t.Errorf("bob's intent recorded by %q", by)
	}
	// A different target is not busy.
	d.runner.afterIntent = func(string) {
		if _, err := bob.Run(ctx, &Quarantine{Kind: KindUser, Principal: in.backdoor}, RunOptions{}); err != nil {
			t.Errorf("different target: %v", err)
		}
	}
	if _, err := d.runner.Run(ctx, &SetKeyStatus{Key: in.ownKey.AccessKeyID}, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	d.runner.afterIntent = nil
}

func TestReadOnlySendsNothing(t *testing.T) {
	ctx := context.Background()
	d := newDrill(t)
	in := compromise(t, d)
	d.connect(t, d.sim.Responder(), true)
	if d.env.Mut != nil {
		t.Fatal("a read-only session built mutating clients")
	}
	from := len(d.sim.Calls())
	actions := []Action{
		&SetKeyStatus{Key: in.leaked.AccessKeyID}, &SetKeyStatus{Key: in.leaked.AccessKeyID, Active: true},
		&RevokeSessions{Kind: KindUser, Principal: in.leakedUser}, &RevokeSessions{Kind: KindRole, Principal: in.role},
		&Quarantine{Kind: KindUser, Principal: in.backdoor}, NewUnquarantine(KindUser, in.backdoor),
		&DeleteLoginProfile{User: in.backdoor}, &RemoveMFA{User: in.backdoor}, &RotateKey{Key: in.leaked.AccessKeyID},
		&TeardownUser{User: in.backdoor}, &StopInstances{Region: in.region, IDs: in.instances},
		&StopInstances{Region: in.region, IDs: in.instances, Terminate: true}, &CancelSpot{Region: in.spotRegion, IDs: in.spot},
		&DeleteKeyPair{Region: in.region, KeyName: "kali"}, &DeleteFunction{Region: in.region, Function: in.function},
		&Tag{Region: in.region, IDs: in.instances},
	}
	for _, a := range actions {
		t.Run(a.Name(), func(t *testing.T) {
			if _, err := a.Plan(ctx, d.env); err != nil && !errors.Is(err, ErrUnsupported) {
				t.Logf("plan: %v", err) // a plan may fail; it must not send anything
			}
			if _, err := d.runner.Run(ctx, a, RunOptions{OverrideSelf: true, Proceed: true}); !errors.Is(err, ErrReadOnly) {
				t.Errorf("run: err = %v, want ErrReadOnly", err)
			}
		})
	}
	pb, err := PlanCredential(ctx, d.env, d.store(t), state.NewRawReader(d.path).Raw, in.leaked.AccessKeyID, CredentialOptions{Terminate: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, so := range d.runner.RunPlaybook(ctx, pb, RunOptions{}, nil) {
		if !errors.Is(so.Err, ErrReadOnly) {
			t.Errorf("playbook step %s: err = %v, want ErrReadOnly", so.Step.Action.Name(), so.Err)
		}
	}
	calls := d.sim.Calls()[from:]
	if len(calls) == 0 {
		t.Fatal("nothing was read: the test proves nothing")
	}
	if m := mutating(calls, d.sim.Responder().AccessKeyID); len(m) > 0 {
		t.Errorf("the sim received %d mutating calls, first %s", len(m), m[0].Operation)
	}
	if len(d.store(t).Actions) != 0 {
		t.Error("a read-only run journaled an action")
	}
}

func TestNoSecretInJournalOrLog(t *testing.T) {
	ctx := context.Background()
	d := newDrill(t)
	in := compromise(t, d)
	if err := d.sim.AddUser("alice"); err != nil {
		t.Fatal(err)
	}
	alice := must(d.sim.AddKey("alice"))(t)
	o, err := d.runner.Run(ctx, &RotateKey{Key: alice.AccessKeyID}, RunOptions{})
	if err != nil || o.NewKey == nil {
		t.Fatalf("rotate: %v", err)
	}
	pb, err := PlanCredential(ctx, d.env, d.store(t), state.NewRawReader(d.path).Raw, in.leaked.AccessKeyID, CredentialOptions{Terminate: true})
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	for _, so := range d.runner.RunPlaybook(ctx, pb, RunOptions{}, nil) {
		fmt.Fprintf(&progress, "%+v %+v %v\n", so.Outcome, so.Step.Plan, so.Err)
	}
	fmt.Fprintf(&progress, "%v %#v %+v\n", o.NewKey, o.NewKey, *o.NewKey)
	journal, err := os.ReadFile(d.path)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"rotated key secret":    o.NewKey.SecretAccessKey,
		"responder secret":      d.sim.Responder().SecretAccessKey,
		"leaked secret":         in.leaked.SecretAccessKey,
		"backdoor secret":       in.backdoorKey.SecretAccessKey,
		"session token":         in.session.SessionToken,
		"session secret":        in.session.SecretAccessKey,
		"federation token":      in.federation.SessionToken,
		"role session token":    in.roleCreds.SessionToken,
		"backdoor password":     in.password,
		"alice's old secret":    alice.SecretAccessKey,
		"federation secret key": in.federation.SecretAccessKey,
	}
	for what, s := range secrets {
		if s == "" {
			t.Fatalf("%s is empty: the test proves nothing", what)
		}
		for where, b := range map[string][]byte{"journal": journal, "log": d.log.Bytes(), "printed outcomes": progress.Bytes()} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("the %s holds the %s", where, what)
			}
		}
	}
	if !bytes.Contains(journal, []byte(o.NewKey.AccessKeyID)) {
		t.Error("the rotated key's id is not journaled: the scan may be looking at the wrong file")
	}
}

// lateAction's state reads back as holding only on the third read, as an
// eventually consistent IAM may answer.
type lateAction struct{ reads int }

func (a *lateAction) Name() string   { return "late" }
func (a *lateAction) Target() Target { return Target{Kind: KindUser, ID: "late"} }
func (a *lateAction) Plan(context.Context, *Env) (*Plan, error) {
	return &Plan{Action: "late", Target: a.Target(), Already: true}, nil
}
func (a *lateAction) Verify(context.Context, *Env) (Verification, error) {
	a.reads++
	return Verification{Holds: a.reads >= 3, Detail: fmt.Sprintf("read %d", a.reads)}, nil
}

func TestVerifyWaitsForEventualConsistency(t *testing.T) {
	d := newDrill(t)
	tests := []struct {
		name  string
		wait  time.Duration
		holds bool
		reads int
	}{
		{"read once", 0, false, 1},
		{"retried", 10 * time.Second, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d.runner.VerifyWait = tt.wait
			a := &lateAction{}
			o, err := d.runner.Run(context.Background(), a, RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if o.Verify.Holds != tt.holds || a.reads != tt.reads {
				t.Errorf("holds=%v after %d reads, want %v after %d", o.Verify.Holds, a.reads, tt.holds, tt.reads)
			}
		})
	}
}
