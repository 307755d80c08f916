package contain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// crashEnv carries a crashSpec to the child process of TestCrashRecovery.
const crashEnv = "WARROOM_CONTAIN_CRASH_SPEC"

// crashSpec tells the child where the drill and journal are, and at which
// step of the playbook to kill itself: right after the intent ("intent")
// or after the calls, before the result ("calls").
type crashSpec struct {
	Endpoint string
	Key      string
	Secret   string
	Journal  string
	Leaked   string
	Step     int
	Mode     string
}

// TestCrashChild is the child process: it runs the credential playbook and
// SIGKILLs itself between an intent and its result.
func TestCrashChild(t *testing.T) {
	raw := os.Getenv(crashEnv)
	if raw == "" {
		t.Skip("run by TestCrashRecovery in a child process")
	}
	var c crashSpec
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sess, err := session.Load(ctx, session.Options{Endpoint: c.Endpoint, MaxBackoff: 10 * time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider(c.Key, c.Secret, "")})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sess.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := state.OpenRecorder(c.Journal, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Env: NewEnv(sess, id, "wr-test-incident"), Journal: rec, Path: c.Journal, Actor: state.LocalActor()}
	die := func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }
	// Steps in different Regions run side by side: "step N" is the N-th
	// action to journal its intent (or make its calls), and others may be
	// in flight when the process dies.
	var intents, calls atomic.Int64
	r.afterIntent = func(string) {
		if c.Mode == "intent" && intents.Add(1)-1 == int64(c.Step) {
			die()
		}
	}
	r.afterCalls = func(string) {
		if c.Mode == "calls" && calls.Add(1)-1 == int64(c.Step) {
			die()
		}
	}
	s, _, err := state.Replay(c.Journal)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := PlanCredential(ctx, r.Env, s, state.NewRawReader(c.Journal).Raw, c.Leaked, CredentialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.RunPlaybook(ctx, pb, RunOptions{}, nil)
	t.Fatalf("the playbook ended (%d steps) without reaching step %d", len(pb.Steps), c.Step)
}

// TestCrashRecovery kills a process running the credential playbook
// between intent and result at every step (once right after the intent,
// once after the calls), then, as the next process to start: finds the
// intent without a result ("outcome unknown"), verifies it, and continues
// the playbook to full containment.
func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("re-executes the test binary once per step")
	}
	ctx := context.Background()
	d0 := newDrill(t)
	in0 := compromise(t, d0)
	steps := len(planCredential(t, d0, in0.leaked.AccessKeyID, CredentialOptions{}).Steps)
	for step := range steps {
		for _, mode := range []string{"intent", "calls"} {
			t.Run(fmt.Sprintf("step %d %s", step, mode), func(t *testing.T) {
				d := newDrill(t)
				in := compromise(t, d)
				me := d.sim.Responder()
				spec, _ := json.Marshal(crashSpec{Endpoint: d.endpoint, Key: me.AccessKeyID, Secret: me.SecretAccessKey, Journal: d.path,
					Leaked: in.leaked.AccessKeyID, Step: step, Mode: mode})
				cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
				cmd.Env = append(os.Environ(), crashEnv+"="+string(spec))
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
					t.Fatalf("child was not killed: %v\n%s", err, out)
				}
				s := d.store(t)
				un := s.Unfinished()
				if len(un) == 0 {
					t.Fatal("after the crash: no unfinished action")
				}
				for _, a := range un {
					if a.Outcome() != state.OutcomeUnknown {
						t.Fatalf("after the crash: %s %s is %q, want outcome unknown", a.Intent.Action, a.Intent.Target, a.Outcome())
					}
				}
				// What was verified before the crash must not run again.
				done := map[string]bool{}
				for _, a := range s.Actions {
					if a.Outcome() == state.OutcomeVerified {
						done[a.Intent.Action+" "+a.Intent.Target+" "+a.Intent.Region] = true
					}
				}
				res, err := d.runner.Resume(ctx, false)
				if err != nil || len(res) != len(un) {
					t.Fatalf("resume: %v, %d resumed of %d unfinished", err, len(res), len(un))
				}
				held := 0
				for _, r := range res {
					if r.Err != nil {
						t.Fatalf("resume %s: %v", r.Action.Intent.ActionID, r.Err)
					}
					if r.Verify.Holds {
						held++
					}
					if o := d.store(t).Action(r.Action.Intent.ActionID).Outcome(); o == state.OutcomeUnknown {
						t.Errorf("after resume the outcome of %s is still %q", r.Action.Intent.Action, o)
					}
				}
				// Killed after its calls: that action holds; killed after
				// its intent only: that one does not.
				if mode == "calls" && held == 0 || mode == "intent" && held == len(res) {
					t.Errorf("crashed after %s: %d of %d resumed actions hold", mode, held, len(res))
				}
				// The next start continues the playbook.
				for _, so := range d.runner.RunPlaybook(ctx, planCredential(t, d, in.leaked.AccessKeyID, CredentialOptions{}), RunOptions{}, nil) {
					if so.Err != nil || so.Held == "" && (!so.Outcome.Result.OK || !so.Outcome.Verify.Holds) {
						t.Errorf("continued step %s: err=%v outcome=%+v", so.Step.Action.Name(), so.Err, so.Outcome)
					}
					tg := so.Step.Action.Target()
					if done[so.Step.Action.Name()+" "+tg.String()+" "+tg.Region] && so.Held == "" && !so.Outcome.Result.Already {
						t.Errorf("step %d %s ran again with calls after it was verified before the crash", so.Index, so.Step.Action.Name())
					}
				}
				for what, c := range map[string]sim.Credentials{"leaked key": in.leaked, "second key": in.ownKey, "backdoor key": in.backdoorKey,
					"session token": in.session, "federation token": in.federation, "role session": in.roleCreds} {
					if d.works(c) {
						t.Errorf("after resuming, the attacker's %s still works", what)
					}
				}
			})
		}
	}
}
