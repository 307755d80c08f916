package contain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// instance is an instance as read just now.
type instance struct {
	ID      string
	State   string
	Spot    string // spot request id
	Volumes []string
	Tags    map[string]string
}

// readInstances describes ids in region. Ids AWS no longer knows are
// absent from the map.
func readInstances(ctx context.Context, env *Env, region string, ids []string) (map[string]instance, error) {
	out := map[string]instance{}
	if len(ids) == 0 {
		return out, nil
	}
	pages := ec2.NewDescribeInstancesPaginator(env.Sess.EC2(region), &ec2.DescribeInstancesInput{InstanceIds: ids})
	for pages.HasMorePages() {
		pg, err := pages.NextPage(ctx)
		if err != nil {
			if session.Classify(err) == session.ClassNotFound && len(ids) > 1 {
				// One unknown id fails the whole call: ask one by one.
				for _, id := range ids {
					one, err := readInstances(ctx, env, region, []string{id})
					if err != nil {
						return nil, err
					}
					for k, v := range one {
						out[k] = v
					}
				}
				return out, nil
			}
			if session.Classify(err) == session.ClassNotFound {
				return out, nil
			}
			return nil, session.Wrap("ec2:DescribeInstances", region, err)
		}
		for _, r := range pg.Reservations {
			for _, in := range r.Instances {
				i := instance{ID: aws.ToString(in.InstanceId), Spot: aws.ToString(in.SpotInstanceRequestId), Tags: map[string]string{}}
				if in.State != nil {
					i.State = string(in.State.Name)
				}
				for _, bd := range in.BlockDeviceMappings {
					if bd.Ebs != nil && bd.Ebs.VolumeId != nil {
						i.Volumes = append(i.Volumes, aws.ToString(bd.Ebs.VolumeId))
					}
				}
				for _, t := range in.Tags {
					i.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
				out[i.ID] = i
			}
		}
	}
	return out, nil
}

// protection reads an instance's termination or stop protection.
func protection(ctx context.Context, env *Env, region, id string, attr ec2types.InstanceAttributeName) (bool, error) {
	out, err := env.Sess.EC2(region).DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: attr})
	if err != nil {
		return false, session.Wrap("ec2:DescribeInstanceAttribute", region, err)
	}
	switch attr {
	case ec2types.InstanceAttributeNameDisableApiTermination:
		return out.DisableApiTermination != nil && aws.ToBool(out.DisableApiTermination.Value), nil
	case ec2types.InstanceAttributeNameDisableApiStop:
		return out.DisableApiStop != nil && aws.ToBool(out.DisableApiStop.Value), nil
	}
	return false, nil
}

// unprotect returns the calls that turn off the protection that would
// block stopping (or terminating) id, with findings. Attackers set both.
func unprotect(ctx context.Context, env *Env, region, id string, terminate bool) ([]state.Call, []string, error) {
	attr, param, what := ec2types.InstanceAttributeNameDisableApiStop, "DisableApiStop", "stop protection"
	if terminate {
		attr, param, what = ec2types.InstanceAttributeNameDisableApiTermination, "DisableApiTermination", "termination protection"
	}
	on, err := protection(ctx, env, region, id, attr)
	if err != nil || !on {
		return nil, nil, err
	}
	return []state.Call{call("ec2:ModifyInstanceAttribute", region, "InstanceId", id, param, "false")},
		[]string{fmt.Sprintf("%s has %s on: it is turned off first (journaled)", id, what)}, nil
}

// StopInstances stops, or with Terminate terminates, instances in one
// Region. It reads and turns off stop or termination protection first
// (the calls are part of the plan, so the journal records them). With
// Snapshot, each EBS volume is snapshotted for evidence before
// termination.
type StopInstances struct {
	Region    string
	IDs       []string
	Terminate bool
	Snapshot  bool
}

// Name implements Action.
func (a *StopInstances) Name() string {
	if a.Terminate {
		return "terminate-instances"
	}
	return "stop-instances"
}

// Target implements Action.
func (a *StopInstances) Target() Target {
	return Target{Kind: KindInstances, IDs: a.IDs, Region: a.Region}
}

func (a *StopInstances) done(st string) bool {
	if a.Terminate {
		return st == "shutting-down" || st == "terminated"
	}
	return st == "stopping" || st == "stopped" || st == "shutting-down" || st == "terminated"
}

// Plan implements Action.
func (a *StopInstances) Plan(ctx context.Context, env *Env) (*Plan, error) {
	if a.Region == "" || len(a.IDs) == 0 {
		return nil, errors.New("instances: a Region and at least one instance id are needed")
	}
	ins, err := readInstances(ctx, env, a.Region, a.IDs)
	if err != nil {
		return nil, err
	}
	verb := "Stop"
	pl := &Plan{Action: a.Name(), Target: a.Target(), Undo: "start the instances again (ec2:StartInstances)"}
	if a.Terminate {
		verb, pl.Irreversible, pl.Undo = "Terminate", true, CannotUndo
	}
	pl.Title = fmt.Sprintf("%s %d instances in %s", verb, len(a.IDs), a.Region)
	var act []string
	for _, id := range a.IDs {
		in, ok := ins[id]
		switch {
		case !ok:
			pl.Findings = append(pl.Findings, id+": not found (gone)")
			continue
		case a.done(in.State):
			pl.Findings = append(pl.Findings, id+": already "+in.State)
			continue
		case !a.Terminate && in.Spot != "":
			pl.Findings = append(pl.Findings, fmt.Sprintf("%s: a spot instance of %s cannot be stopped: cancel-spot %s (cancels, then terminates)", id, in.Spot, in.Spot))
			continue
		}
		calls, finds, err := unprotect(ctx, env, a.Region, id, a.Terminate)
		if err != nil {
			return nil, err
		}
		if a.Terminate {
			// Stop protection does not block termination at AWS, but an
			// attacker who set it wants the instance kept: record and lift it.
			c2, f2, err := unprotect(ctx, env, a.Region, id, false)
			if err != nil {
				return nil, err
			}
			calls, finds = append(calls, c2...), append(finds, f2...)
		}
		pl.Calls = append(pl.Calls, calls...)
		pl.Findings = append(pl.Findings, finds...)
		if a.Terminate && a.Snapshot {
			if len(in.Volumes) == 0 {
				pl.Findings = append(pl.Findings, id+": no EBS volume reported, so no evidence snapshot")
			}
			for _, v := range in.Volumes {
				pl.Calls = append(pl.Calls, call("ec2:CreateSnapshot", a.Region, "VolumeId", v,
					"Description", fmt.Sprintf("warroom evidence %s %s", env.Incident, id)))
			}
		}
		pl.Findings = append(pl.Findings, fmt.Sprintf("%s: %s → %s", id, in.State, map[bool]string{true: "terminated", false: "stopped"}[a.Terminate]))
		act = append(act, id)
	}
	if len(act) == 0 {
		pl.Already = true
		return pl, nil
	}
	if !a.Terminate && slices.ContainsFunc(pl.Calls, func(c state.Call) bool { return c.API == "ec2:ModifyInstanceAttribute" }) {
		pl.Undo += " and turn their stop protection back on (ec2:ModifyInstanceAttribute)"
	}
	c := call("ec2:"+verb+"Instances", a.Region, "InstanceIds", strings.Join(act, ","))
	c.Irreversible = a.Terminate
	pl.Calls = append(pl.Calls, c)
	preflightEC2(ctx, env, pl)
	return pl, nil
}

// Verify implements Action.
func (a *StopInstances) Verify(ctx context.Context, env *Env) (Verification, error) {
	ins, err := readInstances(ctx, env, a.Region, a.IDs)
	if err != nil {
		return Verification{}, err
	}
	var bad, good []string
	for _, id := range a.IDs {
		in, ok := ins[id]
		switch {
		case !ok:
			good = append(good, id+" gone")
		case a.done(in.State), !a.Terminate && in.Spot != "" && in.State == "terminated":
			good = append(good, id+" "+in.State)
		default:
			bad = append(bad, id+" "+in.State)
		}
	}
	if len(bad) > 0 {
		return Verification{Detail: "not yet: " + strings.Join(bad, ", ")}, nil
	}
	return Verification{Holds: true, Detail: strings.Join(good, ", ")}, nil
}

// CancelSpot cancels spot instance requests, then terminates their
// instances, in that order: terminating a persistent request's instance
// first makes AWS launch a replacement, and cancelling alone leaves the
// instances running.
type CancelSpot struct {
	Region string
	IDs    []string
}

// Name implements Action.
func (a *CancelSpot) Name() string { return "cancel-spot" }

// Target implements Action.
func (a *CancelSpot) Target() Target { return Target{Kind: KindSpot, IDs: a.IDs, Region: a.Region} }

type spotState struct {
	ID, State, Instance, Type string
}

func readSpot(ctx context.Context, env *Env, region string, ids []string) (map[string]spotState, error) {
	out := map[string]spotState{}
	pages := ec2.NewDescribeSpotInstanceRequestsPaginator(env.Sess.EC2(region), &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: ids})
	for pages.HasMorePages() {
		pg, err := pages.NextPage(ctx)
		if err != nil {
			if session.Classify(err) == session.ClassNotFound {
				if len(ids) > 1 {
					for _, id := range ids {
						one, err := readSpot(ctx, env, region, []string{id})
						if err != nil {
							return nil, err
						}
						for k, v := range one {
							out[k] = v
						}
					}
				}
				return out, nil
			}
			return nil, session.Wrap("ec2:DescribeSpotInstanceRequests", region, err)
		}
		for _, r := range pg.SpotInstanceRequests {
			s := spotState{ID: aws.ToString(r.SpotInstanceRequestId), State: string(r.State), Instance: aws.ToString(r.InstanceId), Type: string(r.Type)}
			out[s.ID] = s
		}
	}
	return out, nil
}

// spotInstances returns the running instances of spot requests in region,
// from the requests and from the instances' own spot request id.
func spotInstances(ctx context.Context, env *Env, region string, reqs map[string]spotState) ([]string, error) {
	var ids []string
	for _, r := range reqs {
		if r.Instance != "" && !slices.Contains(ids, r.Instance) {
			ids = append(ids, r.Instance)
		}
	}
	reqIDs := make([]string, 0, len(reqs))
	for id := range reqs {
		reqIDs = append(reqIDs, id)
	}
	if len(reqIDs) > 0 {
		pages := ec2.NewDescribeInstancesPaginator(env.Sess.EC2(region), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			{Name: aws.String("spot-instance-request-id"), Values: reqIDs}}})
		for pages.HasMorePages() {
			pg, err := pages.NextPage(ctx)
			if err != nil {
				// Not every endpoint filters on the request id; the
				// requests' own instance ids are enough.
				break
			}
			for _, r := range pg.Reservations {
				for _, in := range r.Instances {
					if id := aws.ToString(in.InstanceId); !slices.Contains(ids, id) && slices.Contains(reqIDs, aws.ToString(in.SpotInstanceRequestId)) {
						ids = append(ids, id)
					}
				}
			}
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Plan implements Action.
func (a *CancelSpot) Plan(ctx context.Context, env *Env) (*Plan, error) {
	if a.Region == "" || len(a.IDs) == 0 {
		return nil, errors.New("spot: a Region and at least one spot request id are needed")
	}
	reqs, err := readSpot(ctx, env, a.Region, a.IDs)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Cancel %d spot requests in %s, then terminate their instances", len(a.IDs), a.Region),
		Irreversible: true, Undo: CannotUndo}
	var cancel []string
	for _, id := range a.IDs {
		r, ok := reqs[id]
		switch {
		case !ok:
			pl.Findings = append(pl.Findings, id+": not found")
		case r.State == "open" || r.State == "active":
			cancel = append(cancel, id)
			pl.Findings = append(pl.Findings, fmt.Sprintf("%s (%s, %s): cancelled", id, r.Type, r.State))
		default:
			pl.Findings = append(pl.Findings, id+": already "+r.State)
		}
	}
	if len(cancel) > 0 {
		pl.Calls = append(pl.Calls, call("ec2:CancelSpotInstanceRequests", a.Region, "SpotInstanceRequestIds", strings.Join(cancel, ",")))
	}
	ids, err := spotInstances(ctx, env, a.Region, reqs)
	if err != nil {
		return nil, err
	}
	ins, err := readInstances(ctx, env, a.Region, ids)
	if err != nil {
		return nil, err
	}
	var term []string
	for _, id := range ids {
		in, ok := ins[id]
		if !ok || in.State == "terminated" || in.State == "shutting-down" {
			continue
		}
		c, f, err := unprotect(ctx, env, a.Region, id, true)
		if err != nil {
			return nil, err
		}
		pl.Calls, pl.Findings = append(pl.Calls, c...), append(pl.Findings, f...)
		term = append(term, id)
	}
	if len(term) > 0 {
		pl.Calls = append(pl.Calls, irreversible(call("ec2:TerminateInstances", a.Region, "InstanceIds", strings.Join(term, ","))))
		pl.Findings = append(pl.Findings, "their instances "+strings.Join(term, ", ")+" are terminated after the requests are cancelled")
	}
	if len(pl.Calls) == 0 {
		pl.Already = true
		return pl, nil
	}
	preflightEC2(ctx, env, pl)
	return pl, nil
}

// Verify implements Action.
func (a *CancelSpot) Verify(ctx context.Context, env *Env) (Verification, error) {
	reqs, err := readSpot(ctx, env, a.Region, a.IDs)
	if err != nil {
		return Verification{}, err
	}
	var bad []string
	for _, r := range reqs {
		if r.State == "open" || r.State == "active" {
			bad = append(bad, r.ID+" "+r.State)
		}
	}
	ids, err := spotInstances(ctx, env, a.Region, reqs)
	if err != nil {
		return Verification{}, err
	}
	ins, err := readInstances(ctx, env, a.Region, ids)
	if err != nil {
		return Verification{}, err
	}
	for _, in := range ins {
		if in.State != "terminated" && in.State != "shutting-down" {
			bad = append(bad, in.ID+" "+in.State)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return Verification{Detail: "still running: " + strings.Join(bad, ", ")}, nil
	}
	return Verification{Holds: true, Detail: fmt.Sprintf("%d requests cancelled or closed, %d instances terminated", len(a.IDs), len(ins))}, nil
}

// DeleteKeyPair deletes an EC2 key pair (an attacker's imported SSH key):
// new instances can no longer be launched with it. Instances already
// running keep the key in their authorized_keys.
type DeleteKeyPair struct {
	Region  string
	KeyName string
}

// Name implements Action.
func (a *DeleteKeyPair) Name() string { return "delete-key-pair" }

// Target implements Action.
func (a *DeleteKeyPair) Target() Target {
	return Target{Kind: KindKeyPair, ID: a.KeyName, Region: a.Region}
}

func (a *DeleteKeyPair) read(ctx context.Context, env *Env) (*ec2types.KeyPairInfo, error) {
	out, err := env.Sess.EC2(a.Region).DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{a.KeyName}})
	if err != nil {
		if session.Classify(err) == session.ClassNotFound {
			return nil, nil
		}
		return nil, session.Wrap("ec2:DescribeKeyPairs", a.Region, err)
	}
	for i := range out.KeyPairs {
		if aws.ToString(out.KeyPairs[i].KeyName) == a.KeyName {
			return &out.KeyPairs[i], nil
		}
	}
	return nil, nil
}

// Plan implements Action.
func (a *DeleteKeyPair) Plan(ctx context.Context, env *Env) (*Plan, error) {
	kp, err := a.read(ctx, env)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Delete key pair %s in %s", a.KeyName, a.Region), Irreversible: true, Undo: CannotUndo}
	if kp == nil {
		pl.Already = true
		pl.Findings = append(pl.Findings, "key pair "+a.KeyName+" does not exist")
		return pl, nil
	}
	pl.Prior = map[string]string{"key_name": a.KeyName, "key_pair_id": aws.ToString(kp.KeyPairId), "fingerprint": aws.ToString(kp.KeyFingerprint)}
	pl.Findings = append(pl.Findings, fmt.Sprintf("key pair %s (%s, fingerprint %s) is deleted; running instances keep the key", a.KeyName,
		aws.ToString(kp.KeyPairId), aws.ToString(kp.KeyFingerprint)))
	pl.Calls = []state.Call{irreversible(call("ec2:DeleteKeyPair", a.Region, "KeyName", a.KeyName))}
	preflightEC2(ctx, env, pl)
	return pl, nil
}

// Verify implements Action.
func (a *DeleteKeyPair) Verify(ctx context.Context, env *Env) (Verification, error) {
	kp, err := a.read(ctx, env)
	if err != nil {
		return Verification{}, err
	}
	if kp != nil {
		return Verification{Detail: "key pair " + a.KeyName + " still exists"}, nil
	}
	return Verification{Holds: true, Detail: "key pair " + a.KeyName + " no longer exists"}, nil
}

// DeleteFunction deletes a Lambda function (one an attacker created).
type DeleteFunction struct {
	Region   string
	Function string
}

// Name implements Action.
func (a *DeleteFunction) Name() string { return "delete-function" }

// Target implements Action.
func (a *DeleteFunction) Target() Target {
	return Target{Kind: KindFunction, ID: a.Function, Region: a.Region}
}

func (a *DeleteFunction) read(ctx context.Context, env *Env) (map[string]string, error) {
	pages := lambda.NewListFunctionsPaginator(env.Sess.Lambda(a.Region), &lambda.ListFunctionsInput{})
	for pages.HasMorePages() {
		pg, err := pages.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("lambda:ListFunctions", a.Region, err)
		}
		for _, f := range pg.Functions {
			if aws.ToString(f.FunctionName) == a.Function || aws.ToString(f.FunctionArn) == a.Function {
				return map[string]string{"name": aws.ToString(f.FunctionName), "arn": aws.ToString(f.FunctionArn),
					"runtime": string(f.Runtime), "role": aws.ToString(f.Role), "handler": aws.ToString(f.Handler),
					"code_sha256": aws.ToString(f.CodeSha256), "last_modified": aws.ToString(f.LastModified)}, nil
			}
		}
	}
	return nil, nil
}

// Plan implements Action.
func (a *DeleteFunction) Plan(ctx context.Context, env *Env) (*Plan, error) {
	f, err := a.read(ctx, env)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Delete Lambda function %s in %s", a.Function, a.Region), Irreversible: true, Undo: CannotUndo}
	if f == nil {
		pl.Already = true
		pl.Findings = append(pl.Findings, "function "+a.Function+" does not exist")
		return pl, nil
	}
	pl.Prior = f
	pl.Findings = append(pl.Findings, fmt.Sprintf("function %s (%s, role %s, code sha256 %s) is deleted with its code", f["name"], f["runtime"], f["role"], f["code_sha256"]))
	pl.Calls = []state.Call{irreversible(call("lambda:DeleteFunction", a.Region, "FunctionName", f["name"]))}
	return pl, nil
}

// Verify implements Action.
func (a *DeleteFunction) Verify(ctx context.Context, env *Env) (Verification, error) {
	f, err := a.read(ctx, env)
	if err != nil {
		return Verification{}, err
	}
	if f != nil {
		return Verification{Detail: "function " + a.Function + " still exists"}, nil
	}
	return Verification{Holds: true, Detail: "function " + a.Function + " no longer exists"}, nil
}

// Tag marks what containment touched with the incident id (tag
// warroom-incident): EC2 instances and spot requests in Region, and IAM
// users given as "user/NAME".
type Tag struct {
	Region string
	IDs    []string
}

// Name implements Action.
func (a *Tag) Name() string { return "tag" }

// Target implements Action.
func (a *Tag) Target() Target { return Target{Kind: KindTagResource, IDs: a.IDs, Region: a.Region} }

// missing returns the EC2 ids and users that do not carry the tag yet.
func (a *Tag) missing(ctx context.Context, env *Env) (ec2IDs, users []string, err error) {
	var inst, spot []string
	for _, id := range a.IDs {
		switch {
		case strings.HasPrefix(id, "user/"):
			name := strings.TrimPrefix(id, "user/")
			u, err := env.Sess.IAM().GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
			if err != nil {
				if session.Classify(err) == session.ClassNotFound {
					continue
				}
				return nil, nil, session.Wrap("iam:GetUser", "", err)
			}
			has := slices.ContainsFunc(u.User.Tags, func(t iamtypes.Tag) bool {
				return aws.ToString(t.Key) == TagKey && aws.ToString(t.Value) == env.Incident
			})
			if !has {
				users = append(users, name)
			}
		case strings.HasPrefix(id, "sir-"):
			spot = append(spot, id)
		default:
			inst = append(inst, id)
		}
	}
	ins, err := readInstances(ctx, env, a.Region, inst)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range inst {
		if in, ok := ins[id]; ok && in.State != "terminated" && in.Tags[TagKey] != env.Incident {
			ec2IDs = append(ec2IDs, id)
		}
	}
	if len(spot) > 0 {
		out, err := env.Sess.EC2(a.Region).DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: spot})
		if err != nil && session.Classify(err) != session.ClassNotFound {
			return nil, nil, session.Wrap("ec2:DescribeSpotInstanceRequests", a.Region, err)
		}
		if out != nil {
			for _, r := range out.SpotInstanceRequests {
				if !slices.ContainsFunc(r.Tags, func(t ec2types.Tag) bool {
					return aws.ToString(t.Key) == TagKey && aws.ToString(t.Value) == env.Incident
				}) {
					ec2IDs = append(ec2IDs, aws.ToString(r.SpotInstanceRequestId))
				}
			}
		}
	}
	return ec2IDs, users, nil
}

// Plan implements Action.
func (a *Tag) Plan(ctx context.Context, env *Env) (*Plan, error) {
	if env.Incident == "" {
		return nil, errors.New("tag: no incident id")
	}
	ec2IDs, users, err := a.missing(ctx, env)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Tag %d resources with %s=%s", len(a.IDs), TagKey, env.Incident),
		Undo: "remove the tag (ec2:DeleteTags, iam:UntagUser)"}
	if len(ec2IDs) > 0 {
		pl.Calls = append(pl.Calls, call("ec2:CreateTags", a.Region, "Resources", strings.Join(ec2IDs, ","), "TagKey", TagKey, "TagValue", env.Incident))
	}
	for _, u := range users {
		pl.Calls = append(pl.Calls, call("iam:TagUser", "", "UserName", u, "TagKey", TagKey, "TagValue", env.Incident))
	}
	if len(pl.Calls) == 0 {
		pl.Already = true
		pl.Findings = append(pl.Findings, "everything still there already carries the tag")
		return pl, nil
	}
	preflightEC2(ctx, env, pl)
	return pl, nil
}

// Verify implements Action.
func (a *Tag) Verify(ctx context.Context, env *Env) (Verification, error) {
	ec2IDs, users, err := a.missing(ctx, env)
	if err != nil {
		return Verification{}, err
	}
	if n := len(ec2IDs) + len(users); n > 0 {
		return Verification{Detail: fmt.Sprintf("%d resources lack the tag: %s", n, strings.Join(append(ec2IDs, users...), ", "))}, nil
	}
	return Verification{Holds: true, Detail: "tagged " + TagKey + "=" + env.Incident}, nil
}
