package contain

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// PasswordReset sets or clears a user's PasswordResetRequired
// (iam:UpdateLoginProfile with that flag alone: no password is ever sent):
// set, the user must choose a new password at the next console sign-in,
// so a password the attacker set or learnt stops working once the owner
// signs in. It reads the flag first (iam:GetLoginProfile) and keeps what it
// was in the result (Prior); its undo puts that value back. A user without
// a console password (NoSuchEntity) has nothing to reset: an error naming
// the call, as AWS answers UpdateLoginProfile.
type PasswordReset struct {
	User string
	// Required is the value to set: true for password-reset, the prior
	// value for its undo.
	Required bool
	// Undoing marks the undo (undo-password-reset).
	Undoing bool
	// PriorKnown says Required of an undo comes from the journal (the
	// reset's result); when false the undo sets AWS's default, false.
	PriorKnown bool

	prior *bool // the flag as Plan read it
}

// Name implements Action.
func (a *PasswordReset) Name() string {
	if a.Undoing {
		return "undo-password-reset"
	}
	return "password-reset"
}

// Target implements Action.
func (a *PasswordReset) Target() Target { return principalTarget(KindUser, a.User) }

// PasswordPrior is what a password reset's result keeps of the flag it
// replaced.
type PasswordPrior struct {
	User                  string `json:"user"`
	PasswordResetRequired bool   `json:"password_reset_required"`
	Created               string `json:"login_profile_created,omitempty"`
}

// readReset reads the user's login profile: whether one exists, its
// reset flag and creation time.
func readReset(ctx context.Context, env *Env, user string) (exists, required bool, created string, err error) {
	out, err := env.Sess.IAM().GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(user)})
	if err != nil {
		if session.Classify(err) == session.ClassNotFound {
			return false, false, "", nil
		}
		return false, false, "", session.Wrap("iam:GetLoginProfile", "", err)
	}
	if out.LoginProfile == nil {
		return false, false, "", nil
	}
	if out.LoginProfile.CreateDate != nil {
		created = out.LoginProfile.CreateDate.UTC().Format("2006-01-02T15:04:05Z")
	}
	return true, out.LoginProfile.PasswordResetRequired, created, nil
}

// Plan implements Action.
func (a *PasswordReset) Plan(ctx context.Context, env *Env) (*Plan, error) {
	// GetLoginProfile answers NoSuchEntity for a user without a password
	// and for no such user alike: tell them apart first.
	if err := requireUser(ctx, env, a.User); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	exists, was, created, err := readReset(ctx, env, a.User)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, fmt.Errorf("%s: %w", a.Name(), notFound(nil,
			"user %s has no console password (iam:GetLoginProfile: NoSuchEntity): nothing to reset", a.User))
	}
	a.prior = &was
	title := "Require user " + a.User + " to choose a new console password at the next sign-in"
	if a.Undoing {
		title = fmt.Sprintf("Put user %s's password-reset flag back to %v", a.User, a.Required)
	}
	p := &Plan{Action: a.Name(), Target: a.Target(), Title: title,
		Prior: PasswordPrior{User: a.User, PasswordResetRequired: was, Created: created}}
	p.Undo = "undo-password-reset user/" + a.User + " (puts back " + strconv.FormatBool(was) + ")"
	if a.Undoing {
		p.Undo = "password-reset user/" + a.User
		if !a.PriorKnown {
			p.Findings = append(p.Findings, "the journal holds no earlier password-reset of "+a.User+": AWS's default, false, is put back")
		}
	}
	if was == a.Required {
		p.Already = true
		p.Findings = append(p.Findings, fmt.Sprintf("%s's PasswordResetRequired is already %v", a.User, was))
		return p, nil
	}
	p.Findings = append(p.Findings, fmt.Sprintf("%s has a console password set %s: PasswordResetRequired %v → %v", a.User, created, was, a.Required))
	if a.Required {
		p.Findings = append(p.Findings, "the password keeps working until the next sign-in, and console sessions already open go on: revoke sessions or delete the login profile to cut them")
		if a.User == selfUser(env) {
			p.Warnings = append(p.Warnings, "this is the user the console itself runs as")
		}
	}
	p.Calls = []state.Call{call("iam:UpdateLoginProfile", "", "UserName", a.User, "PasswordResetRequired", strconv.FormatBool(a.Required))}
	return p, nil
}

// Verify implements Action: the flag read back from GetLoginProfile.
func (a *PasswordReset) Verify(ctx context.Context, env *Env) (Verification, error) {
	exists, got, _, err := readReset(ctx, env, a.User)
	if err != nil {
		return Verification{}, err
	}
	if !exists {
		if a.Required {
			return Verification{Detail: a.User + " has no console password any more (deleted since)"}, nil
		}
		return Verification{Holds: true, Detail: a.User + " has no console password"}, nil
	}
	if got != a.Required {
		return Verification{Detail: fmt.Sprintf("%s's PasswordResetRequired is %v, want %v", a.User, got, a.Required)}, nil
	}
	return Verification{Holds: true, Detail: fmt.Sprintf("%s's PasswordResetRequired is %v (iam:GetLoginProfile)", a.User, got)}, nil
}

// Undo implements Undoer: the flag as Plan read it goes back. Before a
// plan, the prior value is unknown and AWS's default (false) is assumed.
func (a *PasswordReset) Undo() Action {
	if a.Undoing {
		return &PasswordReset{User: a.User, Required: true}
	}
	u := &PasswordReset{User: a.User, Undoing: true}
	if a.prior != nil {
		u.Required, u.PriorKnown = *a.prior, true
	}
	return u
}

// PriorReset finds, in a journal's actions, the flag the latest password
// reset of user found before it acted (its result's Prior), for an undo
// in another process.
func PriorReset(actions []*state.Action, user string) (required, ok bool) {
	target := principalTarget(KindUser, user).String()
	for i := len(actions) - 1; i >= 0; i-- {
		a := actions[i]
		if a.Intent.Action != "password-reset" || a.Intent.Target != target || a.Result == nil || len(a.Result.Prior) == 0 {
			continue
		}
		var p PasswordPrior
		if err := json.Unmarshal(a.Result.Prior, &p); err != nil {
			continue
		}
		return p.PasswordResetRequired, true
	}
	return false, false
}
