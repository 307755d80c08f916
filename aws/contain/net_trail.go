package contain

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// Network and logging footholds: security-group ingress an attacker
// opened, a trail it stopped or narrowed, a function permission it
// granted. Each action acts on exactly what it names and fails, naming
// the Region, when the resource is not there: a wrong Region must never
// read as "already done".

// ---- security-group ingress ----

// IngressRule is one ingress rule: a protocol ("tcp", "udp", "icmp", "-1"
// for all, or a number), a port range (ignored for "-1") and one IPv4 or
// IPv6 CIDR.
type IngressRule struct {
	Protocol string `json:"protocol"`
	FromPort int32  `json:"from_port"`
	ToPort   int32  `json:"to_port"`
	CIDR     string `json:"cidr"`
}

// String is the rule as plans show it: "tcp 22-22 from 0.0.0.0/0".
func (r IngressRule) String() string {
	if normProtocol(r.Protocol) == "-1" {
		return "all traffic from " + r.CIDR
	}
	return fmt.Sprintf("%s %d-%d from %s", normProtocol(r.Protocol), r.FromPort, r.ToPort, r.CIDR)
}

// ipv6 reports whether the rule's CIDR is IPv6.
func (r IngressRule) ipv6() bool { return strings.Contains(r.CIDR, ":") }

// normProtocol is a protocol as EC2 stores it.
func normProtocol(p string) string {
	switch strings.ToLower(p) {
	case "-1", "all":
		return "-1"
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "1":
		return "icmp"
	case "58":
		return "icmpv6"
	}
	return strings.ToLower(p)
}

// same reports whether two rules allow the same traffic from the same peer.
func (r IngressRule) same(o IngressRule) bool {
	p := normProtocol(r.Protocol)
	if p != normProtocol(o.Protocol) || r.CIDR != o.CIDR {
		return false
	}
	return p == "-1" || r.FromPort == o.FromPort && r.ToPort == o.ToPort
}

// ingressOf lists a group's ingress rules with a CIDR peer, one per CIDR.
func ingressOf(g ec2types.SecurityGroup) []IngressRule {
	var out []IngressRule
	for _, p := range g.IpPermissions {
		base := IngressRule{Protocol: normProtocol(aws.ToString(p.IpProtocol)), FromPort: aws.ToInt32(p.FromPort), ToPort: aws.ToInt32(p.ToPort)}
		for _, r := range p.IpRanges {
			x := base
			x.CIDR = aws.ToString(r.CidrIp)
			out = append(out, x)
		}
		for _, r := range p.Ipv6Ranges {
			x := base
			x.CIDR = aws.ToString(r.CidrIpv6)
			out = append(out, x)
		}
	}
	return out
}

// readGroup reads a security group's ingress. A group the Region does not
// hold is an error naming the Region.
func readGroup(ctx context.Context, env *Env, region, id string) ([]IngressRule, error) {
	out, err := env.Sess.EC2(region).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil {
		if session.Classify(err) == session.ClassNotFound {
			return nil, fmt.Errorf("security group %s does not exist in %s (ec2:DescribeSecurityGroups): %w", id, region,
				session.Wrap("ec2:DescribeSecurityGroups", region, err))
		}
		return nil, session.Wrap("ec2:DescribeSecurityGroups", region, err)
	}
	for _, g := range out.SecurityGroups {
		if aws.ToString(g.GroupId) == id {
			return ingressOf(g), nil
		}
	}
	return nil, fmt.Errorf("security group %s does not exist in %s (ec2:DescribeSecurityGroups answered without it)", id, region)
}

// checkRules refuses rules that are not one CIDR each.
func checkRules(rules []IngressRule) error {
	if len(rules) == 0 {
		return fmt.Errorf("no ingress rules given")
	}
	for _, r := range rules {
		if _, _, err := net.ParseCIDR(r.CIDR); err != nil {
			return fmt.Errorf("ingress rule %s: %q is not a CIDR", r, r.CIDR)
		}
	}
	return nil
}

// rulesParam is the rules as a call parameter (JSON, shown verbatim in
// the plan and the journal).
func rulesParam(rules []IngressRule) string {
	b, _ := json.Marshal(rules)
	return string(b)
}

// ipPermissions turns rules into the EC2 API's IpPermissions.
func ipPermissions(rules []IngressRule) []ec2types.IpPermission {
	out := make([]ec2types.IpPermission, 0, len(rules))
	for _, r := range rules {
		p := ec2types.IpPermission{IpProtocol: aws.String(normProtocol(r.Protocol))}
		if normProtocol(r.Protocol) != "-1" {
			p.FromPort, p.ToPort = aws.Int32(r.FromPort), aws.Int32(r.ToPort)
		}
		if r.ipv6() {
			p.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(r.CIDR)}}
		} else {
			p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(r.CIDR)}}
		}
		out = append(out, p)
	}
	return out
}

// RevokeIngress revokes exactly the given ingress rules of a security
// group (the ones an attacker added) and nothing else.
type RevokeIngress struct {
	Region  string
	GroupID string
	Rules   []IngressRule

	revoked []IngressRule // what the last plan found present
}

// Name implements Action.
func (a *RevokeIngress) Name() string { return "revoke-ingress" }

// Target implements Action.
func (a *RevokeIngress) Target() Target {
	return Target{Kind: KindSecurityGroup, ID: a.GroupID, Region: a.Region}
}

// Plan implements Action.
func (a *RevokeIngress) Plan(ctx context.Context, env *Env) (*Plan, error) {
	if err := checkRules(a.Rules); err != nil {
		return nil, fmt.Errorf("revoke-ingress %s in %s: %w", a.GroupID, a.Region, err)
	}
	have, err := readGroup(ctx, env, a.Region, a.GroupID)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Revoke %d ingress rule(s) of %s in %s", len(a.Rules), a.GroupID, a.Region),
		Undo: "authorize the same rules again"}
	var present []IngressRule
	for _, r := range a.Rules {
		if slices.ContainsFunc(have, r.same) {
			present = append(present, r)
			pl.Findings = append(pl.Findings, "open: "+r.String()+" (revoked)")
		} else {
			pl.Findings = append(pl.Findings, "not present: "+r.String())
		}
	}
	if kept := len(have) - len(present); kept > 0 {
		pl.Findings = append(pl.Findings, fmt.Sprintf("%d other ingress rule(s) of %s are left as they are", kept, a.GroupID))
	}
	a.revoked = present
	if len(present) == 0 {
		pl.Already = true
		return pl, nil
	}
	pl.Prior = present
	pl.Calls = []state.Call{call("ec2:RevokeSecurityGroupIngress", a.Region, "GroupId", a.GroupID, "IpPermissions", rulesParam(present))}
	preflightEC2(ctx, env, pl)
	return pl, nil
}

// Verify implements Action.
func (a *RevokeIngress) Verify(ctx context.Context, env *Env) (Verification, error) {
	have, err := readGroup(ctx, env, a.Region, a.GroupID)
	if err != nil {
		return Verification{}, err
	}
	var open []string
	for _, r := range a.Rules {
		if slices.ContainsFunc(have, r.same) {
			open = append(open, r.String())
		}
	}
	if len(open) > 0 {
		return Verification{Detail: a.GroupID + " still allows " + strings.Join(open, ", ")}, nil
	}
	return Verification{Holds: true, Detail: fmt.Sprintf("none of the %d rule(s) is open on %s", len(a.Rules), a.GroupID)}, nil
}

// Undo implements Undoer: the rules the run revoked are authorized again.
func (a *RevokeIngress) Undo() Action {
	rules := a.revoked
	if len(rules) == 0 {
		rules = a.Rules
	}
	return &AuthorizeIngress{Region: a.Region, GroupID: a.GroupID, Rules: slices.Clone(rules)}
}

// AuthorizeIngress authorizes ingress rules on a security group; it undoes
// RevokeIngress.
type AuthorizeIngress struct {
	Region  string
	GroupID string
	Rules   []IngressRule
}

// Name implements Action.
func (a *AuthorizeIngress) Name() string { return "authorize-ingress" }

// Target implements Action.
func (a *AuthorizeIngress) Target() Target {
	return Target{Kind: KindSecurityGroup, ID: a.GroupID, Region: a.Region}
}

// Plan implements Action.
func (a *AuthorizeIngress) Plan(ctx context.Context, env *Env) (*Plan, error) {
	if err := checkRules(a.Rules); err != nil {
		return nil, fmt.Errorf("authorize-ingress %s in %s: %w", a.GroupID, a.Region, err)
	}
	have, err := readGroup(ctx, env, a.Region, a.GroupID)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Authorize %d ingress rule(s) on %s in %s", len(a.Rules), a.GroupID, a.Region),
		Undo: "revoke-ingress"}
	var missing []IngressRule
	for _, r := range a.Rules {
		if !slices.ContainsFunc(have, r.same) {
			missing = append(missing, r)
			pl.Findings = append(pl.Findings, "opens: "+r.String())
		}
	}
	if len(missing) == 0 {
		pl.Already = true
		pl.Findings = append(pl.Findings, "every rule is already open")
		return pl, nil
	}
	pl.Calls = []state.Call{call("ec2:AuthorizeSecurityGroupIngress", a.Region, "GroupId", a.GroupID, "IpPermissions", rulesParam(missing))}
	preflightEC2(ctx, env, pl)
	return pl, nil
}

// Verify implements Action.
func (a *AuthorizeIngress) Verify(ctx context.Context, env *Env) (Verification, error) {
	have, err := readGroup(ctx, env, a.Region, a.GroupID)
	if err != nil {
		return Verification{}, err
	}
	for _, r := range a.Rules {
		if !slices.ContainsFunc(have, r.same) {
			return Verification{Detail: a.GroupID + " does not allow " + r.String()}, nil
		}
	}
	return Verification{Holds: true, Detail: fmt.Sprintf("all %d rule(s) are open on %s", len(a.Rules), a.GroupID)}, nil
}

// Undo implements Undoer.
func (a *AuthorizeIngress) Undo() Action {
	return &RevokeIngress{Region: a.Region, GroupID: a.GroupID, Rules: slices.Clone(a.Rules)}
}

// ---- trails ----

// trailInfo is a trail as DescribeTrails shows it from a Region.
type trailInfo struct {
	Name, ARN, Home, Bucket string
	MultiRegion             bool
}

// readTrail finds a trail by name or ARN as seen from region. A trail
// that is not there is an error naming the trail and the Region.
func readTrail(ctx context.Context, env *Env, region, name string) (trailInfo, error) {
	out, err := env.Sess.CloudTrail(region).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{name}})
	if err != nil {
		return trailInfo{}, session.Wrap("cloudtrail:DescribeTrails", region, err)
	}
	for _, t := range out.TrailList {
		if aws.ToString(t.Name) == name || aws.ToString(t.TrailARN) == name {
			return trailInfo{Name: aws.ToString(t.Name), ARN: aws.ToString(t.TrailARN), Home: aws.ToString(t.HomeRegion),
				Bucket: aws.ToString(t.S3BucketName), MultiRegion: aws.ToBool(t.IsMultiRegionTrail)}, nil
		}
	}
	return trailInfo{}, fmt.Errorf("trail %q does not exist in %s (cloudtrail:DescribeTrails): deleted? see RecreateTrailCommand", name, region)
}

// trailLogging reads whether a trail logs.
func trailLogging(ctx context.Context, env *Env, region string, t trailInfo) (bool, error) {
	st, err := env.Sess.CloudTrail(region).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(t.ARN)})
	if err != nil {
		return false, session.Wrap("cloudtrail:GetTrailStatus", region, err)
	}
	return aws.ToBool(st.IsLogging), nil
}

// StartLogging starts a trail's logging again (an attacker's StopLogging).
type StartLogging struct {
	Region string
	Trail  string
}

// Name implements Action.
func (a *StartLogging) Name() string { return "start-logging" }

// Target implements Action.
func (a *StartLogging) Target() Target { return Target{Kind: KindTrail, ID: a.Trail, Region: a.Region} }

// Plan implements Action.
func (a *StartLogging) Plan(ctx context.Context, env *Env) (*Plan, error) {
	return planLogging(ctx, env, a.Name(), a.Target(), a.Region, a.Trail, true)
}

// Verify implements Action.
func (a *StartLogging) Verify(ctx context.Context, env *Env) (Verification, error) {
	return verifyLogging(ctx, env, a.Region, a.Trail, true)
}

// Undo implements Undoer.
func (a *StartLogging) Undo() Action { return &StopLogging{Region: a.Region, Trail: a.Trail} }

// StopLogging stops a trail's logging; it undoes StartLogging.
type StopLogging struct {
	Region string
	Trail  string
}

// Name implements Action.
func (a *StopLogging) Name() string { return "stop-logging" }

// Target implements Action.
func (a *StopLogging) Target() Target { return Target{Kind: KindTrail, ID: a.Trail, Region: a.Region} }

// Plan implements Action.
func (a *StopLogging) Plan(ctx context.Context, env *Env) (*Plan, error) {
	return planLogging(ctx, env, a.Name(), a.Target(), a.Region, a.Trail, false)
}

// Verify implements Action.
func (a *StopLogging) Verify(ctx context.Context, env *Env) (Verification, error) {
	return verifyLogging(ctx, env, a.Region, a.Trail, false)
}

// Undo implements Undoer.
func (a *StopLogging) Undo() Action { return &StartLogging{Region: a.Region, Trail: a.Trail} }

func planLogging(ctx context.Context, env *Env, action string, target Target, region, name string, on bool) (*Plan, error) {
	t, err := readTrail(ctx, env, region, name)
	if err != nil {
		return nil, err
	}
	logging, err := trailLogging(ctx, env, region, t)
	if err != nil {
		return nil, err
	}
	verb, api, undo := "Start", "cloudtrail:StartLogging", "stop-logging"
	if !on {
		verb, api, undo = "Stop", "cloudtrail:StopLogging", "start-logging"
	}
	pl := &Plan{Action: action, Target: target, Title: fmt.Sprintf("%s logging of trail %s (home %s)", verb, t.Name, t.Home), Undo: undo}
	if logging == on {
		pl.Already = true
		pl.Findings = append(pl.Findings, fmt.Sprintf("trail %s: logging is %v", t.Name, logging))
		return pl, nil
	}
	pl.Findings = append(pl.Findings, fmt.Sprintf("trail %s (bucket %s): logging is %v", t.Name, t.Bucket, logging))
	// Start/StopLogging are accepted only in the trail's home Region.
	pl.Calls = []state.Call{call(api, t.Home, "Name", t.ARN)}
	return pl, nil
}

func verifyLogging(ctx context.Context, env *Env, region, name string, on bool) (Verification, error) {
	t, err := readTrail(ctx, env, region, name)
	if err != nil {
		return Verification{}, err
	}
	logging, err := trailLogging(ctx, env, region, t)
	if err != nil {
		return Verification{}, err
	}
	d := fmt.Sprintf("trail %s: IsLogging=%v", t.Name, logging)
	return Verification{Holds: logging == on, Detail: d}, nil
}

// selector is an event selector in canonical form, for comparing.
type selector struct {
	ReadWriteType                 string         `json:"ReadWriteType"`
	IncludeManagementEvents       bool           `json:"IncludeManagementEvents"`
	DataResources                 []dataResource `json:"DataResources"`
	ExcludeManagementEventSources []string       `json:"ExcludeManagementEventSources"`
}

type dataResource struct {
	Type   string   `json:"Type"`
	Values []string `json:"Values"`
}

// canonicalSelectors parses selectors JSON (the EventSelectors list as the
// API takes it) and returns it in canonical form, defaults filled in.
func canonicalSelectors(raw string) (string, []selector, error) {
	var in []struct {
		ReadWriteType                 string
		IncludeManagementEvents       *bool
		DataResources                 []dataResource
		ExcludeManagementEventSources []string
	}
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return "", nil, fmt.Errorf("event selectors are not a JSON list of selectors: %w", err)
	}
	if len(in) == 0 {
		return "", nil, fmt.Errorf("event selectors: the list is empty")
	}
	out := make([]selector, 0, len(in))
	for _, s := range in {
		c := selector{ReadWriteType: s.ReadWriteType, IncludeManagementEvents: s.IncludeManagementEvents == nil || *s.IncludeManagementEvents,
			DataResources: s.DataResources, ExcludeManagementEventSources: s.ExcludeManagementEventSources}
		if c.ReadWriteType == "" {
			c.ReadWriteType = "All"
		}
		if c.DataResources == nil {
			c.DataResources = []dataResource{}
		}
		for i := range c.DataResources {
			if c.DataResources[i].Values == nil {
				c.DataResources[i].Values = []string{}
			}
		}
		if c.ExcludeManagementEventSources == nil {
			c.ExcludeManagementEventSources = []string{}
		}
		out = append(out, c)
	}
	b, _ := json.Marshal(out)
	return string(b), out, nil
}

// readSelectors reads a trail's event selectors as canonical JSON.
func readSelectors(ctx context.Context, env *Env, region string, t trailInfo) (string, error) {
	out, err := env.Sess.CloudTrail(region).GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(t.ARN)})
	if err != nil {
		return "", session.Wrap("cloudtrail:GetEventSelectors", region, err)
	}
	if len(out.AdvancedEventSelectors) > 0 {
		return "", fmt.Errorf("trail %s in %s uses advanced event selectors, which restore-event-selectors does not handle", t.Name, region)
	}
	b, err := json.Marshal(out.EventSelectors)
	if err != nil {
		return "", err
	}
	c, _, err := canonicalSelectors(string(b))
	return c, err
}

// RestoreEventSelectors puts a trail's known-good event selectors back
// (an attacker narrowed what the trail logs).
type RestoreEventSelectors struct {
	Region string
	Trail  string
	// Selectors is the JSON of the known-good EventSelectors list, as
	// PutEventSelectors takes it.
	Selectors string

	prior string // the selectors the last plan found
}

// Name implements Action.
func (a *RestoreEventSelectors) Name() string { return "restore-event-selectors" }

// Target implements Action.
func (a *RestoreEventSelectors) Target() Target {
	return Target{Kind: KindTrail, ID: a.Trail, Region: a.Region}
}

// Plan implements Action.
func (a *RestoreEventSelectors) Plan(ctx context.Context, env *Env) (*Plan, error) {
	want, _, err := canonicalSelectors(a.Selectors)
	if err != nil {
		return nil, fmt.Errorf("restore-event-selectors %s: %w", a.Trail, err)
	}
	t, err := readTrail(ctx, env, a.Region, a.Trail)
	if err != nil {
		return nil, err
	}
	have, err := readSelectors(ctx, env, a.Region, t)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Restore the event selectors of trail %s (home %s)", t.Name, t.Home),
		Undo: "put the selectors found now back"}
	if have == want {
		pl.Already = true
		pl.Findings = append(pl.Findings, "the selectors are already "+want)
		return pl, nil
	}
	a.prior = have
	pl.Prior = json.RawMessage(have)
	pl.Findings = append(pl.Findings, "now: "+have, "restored to: "+want)
	pl.Calls = []state.Call{call("cloudtrail:PutEventSelectors", t.Home, "TrailName", t.ARN, "EventSelectors", want)}
	return pl, nil
}

// Verify implements Action.
func (a *RestoreEventSelectors) Verify(ctx context.Context, env *Env) (Verification, error) {
	want, _, err := canonicalSelectors(a.Selectors)
	if err != nil {
		return Verification{}, err
	}
	t, err := readTrail(ctx, env, a.Region, a.Trail)
	if err != nil {
		return Verification{}, err
	}
	have, err := readSelectors(ctx, env, a.Region, t)
	if err != nil {
		return Verification{}, err
	}
	if have != want {
		return Verification{Detail: "trail " + t.Name + " selectors are " + have}, nil
	}
	return Verification{Holds: true, Detail: "trail " + t.Name + " selectors are the known-good ones"}, nil
}

// Undo implements Undoer: the selectors found by the run go back. Nil
// when this value never planned a change (the prior state is unknown).
func (a *RestoreEventSelectors) Undo() Action {
	if a.prior == "" {
		return nil
	}
	return &RestoreEventSelectors{Region: a.Region, Trail: a.Trail, Selectors: a.prior}
}

// safeArg matches command-line words that need no quoting.
var safeArg = regexp.MustCompile(`^[A-Za-z0-9._:/@+=,-]+$`)

// shellQuote quotes s for a POSIX shell: trail and bucket names come from
// CloudTrail records, so from the attacker.
func shellQuote(s string) string {
	if safeArg.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// RecreateTrailCommand is the exact AWS CLI command that recreates a
// deleted trail and starts its logging. AWS cannot undelete a trail, so
// warroom prints this for the responder rather than running it: the
// bucket's policy, KMS key and notifications need a human's eye.
func RecreateTrailCommand(name, bucket, region string, multiRegion bool) string {
	create := []string{"aws", "cloudtrail", "create-trail", "--name", shellQuote(name), "--s3-bucket-name", shellQuote(bucket)}
	if multiRegion {
		create = append(create, "--is-multi-region-trail")
	}
	create = append(create, "--region", shellQuote(region))
	start := []string{"aws", "cloudtrail", "start-logging", "--name", shellQuote(name), "--region", shellQuote(region)}
	return strings.Join(create, " ") + " && " + strings.Join(start, " ")
}

// ---- function permissions ----

// lambdaPolicy is a function's resource policy as GetPolicy returns it.
type lambdaPolicy struct {
	Statement []json.RawMessage `json:"Statement"`
}

// readFunctionPolicy checks the function exists in region (an error
// naming the Region if not) and returns its policy's statements by Sid.
func readFunctionPolicy(ctx context.Context, env *Env, region, function string) (map[string]json.RawMessage, error) {
	cl := env.Sess.Lambda(region)
	if _, err := cl.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(function)}); err != nil {
		if session.Classify(err) == session.ClassNotFound {
			return nil, fmt.Errorf("function %s does not exist in %s (lambda:GetFunction): %w", function, region,
				session.Wrap("lambda:GetFunction", region, err))
		}
		return nil, session.Wrap("lambda:GetFunction", region, err)
	}
	out := map[string]json.RawMessage{}
	pol, err := cl.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(function)})
	if err != nil {
		if session.Classify(err) == session.ClassNotFound {
			return out, nil // the function has no resource policy
		}
		return nil, session.Wrap("lambda:GetPolicy", region, err)
	}
	var doc lambdaPolicy
	if err := json.Unmarshal([]byte(aws.ToString(pol.Policy)), &doc); err != nil {
		return nil, fmt.Errorf("lambda:GetPolicy in %s: the policy of %s is not JSON: %w", region, function, err)
	}
	for _, raw := range doc.Statement {
		var st struct{ Sid string }
		if json.Unmarshal(raw, &st) == nil {
			out[st.Sid] = raw
		}
	}
	return out, nil
}

// RemovePermission removes one statement of a Lambda function's resource
// policy (a permission an attacker granted, such as invoke for anyone).
type RemovePermission struct {
	Region      string
	Function    string
	StatementID string

	prior json.RawMessage // the statement the last plan found
}

// Name implements Action.
func (a *RemovePermission) Name() string { return "remove-function-permission" }

// Target implements Action.
func (a *RemovePermission) Target() Target {
	return Target{Kind: KindFunction, ID: a.Function, Region: a.Region}
}

// Plan implements Action.
func (a *RemovePermission) Plan(ctx context.Context, env *Env) (*Plan, error) {
	sts, err := readFunctionPolicy(ctx, env, a.Region, a.Function)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(),
		Title: fmt.Sprintf("Remove permission %s from Lambda function %s in %s", a.StatementID, a.Function, a.Region),
		Undo:  "add the statement back"}
	st, ok := sts[a.StatementID]
	if !ok {
		pl.Already = true
		pl.Findings = append(pl.Findings, "the policy of "+a.Function+" has no statement "+a.StatementID)
		return pl, nil
	}
	a.prior = st
	pl.Prior = st
	pl.Findings = append(pl.Findings, "statement: "+string(st))
	pl.Calls = []state.Call{call("lambda:RemovePermission", a.Region, "FunctionName", a.Function, "StatementId", a.StatementID)}
	return pl, nil
}

// Verify implements Action.
func (a *RemovePermission) Verify(ctx context.Context, env *Env) (Verification, error) {
	sts, err := readFunctionPolicy(ctx, env, a.Region, a.Function)
	if err != nil {
		return Verification{}, err
	}
	if _, ok := sts[a.StatementID]; ok {
		return Verification{Detail: "the policy of " + a.Function + " still holds statement " + a.StatementID}, nil
	}
	return Verification{Holds: true, Detail: "the policy of " + a.Function + " has no statement " + a.StatementID}, nil
}

// Undo implements Undoer: the removed statement is added back. Nil when
// this value never removed one (the statement is unknown).
func (a *RemovePermission) Undo() Action {
	if a.prior == nil {
		return nil
	}
	return &AddPermission{Region: a.Region, Function: a.Function, Statement: string(a.prior)}
}

// AddPermission adds a statement to a Lambda function's resource policy;
// it undoes RemovePermission.
type AddPermission struct {
	Region   string
	Function string
	// Statement is the statement as GetPolicy shows it (Sid, Principal,
	// Action, Condition with AWS:SourceArn / AWS:SourceAccount).
	Statement string
}

// Name implements Action.
func (a *AddPermission) Name() string { return "add-function-permission" }

// Target implements Action.
func (a *AddPermission) Target() Target {
	return Target{Kind: KindFunction, ID: a.Function, Region: a.Region}
}

// permissionParams turns a policy statement into AddPermission's
// parameters.
func permissionParams(statement string) (map[string]string, error) {
	var st struct {
		Sid       string
		Action    any
		Principal any
		Condition map[string]map[string]string
	}
	if err := json.Unmarshal([]byte(statement), &st); err != nil {
		return nil, fmt.Errorf("statement is not JSON: %w", err)
	}
	action, _ := st.Action.(string)
	if st.Sid == "" || action == "" {
		return nil, fmt.Errorf("statement %q has no Sid or single Action", st.Sid)
	}
	p := map[string]string{"StatementId": st.Sid, "Action": action}
	switch pr := st.Principal.(type) {
	case string:
		p["Principal"] = pr
	case map[string]any:
		for _, k := range []string{"Service", "AWS"} {
			if v, ok := pr[k].(string); ok {
				p["Principal"] = v
			}
		}
	}
	if p["Principal"] == "" {
		return nil, fmt.Errorf("statement %s: principal %v cannot be given to AddPermission", st.Sid, st.Principal)
	}
	for _, cond := range st.Condition {
		for k, v := range cond {
			switch strings.ToLower(k) {
			case "aws:sourcearn":
				p["SourceArn"] = v
			case "aws:sourceaccount":
				p["SourceAccount"] = v
			}
		}
	}
	return p, nil
}

// Plan implements Action.
func (a *AddPermission) Plan(ctx context.Context, env *Env) (*Plan, error) {
	params, err := permissionParams(a.Statement)
	if err != nil {
		return nil, fmt.Errorf("add-function-permission %s in %s: %w", a.Function, a.Region, err)
	}
	sts, err := readFunctionPolicy(ctx, env, a.Region, a.Function)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(),
		Title: fmt.Sprintf("Add permission %s to Lambda function %s in %s", params["StatementId"], a.Function, a.Region),
		Undo:  "remove-function-permission"}
	if _, ok := sts[params["StatementId"]]; ok {
		pl.Already = true
		pl.Findings = append(pl.Findings, "the policy already holds statement "+params["StatementId"])
		return pl, nil
	}
	c := call("lambda:AddPermission", a.Region, "FunctionName", a.Function)
	for k, v := range params {
		c.Params[k] = v
	}
	pl.Calls = []state.Call{c}
	return pl, nil
}

// Verify implements Action.
func (a *AddPermission) Verify(ctx context.Context, env *Env) (Verification, error) {
	params, err := permissionParams(a.Statement)
	if err != nil {
		return Verification{}, err
	}
	sts, err := readFunctionPolicy(ctx, env, a.Region, a.Function)
	if err != nil {
		return Verification{}, err
	}
	if _, ok := sts[params["StatementId"]]; !ok {
		return Verification{Detail: "the policy of " + a.Function + " has no statement " + params["StatementId"]}, nil
	}
	return Verification{Holds: true, Detail: "the policy of " + a.Function + " holds statement " + params["StatementId"]}, nil
}

// Undo implements Undoer.
func (a *AddPermission) Undo() Action {
	params, err := permissionParams(a.Statement)
	if err != nil {
		return nil
	}
	return &RemovePermission{Region: a.Region, Function: a.Function, StatementID: params["StatementId"]}
}

// eventSelectorsOf turns canonical selectors JSON into the API's type.
func eventSelectorsOf(raw string) ([]cttypes.EventSelector, error) {
	_, sels, err := canonicalSelectors(raw)
	if err != nil {
		return nil, err
	}
	out := make([]cttypes.EventSelector, 0, len(sels))
	for _, s := range sels {
		es := cttypes.EventSelector{ReadWriteType: cttypes.ReadWriteType(s.ReadWriteType), IncludeManagementEvents: aws.Bool(s.IncludeManagementEvents),
			ExcludeManagementEventSources: s.ExcludeManagementEventSources}
		for _, d := range s.DataResources {
			es.DataResources = append(es.DataResources, cttypes.DataResource{Type: aws.String(d.Type), Values: d.Values})
		}
		out = append(out, es)
	}
	return out, nil
}

// ingressParam reads the IpPermissions parameter of a plan's call.
func ingressParam(raw string) ([]ec2types.IpPermission, error) {
	var rules []IngressRule
	if err := json.Unmarshal([]byte(raw), &rules); err != nil {
		return nil, fmt.Errorf("IpPermissions: %w", err)
	}
	return ipPermissions(rules), nil
}
