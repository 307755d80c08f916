package scenario

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/warroom-ir/warroom/aws/sim"
)

// The optional Identity Center part of the scenario (Options.IdentityCenter):
// the account's people are also IAM Identity Center users, administrators
// assigned AdministratorAccess and the developers' group ReadOnlyAccess,
// and an intruder holding a phished administrator's Identity Center
// session (AWSReservedSSO_AdministratorAccess_…, named after the user)
// calls the account every round from its own address. Containing the
// Identity Center user denies that session.

const (
	ssoIntruderIP    = "127.0.0.66"
	ssoIntruderAgent = "aws-cli/2.15.10 Python/3.11.6 Linux/6.1.0-kali7-amd64 exe/x86_64.kali.2023 prompt/off"
	ssoAdminSet      = "AdministratorAccess"
)

// ssoPart is the Identity Center part's state.
type ssoPart struct {
	user    string        // the phished Identity Center user
	calls   atomic.Int64  // the intruder's calls
	denied  atomic.Int64  // of which AccessDenied
	started chan struct{} // closed once the intruder signed in
}

// setupIdentityCenter makes the instance, its users, group, permission
// sets and assignments.
func (sc *Scenario) setupIdentityCenter(admins, devs []string) error {
	s := sc.sim
	s.EnableIdentityCenter()
	for _, n := range append(append([]string{}, admins...), devs...) {
		if _, err := s.AddSSOUser(n, n, n+"@example.com"); err != nil {
			return err
		}
	}
	if err := s.AddSSOGroup("Engineering", devs...); err != nil {
		return err
	}
	if _, err := s.AddPermissionSet(ssoAdminSet, "", adminPolicy); err != nil {
		return err
	}
	if _, err := s.AddPermissionSet("ReadOnlyAccess", "", readOnlyPolicy); err != nil {
		return err
	}
	for _, a := range admins {
		if err := s.AssignSSO(a, ssoAdminSet); err != nil {
			return err
		}
	}
	if err := s.AssignSSO("Engineering", "ReadOnlyAccess"); err != nil {
		return err
	}
	sc.sso = &ssoPart{user: admins[len(admins)-1], started: make(chan struct{})}
	return nil
}

// SSOUser is the Identity Center user whose session the intruder holds
// ("" without Options.IdentityCenter).
func (sc *Scenario) SSOUser() string {
	if sc.sso == nil {
		return ""
	}
	return sc.sso.user
}

// SSOIntruderStarted is closed once the intruder signed in (nil without
// Options.IdentityCenter).
func (sc *Scenario) SSOIntruderStarted() <-chan struct{} {
	if sc.sso == nil {
		return nil
	}
	return sc.sso.started
}

// SSOIntruderCalls returns how many calls the Identity Center intruder made
// and how many of them were denied.
func (sc *Scenario) SSOIntruderCalls() (calls, denied int64) {
	if sc.sso == nil {
		return 0, 0
	}
	return sc.sso.calls.Load(), sc.sso.denied.Load()
}

// runSSOIntruder signs in as the phished user once and calls the account
// with that session every round.
func (sc *Scenario) runSSOIntruder(ctx context.Context) {
	creds, err := sc.sim.SignInSSO(sc.sso.user, ssoAdminSet, ssoIntruderIP)
	if err != nil {
		sc.logf("sso intruder: sign-in: %v", err)
		return
	}
	close(sc.sso.started)
	id := newIdentity(ssoIntruderIP, ssoIntruderAgent)
	cfg := id.config(sc.endpoint, sim.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken}, homeRgn)
	st, im, s3c := sts.NewFromConfig(cfg), iam.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	note := func(what string, err error) {
		sc.sso.calls.Add(1)
		var ae smithy.APIError
		if errors.As(err, &ae) && (ae.ErrorCode() == "AccessDenied" || ae.ErrorCode() == "AccessDeniedException") {
			sc.sso.denied.Add(1)
		}
		if err != nil {
			sc.logf("sso intruder: %s: %v", what, err)
		}
	}
	for ctx.Err() == nil {
		_, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		note("GetCallerIdentity", err)
		_, err = s3c.ListBuckets(ctx, &s3.ListBucketsInput{})
		note("ListBuckets", err)
		_, err = im.ListUsers(ctx, &iam.ListUsersInput{})
		note("ListUsers", err)
		if sc.pace(ctx, sc.opts.Round) != nil {
			return
		}
	}
}
