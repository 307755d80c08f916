package sweep

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

func init() { Register(keyPairs{}) }

// keyPairs sweeps EC2 key pairs: an imported key pair is how an attacker
// keeps SSH access to the instances they launch.
type keyPairs struct{}

func (keyPairs) Name() string { return "ec2:key-pair" }

func (keyPairs) Sweep(ctx context.Context, sess *session.Session, region string) ([]state.Resource, error) {
	// DescribeKeyPairs is not paginated: one call answers with every key pair.
	page, err := sess.EC2(region).DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
	if err != nil {
		return nil, session.Wrap("ec2:DescribeKeyPairs", region, err)
	}
	var out []state.Resource
	for _, kp := range page.KeyPairs {
		r := state.Resource{
			ID: aws.ToString(kp.KeyPairId), Name: aws.ToString(kp.KeyName), Created: aws.ToTime(kp.CreateTime).UTC(),
			Tags: tags(kp.Tags), Attrs: map[string]string{},
		}
		if r.ID == "" {
			r.ID = r.Name
		}
		if f := aws.ToString(kp.KeyFingerprint); f != "" {
			r.Attrs["fingerprint"] = f
		}
		if kp.KeyType != "" {
			r.Attrs["key_type"] = string(kp.KeyType)
		}
		out = append(out, r)
	}
	return out, nil
}
