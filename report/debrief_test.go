package report

import (
	"reflect"
	"testing"
	"time"
)

// TestBuildDebrief: the debrief is the report's model measured against the
// drill's truth: its steps are the report's containment timed from the
// attacker's first call, its open list is the report's Still open, each
// held credential carries the report's fate of it, and the calls after
// the last step are counted by operation.
func TestBuildDebrief(t *testing.T) {
	first := time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC)
	res := first.Add(2 * time.Minute)
	r := &Report{
		Summary: Summary{Containment: []Step{{Action: "deactivate-key", Target: "AKIALEAKED@ci", Outcome: "verified", At: res}}},
		Actions: []Action{{Action: "deactivate-key", Target: "AKIALEAKED@ci", ResultAt: res, Verified: []Verify{{Holds: false, Detail: "Active"}, {Holds: true, Detail: "Inactive"}}}},
		Family:  []Member{{Key: "AKIALEAKED", Fate: "Inactive in the last inventory", Status: "Inactive"}},
		Open:    []Open{{Kind: "key", ID: "AKIABACKDOOR", Detail: "Active", Source: "verdict"}},
	}
	call := func(at time.Duration, svc, op string, ok bool) AttackerCall {
		return AttackerCall{Time: first.Add(at), Service: svc, Operation: op, OK: ok}
	}
	d := Drill{Leaked: "AKIALEAKED", Running: 1,
		Held: []Held{{Kind: "leaked key", Key: "AKIALEAKED", Dead: true}, {Kind: "backdoor user key", Key: "AKIABACKDOOR", Works: true}},
		Calls: []AttackerCall{call(0, "sts", "GetCallerIdentity", true), call(time.Minute, "iam", "CreateUser", true),
			call(3*time.Minute, "ec2", "RunInstances", true), call(4*time.Minute, "ec2", "RunInstances", true),
			call(4*time.Minute, "iam", "ListUsers", false), call(5*time.Minute, "sts", "GetCallerIdentity", true),
			call(6*time.Minute, "iam", "CreateAccessKey", true)}}

	t.Run("verdict not contained", func(t *testing.T) {
		r := *r
		r.Verdicts = []Verdict{{Key: "AKIALEAKED", Word: "not contained"}, {Key: "AKIAOTHER", Word: "contained"}}
		db := BuildDebrief(&r, d)
		if !db.FirstCall.Equal(first) || len(db.Steps) != 1 || db.Steps[0].SinceFirstCall != 2*time.Minute || db.Steps[0].Detail != "Inactive" {
			t.Errorf("first call %s, steps %+v", db.FirstCall, db.Steps)
		}
		if !reflect.DeepEqual(db.Open, r.Open) {
			t.Errorf("open %+v, want the report's %+v", db.Open, r.Open)
		}
		if len(db.Held) != 2 || db.Held[0].Member == nil || db.Held[0].Member.Fate != "Inactive in the last inventory" || db.Held[1].Member != nil {
			t.Errorf("held %+v", db.Held)
		}
		if db.Live != 1 || db.Running != 1 {
			t.Errorf("live %d running %d", db.Live, db.Running)
		}
		want := []OpCount{{Op: "ec2:RunInstances", Count: 2}, {Op: "iam:CreateAccessKey", Count: 1}}
		if !db.AfterSince.Equal(res) || db.AfterTotal != 3 || !reflect.DeepEqual(db.After, want) {
			t.Errorf("after %s: %d %+v, want %+v", db.AfterSince, db.AfterTotal, db.After, want)
		}
		if db.Verdict == nil || db.Verdict.Word != "not contained" || db.Disagrees {
			t.Errorf("verdict %+v, disagrees %v", db.Verdict, db.Disagrees)
		}
	})
	t.Run("contained, yet the drill's attacker holds a key", func(t *testing.T) {
		r := *r
		r.Verdicts = []Verdict{{Key: "AKIALEAKED", Word: "contained"}}
		if db := BuildDebrief(&r, d); !db.Disagrees {
			t.Error("the drill does not disagree")
		}
	})
	t.Run("no step, no call", func(t *testing.T) {
		db := BuildDebrief(&Report{}, Drill{Leaked: "AKIALEAKED"})
		if !db.FirstCall.IsZero() || len(db.Steps) != 0 || db.AfterTotal != 0 || db.Verdict != nil || db.Disagrees {
			t.Errorf("%+v", db)
		}
	})
}
