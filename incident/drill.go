package incident

import (
	"context"
	"slices"
	"time"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/report"
	"github.com/warroom-ir/warroom/state"
)

// Drill is a drill's incident as its debrief reads it: the journal at Path,
// the drill account's scenario (the ground truth), and the responder's
// session to read the account back.
type Drill struct {
	Sess     *session.Session
	ID       session.Identity
	Path     string
	Scenario *scenario.Scenario
	// Org, when set, is the organisation scenario Scenario belongs to
	// (Org.Scenario): the ground truth then spans every account of the
	// organisation, the pivot account's footholds with the leaked one's.
	Org *scenario.OrgScenario
	// CheckTimeout bounds the verdict's read-back: a stalled account must
	// not hold the debrief (or the exit) for long. Zero: 20 s.
	CheckTimeout time.Duration
}

// Check reads the verdict on the drill's leaked key back from the drill
// account, by the one function the CLI and the report use
// (contain.Runner.Check), and journals it through a recorder of its own (the
// console's may be closed already).
func (d Drill) Check(ctx context.Context) (state.Verdict, error) {
	timeout := d.CheckTimeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rec, err := state.OpenRecorder(d.Path, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		return state.Verdict{}, err
	}
	defer rec.Close()
	r := NewRunner(d.Sess, d.ID, rec, state.LocalActor())
	fold, closeRaw := contain.JournalFold(d.Path)
	defer closeRaw()
	v, _, err := r.Check(ctx, fold, d.Scenario.LeakedKey(), contain.ContainOptions{Refresh: contain.RefreshOptions{AccountID: d.ID.AccountID}})
	return v, err
}

// worksProbe is the call a held credential is judged by: the attacker's
// most frequent (it looks for its instances), allowed to any principal
// with permissions, refused by a quarantine or a revoke-sessions deny.
const worksProbe = "ec2:DescribeInstances"

// Truth is what only the drill knows, as it stands: the leaked key, the
// attacker's credentials and calls, its running instances.
func (d Drill) Truth() report.Drill {
	a := d.Scenario.Attacker()
	t := report.Drill{Leaked: d.Scenario.LeakedKey(), Running: a.Running(), Held: []report.Held{}}
	for _, h := range a.Holds() {
		works, why := d.Scenario.Sim().Works(h.AccessKeyID, worksProbe)
		t.Held = append(t.Held, report.Held{Kind: h.Kind, Key: h.AccessKeyID, Dead: h.Dead, Works: works, Refused: why})
	}
	for _, c := range a.CallsSince(time.Time{}) {
		t.Calls = append(t.Calls, report.AttackerCall{Time: c.Time, Service: c.Service, Operation: c.Operation, OK: c.OK()})
	}
	if d.Org != nil {
		d.orgTruth(&t)
	}
	return t
}

// orgTruth adds what the attacker holds in the organisation's other
// accounts: its sessions of the pivot role and the keys it made there
// (each judged by that account's own checks), its instances running there,
// and its calls there, so that "still open" and "contained" are measured
// over every account.
func (d Drill) orgTruth(t *report.Drill) {
	ot := d.Org.Truth()
	for _, acct := range ot.Accounts {
		if acct == ot.LeakedAccount {
			continue
		}
		s := d.Org.Org().Account(acct)
		if s == nil {
			continue
		}
		creds := map[string]bool{}
		hold := func(kind, key string) {
			if creds[key] {
				return
			}
			creds[key] = true
			works, why := s.Works(key, worksProbe)
			t.Held = append(t.Held, report.Held{Kind: kind + " in " + acct, Key: key, Works: works, Refused: why})
		}
		if acct == ot.PivotAccount {
			for _, k := range ot.PivotSessions {
				hold("session", k)
			}
		}
		mine := map[string]bool{}
		for _, f := range ot.Footholds[acct] {
			switch f.Kind {
			case "key":
				hold("key", f.ID)
			case "instance":
				mine[f.ID] = true
			}
		}
		for _, in := range s.Instances() {
			if mine[in.ID] && (in.State == "pending" || in.State == "running") {
				t.Running++
			}
		}
		for _, c := range s.Calls() {
			if creds[c.AccessKeyID] {
				t.Calls = append(t.Calls, report.AttackerCall{Time: c.Time, Service: c.Service, Operation: c.Operation, OK: c.OK()})
			}
		}
	}
	slices.SortStableFunc(t.Calls, func(a, b report.AttackerCall) int { return a.Time.Compare(b.Time) })
}

// Debrief reads the verdict back from the account (Check: journaled), then
// builds the journal's report as warroom report does and measures it
// against what the drill knows (report.BuildDebrief): at the end of the
// drill, and on :debrief while it runs (the journal is then still being
// written, and a line cut mid-write is what banner says). checkErr is why
// the verdict could not be read back now (the report then shows the last
// one journaled, if any); err is why no debrief could be built.
func (d Drill) Debrief(ctx context.Context) (db report.Debrief, banner string, checkErr, err error) {
	_, checkErr = d.Check(ctx)
	r, _, banner, err := Report(ctx, d.Path, state.OpenOptions{})
	if err != nil {
		return report.Debrief{}, banner, checkErr, err
	}
	return report.BuildDebrief(r, d.Truth()), banner, checkErr, nil
}
