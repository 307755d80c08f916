package incident

import (
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/aws/contain"
)

// TestTargetByResourceKind: "contain everything" on a resource picks its
// action from the kind the sweep gave it, not from the id's prefix.
func TestTargetByResourceKind(t *testing.T) {
	c := &Containment{fold: NewFold()}
	cases := []struct {
		name       string
		t          Target
		wantAction string
		wantKind   contain.Kind
		wantErr    string
	}{
		{"an instance", Target{Kind: TargetResource, ID: "i-0abc", Region: "eu-west-1", Resource: "ec2:instance"}, "stop-instances", contain.KindInstances, ""},
		{"a spot request", Target{Kind: TargetResource, ID: "sir-0abc", Region: "eu-west-1", Resource: "ec2:spot-request"}, "cancel-spot", contain.KindSpot, ""},
		{"an instance whose id does not look like one", Target{Kind: TargetResource, ID: "sir-lookalike", Region: "eu-west-1", Resource: "ec2:instance"}, "stop-instances", contain.KindInstances, ""},
		{"an id that looks like an instance, of another kind", Target{Kind: TargetResource, ID: "i-lookalike", Region: "eu-west-1", Resource: "ec2:key-pair"}, "", "", "not a resource"},
		{"a key pair", Target{Kind: TargetResource, ID: "kp", Resource: "ec2:key-pair"}, "", "", "not a resource"},
		{"a user", Target{Kind: TargetUser, ID: "bob"}, "", "", "not a user"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			action, ct, err := c.target(ActionContainAll, tc.t)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if action != tc.wantAction || ct.Kind != tc.wantKind || len(ct.IDs) != 1 || ct.IDs[0] != tc.t.ID || ct.Region != tc.t.Region {
				t.Errorf("got %s %+v, want %s on %s %s in %s", action, ct, tc.wantAction, tc.wantKind, tc.t.ID, tc.t.Region)
			}
		})
	}
}

// TestKeyOwnerFromARN: a key the inventory does not list is its owner's
// when its ARN names a user (paths and partitions included, read by
// state.ParsePrincipal); a role session's key has no user to act on.
func TestKeyOwnerFromARN(t *testing.T) {
	c := &Containment{fold: NewFold()}
	for _, tc := range []struct {
		arn  string
		want string // "" when the owner is not known
	}{
		{"arn:aws:iam::123456789012:user/ci-deploy", "ci-deploy"},
		{"arn:aws-us-gov:iam::123456789012:user/division/ci-deploy", "ci-deploy"},
		{"arn:aws:sts::123456789012:assumed-role/Deploy/ci-run-42", ""},
		{"", ""},
	} {
		_, got, err := c.target(ActionRevokeSessions, Target{Kind: TargetKey, ID: "AKIAIOSFODNN7EXAMPLE", ARN: tc.arn})
		if tc.want == "" {
			if err == nil {
				t.Errorf("%q: target %+v, want an error (owner not known)", tc.arn, got)
			}
			continue
		}
		if err != nil || got.Kind != contain.KindUser || got.ID != tc.want {
			t.Errorf("%q: target %+v, %v; want user %s", tc.arn, got, err, tc.want)
		}
	}
}
