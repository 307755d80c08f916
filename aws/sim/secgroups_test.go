package sim

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// sshFrom is an IpPermission opening tcp/22 to the given IPv4 and IPv6 CIDRs.
func sshFrom(v4, v6 string) types.IpPermission {
	p := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22)}
	if v4 != "" {
		p.IpRanges = []types.IpRange{{CidrIp: aws.String(v4)}}
	}
	if v6 != "" {
		p.Ipv6Ranges = []types.Ipv6Range{{CidrIpv6: aws.String(v6)}}
	}
	return p
}

// ingressOf reads a group's ingress back as "proto from-to peer" strings.
func ingressOf(t *testing.T, c *ec2.Client, id string) []string {
	t.Helper()
	out, err := c.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range out.SecurityGroups[0].IpPermissions {
		pre := fmt.Sprintf("%s %d-%d ", aws.ToString(p.IpProtocol), aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort))
		for _, r := range p.IpRanges {
			got = append(got, pre+aws.ToString(r.CidrIp))
		}
		for _, r := range p.Ipv6Ranges {
			got = append(got, pre+aws.ToString(r.CidrIpv6))
		}
		for _, g := range p.UserIdGroupPairs {
			got = append(got, pre+aws.ToString(g.GroupId))
		}
	}
	slices.Sort(got)
	return got
}

func TestEC2SecurityGroupIngress(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	c := env.ec2(env.sim.Responder(), "eu-west-2")

	created, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("backdoor"),
		Description: aws.String("ops access")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.GroupId)
	rec := recordOf(t, env.sim, "CreateSecurityGroup")
	if dig(rec, "requestParameters", "groupName") != "backdoor" || dig(rec, "requestParameters", "groupDescription") != "ops access" ||
		dig(rec, "responseElements", "groupId") != id || dig(rec, "responseElements", "_return") != true {
		t.Errorf("CreateSecurityGroup record %s", mustJSON(t, rec))
	}
	_, err = c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("backdoor"), Description: aws.String("x")})
	if got := errCode(t, err); got != "InvalidGroup.Duplicate" {
		t.Errorf("duplicate group: %q", got)
	}

	auth, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{sshFrom("0.0.0.0/0", "::/0"),
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(3389), ToPort: aws.Int32(3389), IpRanges: []types.IpRange{{CidrIp: aws.String("203.0.113.0/24")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(auth.Return) || len(auth.SecurityGroupRules) != 3 || aws.ToString(auth.SecurityGroupRules[0].CidrIpv4) != "0.0.0.0/0" {
		t.Fatalf("authorize answer %+v", auth)
	}
	rec = recordOf(t, env.sim, "AuthorizeSecurityGroupIngress")
	perm := dig(rec, "requestParameters", "ipPermissions", "items", 0)
	if dig(rec, "requestParameters", "groupId") != id || dig(perm, "ipProtocol") != "tcp" || dig(perm, "fromPort") != 22.0 ||
		dig(perm, "toPort") != 22.0 || dig(perm, "ipRanges", "items", 0, "cidrIp") != "0.0.0.0/0" ||
		dig(perm, "ipv6Ranges", "items", 0, "cidrIpv6") != "::/0" {
		t.Errorf("AuthorizeSecurityGroupIngress requestParameters %s", mustJSON(t, dig(rec, "requestParameters")))
	}
	rule := dig(rec, "responseElements", "securityGroupRuleSet", "items", 0)
	if dig(rec, "responseElements", "_return") != true || dig(rule, "groupId") != id || dig(rule, "isEgress") != false ||
		dig(rule, "cidrIpv4") != "0.0.0.0/0" || dig(rule, "securityGroupRuleId") != aws.ToString(auth.SecurityGroupRules[0].SecurityGroupRuleId) {
		t.Errorf("AuthorizeSecurityGroupIngress responseElements %s", mustJSON(t, dig(rec, "responseElements")))
	}
	if want := []string{"tcp 22-22 0.0.0.0/0", "tcp 22-22 ::/0", "tcp 3389-3389 203.0.113.0/24"}; !slices.Equal(ingressOf(t, c, id), want) {
		t.Errorf("ingress %v, want %v", ingressOf(t, c, id), want)
	}

	// The CLI's --protocol/--port/--cidr form, and a duplicate of it.
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id),
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), CidrIp: aws.String("198.51.100.7/32")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{sshFrom("0.0.0.0/0", "")}})
	if got := errCode(t, err); got != "InvalidPermission.Duplicate" {
		t.Errorf("duplicate rule: %q", got)
	}

	rules, err := c.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{
		Filters: []types.Filter{{Name: aws.String("group-id"), Values: []string{id}}}})
	if err != nil {
		t.Fatal(err)
	}
	var rdpRule string
	for _, r := range rules.SecurityGroupRules {
		if aws.ToInt32(r.FromPort) == 3389 {
			rdpRule = aws.ToString(r.SecurityGroupRuleId)
		}
	}
	if len(rules.SecurityGroupRules) != 5 || rdpRule == "" { // 4 ingress + the default egress
		t.Fatalf("rules %d, rdp %q", len(rules.SecurityGroupRules), rdpRule)
	}

	// Revoke by permissions: exactly the rules named, nothing else.
	rv, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{sshFrom("0.0.0.0/0", "::/0")}})
	if err != nil || !aws.ToBool(rv.Return) || len(rv.RevokedSecurityGroupRules) != 2 {
		t.Fatalf("revoke: %v %+v", err, rv)
	}
	rec = recordOf(t, env.sim, "RevokeSecurityGroupIngress")
	if dig(rec, "requestParameters", "groupId") != id || dig(rec, "requestParameters", "ipPermissions", "items", 0, "ipRanges", "items", 0, "cidrIp") != "0.0.0.0/0" ||
		dig(rec, "responseElements", "_return") != true {
		t.Errorf("RevokeSecurityGroupIngress record %s", mustJSON(t, rec))
	}
	// Revoke by rule id.
	if _, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id),
		SecurityGroupRuleIds: []string{rdpRule}}); err != nil {
		t.Fatal(err)
	}
	rec = recordOf(t, env.sim, "RevokeSecurityGroupIngress")
	if dig(rec, "requestParameters", "securityGroupRuleIds", "items", 0, "securityGroupRuleId") != rdpRule {
		t.Errorf("revoke by id record %s", mustJSON(t, dig(rec, "requestParameters")))
	}
	if want := []string{"tcp 5432-5432 198.51.100.7/32"}; !slices.Equal(ingressOf(t, c, id), want) {
		t.Errorf("after revoke: %v, want %v", ingressOf(t, c, id), want)
	}

	for _, tc := range []struct {
		name string
		call func() error
		code string
	}{
		{"revoke absent rule", func() error {
			_, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id),
				IpPermissions: []types.IpPermission{sshFrom("0.0.0.0/0", "")}})
			return err
		}, "InvalidPermission.NotFound"},
		{"revoke absent rule id", func() error {
			_, err := c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id),
				SecurityGroupRuleIds: []string{rdpRule}})
			return err
		}, "InvalidSecurityGroupRuleId.NotFound"},
		{"authorize on unknown group", func() error {
			_, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-0123456789abcdef0"),
				IpPermissions: []types.IpPermission{sshFrom("0.0.0.0/0", "")}})
			return err
		}, "InvalidGroup.NotFound"},
		{"group of another Region", func() error {
			_, err := env.ec2(env.sim.Responder(), "eu-west-1").DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
			return err
		}, "InvalidGroup.NotFound"},
		{"IPv6 CIDR as IPv4", func() error {
			_, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id),
				IpPermissions: []types.IpPermission{sshFrom("::/0", "")}})
			return err
		}, "InvalidParameterValue"},
		{"delete default group", func() error {
			out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}})
			if err != nil {
				return err
			}
			_, err = c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: out.SecurityGroups[0].GroupId})
			return err
		}, "CannotDelete"},
		{"delete", func() error {
			_, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
			return err
		}, ""},
		{"delete again", func() error {
			_, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
			return err
		}, "InvalidGroup.NotFound"},
	} {
		if got := errCode(t, tc.call()); got != tc.code {
			t.Errorf("%s: code %q, want %q", tc.name, got, tc.code)
		}
	}
	rec = recordOf(t, env.sim, "DeleteSecurityGroup")
	if dig(rec, "errorCode") != "Client.InvalidGroup.NotFound" || dig(rec, "requestParameters", "groupId") != id {
		t.Errorf("DeleteSecurityGroup record %s", mustJSON(t, rec))
	}
	// The default group shows its rules: all traffic from itself, all out.
	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("groups after delete: %d", len(out.SecurityGroups))
	}
	def := out.SecurityGroups[0]
	if len(def.IpPermissions) != 1 || aws.ToString(def.IpPermissions[0].IpProtocol) != "-1" ||
		aws.ToString(def.IpPermissions[0].UserIdGroupPairs[0].GroupId) != aws.ToString(def.GroupId) ||
		aws.ToString(def.IpPermissionsEgress[0].IpRanges[0].CidrIp) != "0.0.0.0/0" {
		t.Errorf("default group %+v", def)
	}
}
