package scenario

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/sim"
)

// Outsider is someone calling the drill from outside warroom through the
// SDK: a credential, from a source address of its own. It is for the tests
// of packages that may not import the SDK themselves (incident), which
// still must drive the drill as an outside client.
type Outsider struct {
	Endpoint string
	Cred     sim.Credentials
	// IP is the loopback address the calls come from ("" for the default).
	IP string
}

func (o Outsider) config(region string) aws.Config {
	return newIdentity(o.IP, "").config(o.Endpoint, o.Cred, region)
}

// ListUsers calls iam:ListUsers.
func (o Outsider) ListUsers(ctx context.Context) error {
	_, err := iam.NewFromConfig(o.config(sim.HomeRegion)).ListUsers(ctx, &iam.ListUsersInput{})
	return err
}

// RunInstance launches one t3.micro in region.
func (o Outsider) RunInstance(ctx context.Context, region string) error {
	_, err := ec2.NewFromConfig(o.config(region)).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"),
		InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	return err
}
