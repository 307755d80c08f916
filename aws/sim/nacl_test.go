package sim

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// naclEntries reads an ACL's entries as "in|out RULE ACTION CIDR".
func naclEntries(t *testing.T, c *ec2.Client, id string) []string {
	t.Helper()
	out, err := c.DescribeNetworkAcls(context.Background(), &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range out.NetworkAcls[0].Entries {
		dir := "in"
		if aws.ToBool(e.Egress) {
			dir = "out"
		}
		got = append(got, strings.Join([]string{dir, strconv.Itoa(int(aws.ToInt32(e.RuleNumber))), string(e.RuleAction), aws.ToString(e.CidrBlock)}, " "))
	}
	return got
}

func TestNetworkACLEntries(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	c := env.ec2(env.sim.Responder(), "eu-west-2")

	all, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.NetworkAcls) != 1 || !aws.ToBool(all.NetworkAcls[0].IsDefault) || aws.ToString(all.NetworkAcls[0].VpcId) == "" {
		t.Fatalf("default network ACL: %+v", all.NetworkAcls)
	}
	acl := aws.ToString(all.NetworkAcls[0].NetworkAclId)
	vpc := aws.ToString(all.NetworkAcls[0].VpcId)
	byVPC, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpc}}}})
	if err != nil || len(byVPC.NetworkAcls) != 1 {
		t.Fatalf("vpc-id filter: %v %v", byVPC, err)
	}
	if got := strings.Join(naclEntries(t, c, acl), ","); got != "out 100 allow 0.0.0.0/0,out 32767 deny 0.0.0.0/0,in 100 allow 0.0.0.0/0,in 32767 deny 0.0.0.0/0" {
		t.Errorf("default entries: %s", got)
	}
	create := func(rule int32, egress bool, id string) error {
		_, err := c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(rule),
			Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, Egress: aws.Bool(egress), CidrBlock: aws.String("203.0.113.7/32")})
		return err
	}
	if err := create(1, false, acl); err != nil {
		t.Fatal(err)
	}
	rec := lastRecord(t, env.sim)
	rp, _ := rec["requestParameters"].(map[string]any)
	if rec["eventName"] != "CreateNetworkAclEntry" || rec["eventSource"] != "ec2.amazonaws.com" || rec["readOnly"] != false ||
		rp["networkAclId"] != acl || rp["ruleNumber"] != float64(1) || rp["ruleAction"] != "deny" || rp["aclProtocol"] != "-1" ||
		rp["egress"] != false || rp["cidrBlock"] != "203.0.113.7/32" {
		t.Errorf("CreateNetworkAclEntry record: %v", rec)
	}
	if re, _ := rec["responseElements"].(map[string]any); re["_return"] != true {
		t.Errorf("responseElements: %v", rec["responseElements"])
	}
	if err := create(2, true, acl); err != nil {
		t.Fatal(err)
	}
	if code := errCode(t, create(1, false, acl)); code != "NetworkAclEntryAlreadyExists" {
		t.Errorf("duplicate rule: %s", code)
	}
	if rec := lastRecord(t, env.sim); rec["errorCode"] != "Client.NetworkAclEntryAlreadyExists" {
		t.Errorf("duplicate's record: %v", rec["errorCode"])
	}
	if code := errCode(t, create(1, false, "acl-0000000000000dead")); code != "InvalidNetworkAclID.NotFound" {
		t.Errorf("unknown ACL: %s", code)
	}
	if code := errCode(t, create(32767, false, acl)); code != "InvalidParameterValue" {
		t.Errorf("rule 32767: %s", code)
	}
	if _, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: []string{"acl-0000000000000dead"}}); errCode(t, err) != "InvalidNetworkAclID.NotFound" {
		t.Errorf("describe unknown ACL: %v", err)
	}
	if got := strings.Join(naclEntries(t, c, acl), ","); !strings.Contains(got, "in 1 deny 203.0.113.7/32") || !strings.Contains(got, "out 2 deny 203.0.113.7/32") {
		t.Errorf("entries after create: %s", got)
	}
	del := func(rule int32, egress bool) error {
		_, err := c.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: aws.String(acl), RuleNumber: aws.Int32(rule), Egress: aws.Bool(egress)})
		return err
	}
	if err := del(1, false); err != nil {
		t.Fatal(err)
	}
	if rec := lastRecord(t, env.sim); rec["eventName"] != "DeleteNetworkAclEntry" || rec["requestParameters"].(map[string]any)["ruleNumber"] != float64(1) {
		t.Errorf("DeleteNetworkAclEntry record: %v", rec)
	}
	if code := errCode(t, del(1, false)); code != "InvalidNetworkAclEntry.NotFound" {
		t.Errorf("delete again: %s", code)
	}
	if code := errCode(t, del(2, false)); code != "InvalidNetworkAclEntry.NotFound" {
		t.Errorf("delete the egress rule as ingress: %s", code)
	}
	if _, err := c.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(acl), RuleNumber: aws.Int32(5), DryRun: aws.Bool(true),
		Protocol: aws.String("-1"), RuleAction: types.RuleActionDeny, Egress: aws.Bool(false), CidrBlock: aws.String("203.0.113.7/32")}); errCode(t, err) != "DryRunOperation" {
		t.Errorf("DryRun: %v", err)
	}
}

// boundClient is an HTTP client whose connections come from ip (a
// loopback address: Linux binds all of 127.0.0.0/8).
func boundClient(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	if c, err := d.Dial("tcp", "127.0.0.1:1"); err != nil && strings.Contains(err.Error(), "assign requested address") {
		t.Skipf("cannot bind %s here: %v", ip, err)
	} else if c != nil {
		c.Close()
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	return &http.Client{Transport: tr}
}

// TestSourceIPCondition: an aws:SourceIp deny stops the calls from the
// address it names, and no other; NotIpAddress is its complement.
func TestSourceIPCondition(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	if err := env.sim.AddUser("app"); err != nil {
		t.Fatal(err)
	}
	key, err := env.sim.AddKey("app")
	if err != nil {
		t.Fatal(err)
	}
	from := func(ip string) *iam.Client {
		cfg := env.cfg(key, "us-east-1")
		cfg.HTTPClient = boundClient(t, ip)
		return iam.NewFromConfig(cfg)
	}
	attacker, owner := from("127.0.0.66"), from("127.0.0.1")
	put := func(doc string) {
		t.Helper()
		if _, err := env.iam(env.sim.Responder()).PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("app"),
			PolicyName: aws.String("warroom-deny-ips"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	call := func(c *iam.Client) string {
		_, err := c.ListUsers(ctx, &iam.ListUsersInput{})
		return errCode(t, err)
	}
	if call(attacker) != "" || call(owner) != "" {
		t.Fatal("calls fail before any policy")
	}
	put(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["127.0.0.66/32","198.51.100.0/24"]}}}]}`)
	if got := call(attacker); got != "AccessDenied" {
		t.Errorf("attacker's call after the deny: %q, want AccessDenied", got)
	}
	if rec := lastRecord(t, env.sim); rec["sourceIPAddress"] != "127.0.0.66" || rec["errorCode"] != "AccessDenied" {
		t.Errorf("denied call's record: %v %v", rec["sourceIPAddress"], rec["errorCode"])
	}
	if got := call(owner); got != "" {
		t.Errorf("owner's call from another address: %q", got)
	}
	put(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"127.0.0.1"}}}]}`)
	if call(attacker) != "AccessDenied" || call(owner) != "" {
		t.Errorf("NotIpAddress: attacker %q owner %q", call(attacker), call(owner))
	}
}

// TestAWSCLINetworkACLs checks the network ACL calls' wire format with the
// AWS CLI: the responder's block and its undo, as block-ip makes them.
func TestAWSCLINetworkACLs(t *testing.T) {
	bin := awsCLI()
	if bin == "" {
		t.Skip("aws CLI not installed")
	}
	if testing.Short() {
		t.Skip("the AWS CLI takes seconds per call")
	}
	env := newEnv(t, Options{})
	run := cliRunner(t, env, bin)
	out, err := run("ec2", "describe-network-acls", "--region", "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	acls, _ := out["NetworkAcls"].([]any)
	if len(acls) != 1 {
		t.Fatalf("describe-network-acls: %v", out)
	}
	acl := acls[0].(map[string]any)
	id, _ := acl["NetworkAclId"].(string)
	if !strings.HasPrefix(id, "acl-") || acl["IsDefault"] != true || len(acl["Entries"].([]any)) != 4 || len(acl["Associations"].([]any)) != 1 {
		t.Fatalf("network ACL: %v", acl)
	}
	if _, err := run("ec2", "create-network-acl-entry", "--region", "eu-west-1", "--network-acl-id", id, "--rule-number", "1",
		"--protocol", "-1", "--rule-action", "deny", "--ingress", "--cidr-block", "203.0.113.7/32"); err != nil {
		t.Fatal(err)
	}
	_, err = run("ec2", "create-network-acl-entry", "--region", "eu-west-1", "--network-acl-id", id, "--rule-number", "1",
		"--protocol", "-1", "--rule-action", "deny", "--ingress", "--cidr-block", "203.0.113.7/32")
	if err == nil || !strings.Contains(err.Error(), "NetworkAclEntryAlreadyExists") {
		t.Errorf("the same rule again: %v", err)
	}
	out, err = run("ec2", "describe-network-acls", "--region", "eu-west-1", "--network-acl-ids", id)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range out["NetworkAcls"].([]any)[0].(map[string]any)["Entries"].([]any) {
		m := e.(map[string]any)
		found = found || m["RuleNumber"] == float64(1) && m["RuleAction"] == "deny" && m["Egress"] == false && m["CidrBlock"] == "203.0.113.7/32" && m["Protocol"] == "-1"
	}
	if !found {
		t.Errorf("the deny entry is not read back: %v", out)
	}
	if _, err := run("ec2", "delete-network-acl-entry", "--region", "eu-west-1", "--network-acl-id", id, "--rule-number", "1", "--ingress"); err != nil {
		t.Fatal(err)
	}
	_, err = run("ec2", "delete-network-acl-entry", "--region", "eu-west-1", "--network-acl-id", "acl-0000000000000dead", "--rule-number", "1", "--ingress")
	if err == nil || !strings.Contains(err.Error(), "InvalidNetworkAclID.NotFound") {
		t.Errorf("unknown ACL: %v", err)
	}
}
