package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/aws/sweep"
	"github.com/warroom-ir/warroom/incident"
	ireport "github.com/warroom-ir/warroom/report"
	"github.com/warroom-ir/warroom/state"
)

// scriptedDrillJournal plays the leaked-key drill in this process with a
// fixed seed: the scenario runs until the attacker holds every foothold,
// the console's wiring (without a terminal) journals the stream, the
// inventory and the sweeps, then the credential playbook runs through the
// same Recorder, and a note closes the record. It returns the journal's
// path and the drill.
func scriptedDrillJournal(t *testing.T) (string, *drillAccount) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := simOptions{listen: "127.0.0.1:0", scenario: "leaked-key", seed: 5, speed: 100,
		disableRegion: slices.Clone(defaultDisabled), delay: time.Minute,
		// The reporting job's calls come as the drill's timing falls: the
		// golden would count them differently every run.
		noReporting: true, noGuardDuty: true}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	d, err := startDrill(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	resp := d.sim.Responder()
	sess, err := session.Load(ctx, session.Options{Region: sim.HomeRegion, Endpoint: d.endpoint,
		Credentials: session.StaticCredentials(resp.AccessKeyID, resp.SecretAccessKey, ""), AppVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	id := session.Identity{AccountID: d.sim.AccountID(), Partition: "aws", KeyID: resp.AccessKeyID,
		ARN: "arn:aws:iam::" + d.sim.AccountID() + ":user/incident-responder"}
	path := filepath.Join(t.TempDir(), "inc", "journal.jsonl")
	e := &env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	rec, actor, err := openConsoleJournal(e, path, state.IncidentOpened{Title: "drill: leaked-key", Began: time.Now().UTC()}, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	fact := sessionFact("drill", sess, id)
	fact.Drill = true
	if _, err := rec.Record(state.KindSessionStarted, fact); err != nil {
		t.Fatal(err)
	}

	// The leak was reported: the key is suspect from the start, and every
	// Region's poller asks for its events first.
	if _, err := rec.Record(state.KindSuspect, state.Suspect{AccessKeyID: d.sc.LeakedKey(), Reason: "leaked"}); err != nil {
		t.Fatal(err)
	}

	// The wiring, as runWired starts it; the feed is drained as a console
	// would read it.
	wctx, stopWiring := context.WithCancel(ctx)
	// The drill's pacing, with the bounds that keep a real drill's journal
	// readable lowered so the test is quick.
	pace := incident.DrillPacing(o.speed)
	pace.Poll, pace.Health, pace.Regions, pace.Inventory, pace.Sweeps = time.Second, time.Second, time.Second, time.Second, time.Second
	w := incident.New(sess, id, rec, pace)
	go func() {
		for range w.Feed() {
		}
	}()
	w.Start(wctx)

	scCtx, stopScenario := context.WithCancel(ctx)
	scDone := make(chan struct{})
	go func() { defer close(scDone); _ = d.sc.Run(scCtx) }()
	select {
	case <-d.sc.Attacker().Established():
	case <-time.After(90 * time.Second):
		t.Fatal("the attacker never established itself")
	}
	stopScenario()
	<-scDone

	// Wait until the journal holds an event for every call the attacker
	// made, and the Regions have been read.
	keys := []string{d.sc.LeakedKey()}
	outside := map[string]bool{}
	for _, h := range d.sc.Attacker().Holds() {
		keys = append(keys, h.AccessKeyID)
		if h.Kind == scenario.KindOutsideKey {
			outside[h.AccessKeyID] = true // CloudTrail names no key of another account
		}
	}
	var calls []sim.Call
	for _, c := range d.sc.Attacker().CallsSince(time.Time{}) {
		if !outside[c.AccessKeyID] {
			calls = append(calls, c)
		}
	}
	waitJournal(t, path, "the attacker's events", func(s *state.Store) bool {
		n := s.Events.Query(&state.Filter{Terms: []state.Term{{Field: state.FieldKey, Value: keys}}}).Len()
		return n >= len(calls) && len(w.EnabledRegions()) > 1 && s.Inventory != nil
	})
	stopWiring()
	w.Wait()

	// The credential playbook, journaled through the same Recorder.
	s, _, err := state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	runner := &contain.Runner{Env: contain.NewEnv(sess, id, s.Incident.ID), Journal: rec, Path: path, Actor: actor,
		VerifyWait: 10 * time.Second}
	raw := state.NewRawReader(path)
	defer raw.Close()
	pb, err := contain.PlanCredential(ctx, runner.Env, s, raw.Raw, d.sc.LeakedKey(), contain.CredentialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, so := range runner.RunPlaybook(ctx, pb, contain.RunOptions{}, nil) {
		if so.Held == "" && (so.Err != nil || !so.Outcome.Result.OK || so.Outcome.Verify == nil || !so.Outcome.Verify.Holds) {
			t.Errorf("playbook step %d (%s) does not hold: %+v", so.Index, so.Step.Action.Name(), so)
		}
	}

	// The console's last inventory and sweep, after the playbook (the
	// wiring's own, taken while the attacker acted, come in an order the
	// test cannot pin down).
	inv := inventory.Collect(ctx, sess, inventory.Options{Since: s.Incident.Began, AccountID: id.AccountID})
	if _, err := rec.Record(state.KindInventory, inv); err != nil {
		t.Fatal(err)
	}
	sweeps, err := sweep.Run(ctx, sess, w.EnabledRegions(), sweep.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sw := range sweeps {
		if _, err := rec.Record(state.KindSweep, sw); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rec.Record(state.KindNote, state.Note{Text: "contained by the playbook; <b>=cmd|' /C calc'!A0</b> stays text"}); err != nil {
		t.Fatal(err)
	}
	return path, d
}

// waitJournal polls the journal's fold until cond holds, failing after a
// generous deadline (correctness never depends on how fast it comes).
func waitJournal(t *testing.T, path, what string, cond func(*state.Store) bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		s, _, err := state.Replay(path)
		if err == nil && cond(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReportGoldenDrill builds the report of a scripted drill's journal in
// every format and compares each, normalised, with its golden file
// (go test ./cmd/warroom -run TestReportGoldenDrill -update rewrites them).
func TestReportGoldenDrill(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a drill")
	}
	path, d := scriptedDrillJournal(t)
	s, rep, err := state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	raw := state.NewRawReader(path)
	defer raw.Close()
	r := ireport.Build(s, rep, ireport.Options{Raw: raw.Raw})
	// The first attacker event is one of the leaked key's events in its
	// first second (which one varies: see normaliseReport).
	first := s.Events.Query(&state.Filter{Terms: []state.Term{{Field: state.FieldKey, Value: []string{d.sc.LeakedKey()}}}})
	if fe := r.Summary.FirstAttackerEvent; fe == nil || first.Len() == 0 || fe.Key != d.sc.LeakedKey() || !fe.Suspect ||
		!fe.Time.Equal(s.Events.Event(first.At(0)).Time) {
		t.Errorf("first attacker event %+v, want the leaked key's first event", r.Summary.FirstAttackerEvent)
	}
	if !rep.OK() {
		t.Errorf("the drill's journal does not verify: %v", rep.Problem)
	}
	keepFamily(r)
	for _, f := range []string{ireport.FormatMarkdown, ireport.FormatHTML, ireport.FormatJSON} {
		t.Run(f, func(t *testing.T) {
			var b bytes.Buffer
			if err := ireport.Write(&b, r, f); err != nil {
				t.Fatal(err)
			}
			golden.RequireEqual(t, normaliseReport(b.String(), f, d))
		})
	}
}

// keepFamily restricts the report to what the scenario's attacker did:
// the drill's other actors (a CI pipeline launching and terminating
// instances in the home Region, among others) run concurrently with it and
// the test stops them mid-stride, so how many of their events, instances
// and open instances the journal holds varies between runs. The timeline
// keeps the suspect family's events; the Regions keep every resource the
// family made and those that are neither new nor instances; the open items
// keep the keys, actions and the family's instances. What is left out is
// checked for what it is: nothing by the family.
func keepFamily(r *ireport.Report) {
	r.Timeline = slices.DeleteFunc(r.Timeline, func(e ireport.Event) bool { return !e.Suspect })
	family := map[string]bool{}
	for i := range r.Regions {
		for _, res := range r.Regions[i].Resources {
			if res.Suspect {
				family[res.ID] = true
			}
		}
		r.Regions[i].Resources = slices.DeleteFunc(r.Regions[i].Resources, func(res ireport.Resource) bool {
			return !res.Suspect && (res.New || res.Kind == "ec2:instance")
		})
	}
	r.Open = slices.DeleteFunc(r.Open, func(o ireport.Open) bool { return o.Kind == "instance" && !family[o.ID] })
}

var (
	reTime = regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?( UTC)?`)
	reDur  = regexp.MustCompile(`\b\d+h\d+m\d+(\.\d+)?s\b|\b\d+m\d+(\.\d+)?s\b|\b\d+(\.\d+)?(ms|s)\b|\+?\b\d+:\d\d(:\d\d)?\b`)
	// reCount is the journal's length, which the stream's polls and health
	// facts make vary, and the JSON's durations (in nanoseconds).
	reCount = regexp.MustCompile(`("entries": |"since_first_event": |"since_opened": |\| entries \| |<td>entries</td><td>)\d+`)
	// reFirst is the summary's first attacker event: the attacker's first
	// calls share a second, and which of them the report names varies; the
	// test asserts it structurally instead.
	reFirst = regexp.MustCompile(`(?m)^(\| First attacker event \| |<tr><td>First attacker event</td><td>).*?( \||</td></tr>)$`)
	// reIDs are the ids the sim mints, each with the token it becomes.
	reIDs = []struct {
		re  *regexp.Regexp
		tok string
	}{
		{regexp.MustCompile(`\bAKIA[A-Z0-9]{16}\b`), "AKIA-KEY"},
		{regexp.MustCompile(`\bASIA[A-Z0-9]{16}\b`), "ASIA-KEY"},
		{regexp.MustCompile(`\bsir-[0-9a-z]{8}\b`), "SPOT-REQUEST"},
		{regexp.MustCompile(`\b(i|sg|vol|snap|ami|key|eipalloc|lt)-[0-9a-f]{8,17}\b`), "EC2-ID"},
		{regexp.MustCompile(`\bwr-\d{8}-\d{4}-[0-9a-f]{6}\b`), "INCIDENT-ID"},
		{regexp.MustCompile(`\b(act|pb)-[0-9A-Za-z-]{6,}\b`), "ACTION-ID"},
		{regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), "UUID"},
		{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "HASH"},
		{regexp.MustCompile(`"id": "[0-9a-f]{32}"`), `"id": "FINDING-ID"`}, // GuardDuty finding ids hash the instance ids
	}
)

// normaliseReport makes a report of the drill comparable between runs.
//
// What varies: every time and duration (TIME, DUR); the journal's length;
// the ids the sim mints (keys, instance and spot request ids, request and
// event ids, action ids, the incident id, the head hash), each replaced by
// a fixed token of its kind (the leaked key and the responder's key keep
// names of their own); the responder's user@host. And order: the
// attacker's actors work in several Regions at once, so events, resources
// and open items that share a second come in either order. Every table's
// rows (md, html) and every JSON array's elements are therefore sorted,
// after the ids are replaced, so that rows differing only in an id are
// equal. What is compared is then which rows each section has, and how
// many: the count of instances, spot requests, keys, actions and events.
// The subsections (one per action, one per Region) are sorted likewise.
func normaliseReport(s, format string, d *drillAccount) string {
	s = strings.ReplaceAll(s, d.sc.LeakedKey(), "LEAKED-KEY")
	s = strings.ReplaceAll(s, d.sim.Responder().AccessKeyID, "RESPONDER-KEY")
	if a := state.LocalActor(); a.User != "" && a.Host != "" {
		s = strings.ReplaceAll(s, a.User+"@"+a.Host, "USER@HOST")
	}
	s = reTime.ReplaceAllString(s, "TIME")
	s = reDur.ReplaceAllString(s, "DUR")
	s = reCount.ReplaceAllString(s, "${1}0")
	for _, id := range reIDs {
		s = id.re.ReplaceAllString(s, id.tok)
	}
	if format == ireport.FormatJSON {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return "not JSON: " + err.Error() + "\n" + s
		}
		if m, ok := v.(map[string]any); ok {
			if sum, ok := m["summary"].(map[string]any); ok && sum["first_attacker_event"] != nil {
				sum["first_attacker_event"] = "FIRST-ATTACKER-EVENT"
			}
		}
		b, _ := json.MarshalIndent(sortArrays(v), "", "  ")
		return string(b) + "\n"
	}
	s = reFirst.ReplaceAllString(s, "${1}FIRST-ATTACKER-EVENT${2}")
	return sortSections(sortRows(s, format), format)
}

// sortSections sorts the subsections (### in markdown, <h3> in HTML) of
// each section: the playbook deactivates the keys the leaked key created
// in the order their events came, which varies.
func sortSections(s, format string) string {
	h2, h3 := "## ", "### "
	if format == ireport.FormatHTML {
		h2, h3 = "<h2>", "<h3>"
	}
	lines := strings.Split(s, "\n")
	var out, blocks []string
	flush := func() {
		slices.Sort(blocks)
		out = append(out, blocks...)
		blocks = nil
	}
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, h3):
			blocks = append(blocks, l)
		case strings.HasPrefix(l, h2) || strings.HasPrefix(l, "</body>"):
			flush()
			out = append(out, l)
		case len(blocks) > 0:
			blocks[len(blocks)-1] += "\n" + l
		default:
			out = append(out, l)
		}
	}
	flush()
	return strings.Join(out, "\n")
}

// sortRows sorts each table's body rows: in markdown the rows after a
// |---| line, in HTML the <tr><td> rows.
func sortRows(s, format string) string {
	lines := strings.Split(s, "\n")
	isRow := func(l string) bool { return strings.HasPrefix(l, "<tr><td>") }
	if format == ireport.FormatMarkdown {
		isRow = func(l string) bool { return strings.HasPrefix(l, "|") && !strings.HasPrefix(l, "|---") }
	}
	for i := 0; i < len(lines); {
		if !isRow(lines[i]) || format == ireport.FormatMarkdown && (i == 0 || !strings.HasPrefix(lines[i-1], "|---")) {
			i++
			continue
		}
		j := i
		for j < len(lines) && isRow(lines[j]) {
			j++
		}
		slices.Sort(lines[i:j])
		i = j
	}
	return strings.Join(lines, "\n")
}

// sortArrays sorts every array in v by its elements' JSON.
func sortArrays(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = sortArrays(e)
		}
	case []any:
		keyed := make([]string, len(x))
		for i, e := range x {
			x[i] = sortArrays(e)
			b, _ := json.Marshal(x[i])
			keyed[i] = string(b)
		}
		idx := make([]int, len(x))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(keyed[a], keyed[b]) })
		out := make([]any, len(x))
		for i, j := range idx {
			out[i] = x[j]
		}
		return out
	}
	return v
}
