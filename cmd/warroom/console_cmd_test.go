package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
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
	step := debriefStep{At: first.Add(3*time.Minute + 7*time.Second), Action: "deactivate-key", Target: "AKIAEXAMPLE@legacy",
		Outcome: state.OutcomeVerified, Detail: "key AKIAEXAMPLE is Inactive"}
	held := []scenario.Held{{Kind: scenario.KindLeaked, AccessKeyID: "AKIAEXAMPLE", Dead: true},
		{Kind: scenario.KindBackdoor, AccessKeyID: "AKIABACKDOOR"}}
	cases := []struct {
		name string
		d    debrief
		want []string
	}{
		{"no step", debrief{Leaked: "AKIAEXAMPLE", FirstAttack: first, Held: held,
			Verdict: &state.Verdict{Key: "AKIAEXAMPLE", Footholds: 1, Open: []state.OpenFoothold{{Kind: "key", ID: "AKIAEXAMPLE", Detail: "the suspect key: Active"}}}},
			[]string{"first attacker call: 2026-11-23T04:00:00Z", "  none", "verdict (read back from AWS at", "not contained — 0 of 1 footholds neutralised", "✗ open: key AKIAEXAMPLE: the suspect key: Active"}},
		{"contained", debrief{Leaked: "AKIAEXAMPLE", FirstAttack: first, Steps: []debriefStep{step}, AfterSince: step.At, Held: held[:1],
			Verdict: &state.Verdict{Key: "AKIAEXAMPLE", Contained: true, Footholds: 1, Held: 1}},
			[]string{"+3:07", "✓ verified: key AKIAEXAMPLE is Inactive", "dead (it stopped working)", "contained — 1 of 1 footholds neutralised"}},
		{"still held", debrief{Leaked: "AKIAEXAMPLE", FirstAttack: first, Steps: []debriefStep{step}, AfterSince: step.At, Held: held,
			After:   []sim.Call{{Service: "ec2", Operation: "RunInstances"}, {Service: "ec2", Operation: "RunInstances"}},
			Verdict: &state.Verdict{Key: "AKIAEXAMPLE", Footholds: 2, Held: 1, Open: []state.OpenFoothold{{Kind: "key", ID: "AKIABACKDOOR", Detail: "Active"}}}},
			[]string{"AKIABACKDOOR", "still held", "calls after your last step", "2  ec2:RunInstances", "1 of the attacker's credentials still work", "not contained"}},
		{"the drill disagrees", debrief{Leaked: "AKIAEXAMPLE", FirstAttack: first, Steps: []debriefStep{step}, AfterSince: step.At, Held: held, Running: 3,
			Verdict: &state.Verdict{Key: "AKIAEXAMPLE", Contained: true, Footholds: 1, Held: 1}},
			[]string{"3 of its instances run", "! the drill disagrees"}},
		{"not read back", debrief{Leaked: "AKIAEXAMPLE", FirstAttack: first, VerdictErr: errors.New("iam:ListUsers: throttled")},
			[]string{"verdict: unsure — AWS could not be read back: iam:ListUsers: throttled"}},
		{"hostile target", debrief{Leaked: "AKIAEXAMPLE", FirstAttack: first, Steps: []debriefStep{{At: first, Action: "quarantine",
			Target: "user/\x1b]52;c;aGk=\x07evil", Outcome: state.OutcomeFailed}}},
			// The escape is shown, not acted on (issue 13: hidden text is made visible).
			[]string{"+0:00", "user/⟨U+001B⟩]52;c;", "✗ failed"}},
		{"never attacked", debrief{Leaked: "AKIAEXAMPLE"}, []string{"the attacker never called"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := writeDebrief(&b, tc.d); err != nil {
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
