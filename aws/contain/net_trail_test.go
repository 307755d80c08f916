package contain

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/warroom-ir/warroom/aws/sim"
)

// adminKey is a key of a new administrator: the attacker's leaked key.
func adminKey(t *testing.T, d *drill, name string) sim.Credentials {
	t.Helper()
	if err := d.sim.AddUser(name); err != nil {
		t.Fatal(err)
	}
	if err := d.sim.AttachUserPolicy(name, "arn:aws:iam::aws:policy/AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	return must(d.sim.AddKey(name))(t)
}

// runHolds runs a through the Runner and fails unless it ran, was not
// already in effect, and verified.
func runHolds(t *testing.T, d *drill, a Action) *Outcome {
	t.Helper()
	o, err := d.runner.Run(context.Background(), a, RunOptions{})
	if err != nil {
		t.Fatalf("%s: %v", a.Name(), err)
	}
	if !o.Result.OK || o.Result.Already || o.Verify == nil || !o.Verify.Holds {
		t.Fatalf("%s: ok=%v already=%v verify=%+v (%s)", a.Name(), o.Result.OK, o.Result.Already, o.Verify, o.Result.Error)
	}
	return o
}

// undo runs a's undo and fails unless it holds.
func undo(t *testing.T, d *drill, a Action) {
	t.Helper()
	ua, why := Undo(a)
	if ua == nil {
		t.Fatalf("%s cannot be undone: %s", a.Name(), why)
	}
	runHolds(t, d, ua)
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestRevokeIngress(t *testing.T) {
	d := newDrill(t)
	ctx := context.Background()
	const region = "eu-central-1"
	atk := ec2.NewFromConfig(d.cfg(adminKey(t, d, "leaky"), region))
	resp := ec2.NewFromConfig(d.cfg(d.sim.Responder(), region))
	g := must(resp.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web")}))(t)
	id := aws.ToString(g.GroupId)
	https := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443),
		IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}
	must(resp.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []ec2types.IpPermission{https}}))(t)
	// The attacker opens SSH to the world, IPv4 and IPv6.
	must(atk.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}, Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}}}}))(t)
	rules := []IngressRule{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "0.0.0.0/0"}, {Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "::/0"}}
	open := func() []string {
		out := must(resp.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}}))(t)
		var got []string
		for _, r := range ingressOf(out.SecurityGroups[0]) {
			got = append(got, r.String())
		}
		slices.Sort(got)
		return got
	}

	a := &RevokeIngress{Region: region, GroupID: id, Rules: rules}
	if a.Target().String() != "security-group/"+id {
		t.Errorf("target %q", a.Target())
	}
	if back, err := ParseTarget(KindSecurityGroup, a.Target().String(), region); err != nil || back.ID != id {
		t.Errorf("ParseTarget: %+v %v", back, err)
	}
	p := must(d.runner.Plan(ctx, a))(t)
	if len(p.Calls) != 1 || p.Calls[0].API != "ec2:RevokeSecurityGroupIngress" || p.Calls[0].Params["GroupId"] != id || p.Already {
		t.Fatalf("plan %+v", p)
	}
	if v := must(a.Verify(ctx, d.env))(t); v.Holds {
		t.Error("verify holds before the run")
	}
	o := runHolds(t, d, a)
	if want := []string{"tcp 443-443 from 0.0.0.0/0"}; !slices.Equal(open(), want) {
		t.Errorf("after revoke: %v, want %v (only the attacker's rules go)", open(), want)
	}
	var prior []IngressRule
	if err := json.Unmarshal(o.Result.Prior, &prior); err != nil || len(prior) != 2 {
		t.Errorf("prior %s (%v)", o.Result.Prior, err)
	}
	if p := must(d.runner.Plan(ctx, &RevokeIngress{Region: region, GroupID: id, Rules: rules}))(t); !p.Already {
		t.Errorf("second plan not already: %+v", p)
	}
	undo(t, d, a)
	if want := []string{"tcp 22-22 from 0.0.0.0/0", "tcp 22-22 from ::/0", "tcp 443-443 from 0.0.0.0/0"}; !slices.Equal(open(), want) {
		t.Errorf("after undo: %v, want %v", open(), want)
	}

	// A group the Region does not hold fails, naming the Region: never "already".
	for _, wrong := range []*RevokeIngress{{Region: "us-west-2", GroupID: id, Rules: rules}, {Region: region, GroupID: "sg-0123456789abcdef0", Rules: rules}} {
		_, err := d.runner.Plan(ctx, wrong)
		if err == nil || !strings.Contains(err.Error(), wrong.Region) || !strings.Contains(err.Error(), wrong.GroupID) {
			t.Errorf("plan of %s in %s: %v", wrong.GroupID, wrong.Region, err)
		}
		if _, err := d.runner.Run(ctx, wrong, RunOptions{}); err == nil {
			t.Errorf("run of %s in %s did not fail", wrong.GroupID, wrong.Region)
		}
	}
}

func TestStartLogging(t *testing.T) {
	d := newDrill(t)
	ctx := context.Background()
	atk := cloudtrail.NewFromConfig(d.cfg(adminKey(t, d, "leaky"), "us-east-1"))
	resp := cloudtrail.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1"))
	logging := func() bool {
		return aws.ToBool(must(resp.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("management-events")}))(t).IsLogging)
	}
	must(atk.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("management-events")}))(t)

	// Read from another Region: the multi-Region trail's shadow; the call goes to its home.
	a := &StartLogging{Region: "eu-west-1", Trail: "management-events"}
	if a.Target().String() != "trail/management-events" {
		t.Errorf("target %q", a.Target())
	}
	p := must(d.runner.Plan(ctx, a))(t)
	if len(p.Calls) != 1 || p.Calls[0].API != "cloudtrail:StartLogging" || p.Calls[0].Region != "us-east-1" {
		t.Fatalf("plan %+v", p)
	}
	runHolds(t, d, a)
	if !logging() {
		t.Fatal("the trail does not log")
	}
	if p := must(d.runner.Plan(ctx, a))(t); !p.Already {
		t.Error("second plan not already")
	}
	undo(t, d, a)
	if logging() {
		t.Error("undo did not stop logging")
	}
	runHolds(t, d, &StartLogging{Region: "us-east-1", Trail: "management-events"})

	// A trail that does not exist fails naming the trail and the Region,
	// and so does a deleted one.
	_, err := d.runner.Plan(ctx, &StartLogging{Region: "us-east-1", Trail: "nope"})
	if err == nil || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "us-east-1") {
		t.Errorf("unknown trail: %v", err)
	}
	must(atk.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("management-events")}))(t)
	if _, err := d.runner.Run(ctx, &StartLogging{Region: "us-east-1", Trail: "management-events"}, RunOptions{}); err == nil ||
		!strings.Contains(err.Error(), "management-events") {
		t.Errorf("deleted trail: %v", err)
	}
}

func TestRestoreEventSelectors(t *testing.T) {
	d := newDrill(t)
	ctx := context.Background()
	atk := cloudtrail.NewFromConfig(d.cfg(adminKey(t, d, "leaky"), "us-east-1"))
	resp := cloudtrail.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1"))
	rwType := func() cttypes.ReadWriteType {
		out := must(resp.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("management-events")}))(t)
		return out.EventSelectors[0].ReadWriteType
	}
	must(atk.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("management-events"),
		EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeReadOnly, IncludeManagementEvents: aws.Bool(true)}}}))(t)

	a := &RestoreEventSelectors{Region: "us-east-1", Trail: "management-events", Selectors: `[{"ReadWriteType":"All","IncludeManagementEvents":true}]`}
	if v := must(a.Verify(ctx, d.env))(t); v.Holds {
		t.Error("verify holds before the run")
	}
	o := runHolds(t, d, a)
	if rwType() != cttypes.ReadWriteTypeAll {
		t.Errorf("selectors %s after restore", rwType())
	}
	if !strings.Contains(string(o.Result.Prior), `"ReadOnly"`) {
		t.Errorf("prior %s does not keep the attacker's selectors", o.Result.Prior)
	}
	if p := must(d.runner.Plan(ctx, &RestoreEventSelectors{Region: "us-east-1", Trail: "management-events",
		Selectors: `[{"ReadWriteType":"All"}]`}))(t); !p.Already {
		t.Error("plan with defaults left out is not already")
	}
	undo(t, d, a)
	if rwType() != cttypes.ReadWriteTypeReadOnly {
		t.Errorf("selectors %s after undo", rwType())
	}
	if _, err := d.runner.Plan(ctx, &RestoreEventSelectors{Region: "ap-south-1", Trail: "gone", Selectors: a.Selectors}); err == nil ||
		!strings.Contains(err.Error(), "gone") || !strings.Contains(err.Error(), "ap-south-1") {
		t.Errorf("unknown trail: %v", err)
	}
	if _, err := d.runner.Plan(ctx, &RestoreEventSelectors{Region: "us-east-1", Trail: "management-events", Selectors: "not json"}); err == nil {
		t.Error("bad selectors accepted")
	}
}

func TestRemovePermission(t *testing.T) {
	d := newDrill(t)
	ctx := context.Background()
	const region = "ap-northeast-3"
	if err := d.sim.AddRole("lambda-exec", time.Hour); err != nil {
		t.Fatal(err)
	}
	atk := lambda.NewFromConfig(d.cfg(adminKey(t, d, "leaky"), region))
	resp := lambda.NewFromConfig(d.cfg(d.sim.Responder(), region))
	must(atk.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("fwd"), Runtime: lambdatypes.RuntimePython312,
		Role: aws.String("arn:aws:iam::" + d.sim.AccountID() + ":role/lambda-exec"), Handler: aws.String("index.handler"),
		Code: &lambdatypes.FunctionCode{ZipFile: []byte("PK\x03\x04")}}))(t)
	must(atk.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("fwd"), StatementId: aws.String("public"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"), SourceArn: aws.String("arn:aws:s3:::drop")}))(t)
	must(resp.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("fwd"), StatementId: aws.String("ops"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com")}))(t)
	policy := func() string {
		out, err := resp.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("fwd")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Policy)
	}

	a := &RemovePermission{Region: region, Function: "fwd", StatementID: "public"}
	p := must(d.runner.Plan(ctx, a))(t)
	if len(p.Calls) != 1 || p.Calls[0].API != "lambda:RemovePermission" || p.Calls[0].Params["StatementId"] != "public" {
		t.Fatalf("plan %+v", p)
	}
	o := runHolds(t, d, a)
	if pol := policy(); strings.Contains(pol, `"public"`) || !strings.Contains(pol, `"ops"`) {
		t.Errorf("policy after remove: %s", pol)
	}
	if !strings.Contains(string(o.Result.Prior), `"Sid":"public"`) {
		t.Errorf("prior %s", o.Result.Prior)
	}
	if p := must(d.runner.Plan(ctx, &RemovePermission{Region: region, Function: "fwd", StatementID: "public"}))(t); !p.Already {
		t.Error("second plan not already")
	}
	undo(t, d, a)
	var doc struct{ Statement []map[string]any }
	if err := json.Unmarshal([]byte(policy()), &doc); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(doc.Statement, func(s map[string]any) bool { return s["Sid"] == "public" })
	if i < 0 || doc.Statement[i]["Principal"] != "*" || !strings.Contains(policy(), "arn:aws:s3:::drop") {
		t.Errorf("undo did not restore the statement: %s", policy())
	}
	// The function in another Region, or gone: fails naming the Region.
	_, err := d.runner.Plan(ctx, &RemovePermission{Region: "us-east-1", Function: "fwd", StatementID: "public"})
	if err == nil || !strings.Contains(err.Error(), "us-east-1") || !strings.Contains(err.Error(), "fwd") {
		t.Errorf("wrong Region: %v", err)
	}
	must(resp.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("fwd")}))(t)
	if _, err := d.runner.Run(ctx, &RemovePermission{Region: region, Function: "fwd", StatementID: "public"}, RunOptions{}); err == nil {
		t.Error("run on a deleted function did not fail")
	}
	if _, err := resp.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("fwd")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("GetPolicy of the deleted function: %v", err)
	}
}

func TestRecreateTrailCommand(t *testing.T) {
	for _, tc := range []struct {
		name, trail, bucket, region string
		multi                       bool
		want                        string
	}{
		{"multi-Region", "management-events", "aws-cloudtrail-logs-1", "us-east-1", true,
			"aws cloudtrail create-trail --name management-events --s3-bucket-name aws-cloudtrail-logs-1 --is-multi-region-trail --region us-east-1" +
				" && aws cloudtrail start-logging --name management-events --region us-east-1"},
		{"one Region", "audit", "b", "eu-west-1", false,
			"aws cloudtrail create-trail --name audit --s3-bucket-name b --region eu-west-1 && aws cloudtrail start-logging --name audit --region eu-west-1"},
		{"hostile name is quoted", "x; rm -rf ~ #'", "b", "us-east-1", false,
			`aws cloudtrail create-trail --name 'x; rm -rf ~ #'\''' --s3-bucket-name b --region us-east-1 && aws cloudtrail start-logging --name 'x; rm -rf ~ #'\''' --region us-east-1`},
	} {
		if got := RecreateTrailCommand(tc.trail, tc.bucket, tc.region, tc.multi); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}
