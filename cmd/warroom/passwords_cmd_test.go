package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/sim"
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
