package contain

import (
	"context"
	"strings"
	"testing"
)

// TestTagPlanSaysOneResource: a plan to tag one resource says "1 resource",
// not "1 resources" (issue 14).
func TestTagPlanSaysOneResource(t *testing.T) {
	d := newDrill(t)
	in := compromise(t, d)
	p, err := d.runner.Plan(context.Background(), &Tag{Region: in.region, IDs: []string{"user/" + in.backdoor}})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if !strings.HasPrefix(p.Title, "Tag 1 resource with ") {
		t.Errorf("title %q, want it to start with %q", p.Title, "Tag 1 resource with ")
	}
	if got := resources(2); got != "2 resources" {
		t.Errorf("resources(2) = %q", got)
	}
}
