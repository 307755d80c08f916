package sweep

import (
	"context"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

func init() { Register(instances{}) }

// instances sweeps EC2 instances with their protection flags: attackers
// set termination and stop protection so that a hurried responder's
// terminate fails.
type instances struct{}

func (instances) Name() string { return "ec2:instance" }

// attrConcurrency bounds DescribeInstanceAttribute calls per Region.
const attrConcurrency = 8

func (instances) Sweep(ctx context.Context, sess *session.Session, region string) ([]state.Resource, error) {
	api := sess.EC2(region)
	var out []state.Resource
	p := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("ec2:DescribeInstances", region, err)
		}
		for _, res := range page.Reservations {
			for _, in := range res.Instances {
				out = append(out, instanceResource(in))
			}
		}
	}
	// Protection flags are per instance and per attribute. Each answer
	// goes to its own slot: the resources' maps are filled after the wait.
	type flag struct {
		name types.InstanceAttributeName
		attr string
	}
	flags := []flag{
		{types.InstanceAttributeNameDisableApiTermination, "termination_protection"},
		{types.InstanceAttributeNameDisableApiStop, "stop_protection"},
	}
	vals := make([]string, len(out)*len(flags))
	sem := make(chan struct{}, attrConcurrency)
	var wg sync.WaitGroup
	for i := range out {
		if out[i].State == string(types.InstanceStateNameTerminated) {
			continue
		}
		for j, f := range flags {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				vals[i*len(flags)+j] = protection(ctx, api, region, out[i].ID, f.name)
			}()
		}
	}
	wg.Wait()
	for i := range out {
		for j, f := range flags {
			if v := vals[i*len(flags)+j]; v != "" {
				out[i].Attrs[f.attr] = v
			}
		}
	}
	return out, nil
}

// protection reads one boolean instance attribute: "true", "false", or,
// when the call failed, "unknown (CLASS)" so the map shows it was not read.
func protection(ctx context.Context, api *ec2.Client, region, id string, name types.InstanceAttributeName) string {
	out, err := api.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: &id, Attribute: name})
	if err != nil {
		return "unknown (" + string(session.Classify(session.Wrap("ec2:DescribeInstanceAttribute", region, err))) + ")"
	}
	var v *types.AttributeBooleanValue
	switch name {
	case types.InstanceAttributeNameDisableApiTermination:
		v = out.DisableApiTermination
	case types.InstanceAttributeNameDisableApiStop:
		v = out.DisableApiStop
	}
	if v == nil {
		return "false"
	}
	return strconv.FormatBool(aws.ToBool(v.Value))
}

func instanceResource(in types.Instance) state.Resource {
	r := state.Resource{
		ID:      aws.ToString(in.InstanceId),
		Created: aws.ToTime(in.LaunchTime).UTC(),
		Attrs:   map[string]string{"type": string(in.InstanceType)},
		Tags:    tags(in.Tags),
	}
	r.Name = nameTag(in.Tags)
	if in.State != nil {
		r.State = string(in.State.Name)
	}
	set := func(k, v string) {
		if v != "" {
			r.Attrs[k] = v
		}
	}
	set("key_pair", aws.ToString(in.KeyName))
	set("image", aws.ToString(in.ImageId))
	set("lifecycle", string(in.InstanceLifecycle))
	set("spot_request", aws.ToString(in.SpotInstanceRequestId))
	set("public_ip", aws.ToString(in.PublicIpAddress))
	set("vpc", aws.ToString(in.VpcId))
	if in.IamInstanceProfile != nil {
		set("instance_profile", aws.ToString(in.IamInstanceProfile.Arn))
	}
	if in.Placement != nil {
		set("zone", aws.ToString(in.Placement.AvailabilityZone))
	}
	return r
}

// tags converts EC2 tags.
func tags(in []types.Tag) []state.Tag {
	var out []state.Tag
	for _, t := range in {
		out = append(out, state.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	return out
}

// nameTag returns the value of the Name tag.
func nameTag(in []types.Tag) string {
	for _, t := range in {
		if aws.ToString(t.Key) == "Name" {
			return aws.ToString(t.Value)
		}
	}
	return ""
}
