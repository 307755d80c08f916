package sweep

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

func init() { Register(spotRequests{}) }

// spotRequests sweeps spot instance requests: a persistent request
// relaunches its instance when the instance is terminated, so it must be
// found and cancelled first.
type spotRequests struct{}

func (spotRequests) Name() string { return "ec2:spot-request" }

func (spotRequests) Sweep(ctx context.Context, sess *session.Session, region string) ([]state.Resource, error) {
	var out []state.Resource
	p := ec2.NewDescribeSpotInstanceRequestsPaginator(sess.EC2(region), &ec2.DescribeSpotInstanceRequestsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("ec2:DescribeSpotInstanceRequests", region, err)
		}
		for _, sr := range page.SpotInstanceRequests {
			r := state.Resource{
				ID: aws.ToString(sr.SpotInstanceRequestId), State: string(sr.State), Created: aws.ToTime(sr.CreateTime).UTC(),
				Name: nameTag(sr.Tags), Tags: tags(sr.Tags), Attrs: map[string]string{"request_type": string(sr.Type)},
			}
			set := func(k, v string) {
				if v != "" {
					r.Attrs[k] = v
				}
			}
			set("instance", aws.ToString(sr.InstanceId))
			set("price", aws.ToString(sr.SpotPrice))
			if sr.Status != nil {
				set("status", aws.ToString(sr.Status.Code))
			}
			if ls := sr.LaunchSpecification; ls != nil {
				set("type", string(ls.InstanceType))
				set("key_pair", aws.ToString(ls.KeyName))
				set("image", aws.ToString(ls.ImageId))
			}
			out = append(out, r)
		}
	}
	return out, nil
}
