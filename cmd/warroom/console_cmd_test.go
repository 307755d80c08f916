package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/report"
	"github.com/warroom-ir/warroom/state"
)

// TestConsoleWithoutCredentials: warroom alone and warroom console say
// there are no credentials and point at warroom drill.
func TestConsoleWithoutCredentials(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_ENDPOINT_URL": "", "WARROOM_JOURNAL": "",
	} {
		t.Setenv(k, v)
	}
	cases := []struct {
		name string
		args []string
	}{
		{"warroom alone", nil},
		{"warroom console", []string{"console"}},
		{"read-only", []string{"--read-only"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := warroom(t, tc.args...)
			if code != exitUsage || !strings.Contains(errOut, "warroom drill") || !strings.Contains(strings.ToLower(errOut), "no aws credentials") {
				t.Fatalf("exit %d, stderr %q; want %d suggesting warroom drill", code, errOut, exitUsage)
			}
		})
	}
}

func TestDrillBadFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"zero speed", []string{"drill", "--speed", "0"}, "--speed"},
		{"unknown scenario", []string{"drill", "--scenario", "ransomware"}, "known scenarios"},
		{"no scenario", []string{"drill", "--scenario", "none"}, "needs an incident"},
		{"stray argument", []string{"drill", "now"}, "unknown command"},
		{"console stray argument", []string{"nosuchcommand"}, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := warroom(t, tc.args...)
			if code != exitUsage || !strings.Contains(strings.ToLower(errOut), strings.ToLower(tc.want)) {
				t.Fatalf("exit %d, stderr %q; want %d mentioning %q", code, errOut, exitUsage, tc.want)
			}
		})
	}
}

func TestWriteDebrief(t *testing.T) {
	first := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	step := report.DebriefStep{Step: report.Step{At: first.Add(3*time.Minute + 7*time.Second), Action: "deactivate-key", Target: "AKIAEXAMPLE@legacy",
		Outcome: string(state.OutcomeVerified)}, SinceFirstCall: 3*time.Minute + 7*time.Second, Detail: "key AKIAEXAMPLE is Inactive"}
	fate := &report.Member{Key: "AKIAEXAMPLE", Fate: "Inactive in the last inventory; deactivate-key: verified"}
	held := []report.HeldFate{{Held: report.Held{Kind: "leaked key", Key: "AKIAEXAMPLE", Dead: true}, Member: fate},
		{Held: report.Held{Kind: "backdoor user's key", Key: "AKIABACKDOOR", Works: true}}}
	rep := &report.Report{}
	withFirst := &report.Report{Summary: report.Summary{FirstAttackerEvent: &report.Event{Time: first, Name: "GetCallerIdentity", Key: "AKIAEXAMPLE"}}}
	openKey := []report.Open{{Kind: "key", ID: "AKIAEXAMPLE", Detail: "the suspect key: Active", Source: "verdict"}}
	cases := []struct {
		name     string
		d        report.Debrief
		checkErr error
		want     []string
	}{
		{"no step", report.Debrief{Report: rep, Leaked: "AKIAEXAMPLE", FirstCall: first, Held: held,
			Verdict: &report.Verdict{Key: "AKIAEXAMPLE", Word: "not contained", Footholds: 1}, Open: openKey}, nil,
			[]string{"first attacker call: 2026-11-23T04:00:00Z", "first suspect event in the journal: none", "  none", "verdict (read back from AWS at",
				"not contained — 0 of 1 footholds neutralised", "still open (the report's list):", "✗ open: key AKIAEXAMPLE: the suspect key: Active"}},
		{"contained", report.Debrief{Report: withFirst, Leaked: "AKIAEXAMPLE", FirstCall: first, Steps: []report.DebriefStep{step}, AfterSince: step.At, Held: held[:1],
			Verdict: &report.Verdict{Key: "AKIAEXAMPLE", Word: "contained", Footholds: 1, Held: 1}}, nil,
			[]string{"first suspect event in the journal: 2026-11-23T04:00:00Z GetCallerIdentity by AKIAEXAMPLE", "+3:07", "✓ verified: key AKIAEXAMPLE is Inactive",
				"dead (it stopped working)", "Inactive in the last inventory", "contained — 1 of 1 footholds neutralised"}},
		{"still held", report.Debrief{Report: rep, Leaked: "AKIAEXAMPLE", FirstCall: first, Steps: []report.DebriefStep{step}, AfterSince: step.At, Held: held, Live: 1,
			After: []report.OpCount{{Op: "ec2:RunInstances", Count: 2}}, AfterTotal: 2,
			Verdict: &report.Verdict{Key: "AKIAEXAMPLE", Word: "not contained", Footholds: 2, Held: 1},
			Open:    []report.Open{{Kind: "key", ID: "AKIABACKDOOR", Detail: "Active", Source: "verdict"}, {Kind: "action", ID: "act-1", Detail: "quarantine user/x: failed", Source: "journal"}}}, nil,
			[]string{"AKIABACKDOOR", "works now", "not in the journal's suspect family", "calls after your last step", "2  ec2:RunInstances",
				"1 of the attacker's credentials still work", "not contained", "· in the journal, not read back: action act-1"}},
		{"the drill disagrees", report.Debrief{Report: rep, Leaked: "AKIAEXAMPLE", FirstCall: first, Steps: []report.DebriefStep{step}, AfterSince: step.At, Held: held, Running: 3,
			Verdict: &report.Verdict{Key: "AKIAEXAMPLE", Word: "contained", Footholds: 1, Held: 1}, Disagrees: true}, nil,
			[]string{"3 of its instances run", "! the drill disagrees"}},
		{"not read back", report.Debrief{Report: rep, Leaked: "AKIAEXAMPLE", FirstCall: first}, errors.New("iam:ListUsers: throttled"),
			[]string{"verdict: unsure — AWS could not be read back: iam:ListUsers: throttled"}},
		{"not read back now", report.Debrief{Report: rep, Leaked: "AKIAEXAMPLE", FirstCall: first,
			Verdict: &report.Verdict{Key: "AKIAEXAMPLE", Word: "unsure", Footholds: 1}}, errors.New("iam:ListUsers: throttled"),
			[]string{"AWS could not be read back just now (iam:ListUsers: throttled): the last verdict journaled follows", "unsure — 0 of 1"}},
		{"hostile target", report.Debrief{Report: rep, Leaked: "AKIAEXAMPLE", FirstCall: first, Steps: []report.DebriefStep{{Step: report.Step{At: first, Action: "quarantine",
			Target: "user/\x1b]52;c;aGk=\x07evil", Outcome: string(state.OutcomeFailed)}}}}, nil,
			// The escape is shown, not acted on (issue 13: hidden text is made visible).
			[]string{"+0:00", "user/⟨U+001B⟩]52;c;", "✗ failed"}},
		{"never attacked", report.Debrief{Report: rep, Leaked: "AKIAEXAMPLE"}, nil, []string{"the attacker never called"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeDebrief(&b, tc.d, tc.checkErr); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("debrief lacks %q:\n%s", w, b.String())
				}
			}
			if strings.ContainsRune(b.String(), 0x1b) {
				t.Error("an escape reached the debrief")
			}
		})
	}
}
