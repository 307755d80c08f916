package scenario

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	otypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/warroom-ir/warroom/aws/sim"
)

// AttachSCP is an organisation administrator's move a test can make
// through the SDK over HTTP: it creates a service control policy with the
// given document and attaches it to target (an account, OU or root id),
// returning the policy's id. The credentials must be the management
// account's.
func AttachSCP(ctx context.Context, endpoint string, admin sim.Credentials, target, name, document string) (string, error) {
	id := &identity{http: HTTPClient("")}
	oc := organizations.NewFromConfig(id.config(endpoint, admin, homeRgn))
	pol, err := oc.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String(name), Description: aws.String("set by a test"),
		Type: otypes.PolicyTypeServiceControlPolicy, Content: aws.String(document)})
	if err != nil {
		return "", fmt.Errorf("CreatePolicy: %w", err)
	}
	if _, err := oc.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: pol.Policy.PolicySummary.Id, TargetId: aws.String(target)}); err != nil {
		return "", fmt.Errorf("AttachPolicy: %w", err)
	}
	return aws.ToString(pol.Policy.PolicySummary.Id), nil
}
