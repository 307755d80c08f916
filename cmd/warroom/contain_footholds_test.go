package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
)

// sameJSON reports whether two JSON documents (IAM's may be URL-encoded)
// hold the same value.
func sameJSON(a, b string) bool {
	dec := func(s string) any {
		s = strings.TrimSpace(s)
		if !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") {
			if d, err := url.QueryUnescape(s); err == nil {
				s = d
			}
		}
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return nil
		}
		return v
	}
	x, y := dec(a), dec(b)
	if x == nil || y == nil {
		return false
	}
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return string(bx) == string(by)
}

// TestContainFootholdActions: an outside attacker with the leaked admin
// key plants every IAM, network, logging and function foothold through
// the SDK; each new action's --plan prints the exact call and changes
// nothing; run with --yes it takes the foothold away, which the account,
// read back through the SDK, confirms; a target that does not exist is
// exit 1 naming the call that said so.
func TestContainFootholdActions(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	ctx := context.Background()
	s := d.sim
	acct := s.AccountID()
	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, u := range []string{"carol", "eve"} {
		if err := s.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddGroup("admins"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRole("deploy", time.Hour); err != nil {
		t.Fatal(err)
	}
	resp := func(region string) aws.Config { return d.cfg(s.Responder(), region) }
	riam := iam.NewFromConfig(resp("us-east-1"))
	good := aws.ToString(must(riam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deploy")}))(t).Role.AssumeRolePolicyDocument)
	goodFile := file("trust.json", mustDecode(t, good))
	sg := aws.ToString(must(ec2.NewFromConfig(resp("eu-central-1")).CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName: aws.String("web"), Description: aws.String("web")}))(t).GroupId)

	// The attacker, with the leaked administrator key, from outside.
	const admin = "arn:aws:iam::aws:policy/AdministratorAccess"
	backdoor := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}`
	allowAll := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	atk := func(region string) aws.Config { return d.cfg(d.leaked, region) }
	aiam := iam.NewFromConfig(atk("us-east-1"))
	must(aiam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deploy"), PolicyDocument: aws.String(backdoor)}))(t)
	must(aiam.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String(admin)}))(t)
	must(aiam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("carol")}))(t)
	must(aiam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("eve"), PolicyName: aws.String("ops"), PolicyDocument: aws.String(allowAll)}))(t)
	must(ec2.NewFromConfig(atk("eu-central-1")).AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
			IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}, Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}}))(t)
	act := cloudtrail.NewFromConfig(atk("us-east-1"))
	must(act.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("management-events")}))(t)
	must(act.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("management-events"),
		EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeReadOnly, IncludeManagementEvents: aws.Bool(true)}}}))(t)
	must(lambda.NewFromConfig(atk("eu-west-1")).AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("updater"),
		StatementId: aws.String("public"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")}))(t)

	// What the account holds, read back as the responder.
	rct := cloudtrail.NewFromConfig(resp("us-east-1"))
	trust := func() string {
		return aws.ToString(must(riam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deploy")}))(t).Role.AssumeRolePolicyDocument)
	}
	groupPolicies := func() []string {
		var out []string
		for _, p := range must(riam.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("admins")}))(t).AttachedPolicies {
			out = append(out, aws.ToString(p.PolicyArn))
		}
		return out
	}
	userPolicies := func() []string {
		return must(riam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("eve")}))(t).PolicyNames
	}
	groups := func() []string {
		var out []string
		for _, g := range must(riam.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("carol")}))(t).Groups {
			out = append(out, aws.ToString(g.GroupName))
		}
		return out
	}
	sshOpen := func() int {
		out := must(ec2.NewFromConfig(resp("eu-central-1")).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sg}}))(t)
		n := 0
		for _, p := range out.SecurityGroups[0].IpPermissions {
			if aws.ToInt32(p.FromPort) == 22 {
				n += len(p.IpRanges) + len(p.Ipv6Ranges)
			}
		}
		return n
	}
	logging := func() bool {
		return aws.ToBool(must(rct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("management-events")}))(t).IsLogging)
	}
	selectors := func() cttypes.ReadWriteType {
		return must(rct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("management-events")}))(t).EventSelectors[0].ReadWriteType
	}
	policy := func() string {
		out, err := lambda.NewFromConfig(resp("eu-west-1")).GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("updater")})
		if err != nil {
			return ""
		}
		return aws.ToString(out.Policy)
	}

	base := []string{"--journal", d.journal, "--endpoint-url", d.endpoint}
	tests := []struct {
		name string
		args []string
		plan []string // in the --plan output: the exact call
		open func() bool
	}{
		{"restore-trust", []string{"restore-trust", "role/deploy", "--document", goodFile},
			[]string{"1. iam:UpdateAssumeRolePolicy", "RoleName: deploy", `"arn:aws:iam::` + acct + `:root"`, "lets in: AWS:arn:aws:iam::999988887777:root"},
			func() bool { return !sameJSON(trust(), good) }},
		{"detach-policy from a group", []string{"detach-policy", "group/admins", "--policy-arn", admin},
			[]string{"1. iam:DetachGroupPolicy", "GroupName: admins", "PolicyArn: " + admin, "every member of group admins loses"},
			func() bool { return slices.Contains(groupPolicies(), admin) }},
		{"detach-policy inline", []string{"detach-policy", "user/eve", "--inline", "ops"},
			[]string{"1. iam:DeleteUserPolicy", "UserName: eve", "PolicyName: ops", "undo: restore-policy user/eve"},
			func() bool { return slices.Contains(userPolicies(), "ops") }},
		{"remove-from-group", []string{"remove-from-group", "user/carol", "--group", "admins"},
			[]string{"1. iam:RemoveUserFromGroup", "GroupName: admins", "UserName: carol"},
			func() bool { return slices.Contains(groups(), "admins") }},
		{"revoke-ingress", []string{"revoke-ingress", sg, "--region", "eu-central-1", "--rule", "tcp:22:0.0.0.0/0", "--rule", "tcp:22:::/0"},
			[]string{"1. ec2:RevokeSecurityGroupIngress in eu-central-1", "GroupId: " + sg,
				`IpPermissions: [{"protocol":"tcp","from_port":22,"to_port":22,"cidr":"0.0.0.0/0"},{"protocol":"tcp","from_port":22,"to_port":22,"cidr":"::/0"}]`},
			func() bool { return sshOpen() > 0 }},
		{"start-logging", []string{"start-logging", "trail/management-events", "--region", "us-east-1"},
			[]string{"1. cloudtrail:StartLogging in us-east-1", "Name: arn:aws:cloudtrail:us-east-1:" + acct + ":trail/management-events"},
			func() bool { return !logging() }},
		{"restore-event-selectors, every management event by default", []string{"restore-event-selectors", "trail/management-events"},
			[]string{"1. cloudtrail:PutEventSelectors in us-east-1", `EventSelectors: [{"ReadWriteType":"All","IncludeManagementEvents":true`, `now: [{"ReadWriteType":"ReadOnly"`},
			func() bool { return selectors() != cttypes.ReadWriteTypeAll }},
		{"remove-function-permission", []string{"remove-function-permission", "function/updater", "--statement-id", "public", "--region", "eu-west-1"},
			[]string{"1. lambda:RemovePermission in eu-west-1", "FunctionName: updater", "StatementId: public"},
			func() bool { return strings.Contains(policy(), `"public"`) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.open() {
				t.Fatal("the foothold is not open before the action")
			}
			code, out, errOut := warroomIn(t, "", append(append([]string{"contain"}, tt.args...), append(base, "--plan")...)...)
			if code != 0 {
				t.Fatalf("--plan: exit %d\n%s\n%s", code, out, errOut)
			}
			for _, w := range tt.plan {
				if !strings.Contains(out, w) {
					t.Errorf("plan lacks %q:\n%s", w, out)
				}
			}
			if !tt.open() {
				t.Fatal("--plan changed the account")
			}
			code, out, errOut = warroomIn(t, "", append(append([]string{"contain"}, tt.args...), append(base, "--yes")...)...)
			if code != 0 || !strings.Contains(out, "✓ done") || !strings.Contains(out, "✓ holds:") {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			if tt.open() {
				t.Error("the account, read back, still holds the foothold")
			}
		})
	}

	t.Run("restore-policy puts the inline policy back", func(t *testing.T) {
		code, out, errOut := warroomIn(t, "", append([]string{"contain", "restore-policy", "user/eve", "--inline", "ops",
			"--document", file("ops.json", allowAll), "--yes"}, base...)...)
		if code != 0 || !strings.Contains(out, "iam:PutUserPolicy") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		doc := must(riam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("eve"), PolicyName: aws.String("ops")}))(t)
		if !sameJSON(aws.ToString(doc.PolicyDocument), allowAll) {
			t.Errorf("ops holds %s", aws.ToString(doc.PolicyDocument))
		}
	})

	t.Run("a document on standard input", func(t *testing.T) {
		must(aiam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deploy"), PolicyDocument: aws.String(backdoor)}))(t)
		code, out, errOut := warroomIn(t, mustDecode(t, good), append([]string{"contain", "restore-trust", "role/deploy", "--document", "-", "--yes"}, base...)...)
		if code != 0 || !sameJSON(trust(), good) {
			t.Fatalf("exit %d, trust %s\n%s\n%s", code, trust(), out, errOut)
		}
	})

	fails := []struct {
		name string
		args []string
		want []string
	}{
		{"missing role", []string{"restore-trust", "role/nosuch", "--document", goodFile}, []string{"iam:GetRole", "NoSuchEntity"}},
		{"missing group", []string{"detach-policy", "group/nosuch", "--policy-arn", admin}, []string{"iam:ListGroupPolicies", "NoSuchEntity"}},
		{"missing user", []string{"remove-from-group", "user/nosuch", "--group", "admins"}, []string{"iam:ListGroupsForUser", "NoSuchEntity"}},
		{"missing group of a membership", []string{"remove-from-group", "user/carol", "--group", "nosuch"}, []string{"iam:GetGroup", "NoSuchEntity"}},
		{"missing security group", []string{"revoke-ingress", "sg-0123456789abcdef0", "--region", "eu-central-1", "--rule", "tcp:22:0.0.0.0/0"},
			[]string{"ec2:DescribeSecurityGroups", "eu-central-1", "sg-0123456789abcdef0"}},
		{"security group in another Region", []string{"revoke-ingress", sg, "--region", "us-west-2", "--rule", "tcp:22:0.0.0.0/0"},
			[]string{"ec2:DescribeSecurityGroups", "us-west-2"}},
		{"missing trail", []string{"start-logging", "trail/nope", "--region", "us-east-1"}, []string{"cloudtrail:DescribeTrails", "us-east-1", `"nope"`}},
		{"missing trail's selectors", []string{"restore-event-selectors", "trail/nope"}, []string{"cloudtrail:DescribeTrails", "us-east-1"}},
		{"missing function", []string{"remove-function-permission", "function/nope", "--statement-id", "public", "--region", "eu-west-1"},
			[]string{"lambda:GetFunction", "eu-west-1", "nope"}},
	}
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := warroomIn(t, "", append(append([]string{"contain"}, tt.args...), append(base, "--yes")...)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			flat := strings.Join(strings.Fields(wrappedHyphen.ReplaceAllString(errOut, "-")), " ")
			for _, w := range tt.want {
				if !strings.Contains(flat, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(out, "✓") {
				t.Errorf("stdout claims success:\n%s", out)
			}
		})
	}

	usage := []struct {
		name string
		args []string
		want string
	}{
		{"no document", []string{"restore-trust", "role/deploy"}, "--document"},
		{"both policy flags", []string{"detach-policy", "user/eve", "--inline", "ops", "--policy-arn", admin}, "policy-arn"},
		{"no rule", []string{"revoke-ingress", sg}, "rule"},
		{"bad rule", []string{"revoke-ingress", sg, "--rule", "tcp:ssh:0.0.0.0/0"}, "not a port"},
		{"not a security group", []string{"revoke-ingress", "web", "--rule", "tcp:22:0.0.0.0/0"}, "not a security group id"},
		{"bad selectors", []string{"restore-event-selectors", "trail/management-events", "--selectors", file("bad.json", "{")}, "not a JSON list"},
	}
	for _, tt := range usage {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := warroomIn(t, "", append(append([]string{"contain"}, tt.args...), append(base, "--yes")...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, want 2 naming %q\nstdout: %s\nstderr: %s", code, tt.want, out, errOut)
			}
		})
	}

	// Every action is journaled, verified, and can be rebuilt from its
	// intent (the verification an interrupted run would get).
	st, rep, err := state.Replay(d.journal)
	if err != nil || !rep.OK() {
		t.Fatalf("journal: %v %v", err, rep.Problem)
	}
	seen := map[string]bool{}
	for _, a := range st.Actions {
		seen[a.Intent.Action] = true
		if a.Outcome() != state.OutcomeVerified {
			t.Errorf("%s %s: %s", a.Intent.Action, a.Intent.Target, a.Outcome())
		}
		if strings.Contains(a.Intent.Target, "nosuch") || strings.Contains(a.Intent.Target, "nope") {
			t.Errorf("journaled an action on a target that does not exist: %s %s", a.Intent.Action, a.Intent.Target)
		}
		if _, err := contain.FromIntent(a.Intent); err != nil {
			t.Errorf("%s %s: FromIntent: %v", a.Intent.Action, a.Intent.Target, err)
		}
	}
	for _, tt := range tests {
		if !seen[tt.args[0]] {
			t.Errorf("no %s in the journal", tt.args[0])
		}
	}
}

// mustDecode returns an IAM document as plain JSON.
func mustDecode(t *testing.T, doc string) string {
	t.Helper()
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc
	}
	d, err := url.QueryUnescape(doc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestFileLocator: the console's Env.Locate answers from the journal
// file, from several goroutines at once, and sees what is journaled after
// its first answer.
func TestFileLocator(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	var inst string
	for _, m := range d.made {
		if f := strings.Fields(m); f[0] == "eu-west-1" && f[1] == "ec2:instance" {
			inst = f[2]
		}
	}
	loc := incident.FileLocator(d.journal)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := loc(contain.KindInstances, inst); !slices.Equal(got, []string{"eu-west-1"}) {
				t.Errorf("Locate(%s) = %v, want [eu-west-1]", inst, got)
			}
			if got := loc(contain.KindFunction, "updater"); !slices.Contains(got, "eu-west-1") {
				t.Errorf("Locate(updater) = %v", got)
			}
		}()
	}
	wg.Wait()
	if got := loc(contain.KindInstances, "i-0123456789abcdef0"); len(got) != 0 {
		t.Errorf("a made-up instance is located in %v", got)
	}
	// A sweep journaled later is read on the next question.
	rec, err := state.OpenRecorder(d.journal, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Record(state.KindSweep, state.Sweep{Region: "sa-east-1", Kind: "ec2:instance", TakenAt: time.Now(),
		Resources: []state.Resource{{ID: "i-0fedcba9876543210"}}}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if got := loc(contain.KindInstances, "i-0fedcba9876543210"); !slices.Equal(got, []string{"sa-east-1"}) {
		t.Errorf("Locate after a new sweep = %v, want [sa-east-1]", got)
	}
}

// must fails the test on err, else returns v: must(call(…))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
