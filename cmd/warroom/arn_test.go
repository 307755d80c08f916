package main

import (
	"testing"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/tui"
)

// TestConsoleKeyOwnerFromARN: a key the inventory does not list is its
// owner's when its ARN names a user (paths and partitions included, read
// by state.ParsePrincipal); a role session's key has no user to act on.
func TestConsoleKeyOwnerFromARN(t *testing.T) {
	c := &consoleContainment{planner: newPlanner()}
	for _, tc := range []struct {
		arn  string
		want string // "" when the owner is not known
	}{
		{"arn:aws:iam::123456789012:user/ci-deploy", "ci-deploy"},
		{"arn:aws-us-gov:iam::123456789012:user/division/ci-deploy", "ci-deploy"},
		{"arn:aws:sts::123456789012:assumed-role/Deploy/ci-run-42", ""},
		{"", ""},
	} {
		_, got, err := c.target(tui.ActionRevokeSessions, tui.Target{Kind: tui.TargetKey, ID: "AKIAIOSFODNN7EXAMPLE", ARN: tc.arn})
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
