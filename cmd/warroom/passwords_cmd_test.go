package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// TestContainPasswordReset: `contain password-reset USER` sets the flag the
// account then holds (read as an outside client), `--undo` in another
// process puts back the value the journal says it found, and a user
// without a console password is an error naming AWS's answer.
func TestContainPasswordReset(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	ctx := context.Background()
	im := iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1"))
	if err := d.sim.AddUser("alice.smith"); err != nil {
		t.Fatal(err)
	}
	if err := d.sim.AddUser("nopass"); err != nil {
		t.Fatal(err)
	}
	if _, err := im.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice.smith"), Password: aws.String("Old-passw0rd!")}); err != nil {
		t.Fatal(err)
	}
	flag := func() bool {
		lp, err := im.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice.smith")})
		if err != nil {
			t.Fatal(err)
		}
		return lp.LoginProfile.PasswordResetRequired
	}
	base := []string{"--journal", d.journal, "--endpoint-url", d.endpoint}
	code, out, errOut := warroomIn(t, "", append([]string{"contain", "password-reset", "alice.smith", "--plan"}, base...)...)
	if code != 0 || !strings.Contains(out, "iam:UpdateLoginProfile") || !strings.Contains(out, "PasswordResetRequired: true") || flag() {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = warroomIn(t, "yes\n", append([]string{"contain", "password-reset", "user/alice.smith"}, base...)...)
	if code != 0 || !strings.Contains(out, "✓ holds:") || !flag() {
		t.Fatalf("reset: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = warroomIn(t, "", append([]string{"contain", "password-reset", "alice.smith", "--undo", "--yes"}, base...)...)
	if code != 0 || !strings.Contains(out, "back to false") || flag() {
		t.Fatalf("undo: exit %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = warroomIn(t, "", append([]string{"contain", "password-reset", "nopass", "--yes"}, base...)...)
	if code != 1 || !strings.Contains(errOut, "NoSuchEntity") {
		t.Fatalf("no password: exit %d\n%s", code, errOut)
	}
}

// TestQuarantineAndPasswordsCommands: AWS quarantines the leaked key's
// user, the attacker gives a backdoor user a password and changes another's;
// `warroom inventory` journals what the account holds, and `quarantine` and
// `passwords` read it back from the journal, in JSON, naming AWS and the
// attacker; the quarantine's coverage says what it does NOT deny.
func TestQuarantineAndPasswordsCommands(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	ctx := context.Background()
	if err := d.sim.AWSQuarantine("ci-deploy", "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"); err != nil {
		t.Fatal(err)
	}
	// Denied now: the attacker's key cannot give a password any more …
	att := iam.NewFromConfig(d.cfg(d.leaked, "us-east-1"))
	if _, err := att.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("backup-svc"), Password: aws.String("Backd00r-pass!")}); err == nil ||
		!strings.Contains(err.Error(), "explicit deny") {
		t.Fatalf("CreateLoginProfile under quarantine: %v", err)
	}
	// … but an administrator (here the responder standing in for a second
	// attacker credential) can.
	adm := iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1"))
	if _, err := adm.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("backup-svc"), Password: aws.String("Backd00r-pass!")}); err != nil {
		t.Fatal(err)
	}
	// Journal the new CloudTrail records and an inventory.
	base := []string{"--journal", d.journal, "--endpoint-url", d.endpoint}
	if code, _, errOut := warroomIn(t, "", append([]string{"inventory", "-o", "json"}, base...)...); code != 0 {
		t.Fatalf("inventory: exit %d\n%s", code, errOut)
	}
	rec, err := state.OpenRecorder(d.journal, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	var recs []ctlog.Record
	for _, r := range d.sim.Records() {
		if r.EventName == "AttachUserPolicy" || r.EventName == "CreateLoginProfile" {
			p, err := ctlog.ParseRecord(r.JSON)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, p)
		}
	}
	if _, _, err := rec.RecordEvents("sim", recs, nil); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := warroomIn(t, "", "quarantine", "-j", d.journal, "--output", "json")
	if code != 1 {
		t.Fatalf("quarantine: exit %d\n%s\n%s", code, out, errOut)
	}
	var q quarantineReport
	if err := json.Unmarshal([]byte(out), &q); err != nil {
		t.Fatal(err)
	}
	var byAWS, inInventory bool
	for _, sg := range q.Sightings {
		byAWS = byAWS || sg.Source == "cloudtrail" && sg.ByAWS && sg.User == "ci-deploy" && sg.Policy == "AWSCompromisedKeyQuarantineV2"
		inInventory = inInventory || sg.Source == "inventory" && sg.User == "ci-deploy"
	}
	if !byAWS || !inInventory || len(q.Coverage) != 1 || !slices.Contains(q.Coverage[0].NotDenied, "sts:AssumeRole") ||
		!slices.Contains(q.Coverage[0].Denied, "iam:CreateAccessKey") {
		t.Fatalf("quarantine report %+v", q)
	}
	code, out, _ = warroomIn(t, "", "quarantine", "-j", d.journal)
	if code != 1 || !strings.Contains(out, "NOT denied: ") || !strings.Contains(out, "is not containment") {
		t.Errorf("table: %s", out)
	}

	code, out, errOut = warroomIn(t, "", "passwords", "-j", d.journal, "--output", "json")
	if code != 1 {
		t.Fatalf("passwords: exit %d\n%s\n%s", code, out, errOut)
	}
	var pl passwordList
	if err := json.Unmarshal([]byte(out), &pl); err != nil {
		t.Fatal(err)
	}
	if len(pl.Changes) != 1 || pl.Changes[0].User != "backup-svc" || pl.Changes[0].Event != "CreateLoginProfile" ||
		!strings.HasSuffix(pl.Changes[0].By, "user/incident-responder") {
		t.Fatalf("passwords %+v", pl)
	}
	// Nothing found is exit 0.
	if code, _, errOut := warroomIn(t, "", "passwords", "-j", d.journal, "--since", "now"); code != 0 {
		t.Errorf("nothing since now: exit %d %s", code, errOut)
	}
}
