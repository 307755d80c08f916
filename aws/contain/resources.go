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

// findInstances is the regionFinder of instance ids.
func findInstances(env *Env) regionFinder {
	return func(ctx context.Context, region string, ids []string) ([]string, error) {
		ins, err := readInstances(ctx, env, region, ids)
		return foundKeys(ins, ids), err
	}
}

// foundKeys returns the ids that are keys of m, in the order of ids.
func foundKeys[V any](m map[string]V, ids []string) []string {
	var out []string
	for _, id := range ids {
		if _, ok := m[id]; ok {
			out = append(out, id)
		}
	}
	return out
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
	if len(a.IDs) == 0 {
		return nil, errors.New(a.Name() + ": at least one instance id is needed")
	}
	loc, err := locate(ctx, env, KindInstances, "instances", a.Region, a.IDs, true, findInstances(env))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	a.Region = loc.Region
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
	if loc.Finding != "" {
		pl.Findings = append(pl.Findings, loc.Finding)
	}
	var act []string
	for _, id := range a.IDs {
		in, ok := ins[id]
		switch {
		case !ok:
			// Found a moment ago: it went away in between. Plan again.
			return nil, notFound(nil, "%s: instance %s in %s vanished while planning", a.Name(), id, a.Region)
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
	if a.Region == "" {
		loc, err := locate(ctx, env, KindInstances, "instances", "", a.IDs, true, findInstances(env))
		if err != nil {
			return Verification{}, err
		}
		a.Region = loc.Region
	}
	ins, err := readInstances(ctx, env, a.Region, a.IDs)
	if err != nil {
		return Verification{}, err
	}
	var bad, good []string
	for _, id := range a.IDs {
		in, ok := ins[id]
		switch {
		case !ok:
			// AWS no longer knows it in the Region where it was found.
			good = append(good, id+" gone from "+a.Region)
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

// findSpot is the regionFinder of spot request ids.
func findSpot(env *Env) regionFinder {
	return func(ctx context.Context, region string, ids []string) ([]string, error) {
		reqs, err := readSpot(ctx, env, region, ids)
		return foundKeys(reqs, ids), err
	}
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
	if len(a.IDs) == 0 {
		return nil, errors.New("cancel-spot: at least one spot request id is needed")
	}
	loc, err := locate(ctx, env, KindSpot, "spot requests", a.Region, a.IDs, true, findSpot(env))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	a.Region = loc.Region
	reqs, err := readSpot(ctx, env, a.Region, a.IDs)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Cancel %d spot requests in %s, then terminate their instances", len(a.IDs), a.Region),
		Irreversible: true, Undo: CannotUndo}
	if loc.Finding != "" {
		pl.Findings = append(pl.Findings, loc.Finding)
	}
	var cancel []string
	for _, id := range a.IDs {
		r, ok := reqs[id]
		switch {
		case !ok:
			return nil, notFound(nil, "%s: spot request %s in %s vanished while planning", a.Name(), id, a.Region)
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
	if a.Region == "" {
		loc, err := locate(ctx, env, KindSpot, "spot requests", "", a.IDs, true, findSpot(env))
		if err != nil {
			return Verification{}, err
		}
		a.Region = loc.Region
	}
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
	// Pinned: Region is where CloudTrail recorded the key pair made (the
	// playbook's steps). A name may exist in several Regions: only that
	// one is read, and not finding it there means it is gone from it.
	Pinned bool
}

// Name implements Action.
func (a *DeleteKeyPair) Name() string { return "delete-key-pair" }

// Target implements Action.
func (a *DeleteKeyPair) Target() Target {
	return Target{Kind: KindKeyPair, ID: a.KeyName, Region: a.Region}
}

// readKeyPair reads the key pair name in region; nil when there is none.
func readKeyPair(ctx context.Context, env *Env, region, name string) (*ec2types.KeyPairInfo, error) {
	out, err := env.Sess.EC2(region).DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{name}})
	if err != nil {
		if session.Classify(err) == session.ClassNotFound {
			return nil, nil
		}
		return nil, session.Wrap("ec2:DescribeKeyPairs", region, err)
	}
	for i := range out.KeyPairs {
		if aws.ToString(out.KeyPairs[i].KeyName) == name {
			return &out.KeyPairs[i], nil
		}
	}
	return nil, nil
}

// findKeyPairs is the regionFinder of key pair names.
func findKeyPairs(env *Env) regionFinder {
	return func(ctx context.Context, region string, names []string) ([]string, error) {
		var found []string
		for _, n := range names {
			kp, err := readKeyPair(ctx, env, region, n)
			if err != nil {
				return found, err
			}
			if kp != nil {
				found = append(found, n)
			}
		}
		return found, nil
	}
}

// region resolves the key pair's Region (see locate) and says where it
// was found when that is not where it was asked for.
func (a *DeleteKeyPair) region(ctx context.Context, env *Env) (string, error) {
	if a.KeyName == "" {
		return "", errors.New("delete-key-pair: no key pair name")
	}
	if a.Pinned && a.Region != "" {
		return "", pinned(ctx, a.Name(), "key pair", a.Region, a.KeyName, findKeyPairs(env))
	}
	loc, err := locate(ctx, env, KindKeyPair, "key pair", a.Region, []string{a.KeyName}, false, findKeyPairs(env))
	if err != nil {
		return "", fmt.Errorf("%s: %w", a.Name(), err)
	}
	a.Region = loc.Region
	return loc.Finding, nil
}

// Plan implements Action.
func (a *DeleteKeyPair) Plan(ctx context.Context, env *Env) (*Plan, error) {
	finding, err := a.region(ctx, env)
	if err != nil {
		return nil, err
	}
	kp, err := readKeyPair(ctx, env, a.Region, a.KeyName)
	if err != nil {
		return nil, err
	}
	if kp == nil {
		return nil, notFound(nil, "%s: key pair %s in %s vanished while planning", a.Name(), a.KeyName, a.Region)
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Delete key pair %s in %s", a.KeyName, a.Region), Irreversible: true, Undo: CannotUndo}
	if finding != "" {
		pl.Findings = append(pl.Findings, finding)
	}
	pl.Prior = map[string]string{"key_name": a.KeyName, "key_pair_id": aws.ToString(kp.KeyPairId), "fingerprint": aws.ToString(kp.KeyFingerprint)}
	pl.Findings = append(pl.Findings, fmt.Sprintf("key pair %s (%s, fingerprint %s) is deleted; running instances keep the key", a.KeyName,
		aws.ToString(kp.KeyPairId), aws.ToString(kp.KeyFingerprint)))
	pl.Calls = []state.Call{irreversible(call("ec2:DeleteKeyPair", a.Region, "KeyName", a.KeyName))}
	preflightEC2(ctx, env, pl)
	return pl, nil
}

// Verify implements Action: it reads the Region the key pair was found in.
func (a *DeleteKeyPair) Verify(ctx context.Context, env *Env) (Verification, error) {
	if a.Region == "" {
		if _, err := a.region(ctx, env); err != nil {
			return Verification{}, err
		}
	}
	kp, err := readKeyPair(ctx, env, a.Region, a.KeyName)
	if err != nil {
		return Verification{}, err
	}
	if kp != nil {
		return Verification{Detail: "key pair " + a.KeyName + " still exists in " + a.Region}, nil
	}
	return Verification{Holds: true, Detail: "key pair " + a.KeyName + " no longer exists in " + a.Region}, nil
}

// DeleteFunction deletes a Lambda function (one an attacker created).
type DeleteFunction struct {
	Region   string
	Function string
	// Pinned: as DeleteKeyPair's.
	Pinned bool
}

// Name implements Action.
func (a *DeleteFunction) Name() string { return "delete-function" }

// Target implements Action.
func (a *DeleteFunction) Target() Target {
	return Target{Kind: KindFunction, ID: a.Function, Region: a.Region}
}

// readFunction reads the Lambda function name (or ARN) in region; nil
// when there is none.
func readFunction(ctx context.Context, env *Env, region, name string) (map[string]string, error) {
	pages := lambda.NewListFunctionsPaginator(env.Sess.Lambda(region), &lambda.ListFunctionsInput{})
	for pages.HasMorePages() {
		pg, err := pages.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("lambda:ListFunctions", region, err)
		}
		for _, f := range pg.Functions {
			if aws.ToString(f.FunctionName) == name || aws.ToString(f.FunctionArn) == name {
				return map[string]string{"name": aws.ToString(f.FunctionName), "arn": aws.ToString(f.FunctionArn),
					"runtime": string(f.Runtime), "role": aws.ToString(f.Role), "handler": aws.ToString(f.Handler),
					"code_sha256": aws.ToString(f.CodeSha256), "last_modified": aws.ToString(f.LastModified)}, nil
			}
		}
	}
	return nil, nil
}

// findFunctions is the regionFinder of Lambda function names.
func findFunctions(env *Env) regionFinder {
	return func(ctx context.Context, region string, names []string) ([]string, error) {
		var found []string
		for _, n := range names {
			f, err := readFunction(ctx, env, region, n)
			if err != nil {
				return found, err
			}
			if f != nil {
				found = append(found, n)
			}
		}
		return found, nil
	}
}

// region resolves the function's Region (see locate).
func (a *DeleteFunction) region(ctx context.Context, env *Env) (string, error) {
	if a.Function == "" {
		return "", errors.New("delete-function: no function name")
	}
	// A function ARN names its Region.
	if arn, ok := state.ParseARN(a.Function); ok && arn.Service == "lambda" && arn.Type() == "function" && a.Region == "" {
		a.Region = arn.Region
	}
	if a.Pinned && a.Region != "" {
		return "", pinned(ctx, a.Name(), "function", a.Region, a.Function, findFunctions(env))
	}
	loc, err := locate(ctx, env, KindFunction, "function", a.Region, []string{a.Function}, false, findFunctions(env))
	if err != nil {
		return "", fmt.Errorf("%s: %w", a.Name(), err)
	}
	a.Region = loc.Region
	return loc.Finding, nil
}

// Plan implements Action.
func (a *DeleteFunction) Plan(ctx context.Context, env *Env) (*Plan, error) {
	finding, err := a.region(ctx, env)
	if err != nil {
		return nil, err
	}
	f, err := readFunction(ctx, env, a.Region, a.Function)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, notFound(nil, "%s: function %s in %s vanished while planning", a.Name(), a.Function, a.Region)
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Delete Lambda function %s in %s", a.Function, a.Region), Irreversible: true, Undo: CannotUndo}
	if finding != "" {
		pl.Findings = append(pl.Findings, finding)
	}
	pl.Prior = f
	pl.Findings = append(pl.Findings, fmt.Sprintf("function %s (%s, role %s, code sha256 %s) is deleted with its code", f["name"], f["runtime"], f["role"], f["code_sha256"]))
	pl.Calls = []state.Call{irreversible(call("lambda:DeleteFunction", a.Region, "FunctionName", f["name"]))}
	return pl, nil
}

// Verify implements Action: it reads the Region the function was found in.
func (a *DeleteFunction) Verify(ctx context.Context, env *Env) (Verification, error) {
	if a.Region == "" {
		if _, err := a.region(ctx, env); err != nil {
			return Verification{}, err
		}
	}
	f, err := readFunction(ctx, env, a.Region, a.Function)
	if err != nil {
		return Verification{}, err
	}
	if f != nil {
		return Verification{Detail: "function " + a.Function + " still exists in " + a.Region}, nil
	}
	return Verification{Holds: true, Detail: "function " + a.Function + " no longer exists in " + a.Region}, nil
}

// Tag marks what containment touched with the incident id (tag
// warroom-incident): EC2 instances (i-…) and spot requests (sir-…), which
// must all be in one Region (found as a Regional action finds its
// resources), IAM users ("user/NAME") and IAM roles ("role/NAME"). It
// refuses anything else, and fails on a target that does not exist.
type Tag struct {
	Region string
	IDs    []string
}

// Name implements Action.
// resources says "1 resource" or "n resources".
func resources(n int) string {
	if n == 1 {
		return "1 resource"
	}
	return fmt.Sprintf("%d resources", n)
}

func (a *Tag) Name() string { return "tag" }

// Target implements Action.
func (a *Tag) Target() Target { return Target{Kind: KindTagResource, IDs: a.IDs, Region: a.Region} }

// tagTargets are a tag action's ids by what they are.
type tagTargets struct {
	inst, spot, users, roles []string
}

func (a *Tag) split() (tagTargets, error) {
	var t tagTargets
	var bad []string
	for _, id := range a.IDs {
		switch {
		case strings.HasPrefix(id, "user/") && len(id) > len("user/"):
			t.users = append(t.users, strings.TrimPrefix(id, "user/"))
		case strings.HasPrefix(id, "role/") && len(id) > len("role/"):
			t.roles = append(t.roles, strings.TrimPrefix(id, "role/"))
		case strings.HasPrefix(id, "sir-"):
			t.spot = append(t.spot, id)
		case strings.HasPrefix(id, "i-"):
			t.inst = append(t.inst, id)
		default:
			bad = append(bad, id)
		}
	}
	if len(bad) > 0 {
		return t, fmt.Errorf("%w: tag cannot tag %s: it tags EC2 instances (i-…), spot requests (sir-…), IAM users (user/NAME) and IAM roles (role/NAME)",
			ErrUnsupported, strings.Join(bad, ", "))
	}
	if len(a.IDs) == 0 {
		return t, errors.New("tag: nothing to tag")
	}
	return t, nil
}

// findEC2 is the regionFinder of a mix of instance and spot request ids.
func findEC2(env *Env) regionFinder {
	return func(ctx context.Context, region string, ids []string) ([]string, error) {
		var inst, spot []string
		for _, id := range ids {
			if strings.HasPrefix(id, "sir-") {
				spot = append(spot, id)
			} else {
				inst = append(inst, id)
			}
		}
		fi, err := findInstances(env)(ctx, region, inst)
		if err != nil {
			return fi, err
		}
		if len(spot) == 0 {
			return fi, nil
		}
		fs, err := findSpot(env)(ctx, region, spot)
		return append(fi, fs...), err
	}
}

// untagged returns, for each kind, the targets that do not carry the tag
// yet, and findings (terminated instances are left alone). A user or role
// that does not exist is an error naming the call that said so.
func (a *Tag) untagged(ctx context.Context, env *Env, t tagTargets) (ec2IDs, users, roles, findings []string, err error) {
	for _, name := range t.users {
		u, err := env.Sess.IAM().GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("tag: %w", principalErr("iam:GetUser", KindUser, name, err))
		}
		if !slices.ContainsFunc(u.User.Tags, func(t iamtypes.Tag) bool {
			return aws.ToString(t.Key) == TagKey && aws.ToString(t.Value) == env.Incident
		}) {
			users = append(users, name)
		}
	}
	for _, name := range t.roles {
		r, err := env.Sess.IAM().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("tag: %w", principalErr("iam:GetRole", KindRole, name, err))
		}
		if !slices.ContainsFunc(r.Role.Tags, func(t iamtypes.Tag) bool {
			return aws.ToString(t.Key) == TagKey && aws.ToString(t.Value) == env.Incident
		}) {
			roles = append(roles, name)
		}
	}
	ins, err := readInstances(ctx, env, a.Region, t.inst)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for _, id := range t.inst {
		in, ok := ins[id]
		switch {
		case !ok:
			findings = append(findings, id+" gone from "+a.Region)
		case in.State == "terminated":
			findings = append(findings, id+" is terminated: left untagged")
		case in.Tags[TagKey] != env.Incident:
			ec2IDs = append(ec2IDs, id)
		}
	}
	if len(t.spot) > 0 {
		out, err := env.Sess.EC2(a.Region).DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: t.spot})
		if err != nil && session.Classify(err) != session.ClassNotFound {
			return nil, nil, nil, nil, session.Wrap("ec2:DescribeSpotInstanceRequests", a.Region, err)
		}
		seen := map[string]bool{}
		if out != nil {
			for _, r := range out.SpotInstanceRequests {
				id := aws.ToString(r.SpotInstanceRequestId)
				seen[id] = true
				if !slices.ContainsFunc(r.Tags, func(t ec2types.Tag) bool {
					return aws.ToString(t.Key) == TagKey && aws.ToString(t.Value) == env.Incident
				}) {
					ec2IDs = append(ec2IDs, id)
				}
			}
		}
		for _, id := range t.spot {
			if !seen[id] {
				findings = append(findings, id+" gone from "+a.Region)
			}
		}
	}
	return ec2IDs, users, roles, findings, nil
}

// region finds the Region of the EC2 targets (see locate).
func (a *Tag) region(ctx context.Context, env *Env, t tagTargets) (string, error) {
	ids := append(slices.Clone(t.inst), t.spot...)
	if len(ids) == 0 {
		return "", nil
	}
	loc, err := locate(ctx, env, KindTagResource, "EC2 resources", a.Region, ids, true, findEC2(env))
	if err != nil {
		return "", fmt.Errorf("tag: %w", err)
	}
	a.Region = loc.Region
	return loc.Finding, nil
}

// Plan implements Action.
func (a *Tag) Plan(ctx context.Context, env *Env) (*Plan, error) {
	if env.Incident == "" {
		return nil, errors.New("tag: no incident id")
	}
	t, err := a.split()
	if err != nil {
		return nil, err
	}
	finding, err := a.region(ctx, env, t)
	if err != nil {
		return nil, err
	}
	ec2IDs, users, roles, findings, err := a.untagged(ctx, env, t)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Tag %s with %s=%s", resources(len(a.IDs)), TagKey, env.Incident),
		Undo: "remove the tag (ec2:DeleteTags, iam:UntagUser)"}
	if len(t.roles) > 0 {
		pl.Undo = "remove the tag (ec2:DeleteTags, iam:UntagUser, iam:UntagRole)"
	}
	if finding != "" {
		pl.Findings = append(pl.Findings, finding)
	}
	pl.Findings = append(pl.Findings, findings...)
	if len(ec2IDs) > 0 {
		pl.Calls = append(pl.Calls, call("ec2:CreateTags", a.Region, "Resources", strings.Join(ec2IDs, ","), "TagKey", TagKey, "TagValue", env.Incident))
	}
	for _, u := range users {
		pl.Calls = append(pl.Calls, call("iam:TagUser", "", "UserName", u, "TagKey", TagKey, "TagValue", env.Incident))
	}
	for _, r := range roles {
		pl.Calls = append(pl.Calls, call("iam:TagRole", "", "RoleName", r, "TagKey", TagKey, "TagValue", env.Incident))
	}
	if len(pl.Calls) == 0 {
		pl.Already = true
		pl.Findings = append(pl.Findings, "every target already carries the tag")
		return pl, nil
	}
	preflightEC2(ctx, env, pl)
	return pl, nil
}

// Verify implements Action: it reads the tags back.
func (a *Tag) Verify(ctx context.Context, env *Env) (Verification, error) {
	t, err := a.split()
	if err != nil {
		return Verification{}, err
	}
	if a.Region == "" {
		if _, err := a.region(ctx, env, t); err != nil {
			return Verification{}, err
		}
	}
	ec2IDs, users, roles, findings, err := a.untagged(ctx, env, t)
	if err != nil {
		return Verification{}, err
	}
	var lack []string
	lack = append(lack, ec2IDs...)
	for _, u := range users {
		lack = append(lack, "user/"+u)
	}
	for _, r := range roles {
		lack = append(lack, "role/"+r)
	}
	if len(lack) > 0 {
		verb := "lack"
		if len(lack) == 1 {
			verb = "lacks"
		}
		return Verification{Detail: fmt.Sprintf("%s %s the tag: %s", resources(len(lack)), verb, strings.Join(lack, ", "))}, nil
	}
	d := "tagged " + TagKey + "=" + env.Incident
	if len(findings) > 0 {
		d += "; " + strings.Join(findings, "; ")
	}
	return Verification{Holds: true, Detail: d}, nil
}

// pinned reads whether name is in region, for an action whose Region is
// where CloudTrail recorded the resource made: it is not looked for
// elsewhere (the same name elsewhere is another resource).
func pinned(ctx context.Context, action, what, region, name string, find regionFinder) error {
	found, err := find(ctx, region, []string{name})
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if len(found) == 0 {
		return fmt.Errorf("%s: %w", action, notFound(nil, "%s %s: not in %s, where CloudTrail recorded it made", what, name, region))
	}
	return nil
}
