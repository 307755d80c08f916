package contain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// Blocking the attacker's source IPs (issue 19, point 6): an inline
// aws:SourceIp deny on the principals the responder picks (every user and
// role by default), and, where the attacker opened network access (the
// security groups it opened, the instances it launched), a network ACL deny
// entry for each address on those VPCs' network ACLs, in and out. Never the
// responder's own address: what CloudTrail records as the source of
// warroom's own calls.

// KindSourceIPs is the target of block-ip and unblock-ip: source addresses
// or CIDR blocks (Target.IDs).
const KindSourceIPs Kind = "source-ips"

// DenyIPsPolicyName is the inline policy block-ip puts on principals.
const DenyIPsPolicyName = "warroom-deny-ips"

// denyIPsSid is the statement block-ip writes.
const denyIPsSid = "WarroomDenySourceIps"

// ErrSelfIP: an address to block covers the responder's own, or the
// responder's own is not known. Unlike ErrSelf it cannot be overridden:
// with its own address denied, warroom could not even undo the block.
var ErrSelfIP = errors.New("refused: this would deny the responder's own source IP address")

// NetRef is a network resource the attacker opened or launched: a security
// group (sg-…), an instance (i-…) or a VPC (vpc-…), in a Region. block-ip
// puts its deny entries on the network ACLs of their VPCs.
type NetRef struct {
	Region   string `json:"region"`
	Resource string `json:"resource"`
}

// String is "REGION/RESOURCE".
func (n NetRef) String() string { return n.Region + "/" + n.Resource }

// ParseNetRef reads REGION/RESOURCE ("eu-west-1/sg-0abc", "us-east-1/vpc-1").
func ParseNetRef(s string) (NetRef, error) {
	region, res, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok || region == "" || !(strings.HasPrefix(res, "sg-") || strings.HasPrefix(res, "i-") || strings.HasPrefix(res, "vpc-")) {
		return NetRef{}, fmt.Errorf("network %q: want REGION/sg-…, REGION/i-… or REGION/vpc-…", s)
	}
	return NetRef{Region: region, Resource: res}, nil
}

// ParseBlockIP reads an address or CIDR block as the command line gives it
// and returns it as a CIDR block ("203.0.113.7" → "203.0.113.7/32"), masked.
func ParseBlockIP(s string) (string, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Addr().Zone() != "" {
			return "", fmt.Errorf("IP %q: a zone is not an address AWS records", s)
		}
		return p.Masked().String(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", fmt.Errorf("%q is not an IP address or CIDR block", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()).String(), nil
}

// IsSourceAddress reports whether a sourceIPAddress is an address (not an
// AWS service name such as "ec2.amazonaws.com" or "AWS Internal").
func IsSourceAddress(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// covers reports which of addrs the CIDR block cidr contains.
func covers(cidr string, addrs []string) []string {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range addrs {
		if a, err := netip.ParseAddr(s); err == nil && p.Contains(a.Unmap()) {
			out = append(out, s)
		}
	}
	return out
}

// BlockIPs is block-ip (Lift false) and unblock-ip (Lift true).
type BlockIPs struct {
	// IPs are the CIDR blocks (ParseBlockIP).
	IPs []string
	// Principals are the users and roles (Kind, ID) to put the deny on;
	// empty: every user and role of the account.
	Principals []Target
	// Networks are what the attacker opened: their VPCs' network ACLs
	// get the deny entries. Empty: no network ACL is changed.
	Networks []NetRef
	// Responder are the responder's own source addresses the caller
	// knows (the journal's "ours" events); block-ip adds those CloudTrail
	// shows for the session's key now.
	Responder []string
	// Lift makes this unblock-ip: the addresses are taken out again.
	Lift bool

	// planned is what the last plan acts on (for Verify and Undo): the
	// principals, and the network ACLs by Region.
	planned []Target
	acls    []naclRef
}

// naclRef is a network ACL in a Region, with the VPC it belongs to.
type naclRef struct {
	Region, ID, VPC string
}

// Name implements Action.
func (a *BlockIPs) Name() string {
	if a.Lift {
		return "unblock-ip"
	}
	return "block-ip"
}

// Target implements Action.
func (a *BlockIPs) Target() Target { return Target{Kind: KindSourceIPs, IDs: slices.Clone(a.IPs)} }

// Undo implements Undoer: the same addresses, principals and networks.
func (a *BlockIPs) Undo() Action {
	ps := a.Principals
	if len(a.planned) > 0 {
		ps = a.planned
	}
	return &BlockIPs{IPs: slices.Clone(a.IPs), Principals: slices.Clone(ps), Networks: slices.Clone(a.Networks),
		Responder: slices.Clone(a.Responder), Lift: !a.Lift, acls: slices.Clone(a.acls)}
}

// DenyIPsDocument is the inline policy that denies everything to requests
// from the given CIDR blocks.
func DenyIPsDocument(cidrs []string) string {
	type cond struct {
		SourceIP []string `json:"aws:SourceIp"`
	}
	type stmt struct {
		Sid       string          `json:"Sid"`
		Effect    string          `json:"Effect"`
		Action    string          `json:"Action"`
		Resource  string          `json:"Resource"`
		Condition map[string]cond `json:"Condition"`
	}
	doc := struct {
		Version   string `json:"Version"`
		Statement []stmt `json:"Statement"`
	}{"2012-10-17", []stmt{{Sid: denyIPsSid, Effect: "Deny", Action: "*", Resource: "*",
		Condition: map[string]cond{"IpAddress": {SourceIP: cidrs}}}}}
	b, _ := json.Marshal(doc)
	return string(b)
}

// deniedIPs returns the CIDR blocks a deny-ips document denies: every
// Deny statement on everything with an IpAddress aws:SourceIp condition.
func deniedIPs(doc string) []string {
	var pd struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if json.Unmarshal([]byte(doc), &pd) != nil {
		return nil
	}
	type stmt struct {
		Effect    string                                `json:"Effect"`
		Condition map[string]map[string]json.RawMessage `json:"Condition"`
	}
	var sts []stmt
	if json.Unmarshal(pd.Statement, &sts) != nil {
		var one stmt
		if json.Unmarshal(pd.Statement, &one) != nil {
			return nil
		}
		sts = []stmt{one}
	}
	var out []string
	for _, st := range sts {
		if !strings.EqualFold(st.Effect, "Deny") {
			continue
		}
		for op, kv := range st.Condition {
			if op != "IpAddress" {
				continue
			}
			for k, raw := range kv {
				if !strings.EqualFold(k, "aws:SourceIp") {
					continue
				}
				var many []string
				if json.Unmarshal(raw, &many) != nil {
					var one string
					if json.Unmarshal(raw, &one) == nil {
						many = []string{one}
					}
				}
				for _, v := range many {
					if c, err := ParseBlockIP(v); err == nil && !slices.Contains(out, c) {
						out = append(out, c)
					}
				}
			}
		}
	}
	return out
}

// responderIPs returns the responder's source addresses: those the caller
// gave, and those CloudTrail's event history shows for the session's own
// key in its home Region (what AWS recorded for warroom's own calls).
func (a *BlockIPs) responderIPs(ctx context.Context, env *Env) ([]string, []string) {
	ips := slices.Clone(a.Responder)
	var problems []string
	if env.Self.KeyID != "" {
		region := env.Sess.HomeRegion()
		lm := env.lookupLimiter(region, 1.8) // the budget the playbook's look-ups share
		out, err := retryThrottled(ctx, func() (*cloudtrail.LookupEventsOutput, error) {
			if err := lm.Wait(ctx); err != nil {
				return nil, err
			}
			return env.Sess.CloudTrail(region).LookupEvents(ctx, &cloudtrail.LookupEventsInput{
				LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(env.Self.KeyID)}},
				MaxResults:       aws.Int32(50)}) // the newest: CloudTrail's own window, on its clock
		})
		if err != nil {
			problems = append(problems, fmt.Sprintf("the responder's own source IP could not be read from CloudTrail: %v", session.Wrap("cloudtrail:LookupEvents", region, err)))
		} else {
			for _, ev := range out.Events {
				var rec struct {
					SourceIPAddress string `json:"sourceIPAddress"`
				}
				if json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &rec) == nil && IsSourceAddress(rec.SourceIPAddress) &&
					!slices.Contains(ips, rec.SourceIPAddress) {
					ips = append(ips, rec.SourceIPAddress)
				}
			}
		}
	}
	slices.Sort(ips)
	return ips, problems
}

// principalsToBlock lists the principals the plan acts on: those given,
// or every user and role; service-linked and Identity Center roles are
// left out with a finding each (AWS manages their policies).
func (a *BlockIPs) principalsToBlock(ctx context.Context, env *Env, p *Plan) ([]Target, error) {
	cl := env.Sess.IAM()
	var out []Target
	skip := func(kind Kind, name, path string) bool {
		if why := cannotRevoke(kind, name, path); why != "" {
			p.Findings = append(p.Findings, "skipped: "+strings.Replace(why, "a revoke policy", "an inline policy", 1))
			return true
		}
		return false
	}
	if len(a.Principals) > 0 {
		for _, t := range a.Principals {
			switch t.Kind {
			case KindUser:
				out = append(out, t)
			case KindRole:
				r, err := cl.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(t.ID)})
				if err != nil {
					return nil, principalErr("iam:GetRole", KindRole, t.ID, err)
				}
				if !skip(KindRole, t.ID, aws.ToString(r.Role.Path)) {
					out = append(out, t)
				}
			default:
				return nil, fmt.Errorf("%w: %s takes users and roles, not %s", ErrUnsupported, a.Name(), t)
			}
		}
		return out, nil
	}
	users := iam.NewListUsersPaginator(cl, &iam.ListUsersInput{})
	for users.HasMorePages() {
		pg, err := users.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("iam:ListUsers", "", err)
		}
		for _, u := range pg.Users {
			out = append(out, Target{Kind: KindUser, ID: aws.ToString(u.UserName)})
		}
	}
	roles := iam.NewListRolesPaginator(cl, &iam.ListRolesInput{})
	for roles.HasMorePages() {
		pg, err := roles.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("iam:ListRoles", "", err)
		}
		for _, r := range pg.Roles {
			if !skip(KindRole, aws.ToString(r.RoleName), aws.ToString(r.Path)) {
				out = append(out, Target{Kind: KindRole, ID: aws.ToString(r.RoleName)})
			}
		}
	}
	return out, nil
}

// readDenyIPs reads a principal's warroom-deny-ips policy: "" when it has
// none.
func readDenyIPs(ctx context.Context, env *Env, t Target) (string, error) {
	cl := env.Sess.IAM()
	var doc *string
	var err error
	api := "iam:GetUserPolicy"
	if t.Kind == KindRole {
		api = "iam:GetRolePolicy"
		var out *iam.GetRolePolicyOutput
		if out, err = cl.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(t.ID), PolicyName: aws.String(DenyIPsPolicyName)}); err == nil {
			doc = out.PolicyDocument
		}
	} else {
		var out *iam.GetUserPolicyOutput
		if out, err = cl.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(t.ID), PolicyName: aws.String(DenyIPsPolicyName)}); err == nil {
			doc = out.PolicyDocument
		}
	}
	if err != nil {
		err = session.Wrap(api, "", err)
		if session.Classify(err) == session.ClassNotFound {
			// NoSuchEntity: the policy, or the principal, is not there.
			return "", nil
		}
		return "", err
	}
	return decodeDoc(aws.ToString(doc)), nil
}

// policyCall is the call that sets (doc non-empty) or deletes a
// principal's warroom-deny-ips policy.
func policyCall(t Target, doc string) state.Call {
	kind, param := "User", "UserName"
	if t.Kind == KindRole {
		kind, param = "Role", "RoleName"
	}
	if doc == "" {
		return call("iam:Delete"+kind+"Policy", "", param, t.ID, "PolicyName", DenyIPsPolicyName)
	}
	return call("iam:Put"+kind+"Policy", "", param, t.ID, "PolicyName", DenyIPsPolicyName, "PolicyDocument", doc)
}

// aclsOf resolves the networks to their VPCs' network ACLs.
func (a *BlockIPs) aclsOf(ctx context.Context, env *Env, p *Plan) ([]naclRef, map[string]ec2types.NetworkAcl, error) {
	type vpcRef struct{ region, vpc string }
	var vpcs []vpcRef
	add := func(region, vpc, why string) {
		if vpc == "" {
			p.Findings = append(p.Findings, why+": no VPC (EC2-Classic or gone): no network ACL to change")
			return
		}
		if !slices.Contains(vpcs, vpcRef{region, vpc}) {
			vpcs = append(vpcs, vpcRef{region, vpc})
		}
	}
	for _, n := range a.Networks {
		cl := env.Sess.EC2(n.Region)
		switch {
		case strings.HasPrefix(n.Resource, "vpc-"):
			add(n.Region, n.Resource, n.String())
		case strings.HasPrefix(n.Resource, "sg-"):
			out, err := cl.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{n.Resource}})
			if err != nil {
				err = session.Wrap("ec2:DescribeSecurityGroups", n.Region, err)
				if session.Classify(err) == session.ClassNotFound {
					p.Findings = append(p.Findings, fmt.Sprintf("security group %s in %s is gone: its VPC is not known", n.Resource, n.Region))
					continue
				}
				return nil, nil, err
			}
			for _, g := range out.SecurityGroups {
				add(n.Region, aws.ToString(g.VpcId), n.String())
			}
		case strings.HasPrefix(n.Resource, "i-"):
			out, err := cl.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{n.Resource}})
			if err != nil {
				err = session.Wrap("ec2:DescribeInstances", n.Region, err)
				if session.Classify(err) == session.ClassNotFound {
					p.Findings = append(p.Findings, fmt.Sprintf("instance %s in %s is gone: its VPC is not known", n.Resource, n.Region))
					continue
				}
				return nil, nil, err
			}
			for _, r := range out.Reservations {
				for _, in := range r.Instances {
					add(n.Region, aws.ToString(in.VpcId), n.String())
				}
			}
		default:
			return nil, nil, fmt.Errorf("network %s: not a security group, instance or VPC", n)
		}
	}
	var refs []naclRef
	byID := map[string]ec2types.NetworkAcl{}
	for _, v := range vpcs {
		out, err := env.Sess.EC2(v.region).DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{
			Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{v.vpc}}}})
		if err != nil {
			return nil, nil, session.Wrap("ec2:DescribeNetworkAcls", v.region, err)
		}
		if len(out.NetworkAcls) == 0 {
			p.Findings = append(p.Findings, fmt.Sprintf("VPC %s in %s has no network ACL", v.vpc, v.region))
		}
		for _, acl := range out.NetworkAcls {
			id := aws.ToString(acl.NetworkAclId)
			refs = append(refs, naclRef{Region: v.region, ID: id, VPC: v.vpc})
			byID[v.region+"/"+id] = acl
		}
	}
	return refs, byID, nil
}

// readACLs reads the given network ACLs afresh.
func readACLs(ctx context.Context, env *Env, refs []naclRef) (map[string]ec2types.NetworkAcl, error) {
	byRegion := map[string][]string{}
	var regions []string
	for _, r := range refs {
		if !slices.Contains(regions, r.Region) {
			regions = append(regions, r.Region)
		}
		byRegion[r.Region] = append(byRegion[r.Region], r.ID)
	}
	out := map[string]ec2types.NetworkAcl{}
	for _, region := range regions {
		got, err := env.Sess.EC2(region).DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NetworkAclIds: byRegion[region]})
		if err != nil {
			return nil, session.Wrap("ec2:DescribeNetworkAcls", region, err)
		}
		for _, acl := range got.NetworkAcls {
			out[region+"/"+aws.ToString(acl.NetworkAclId)] = acl
		}
	}
	return out, nil
}

// denyEntry returns the rule number of acl's deny entry for cidr in the
// direction, or 0.
func denyEntry(acl ec2types.NetworkAcl, cidr string, egress bool) int32 {
	for _, e := range acl.Entries {
		if aws.ToBool(e.Egress) == egress && e.RuleAction == ec2types.RuleActionDeny && aws.ToString(e.Protocol) == "-1" &&
			(aws.ToString(e.CidrBlock) == cidr || aws.ToString(e.Ipv6CidrBlock) == cidr) {
			return aws.ToInt32(e.RuleNumber)
		}
	}
	return 0
}

// direction names a NACL direction.
func direction(egress bool) string {
	if egress {
		return "egress"
	}
	return "ingress"
}

// cidrParam is the CreateNetworkAclEntry parameter a CIDR block goes in.
func cidrParam(cidr string) string {
	if strings.Contains(cidr, ":") {
		return "Ipv6CidrBlock"
	}
	return "CidrBlock"
}

// Plan implements Action.
func (a *BlockIPs) Plan(ctx context.Context, env *Env) (*Plan, error) {
	if len(a.IPs) == 0 {
		return nil, fmt.Errorf("%s: no IP address given (and none known for the suspect families)", a.Name())
	}
	for i, s := range a.IPs {
		c, err := ParseBlockIP(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name(), err)
		}
		a.IPs[i] = c
	}
	p := &Plan{Action: a.Name(), Target: a.Target()}
	list := strings.Join(a.IPs, ", ")
	if a.Lift {
		p.Title = "Lift the block on source IPs " + list
		p.Undo = "block-ip " + strings.Join(a.IPs, " ")
	} else {
		p.Title = "Block source IPs " + list
		p.Undo = "block-ip " + strings.Join(a.IPs, " ") + " --undo (unblock-ip)"
		responder, problems := a.responderIPs(ctx, env)
		if len(responder) == 0 {
			why := "no call of warroom's own is in CloudTrail's event history yet"
			if len(problems) > 0 {
				why = strings.Join(problems, "; ")
			}
			return nil, fmt.Errorf("%s %s: %w: the responder's own source IP is not known (%s), so it cannot be kept out of the block; "+
				"try again once CloudTrail shows warroom's own calls", a.Name(), list, ErrSelfIP, why)
		}
		for _, c := range a.IPs {
			if hit := covers(c, responder); len(hit) > 0 {
				return nil, fmt.Errorf("%s %s: %w: %s covers %s, the address CloudTrail records for warroom's own calls "+
					"(with it denied, warroom could not act again, not even to undo this)", a.Name(), list, ErrSelfIP, c, strings.Join(hit, ", "))
			}
		}
		p.Findings = append(p.Findings, "the responder's own source IP ("+strings.Join(responder, ", ")+", from CloudTrail's record of warroom's calls) is not covered")
	}
	// The principals.
	ps, err := a.principalsToBlock(ctx, env, p)
	if err != nil {
		return nil, err
	}
	a.planned = nil
	changed, unchanged := 0, 0
	for _, t := range ps {
		have, err := readDenyIPs(ctx, env, t)
		if err != nil {
			return nil, err
		}
		cur := deniedIPs(have)
		var want []string
		if a.Lift {
			for _, c := range cur {
				if !slices.Contains(a.IPs, c) {
					want = append(want, c)
				}
			}
			if have == "" || len(want) == len(cur) {
				unchanged++
				continue
			}
		} else {
			want = slices.Clone(cur)
			for _, c := range a.IPs {
				if !slices.Contains(want, c) {
					want = append(want, c)
				}
			}
			if have != "" && len(want) == len(cur) {
				unchanged++
				a.planned = append(a.planned, t)
				continue
			}
		}
		a.planned = append(a.planned, t)
		doc := ""
		if len(want) > 0 {
			doc = DenyIPsDocument(want)
		}
		limit := RoleInlineCap
		if t.Kind == KindUser {
			limit = UserInlineCap
		}
		if policySize(doc) > limit {
			return nil, fmt.Errorf("%s: %s's %s policy would exceed IAM's inline size cap with %d blocks: block fewer, wider CIDR blocks", a.Name(), t, DenyIPsPolicyName, len(want))
		}
		p.Calls = append(p.Calls, policyCall(t, doc))
		changed++
	}
	verb := "deny"
	if a.Lift {
		verb = "no longer deny"
	}
	p.Findings = append(p.Findings, fmt.Sprintf("%d of %d principals get inline policy %s (%s requests from these IPs); %d already do",
		changed, len(ps), DenyIPsPolicyName, verb, unchanged))
	if len(a.Principals) == 0 {
		p.Findings = append(p.Findings, "principals: every user and role of the account (--principal to choose)")
	}
	// The network ACLs.
	refs, acls, err := a.aclsOf(ctx, env, p)
	if err != nil {
		return nil, err
	}
	// The network ACLs an earlier block acted on (an undo, a journaled
	// intent) are read again even when no network is given now.
	var prior []naclRef
	for _, r := range a.acls {
		if !slices.ContainsFunc(refs, func(x naclRef) bool { return x.Region == r.Region && x.ID == r.ID }) {
			prior = append(prior, r)
		}
	}
	if len(prior) > 0 {
		got, err := readACLs(ctx, env, prior)
		if err != nil {
			return nil, err
		}
		for _, r := range prior {
			if acl, ok := got[r.Region+"/"+r.ID]; ok {
				r.VPC = aws.ToString(acl.VpcId)
				acls[r.Region+"/"+r.ID] = acl
				refs = append(refs, r)
			}
		}
	}
	a.acls = refs
	if len(refs) == 0 {
		p.Findings = append(p.Findings, "no network the attacker opened is known: no network ACL is changed")
	}
	for _, r := range refs {
		acl := acls[r.Region+"/"+r.ID]
		for _, egress := range []bool{false, true} {
			used := map[int32]bool{}
			lowestAllow := int32(32767)
			for _, e := range acl.Entries {
				if aws.ToBool(e.Egress) == egress {
					used[aws.ToInt32(e.RuleNumber)] = true
					if e.RuleAction == ec2types.RuleActionAllow {
						lowestAllow = min(lowestAllow, aws.ToInt32(e.RuleNumber))
					}
				}
			}
			for _, c := range a.IPs {
				n := denyEntry(acl, c, egress)
				if a.Lift {
					if n != 0 {
						p.Calls = append(p.Calls, call("ec2:DeleteNetworkAclEntry", r.Region, "NetworkAclId", r.ID,
							"RuleNumber", strconv.Itoa(int(n)), "Egress", strconv.FormatBool(egress)))
					}
					continue
				}
				if n != 0 {
					p.Findings = append(p.Findings, fmt.Sprintf("network ACL %s (VPC %s, %s) already denies %s %s (rule %d)", r.ID, r.VPC, r.Region, direction(egress), c, n))
					continue
				}
				free := int32(1)
				for used[free] {
					free++
				}
				used[free] = true
				if free > lowestAllow {
					p.Warnings = append(p.Warnings, fmt.Sprintf("network ACL %s: the lowest free rule number, %d, comes after allow rule %d: the deny may not take effect",
						r.ID, free, lowestAllow))
				}
				p.Calls = append(p.Calls, call("ec2:CreateNetworkAclEntry", r.Region, "NetworkAclId", r.ID, "RuleNumber", strconv.Itoa(int(free)),
					"Protocol", "-1", "RuleAction", "deny", "Egress", strconv.FormatBool(egress), cidrParam(c), c))
			}
		}
		p.Findings = append(p.Findings, fmt.Sprintf("network ACL %s of VPC %s in %s (where the attacker opened access)", r.ID, r.VPC, r.Region))
	}
	if len(p.Calls) == 0 {
		p.Already = true
	} else {
		preflightEC2(ctx, env, p)
	}
	return p, nil
}

// Verify implements Action: every planned principal's policy and every
// network ACL read back.
func (a *BlockIPs) Verify(ctx context.Context, env *Env) (Verification, error) {
	var bad []string
	for _, t := range a.planned {
		doc, err := readDenyIPs(ctx, env, t)
		if err != nil {
			return Verification{}, err
		}
		cur := deniedIPs(doc)
		for _, c := range a.IPs {
			if slices.Contains(cur, c) == a.Lift {
				bad = append(bad, fmt.Sprintf("%s: %s %s", t, map[bool]string{false: "does not deny", true: "still denies"}[a.Lift], c))
			}
		}
	}
	acls, err := readACLs(ctx, env, a.acls)
	if err != nil {
		return Verification{}, err
	}
	for _, r := range a.acls {
		acl, ok := acls[r.Region+"/"+r.ID]
		if !ok {
			if !a.Lift {
				bad = append(bad, fmt.Sprintf("network ACL %s in %s is gone", r.ID, r.Region))
			}
			continue
		}
		for _, egress := range []bool{false, true} {
			for _, c := range a.IPs {
				if (denyEntry(acl, c, egress) != 0) == a.Lift {
					bad = append(bad, fmt.Sprintf("network ACL %s %s: %s %s", r.ID, direction(egress),
						map[bool]string{false: "no deny for", true: "still denies"}[a.Lift], c))
				}
			}
		}
	}
	what := fmt.Sprintf("%d principals and %d network ACLs", len(a.planned), len(a.acls))
	if len(bad) > 0 {
		return Verification{Detail: what + ": " + strings.Join(bad, "; ")}, nil
	}
	if a.Lift {
		return Verification{Holds: true, Detail: what + " no longer deny " + strings.Join(a.IPs, ", ")}, nil
	}
	return Verification{Holds: true, Detail: what + " deny " + strings.Join(a.IPs, ", ")}, nil
}

// blockFromIntent rebuilds block-ip or unblock-ip from its intent: the
// addresses from the target, the principals and network ACLs from the
// planned calls.
func blockFromIntent(in state.ActionIntent) (Action, bool, error) {
	if in.Action != "block-ip" && in.Action != "unblock-ip" {
		return nil, false, nil
	}
	t, err := ParseTarget(KindSourceIPs, in.Target, in.Region)
	if err != nil {
		return nil, true, fmt.Errorf("intent %s: %w", in.ActionID, err)
	}
	a := &BlockIPs{IPs: t.IDs, Lift: in.Action == "unblock-ip"}
	for _, c := range in.Plan {
		switch c.API {
		case "iam:PutUserPolicy", "iam:DeleteUserPolicy":
			a.planned = append(a.planned, Target{Kind: KindUser, ID: c.Params["UserName"]})
		case "iam:PutRolePolicy", "iam:DeleteRolePolicy":
			a.planned = append(a.planned, Target{Kind: KindRole, ID: c.Params["RoleName"]})
		case "ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAclEntry":
			r := naclRef{Region: c.Region, ID: c.Params["NetworkAclId"]}
			if !slices.Contains(a.acls, r) {
				a.acls = append(a.acls, r)
			}
		}
	}
	a.Principals = slices.Clone(a.planned)
	return a, true, nil
}

// BlockDefaults are block-ip's defaults as the journal tells them.
type BlockDefaults struct {
	// IPs are the source addresses of the suspect families' events that
	// are addresses (not AWS service names) and not the responder's, as
	// CIDR blocks, sorted.
	IPs []string `json:"ips"`
	// Responder are the source addresses of warroom's own calls ("ours").
	Responder []string `json:"responder"`
	// Owners are the addresses left out of IPs because they called with
	// a family key before the incident began (Store.AddressesBefore):
	// likely its owner's application, which a block would break.
	Owners []string `json:"owners,omitempty"`
	// Networks are the security groups the families opened ingress on and
	// the instances they launched.
	Networks []NetRef `json:"networks"`
	// Problems are what could not be read.
	Problems []string `json:"problems,omitempty"`
}

// DefaultsFromFold reads block-ip's defaults from the store: the suspect
// families (Store.SuspectSet's roots, each FindFamily) and warroom's own
// events.
func DefaultsFromFold(s *state.Store, raw Raw) BlockDefaults {
	var d BlockDefaults
	ips := func(filter string, add func(string)) {
		f, err := state.ParseFilter(filter)
		if err != nil {
			d.Problems = append(d.Problems, err.Error())
			return
		}
		res := s.Events.Query(f)
		for i := 0; i < res.Len(); i++ {
			if ip := s.Events.Event(res.At(i)).SourceIP; IsSourceAddress(ip) {
				add(ip)
			}
		}
	}
	ips("ours", func(ip string) {
		if !slices.Contains(d.Responder, ip) {
			d.Responder = append(d.Responder, ip)
		}
	})
	slices.Sort(d.Responder)
	for _, root := range s.SuspectSet().Roots {
		f := FindFamily(s, raw, root)
		d.Problems = append(d.Problems, f.Problems...)
		if len(f.Keys) > 0 {
			var owners []string
			for _, k := range f.Keys {
				owners = append(owners, s.AddressesBefore(k)...)
			}
			ips("key:"+strings.Join(f.Keys, ",")+" -ours", func(ip string) {
				if slices.Contains(d.Responder, ip) {
					return
				}
				if slices.Contains(owners, state.CanonicalIP(ip)) {
					if !slices.Contains(d.Owners, ip) {
						d.Owners = append(d.Owners, ip)
					}
					return
				}
				if c, err := ParseBlockIP(ip); err == nil && !slices.Contains(d.IPs, c) {
					d.IPs = append(d.IPs, c)
				}
			})
		}
		for _, g := range f.Ingress {
			if n := (NetRef{Region: g.Region, Resource: g.GroupID}); !slices.Contains(d.Networks, n) {
				d.Networks = append(d.Networks, n)
			}
		}
		for _, region := range sortedKeys(f.Instances) {
			for _, id := range f.Instances[region] {
				if n := (NetRef{Region: region, Resource: id}); !slices.Contains(d.Networks, n) {
					d.Networks = append(d.Networks, n)
				}
			}
		}
	}
	slices.Sort(d.IPs)
	slices.Sort(d.Owners)
	return d
}
