package sim

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestIAMTagRole tags a role through the SDK, reads the tag back with
// GetRole, and checks the CloudTrail record's shape: requestParameters
// {"roleName", "tags": [{"key", "value"}]}, no responseElements.
func TestIAMTagRole(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	if err := env.sim.AddRole("deploy", 0); err != nil {
		t.Fatal(err)
	}
	c := env.iam(env.sim.Responder())
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("deploy"),
		Tags: []types.Tag{{Key: aws.String("warroom-incident"), Value: aws.String("wr-1")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deploy")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Role.Tags) != 1 || aws.ToString(out.Role.Tags[0].Key) != "warroom-incident" || aws.ToString(out.Role.Tags[0].Value) != "wr-1" {
		t.Errorf("tags read back: %+v", out.Role.Tags)
	}
	_, err = c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("nobody"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	var nse *types.NoSuchEntityException
	if err == nil || !errors.As(err, &nse) {
		t.Errorf("TagRole on a missing role: %v, want NoSuchEntity", err)
	}
	var rec struct {
		EventName         string `json:"eventName"`
		EventSource       string `json:"eventSource"`
		ReadOnly          bool   `json:"readOnly"`
		RequestParameters struct {
			RoleName string              `json:"roleName"`
			Tags     []map[string]string `json:"tags"`
		} `json:"requestParameters"`
		ResponseElements json.RawMessage `json:"responseElements"`
	}
	found := false
	for _, r := range env.sim.Records() {
		if r.EventName != "TagRole" {
			continue
		}
		if err := json.Unmarshal(r.JSON, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.RequestParameters.RoleName != "deploy" {
			continue
		}
		found = true
		if rec.EventSource != "iam.amazonaws.com" || rec.ReadOnly || len(rec.RequestParameters.Tags) != 1 ||
			rec.RequestParameters.Tags[0]["key"] != "warroom-incident" || rec.RequestParameters.Tags[0]["value"] != "wr-1" ||
			(len(rec.ResponseElements) > 0 && string(rec.ResponseElements) != "null") {
			t.Errorf("TagRole record: %s", r.JSON)
		}
	}
	if !found {
		t.Error("no TagRole record for role deploy")
	}
}
