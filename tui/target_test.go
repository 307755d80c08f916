package tui

import (
	"testing"

	"github.com/warroom-ir/warroom/state"
)

// TestResourceTargetCarriesKind: a resource's target names its kind as the
// sweep gave it, so that containment needs no guess from the id.
func TestResourceTargetCarriesKind(t *testing.T) {
	s := selection{kind: selResource, region: "eu-west-1", kindName: "ec2:spot-request", resource: state.Resource{ID: "sir-0abc"}}
	got, ok := s.target()
	if !ok || got.Kind != TargetResource || got.Resource != "ec2:spot-request" || got.ID != "sir-0abc" || got.Region != "eu-west-1" {
		t.Errorf("target = %+v, %v", got, ok)
	}
}
