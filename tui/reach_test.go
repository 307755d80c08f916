package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// fakeAdvisor records what b asked for.
type fakeAdvisor struct {
	mu      sync.Mutex
	reached []Target
	history []Target
	err     error
}

func (a *fakeAdvisor) Reach(_ context.Context, t Target) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reached = append(a.reached, t)
	return "reach of " + t.ID + " journaled", a.err
}

func (a *fakeAdvisor) ConfigHistory(_ context.Context, t Target) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.history = append(a.history, t)
	return "config history of " + t.ID + " journaled", a.err
}

// feed delivers a fact to the model as the Feed would.
func feed(t *testing.T, m *Model, kind state.Kind, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	m.Update(feedMsg{entries: []journal.Entry{{Seq: m.store.Seq + 1, At: t0, Kind: string(kind), Data: data, By: journal.Actor{User: "alice", Host: "jump1"}}}})
}

// selectWhere moves down the focused pane until ok holds for the selection.
func selectWhere(t *testing.T, m *Model, ok func(selection) bool) {
	t.Helper()
	for range 40 {
		if s, found := m.selected(); found && ok(s) {
			return
		}
		press(m, keyDown)
	}
	t.Fatal("no such row")
}

var ciReach = state.Reach{Principal: ciARN, Status: state.JobCompleted, JobID: "job-1", Granularity: "ACTION_LEVEL", TakenAt: t0.Add(-time.Minute),
	Services: []state.ServiceReach{
		{Namespace: "ec2", Name: "Amazon EC2", LastUsed: t0.Add(-3 * time.Hour), Region: "eu-west-1", Entity: ciARN,
			Actions: []state.ActionReach{{Name: "RunInstances", LastUsed: t0.Add(-3 * time.Hour)}, {Name: "TerminateInstances"}}},
		{Namespace: "iam", Name: "AWS Identity and Access Management", LastUsed: t0.Add(-4 * time.Hour), Region: "us-east-1", Entity: ciARN},
		{Namespace: "s3", Name: "Amazon S3"}, {Namespace: "lambda", Name: "AWS Lambda"},
	}}

// TestReachKey: b on a user asks the Advisor for the user; the report, when
// the Feed brings it, is drawn in the open detail view (used services with
// time and Region, the actions used, the allowed ones never used); a
// failed read is flashed, and a report that failed says so.
func TestReachKey(t *testing.T) {
	adv := &fakeAdvisor{}
	m, _ := newTestModel(t, Options{Advisor: adv}, 160, 48)
	press(m, key1('2'))
	selectWhere(t, m, func(s selection) bool { return s.kind == selUser && s.arn == ciARN })
	press(m, keyEnter)
	exec(m, press(m, key1('b')))
	if len(adv.reached) != 1 || adv.reached[0].Kind != TargetUser || adv.reached[0].ARN != ciARN {
		t.Fatalf("asked for %+v", adv.reached)
	}
	if !strings.Contains(m.message, "reach of ci-deploy journaled") {
		t.Fatalf("flash %q", m.message)
	}
	feed(t, m, state.KindReach, ciReach)
	out := ansi.Strip(m.Render())
	for _, want := range []string{"reach (IAM Access Advisor, read 1m00s ago):", "4 services allowed, 2 used", "● ec2", "2026-11-23 01:21:07 UTC  eu-west-1",
		"actions: RunInstances", "○ allowed, never used: s3, lambda"} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "● ec2") > strings.Index(out, "● iam") {
		t.Error("the most recently used service is not first")
	}
	// A report that could not be read says why.
	failed := state.Reach{Principal: ciARN, Status: state.JobInProgress, TakenAt: t0,
		Error: &state.CallError{Call: "iam:GetServiceLastAccessedDetails", Class: "other", Error: "job still IN_PROGRESS after 1m0s (job j): try again later"}}
	feed(t, m, state.KindReach, failed)
	if out := ansi.Strip(m.Render()); !strings.Contains(out, "✗ iam:GetServiceLastAccessedDetails other: job still IN_PROGRESS") {
		t.Errorf("failed report not shown:\n%s", out)
	}
	adv.err = errors.New("iam:GenerateServiceLastAccessedDetails: denied")
	exec(m, press(m, key1('b')))
	if !m.messageErr || !strings.Contains(m.message, "denied") {
		t.Fatalf("error flash %q", m.message)
	}
}

// TestReachNeedsAWS: without an Advisor (replay, follow) b says why it
// does nothing; on an account row it says what it reads.
func TestReachNeedsAWS(t *testing.T) {
	m, _ := newTestModel(t, Options{}, 120, 40)
	press(m, key1('2'), keyDown)
	press(m, key1('b'))
	if !m.messageErr || !strings.Contains(m.message, "reach needs AWS") {
		t.Fatalf("flash %q", m.message)
	}
}

// TestConfigHistoryResource: b on a resource of the Region map asks for its
// Config history in its Region; the history, or "not recording", is drawn
// in the resource's detail.
func TestConfigHistoryResource(t *testing.T) {
	adv := &fakeAdvisor{}
	m, _ := newTestModel(t, Options{Advisor: adv}, 160, 48)
	openResource(t, m)
	exec(m, press(m, key1('b')))
	if len(adv.history) != 1 || adv.history[0].Region != "eu-west-1" || adv.history[0].Kind != TargetResource || adv.history[0].Resource != "ec2:instance" {
		t.Fatalf("asked for %+v", adv.history)
	}
	id := adv.history[0].ID
	feed(t, m, state.KindConfigHistory, state.ConfigHistory{Region: "eu-west-1", ResourceType: "AWS::EC2::Instance", ResourceID: id, TakenAt: t0, Recording: state.ConfigNoRecorder})
	feed(t, m, state.KindConfigHistory, state.ConfigHistory{Region: "us-east-1", ResourceType: "AWS::EC2::Instance", ResourceID: id, TakenAt: t0,
		Error: &state.CallError{Call: "config:DescribeConfigurationRecorderStatus", Class: "throttled", Error: "ThrottlingException: Rate exceeded"}})
	out := ansi.Strip(m.Render())
	for _, want := range []string{"config history in eu-west-1 (AWS::EC2::Instance", "! AWS Config is not recording here (no-recorder)",
		"✗ config:DescribeConfigurationRecorderStatus throttled"} {
		if !strings.Contains(out, want) {
			t.Errorf("detail lacks %q:\n%s", want, out)
		}
	}
}

func openResource(t *testing.T, m *Model) {
	t.Helper()
	press(m, key1('3'), keyDown, keyEnter)
	selectWhere(t, m, func(s selection) bool {
		return s.kind == selResource && s.region == "eu-west-1" && s.kindName == "ec2:instance"
	})
	press(m, keyEnter)
	if m.detail == nil || m.detail.sel.kind != selResource {
		t.Fatal("resource detail not open")
	}
}

// TestReachGolden draws the new detail sections at 80x24 and 160x48.
func TestReachGolden(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("principal/%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, _ := newTestModel(t, Options{Advisor: &fakeAdvisor{}}, sz[0], sz[1])
			press(m, key1('2'))
			selectWhere(t, m, func(s selection) bool { return s.kind == selUser && s.arn == ciARN })
			press(m, keyEnter)
			feed(t, m, state.KindReach, ciReach)
			out := m.Render()
			checkFrame(t, out, sz[0], sz[1])
			golden.RequireEqual(t, out)
		})
		t.Run(fmt.Sprintf("resource/%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, _ := newTestModel(t, Options{Advisor: &fakeAdvisor{}}, sz[0], sz[1])
			openResource(t, m)
			id := m.detail.sel.resource.ID
			feed(t, m, state.KindConfigHistory, state.ConfigHistory{Region: "eu-west-1", ResourceType: "AWS::EC2::Instance", ResourceID: id, TakenAt: t0, Recording: state.ConfigRecording,
				Items: []state.ConfigItem{{CaptureTime: t0.Add(-time.Hour), Status: "ResourceDeleted"}, {CaptureTime: t0.Add(-2 * time.Hour), Status: "OK"}, {CaptureTime: t0.Add(-3 * time.Hour), Status: "ResourceDiscovered"}}})
			out := m.Render()
			checkFrame(t, out, sz[0], sz[1])
			golden.RequireEqual(t, out)
		})
	}
}

// TestReachOnKey: b on a key asks for the key (its family), and the key's
// detail shows the reach of the users and roles its family acts as.
func TestReachOnKey(t *testing.T) {
	adv := &fakeAdvisor{}
	m, _ := newTestModel(t, Options{Advisor: adv}, 160, 48)
	press(m, key1('2'))
	selectWhere(t, m, func(s selection) bool { return s.kind == selKey && s.key == leaked })
	press(m, keyEnter)
	exec(m, press(m, key1('b')))
	if len(adv.reached) != 1 || adv.reached[0].Kind != TargetKey || adv.reached[0].ID != leaked {
		t.Fatalf("asked for %+v", adv.reached)
	}
	feed(t, m, state.KindReach, ciReach)
	if out := ansi.Strip(m.Render()); !strings.Contains(out, "4 services allowed, 2 used") {
		t.Errorf("key detail lacks the reach:\n%s", out)
	}
}
