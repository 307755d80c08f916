package tui

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// targetsSeen is a containment that records the target of every plan asked.
type targetsSeen struct {
	fakeContainment
	mu  sync.Mutex
	got []Target
}

func (c *targetsSeen) Plan(ctx context.Context, action string, t Target) (Plan, error) {
	c.mu.Lock()
	c.got = append(c.got, t)
	c.mu.Unlock()
	return c.fakeContainment.Plan(ctx, action, t)
}

// TestEventPrincipalTarget is the ARN defect of issue 15: R on an event
// signed by no key planned against the principal's ARN read by hand, and an
// assumed-role ARN (a role session) became a target of kind user named
// after the session. It is the role's: kind role, named the role. Each
// other principal shape keeps the kind and name it had.
func TestEventPrincipalTarget(t *testing.T) {
	for _, c := range []struct {
		arn  string
		kind TargetKind
		id   string
	}{
		{"arn:aws:sts::123456789012:assumed-role/Deploy/ci-run-42", TargetRole, "Deploy"},
		{"arn:aws-us-gov:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com", TargetRole, "AWSReservedSSO_Admin_0123"},
		{"arn:aws:iam::123456789012:user/division/ci-deploy", TargetUser, "ci-deploy"},
		{"arn:aws-cn:iam::123456789012:role/ops/Deploy", TargetRole, "Deploy"},
		{"arn:aws:iam::123456789012:root", TargetRoot, "root"},
	} {
		t.Run(c.arn, func(t *testing.T) {
			f := &facts{}
			rec := ev{id: "00000001-aaaa-4bbb-8ccc-0123456789ab", name: "ListBuckets", source: "s3.amazonaws.com",
				arn: c.arn, ip: "203.0.113.7", at: t0.Add(-time.Minute)}
			f.add(t, state.KindEvents, t0.Add(-time.Minute), state.Events{Source: "lookup:us-east-1", Records: []json.RawMessage{rec.raw()}})
			cs := &targetsSeen{}
			m, _ := newTestModel(t, Options{Store: storeOf(t, f.entries), Containment: cs, Journal: &recJournal{}}, 120, 40)
			exec(m, press(m, key1('R')))
			if len(cs.got) != 1 {
				t.Fatalf("%d plans asked; message %q", len(cs.got), m.message)
			}
			if g := cs.got[0]; g.Kind != c.kind || g.ID != c.id || g.Name != c.id || g.ARN != c.arn {
				t.Errorf("target %+v, want kind %s id %s, ARN %s", g, c.kind, c.id, c.arn)
			}
		})
	}
}

// TestActionTarget reads intents' targets as the principals pane indexes
// them; an ARN is read by the one parser.
func TestActionTarget(t *testing.T) {
	for _, c := range []struct{ in, key, kind, name string }{
		{"AKIAIOSFODNN7EXAMPLE@ci-deploy", "AKIAIOSFODNN7EXAMPLE", "", ""},
		{"user/ci-deploy", "", "user", "ci-deploy"},
		{"role/Deploy", "", "role", "Deploy"},
		{"arn:aws:iam::123456789012:user/division/ci-deploy", "", "user", "ci-deploy"},
		{"arn:aws-cn:iam::123456789012:role/ops/Deploy", "", "role", "Deploy"},
		{"arn:aws:sts::123456789012:assumed-role/Deploy/ci-run-42", "", "role", "Deploy"},
		{"arn:aws:iam::123456789012:root", "", "", ""},
	} {
		k, kind, name := actionTarget(c.in)
		if k != c.key || kind != c.kind || name != c.name {
			t.Errorf("actionTarget(%q) = %q %q %q, want %q %q %q", c.in, k, kind, name, c.key, c.kind, c.name)
		}
	}
}
