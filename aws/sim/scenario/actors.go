package scenario

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
)

// The background actors: what the account does on a normal day. Both look
// a little like an attacker on a quick glance (a machine key that launches
// and terminates instances; a person minting a new key and disabling the
// old one) and neither is one.

const (
	ciIP      = "127.0.0.10"
	ciAgent   = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1017-aws exe/x86_64.ubuntu.22 prompt/off command/ec2.run-instances"
	rotatorIP = "127.0.0.11"
	rotAgent  = "aws-cli/2.13.0 Python/3.11.4 Darwin/23.1.0 exe/x86_64 prompt/off command/iam.create-access-key"
	homeRgn   = "us-east-1"
	// The reporting job that owns the leaked key: it called with it long
	// before the leak and keeps calling after the key is deactivated.
	reportIP    = "127.0.0.12"
	reportAgent = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 app/legacy-reporting"
)

// runCI is the deploy pipeline: it checks who it is, looks at the fleet,
// and every third round replaces the web instance.
func (sc *Scenario) runCI(ctx context.Context) {
	id := newIdentity(ciIP, ciAgent)
	cfg := id.config(sc.endpoint, sc.ci, homeRgn)
	e, st, lm := ec2.NewFromConfig(cfg), sts.NewFromConfig(cfg), lambda.NewFromConfig(cfg)
	var current string
	for round := 0; ctx.Err() == nil; round++ {
		if _, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			sc.logf("ci: GetCallerIdentity: %v", err)
		}
		if _, err := e.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
			{Name: aws.String("tag:app"), Values: []string{"web"}}}}); err != nil {
			sc.logf("ci: DescribeInstances: %v", err)
		}
		if round%3 == 0 {
			out, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0c7217cdde317cfec"),
				InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
					{Key: aws.String("app"), Value: aws.String("web")}, {Key: aws.String("deploy"), Value: aws.String(fmt.Sprint(round / 3))}}}}})
			if err != nil {
				sc.logf("ci: RunInstances: %v", err)
			} else {
				if current != "" {
					if _, err := e.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{current}}); err != nil {
						sc.logf("ci: TerminateInstances: %v", err)
					}
				}
				current = aws.ToString(out.Instances[0].InstanceId)
				sc.logf("ci: deployed %s", current)
			}
		}
		if round%2 == 1 {
			if _, err := lm.ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
				sc.logf("ci: ListFunctions: %v", err)
			}
		}
		if sc.pace(ctx, sc.opts.Round) != nil {
			return
		}
	}
}

// runRotator is an administrator rotating her own key by the book: a new
// key, the old one deactivated, and a round later deleted.
func (sc *Scenario) runRotator(ctx context.Context) {
	id := newIdentity(rotatorIP, rotAgent)
	key := sc.rotatorKey
	var old string
	for round := 0; ctx.Err() == nil; round++ {
		client := iam.NewFromConfig(id.config(sc.endpoint, key, homeRgn))
		switch round {
		case 1:
			if _, err := client.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}); err != nil {
				sc.logf("rotator: ListAccessKeys: %v", err)
			}
			out, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
			if err != nil {
				sc.logf("rotator: CreateAccessKey: %v", err)
				break
			}
			old = key.AccessKeyID
			key = sim.Credentials{AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(out.AccessKey.SecretAccessKey)}
			sc.logf("rotator: new key %s", key.AccessKeyID)
		case 2:
			if _, err := client.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(old),
				Status: iamtypes.StatusTypeInactive}); err != nil {
				sc.logf("rotator: UpdateAccessKey: %v", err)
			}
		case 4:
			if _, err := client.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(old)}); err != nil {
				sc.logf("rotator: DeleteAccessKey: %v", err)
			}
		default:
			if round%4 == 3 {
				if _, err := client.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
					sc.logf("rotator: ListUsers: %v", err)
				}
			}
		}
		if sc.pace(ctx, sc.opts.Round) != nil {
			return
		}
	}
}

// runReporting is the application the leaked key was made for: a nightly
// reporting job of legacy-reporting that reads the account summary every
// round, from its one address and user agent, before the leak and after.
// It does not know when its key is deactivated: it keeps calling, and
// every call fails (InvalidClientTokenId), recorded with the key, as the
// write-ups warn ("deactivate, then watch what breaks").
func (sc *Scenario) runReporting(ctx context.Context) {
	id := newIdentity(reportIP, reportAgent)
	client := iam.NewFromConfig(id.config(sc.endpoint, sc.leaked, homeRgn))
	for round := 0; ctx.Err() == nil; round++ {
		if _, err := client.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}); err != nil {
			sc.logf("reporting: GetAccountSummary: %v", err)
		}
		if round%2 == 1 {
			if _, err := client.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}); err != nil {
				sc.logf("reporting: ListAccountAliases: %v", err)
			}
		}
		if sc.pace(ctx, sc.opts.Round) != nil {
			return
		}
	}
}
