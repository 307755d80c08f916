package inventory

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// drill is a drill account served over real HTTP on loopback.
type drill struct {
	sim      *sim.Sim
	clock    *sim.ManualClock
	endpoint string
}

func newDrill(t *testing.T, opts sim.Options) *drill {
	t.Helper()
	clock := sim.NewManualClock(time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC))
	opts.Clock = clock
	if opts.Seed == 0 {
		opts.Seed = 11
	}
	s := sim.New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &drill{sim: s, clock: clock, endpoint: srv.URL}
}

// session is a warroom session signing with c, as the console builds it.
func (d *drill) session(t *testing.T, c sim.Credentials) *session.Session {
	t.Helper()
	s, err := session.Load(context.Background(), session.Options{
		Endpoint:    d.endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		MaxBackoff:  20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// iam is a plain SDK client signing with c (the attacker's, in a scenario).
func (d *drill) iam(c sim.Credentials) *iam.Client {
	return iam.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint: aws.String(d.endpoint),
	})
}

// leak builds what a leaked-key incident leaves in IAM: a developer user
// whose key leaked, and, an hour later, the attacker's backdoor user with
// AdministratorAccess, two access keys, a console password and an MFA
// device. It returns the time the incident began and the backdoor's keys.
func leak(t *testing.T, d *drill) (began time.Time, backdoorKeys []string, leaked sim.Credentials) {
	t.Helper()
	ctx := context.Background()
	for _, u := range []string{"dev-alice", "ci-deploy"} {
		if err := d.sim.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.sim.AttachUserPolicy("ci-deploy", "arn:aws:iam::aws:policy/AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	leaked, err := d.sim.AddKey("ci-deploy")
	if err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(time.Hour)
	began = d.clock.Now()
	d.clock.Advance(5 * time.Minute)

	a := d.iam(leaked)
	name := aws.String("backup-svc")
	steps := []struct {
		name string
		call func() error
	}{
		{"CreateUser", func() error { _, err := a.CreateUser(ctx, &iam.CreateUserInput{UserName: name}); return err }},
		{"AttachUserPolicy", func() error {
			_, err := a.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: name, PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
			return err
		}},
		{"CreateAccessKey 1", func() error {
			out, err := a.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: name})
			if err == nil {
				backdoorKeys = append(backdoorKeys, aws.ToString(out.AccessKey.AccessKeyId))
			}
			return err
		}},
		{"CreateAccessKey 2", func() error {
			out, err := a.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: name})
			if err == nil {
				backdoorKeys = append(backdoorKeys, aws.ToString(out.AccessKey.AccessKeyId))
			}
			return err
		}},
		{"CreateLoginProfile", func() error {
			_, err := a.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: name, Password: aws.String("Hunter2-Hunter2!")})
			return err
		}},
		{"MFA", func() error {
			out, err := a.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: name})
			if err != nil {
				return err
			}
			_, err = a.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: name, SerialNumber: out.VirtualMFADevice.SerialNumber,
				AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("scenario step %s: %v", s.name, err)
		}
	}
	d.clock.Advance(10 * time.Minute)
	return began, backdoorKeys, leaked
}

func userNamed(inv state.Inventory, name string) *state.User {
	for i := range inv.Users {
		if inv.Users[i].Name == name {
			return &inv.Users[i]
		}
	}
	return nil
}

func TestCollectLeakedKeyScenario(t *testing.T) {
	d := newDrill(t, sim.Options{})
	began, backdoorKeys, leaked := leak(t, d)
	inv := Collect(context.Background(), d.session(t, d.sim.Responder()), Options{Since: began, Now: d.sim.Now})

	if len(inv.Errors) > 0 {
		t.Errorf("calls failed on a healthy account: %+v", inv.Errors)
	}
	if inv.AccountID != d.sim.AccountID() {
		t.Errorf("account %q, want %q", inv.AccountID, d.sim.AccountID())
	}
	bd := userNamed(inv, "backup-svc")
	if bd == nil {
		t.Fatalf("backdoor user missing from %d users", len(inv.Users))
	}
	t.Run("backdoor user is new and admin", func(t *testing.T) {
		if !bd.New || !bd.Admin {
			t.Errorf("New %v Admin %v", bd.New, bd.Admin)
		}
		i := slices.IndexFunc(bd.Policies, func(p state.Policy) bool { return strings.HasSuffix(p.ARN, "/AdministratorAccess") })
		if i < 0 || !bd.Policies[i].Admin {
			t.Errorf("AdministratorAccess not flagged in %+v", bd.Policies)
		}
	})
	t.Run("both backdoor keys, the second flagged new", func(t *testing.T) {
		if len(bd.Keys) != 2 {
			t.Fatalf("keys %+v", bd.Keys)
		}
		for _, k := range bd.Keys {
			if !slices.Contains(backdoorKeys, k.ID) || !k.New || k.Status != "Active" {
				t.Errorf("key %+v", k)
			}
		}
	})
	t.Run("console password and MFA device", func(t *testing.T) {
		if !bd.ConsolePassword || bd.PasswordCreated.IsZero() {
			t.Errorf("password %v created %v", bd.ConsolePassword, bd.PasswordCreated)
		}
		if len(bd.MFA) != 1 || !bd.MFA[0].Virtual || !bd.MFA[0].New {
			t.Errorf("MFA %+v", bd.MFA)
		}
	})
	t.Run("the leaked key's user predates the incident", func(t *testing.T) {
		ci := userNamed(inv, "ci-deploy")
		if ci == nil || ci.New || len(ci.Keys) != 1 || ci.Keys[0].ID != leaked.AccessKeyID || ci.Keys[0].New {
			t.Fatalf("ci-deploy %+v", ci)
		}
		// The attacker used it for IAM calls: last use is known.
		if ci.Keys[0].LastUsed.IsZero() || ci.Keys[0].LastService != "iam" {
			t.Errorf("last use %v %q %q", ci.Keys[0].LastUsed, ci.Keys[0].LastService, ci.Keys[0].LastRegion)
		}
		if !ci.Admin {
			t.Error("ci-deploy holds AdministratorAccess but is not flagged")
		}
	})
	t.Run("a user without admin is not flagged", func(t *testing.T) {
		if u := userNamed(inv, "dev-alice"); u == nil || u.Admin || u.New || u.ConsolePassword {
			t.Errorf("dev-alice %+v", u)
		}
	})
	t.Run("roles and root", func(t *testing.T) {
		i := slices.IndexFunc(inv.Roles, func(r state.Role) bool { return r.Name == "IncidentResponse" })
		if i < 0 {
			t.Fatalf("roles %+v", inv.Roles)
		}
		if r := inv.Roles[i]; !r.Admin || len(r.External) != 0 || r.TrustPolicy == "" || r.MaxSession != 3600 {
			t.Errorf("role %+v", r)
		}
		if inv.Root == nil || !inv.Root.MFA || inv.Root.AccessKeys != 0 || !strings.HasSuffix(inv.Root.ARN, ":root") {
			t.Errorf("root %+v", inv.Root)
		}
	})
}

// TestCollectDenied: a responder whose policies deny some IAM reads still
// gets every user, with each denied call recorded.
func TestCollectDenied(t *testing.T) {
	d := newDrill(t, sim.Options{})
	leak(t, d)
	ctx := context.Background()
	if err := d.sim.AddUser("auditor"); err != nil {
		t.Fatal(err)
	}
	auditor, err := d.sim.AddKey("auditor")
	if err != nil {
		t.Fatal(err)
	}
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:ListAccessKeys","iam:GetCredentialReport","iam:GenerateCredentialReport"],"Resource":"*"}]}`
	if _, err := d.iam(d.sim.Responder()).PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("auditor"),
		PolicyName: aws.String("no-keys"), PolicyDocument: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	inv := Collect(ctx, d.session(t, auditor), Options{Now: d.sim.Now})

	bd := userNamed(inv, "backup-svc")
	if bd == nil || !bd.Admin || !bd.ConsolePassword || len(bd.Keys) != 0 {
		t.Fatalf("backdoor user with keys denied: %+v", bd)
	}
	denied := map[string]int{}
	for _, e := range inv.Errors {
		if e.Class != string(session.ClassDenied) {
			t.Errorf("error of class %q: %+v", e.Class, e)
		}
		denied[e.Call]++
		if e.Target == "" {
			t.Errorf("error without a target: %+v", e)
		}
	}
	if denied["iam:ListAccessKeys"] != len(inv.Users) {
		t.Errorf("ListAccessKeys denials %d, want one per user (%d): %+v", denied["iam:ListAccessKeys"], len(inv.Users), inv.Errors)
	}
	if denied["iam:GenerateCredentialReport"] != 1 || inv.Root != nil {
		t.Errorf("credential report denial not recorded once: %+v, root %+v", inv.Errors, inv.Root)
	}
}

// BenchmarkCollect takes a snapshot of 40 users (one key each) and the
// roles with 50 ms of latency on every call: the per-user calls overlap.
func BenchmarkCollect(b *testing.B) {
	clock := sim.NewManualClock(time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC))
	s := sim.New(sim.Options{Seed: 5, Clock: clock, Latency: 50 * time.Millisecond})
	srv := httptest.NewServer(s)
	b.Cleanup(srv.Close)
	for i := range 40 {
		name := fmt.Sprintf("user-%02d", i)
		if err := s.AddUser(name); err != nil {
			b.Fatal(err)
		}
		if _, err := s.AddKey(name); err != nil {
			b.Fatal(err)
		}
	}
	c := s.Responder()
	sess, err := session.Load(context.Background(), session.Options{Endpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		inv := Collect(context.Background(), sess, Options{})
		if len(inv.Users) != 41 || len(inv.Errors) > 0 {
			b.Fatalf("%d users, errors %+v", len(inv.Users), inv.Errors)
		}
	}
}
