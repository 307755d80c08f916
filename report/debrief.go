package report

import (
	"slices"
	"sort"
	"time"
)

// Drill is what only a drill knows about its incident: the ground truth a
// journal's report is measured against. The drill account fills it in
// (package incident); report knows nothing of the account itself.
type Drill struct {
	// Leaked is the access key the scenario leaked.
	Leaked string `json:"leaked"`
	// Held lists the attacker's credentials, as the scenario knows them.
	Held []Held `json:"held"`
	// Calls are every call the attacker made (successful or not), in
	// the order the drill account recorded them.
	Calls []AttackerCall `json:"-"`
	// Running is how many of the attacker's instances run, by the drill
	// account's own record.
	Running int `json:"running"`
}

// Held is one credential the attacker holds.
type Held struct {
	Kind string `json:"kind"`
	Key  string `json:"access_key_id"`
	// Dead is set once the credential failed authentication for good
	// (the attacker saw it).
	Dead bool `json:"dead"`
	// Works says whether the drill account would let the credential call
	// ec2:DescribeInstances now, decided without a call (sim.Works);
	// Refused says why not.
	Works   bool   `json:"works"`
	Refused string `json:"refused,omitempty"`
}

// AttackerCall is one call the attacker made, as the drill account
// recorded it.
type AttackerCall struct {
	Time      time.Time
	Service   string // signing name: iam, sts, ec2 …
	Operation string
	OK        bool
}

// Debrief is a drill's debrief: the report of its journal (the same model
// `warroom report` writes: containment steps, family and fates, verdicts,
// Still open) beside what only the drill knows (the attacker's first call,
// the credentials it still holds, the calls it made after the last step).
type Debrief struct {
	// Report is the journal's report; Open below is its Still open.
	Report *Report `json:"-"`
	Leaked string  `json:"leaked"`
	// FirstCall is the attacker's first call by the drill account's
	// record; zero when the attacker never called.
	FirstCall time.Time `json:"first_call,omitzero"`
	// Steps are the report's containment steps, timed from FirstCall.
	Steps []DebriefStep `json:"steps"`
	// Held is the drill's list of the attacker's credentials, each with
	// what the report's family says became of it.
	Held []HeldFate `json:"held"`
	// Live counts the credentials the drill says still work.
	Live int `json:"live"`
	// After counts the attacker's successful calls (GetCallerIdentity
	// aside) since AfterSince, the last step's result, by operation,
	// most first; AfterTotal is their sum. Empty without a step.
	After      []OpCount `json:"after,omitempty"`
	AfterTotal int       `json:"after_total"`
	AfterSince time.Time `json:"after_since,omitzero"`
	// Verdict is the report's newest verdict on the leaked key (read back
	// from AWS and journaled); nil when none was journaled.
	Verdict *Verdict `json:"verdict,omitempty"`
	// Open is the report's Still open, as it is.
	Open []Open `json:"open"`
	// Running is how many of the attacker's instances run, by the drill.
	Running int `json:"running"`
	// Disagrees is set when the verdict says contained but the drill
	// knows the attacker still holds something: a bug in warroom.
	Disagrees bool `json:"disagrees,omitempty"`
}

// DebriefStep is one of the report's containment steps, timed from the
// attacker's first call.
type DebriefStep struct {
	Step
	// SinceFirstCall is how long after the attacker's first call (by the
	// drill's record) the step landed; 0 when it never called.
	SinceFirstCall time.Duration `json:"since_first_call"`
	// Detail is the last verification's detail, or the result's error.
	Detail string `json:"detail,omitempty"`
}

// HeldFate is one of the attacker's credentials and the report's fate of
// it: Member is nil when the report's family does not hold the key.
type HeldFate struct {
	Held
	Member *Member `json:"member,omitempty"`
}

// OpCount is how many calls of one operation ("iam:CreateUser") there were.
type OpCount struct {
	Op    string `json:"op"`
	Count int    `json:"count"`
}

// BuildDebrief measures the report r of a drill's journal against what the
// drill d knows.
func BuildDebrief(r *Report, d Drill) Debrief {
	db := Debrief{Report: r, Leaked: d.Leaked, Open: r.Open, Running: d.Running, Steps: []DebriefStep{}, Held: []HeldFate{}}
	if len(d.Calls) > 0 {
		db.FirstCall = d.Calls[0].Time
	}
	// Summary.Containment and Actions are both the journal's actions, in
	// its order.
	for i, st := range r.Summary.Containment {
		ds := DebriefStep{Step: st}
		if !db.FirstCall.IsZero() {
			ds.SinceFirstCall = st.At.Sub(db.FirstCall)
		}
		if i < len(r.Actions) {
			a := r.Actions[i]
			switch {
			case len(a.Verified) > 0:
				ds.Detail = a.Verified[len(a.Verified)-1].Detail
			case a.Error != "":
				ds.Detail = a.Error
			}
		}
		db.Steps = append(db.Steps, ds)
	}
	for _, h := range d.Held {
		hf := HeldFate{Held: h}
		if i := slices.IndexFunc(r.Family, func(m Member) bool { return m.Key == h.Key }); i >= 0 {
			m := r.Family[i]
			hf.Member = &m
		}
		if h.Works {
			db.Live++
		}
		db.Held = append(db.Held, hf)
	}
	for _, v := range r.Verdicts {
		if v.Key == d.Leaked {
			db.Verdict = &v
		}
	}
	if len(r.Actions) > 0 {
		db.AfterSince = db.FirstCall
		for _, a := range r.Actions {
			if a.ResultAt.After(db.AfterSince) {
				db.AfterSince = a.ResultAt
			}
		}
		counts := map[string]int{}
		for _, c := range d.Calls {
			if c.OK && c.Operation != "GetCallerIdentity" && !c.Time.Before(db.AfterSince) {
				counts[c.Service+":"+c.Operation]++
				db.AfterTotal++
			}
		}
		for op, n := range counts {
			db.After = append(db.After, OpCount{Op: op, Count: n})
		}
		sort.Slice(db.After, func(i, j int) bool {
			a, b := db.After[i], db.After[j]
			return a.Count > b.Count || a.Count == b.Count && a.Op < b.Op
		})
	}
	db.Disagrees = db.Verdict != nil && db.Verdict.Word == "contained" && (db.Live > 0 || db.Running > 0 || db.AfterTotal > 0)
	return db
}
