package contain

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// footholdCrashEnv carries a footholdCrashSpec to TestFootholdCrashChild.
const footholdCrashEnv = "WARROOM_CONTAIN_FOOTHOLD_CRASH_SPEC"

// footholdCrashSpec is one action for the child to run as the command
// line would build it (ParseArg, New), and where to die: right after the
// intent ("intent") or after the calls, before the result ("calls").
type footholdCrashSpec struct {
	Endpoint, Key, Secret, Journal string
	Action, Arg, Region            string
	Options                        Options
	Mode                           string
}

// TestFootholdCrashChild is the child process of TestFootholdIntentRoundTrip.
func TestFootholdCrashChild(t *testing.T) {
	raw := os.Getenv(footholdCrashEnv)
	if raw == "" {
		t.Skip("run by TestFootholdIntentRoundTrip in a child process")
	}
	var c footholdCrashSpec
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
	tg, err := ParseArg(c.Action, c.Arg, c.Region)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(c.Action, tg, c.Options)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Env: NewEnv(sess, id, "wr-test-incident"), Journal: rec, Path: c.Journal, Actor: state.LocalActor()}
	die := func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL); select {} }
	r.afterIntent = func(string) {
		if c.Mode == "intent" {
			die()
		}
	}
	r.afterCalls = func(string) {
		if c.Mode == "calls" {
			die()
		}
	}
	o, err := r.Run(ctx, a, RunOptions{})
	t.Fatalf("the action ended without dying: %+v %v", o, err)
}

// footholdCase is one foothold an attacker plants, and the action that
// takes it away, as the command line names it.
type footholdCase struct {
	name   string
	action string
	arg    string
	region string
	opts   func(f *plantedAll) Options
	// open reads the account back: whether the foothold is there.
	open func(t *testing.T, d *drill, f *plantedAll) bool
	// priorUndo: the undo needs what the result kept (a document, a
	// statement), so an action rebuilt from its intent alone has none.
	priorUndo bool
}

// plantedAll is what plantAll left.
type plantedAll struct {
	goodTrust string
	sg        string
}

const (
	crashBackdoor = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}`
	fnRegion      = "ap-northeast-3"
	sgRegion      = "eu-central-1"
)

// plantAll plants every foothold the new actions take away, as an outside
// attacker with a leaked administrator key, through the SDK.
func plantAll(t *testing.T, d *drill) *plantedAll {
	t.Helper()
	ctx := context.Background()
	s := d.sim
	for _, u := range []string{"carol", "eve"} {
		if err := s.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddGroup("admins"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"deploy", "lambda-exec"} {
		if err := s.AddRole(r, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	resp := d.sim.Responder()
	f := &plantedAll{}
	good := aws.ToString(must(iam.NewFromConfig(d.cfg(resp, "us-east-1")).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deploy")}))(t).Role.AssumeRolePolicyDocument)
	if dec, err := url.QueryUnescape(good); err == nil && !strings.HasPrefix(good, "{") {
		good = dec
	}
	f.goodTrust = good
	f.sg = aws.ToString(must(ec2.NewFromConfig(d.cfg(resp, sgRegion)).CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String("web"), Description: aws.String("web")}))(t).GroupId)

	leaked := adminKey(t, d, "leaky")
	im := iam.NewFromConfig(d.cfg(leaked, "us-east-1"))
	must(im.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deploy"), PolicyDocument: aws.String(crashBackdoor)}))(t)
	must(im.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String(adminARN)}))(t)
	must(im.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("carol")}))(t)
	must(im.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("eve"), PolicyName: aws.String("ops"), PolicyDocument: aws.String(allowAll)}))(t)
	must(ec2.NewFromConfig(d.cfg(leaked, sgRegion)).AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(f.sg),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}))(t)
	ct := cloudtrail.NewFromConfig(d.cfg(leaked, "us-east-1"))
	must(ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("management-events")}))(t)
	must(ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("management-events"),
		EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(true)}}}))(t)
	lm := lambda.NewFromConfig(d.cfg(leaked, fnRegion))
	must(lm.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("fwd"), Runtime: lambdatypes.RuntimePython312,
		Role: aws.String("arn:aws:iam::" + d.sim.AccountID() + ":role/lambda-exec"), Handler: aws.String("index.handler"),
		Code: &lambdatypes.FunctionCode{ZipFile: []byte("PK\x03\x04")}}))(t)
	must(lm.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("fwd"), StatementId: aws.String("public"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"), SourceArn: aws.String("arn:aws:s3:::drop")}))(t)
	d.clock.Advance(time.Minute)
	return f
}

func footholdCases() []footholdCase {
	iamc := func(d *drill) *iam.Client { return iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1")) }
	ctc := func(d *drill) *cloudtrail.Client {
		return cloudtrail.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1"))
	}
	none := func(*plantedAll) Options { return Options{} }
	return []footholdCase{
		{name: "restore-trust", action: "restore-trust", arg: "role/deploy", priorUndo: true,
			opts: func(f *plantedAll) Options { return Options{Document: f.goodTrust} },
			open: func(t *testing.T, d *drill, f *plantedAll) bool {
				doc := aws.ToString(must(iamc(d).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("deploy")}))(t).Role.AssumeRolePolicyDocument)
				return !sameDoc(doc, f.goodTrust)
			}},
		{name: "detach-policy managed", action: "detach-policy", arg: "group/admins",
			opts: func(*plantedAll) Options { return Options{PolicyARN: adminARN} },
			open: func(t *testing.T, d *drill, f *plantedAll) bool {
				out := must(iamc(d).ListAttachedGroupPolicies(context.Background(), &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("admins")}))(t)
				return slices.ContainsFunc(out.AttachedPolicies, func(p iamtypes.AttachedPolicy) bool { return aws.ToString(p.PolicyArn) == adminARN })
			}},
		{name: "detach-policy inline", action: "detach-policy", arg: "user/eve", priorUndo: true,
			opts: func(*plantedAll) Options { return Options{Inline: "ops"} },
			open: func(t *testing.T, d *drill, f *plantedAll) bool {
				out := must(iamc(d).ListUserPolicies(context.Background(), &iam.ListUserPoliciesInput{UserName: aws.String("eve")}))(t)
				return slices.Contains(out.PolicyNames, "ops")
			}},
		{name: "remove-from-group", action: "remove-from-group", arg: "user/carol",
			opts: func(*plantedAll) Options { return Options{Group: "admins"} },
			open: func(t *testing.T, d *drill, f *plantedAll) bool {
				out := must(iamc(d).ListGroupsForUser(context.Background(), &iam.ListGroupsForUserInput{UserName: aws.String("carol")}))(t)
				return len(out.Groups) > 0
			}},
		{name: "revoke-ingress", action: "revoke-ingress", region: sgRegion,
			opts: func(*plantedAll) Options {
				return Options{Rules: []IngressRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "0.0.0.0/0"}}}
			},
			open: func(t *testing.T, d *drill, f *plantedAll) bool {
				out := must(ec2.NewFromConfig(d.cfg(d.sim.Responder(), sgRegion)).DescribeSecurityGroups(context.Background(),
					&ec2.DescribeSecurityGroupsInput{GroupIds: []string{f.sg}}))(t)
				return len(ingressOf(out.SecurityGroups[0])) > 0
			}},
		{name: "start-logging", action: "start-logging", arg: "trail/management-events", region: "us-east-1", opts: none,
			open: func(t *testing.T, d *drill, f *plantedAll) bool {
				return !aws.ToBool(must(ctc(d).GetTrailStatus(context.Background(), &cloudtrail.GetTrailStatusInput{Name: aws.String("management-events")}))(t).IsLogging)
			}},
		{name: "restore-event-selectors", action: "restore-event-selectors", arg: "trail/management-events", region: "us-east-1", opts: none, priorUndo: true,
			open: func(t *testing.T, d *drill, f *plantedAll) bool {
				out := must(ctc(d).GetEventSelectors(context.Background(), &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("management-events")}))(t)
				return out.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeAll
			}},
		{name: "remove-function-permission", action: "remove-function-permission", arg: "function/fwd", region: fnRegion, priorUndo: true,
			opts: func(*plantedAll) Options { return Options{StatementID: "public"} },
			open: func(t *testing.T, d *drill, f *plantedAll) bool {
				out, err := lambda.NewFromConfig(d.cfg(d.sim.Responder(), fnRegion)).GetPolicy(context.Background(), &lambda.GetPolicyInput{FunctionName: aws.String("fwd")})
				if err != nil {
					return false
				}
				return strings.Contains(aws.ToString(out.Policy), `"public"`)
			}},
	}
}

// TestFootholdIntentRoundTrip: each new action survives the round trip
// through its journaled intent. A process running it is killed between
// the intent and the result (right after the intent, and after the
// calls); the next start finds the intent without a result, rebuilds the
// action from it (FromIntent), verifies it against the account — not
// holding when the calls were never made, holding when they were — and
// journals that. Undo works on the rebuilt action: from the intent alone
// where the undo needs nothing more, and, where it needs what the action
// replaced, from the result's Prior (FromAction).
func TestFootholdIntentRoundTrip(t *testing.T) {
	if os.Getenv(footholdCrashEnv) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("re-executes the test binary twice per action")
	}
	ctx := context.Background()
	for _, fc := range footholdCases() {
		for _, mode := range []string{"intent", "calls"} {
			t.Run(fc.name+" "+mode, func(t *testing.T) {
				d := newDrill(t)
				f := plantAll(t, d)
				if !fc.open(t, d, f) {
					t.Fatal("the foothold is not open after planting")
				}
				arg := fc.arg
				if fc.action == "revoke-ingress" {
					arg = f.sg
				}
				me := d.sim.Responder()
				spec, _ := json.Marshal(footholdCrashSpec{Endpoint: d.endpoint, Key: me.AccessKeyID, Secret: me.SecretAccessKey, Journal: d.path,
					Action: fc.action, Arg: arg, Region: fc.region, Options: fc.opts(f), Mode: mode})
				cmd := exec.Command(os.Args[0], "-test.run=^TestFootholdCrashChild$", "-test.count=1")
				cmd.Env = append(os.Environ(), footholdCrashEnv+"="+string(spec))
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
					t.Fatalf("child was not killed: %v\n%s", err, out)
				}
				un := d.store(t).Unfinished()
				if len(un) != 1 || un[0].Outcome() != state.OutcomeUnknown || un[0].Intent.Action != fc.action {
					t.Fatalf("after the crash: %d unfinished actions, want 1 %s with outcome unknown", len(un), fc.action)
				}
				if got := fc.open(t, d, f); got != (mode == "intent") {
					t.Fatalf("after a crash after the %s, the foothold is open=%v", mode, got)
				}
				res, err := d.runner.Resume(ctx, false)
				if err != nil || len(res) != 1 || res[0].Err != nil {
					t.Fatalf("resume: %v %+v", err, res)
				}
				if want := mode == "calls"; res[0].Verify.Holds != want {
					t.Errorf("verified holds=%v, want %v (%s)", res[0].Verify.Holds, want, res[0].Verify.Detail)
				}
				if o := d.store(t).Action(un[0].Intent.ActionID).Outcome(); o == state.OutcomeUnknown {
					t.Errorf("after resume the outcome is still %q", o)
				}
				if mode != "calls" {
					return
				}
				rebuilt, err := FromIntent(un[0].Intent)
				if err != nil {
					t.Fatal(err)
				}
				ua, why := Undo(rebuilt)
				if fc.priorUndo {
					// What it replaced is only in a result, and there is none.
					if ua != nil {
						t.Errorf("an undo without the prior state: %T", ua)
					}
					return
				}
				if ua == nil {
					t.Fatalf("the rebuilt action cannot be undone: %s", why)
				}
				runHolds(t, d, ua)
				if !fc.open(t, d, f) {
					t.Error("the undo of the rebuilt action did not put the foothold back")
				}
			})
		}
		t.Run(fc.name+" undo from the result", func(t *testing.T) {
			d := newDrill(t)
			f := plantAll(t, d)
			arg := fc.arg
			if fc.action == "revoke-ingress" {
				arg = f.sg
			}
			tg := must(ParseArg(fc.action, arg, fc.region))(t)
			o := runHolds(t, d, must(New(fc.action, tg, fc.opts(f)))(t))
			if fc.open(t, d, f) {
				t.Fatal("the foothold is open after the action")
			}
			l := must(ReadLedger(d.path))(t)
			rebuilt, err := FromAction(l.Action(o.ActionID))
			if err != nil {
				t.Fatal(err)
			}
			if v := must(rebuilt.Verify(ctx, d.env))(t); !v.Holds {
				t.Errorf("the rebuilt action does not verify: %s", v.Detail)
			}
			ua, why := Undo(rebuilt)
			if ua == nil {
				t.Fatalf("cannot be undone after the rebuild: %s", why)
			}
			runHolds(t, d, ua)
			if !fc.open(t, d, f) {
				t.Error("the undo did not put the foothold back")
			}
		})
	}
}
