package contain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// principalTarget is the Target of a user or role action.
func principalTarget(kind Kind, name string) Target { return Target{Kind: kind, ID: name} }

// isSelf reports whether the principal is the one the console runs as.
func isSelf(env *Env, kind Kind, name string) bool {
	switch kind {
	case KindUser:
		return name != "" && name == selfUser(env)
	case KindRole:
		return name != "" && name == selfRole(env)
	}
	return false
}

// RevokeSessions denies everything to the temporary credentials a user or
// role issued before now: the inline policy AWSRevokeOlderSessions (or, when
// the inline cap would be exceeded, a customer-managed policy) with
// DateLessThan aws:TokenIssueTime. It does not touch long-term keys, and
// refuses root, service-linked and Identity Center roles, saying why.
type RevokeSessions struct {
	Kind      Kind // KindUser or KindRole
	Principal string
	// NotBefore: an existing revoke whose cutoff is at or after NotBefore
	// is already in effect. Zero means any existing revoke policy is; the
	// playbook passes the newest credential issue time it knows of.
	NotBefore time.Time

	cutoff time.Time // planned cutoff, for Verify
}

// Name implements Action.
func (a *RevokeSessions) Name() string { return "revoke-sessions" }

// Target implements Action.
func (a *RevokeSessions) Target() Target { return principalTarget(a.Kind, a.Principal) }

// Plan implements Action.
func (a *RevokeSessions) Plan(ctx context.Context, env *Env) (*Plan, error) {
	if a.Kind == KindRoot || a.Principal == "root" && a.Kind == KindUser {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, cannotRevoke(KindRoot, "root", ""))
	}
	if why := cannotRevoke(a.Kind, a.Principal, ""); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, why)
	}
	p, err := readPrincipal(ctx, env, a.Kind, a.Principal)
	if err != nil {
		return nil, err
	}
	if why := cannotRevoke(a.Kind, a.Principal, p.Path); why != "" {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, why)
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Revoke older sessions of %s %s", a.Kind, a.Principal),
		Undo: "unrevoke-sessions " + string(a.Kind) + "/" + a.Principal + " (temporary credentials issued before the cutoff work again)"}
	if cut, label := p.revokeCutoff(); !cut.IsZero() && !cut.Before(a.NotBefore) {
		pl.Already = true
		pl.Findings = append(pl.Findings, fmt.Sprintf("%s already denies credentials issued before %s", label, cut.Format(time.RFC3339)))
		a.cutoff = cut
		return pl, nil
	} else if !cut.IsZero() {
		pl.Findings = append(pl.Findings, fmt.Sprintf("%s denies credentials issued before %s; credentials issued since need a newer cutoff", label, cut.Format(time.RFC3339)))
	}
	a.cutoff = RevokeCutoff(env.now())
	doc := RevokeDocument(a.cutoff)
	calls, finding := putPolicyCalls(env, p, RevokePolicyName, doc, managedName(RevokePolicyName, p, a.cutoff))
	pl.Calls = calls
	pl.Findings = append(pl.Findings, finding,
		fmt.Sprintf("every temporary credential of %s issued before %s is denied everything; long-term keys are not affected; IAM takes a moment to apply it",
			a.Principal, a.cutoff.Format(time.RFC3339)))
	if isSelf(env, a.Kind, a.Principal) {
		pl.Self = true
		pl.Warnings = append(pl.Warnings, "the console itself runs as "+a.Principal)
	}
	return pl, nil
}

// Verify implements Action.
func (a *RevokeSessions) Verify(ctx context.Context, env *Env) (Verification, error) {
	p, err := readPrincipal(ctx, env, a.Kind, a.Principal)
	if err != nil {
		return Verification{}, err
	}
	cut, label := p.revokeCutoff()
	want := a.cutoff
	if want.IsZero() {
		want = a.NotBefore
	}
	if !cut.IsZero() && !cut.Before(want) {
		return Verification{Holds: true, Detail: fmt.Sprintf("%s denies credentials issued before %s", label, cut.Format(time.RFC3339))}, nil
	}
	if cut.IsZero() {
		return Verification{Detail: "no revoke policy on " + a.Principal}, nil
	}
	return Verification{Detail: fmt.Sprintf("%s cutoff %s is before %s", label, cut.Format(time.RFC3339), want.Format(time.RFC3339))}, nil
}

// Undo implements Undoer.
func (a *RevokeSessions) Undo() Action {
	return &RemovePolicy{Kind: a.Kind, Principal: a.Principal, Policy: RevokePolicyName, action: "unrevoke-sessions"}
}

// Quarantine denies a user or role everything (deny-all, no condition):
// every credential of the principal, long-term or temporary, stops working.
type Quarantine struct {
	Kind      Kind
	Principal string
}

// Name implements Action.
func (a *Quarantine) Name() string { return "quarantine" }

// Target implements Action.
func (a *Quarantine) Target() Target { return principalTarget(a.Kind, a.Principal) }

// Plan implements Action.
func (a *Quarantine) Plan(ctx context.Context, env *Env) (*Plan, error) {
	p, err := readPrincipal(ctx, env, a.Kind, a.Principal)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Quarantine %s %s (deny everything)", a.Kind, a.Principal),
		Undo: "unquarantine " + string(a.Kind) + "/" + a.Principal}
	if label := p.denyAll(); label != "" {
		pl.Already = true
		pl.Findings = append(pl.Findings, label+" already denies everything")
		return pl, nil
	}
	calls, finding := putPolicyCalls(env, p, QuarantinePolicyName, DenyAllDocument, managedName(QuarantinePolicyName, p, env.now()))
	pl.Calls = calls
	pl.Findings = append(pl.Findings, finding, "every credential of "+a.Principal+" (keys, console, sessions) is denied every action")
	if isSelf(env, a.Kind, a.Principal) {
		pl.Self = true
		pl.Warnings = append(pl.Warnings, "the console itself runs as "+a.Principal)
	}
	return pl, nil
}

// Verify implements Action.
func (a *Quarantine) Verify(ctx context.Context, env *Env) (Verification, error) {
	p, err := readPrincipal(ctx, env, a.Kind, a.Principal)
	if err != nil {
		return Verification{}, err
	}
	if label := p.denyAll(); label != "" {
		return Verification{Holds: true, Detail: label + " denies everything"}, nil
	}
	return Verification{Detail: "no deny-all policy on " + a.Principal}, nil
}

// Undo implements Undoer.
func (a *Quarantine) Undo() Action {
	return &RemovePolicy{Kind: a.Kind, Principal: a.Principal, Policy: QuarantinePolicyName, action: "unquarantine"}
}

// RemovePolicy removes a policy warroom put on a principal: the inline
// policy of that name, and warroom's customer-managed fallbacks of the
// same prefix (detached, then deleted). It undoes Quarantine
// ("unquarantine") and RevokeSessions ("unrevoke-sessions").
type RemovePolicy struct {
	Kind      Kind
	Principal string
	Policy    string // QuarantinePolicyName or RevokePolicyName
	action    string
}

// NewUnquarantine returns the action that lifts a quarantine.
func NewUnquarantine(kind Kind, name string) *RemovePolicy {
	return &RemovePolicy{Kind: kind, Principal: name, Policy: QuarantinePolicyName, action: "unquarantine"}
}

// NewUnrevoke returns the action that removes a revoke policy.
func NewUnrevoke(kind Kind, name string) *RemovePolicy {
	return &RemovePolicy{Kind: kind, Principal: name, Policy: RevokePolicyName, action: "unrevoke-sessions"}
}

// Name implements Action.
func (a *RemovePolicy) Name() string {
	if a.action != "" {
		return a.action
	}
	return "remove-policy"
}

// Target implements Action.
func (a *RemovePolicy) Target() Target { return principalTarget(a.Kind, a.Principal) }

// managed lists warroom's managed fallbacks of this policy on p.
func (a *RemovePolicy) managed(p *principal) []attachedPolicy {
	var out []attachedPolicy
	for _, at := range p.Attached {
		if strings.Contains(at.ARN, ":policy"+ManagedPath+a.Policy+"-") {
			out = append(out, at)
		}
	}
	return out
}

// Plan implements Action.
func (a *RemovePolicy) Plan(ctx context.Context, env *Env) (*Plan, error) {
	p, err := readPrincipal(ctx, env, a.Kind, a.Principal)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Remove %s from %s %s", a.Policy, a.Kind, a.Principal)}
	if a.Policy == QuarantinePolicyName {
		pl.Undo = "quarantine " + string(a.Kind) + "/" + a.Principal
	} else {
		pl.Undo = "revoke-sessions " + string(a.Kind) + "/" + a.Principal
	}
	if _, ok := p.Inline[a.Policy]; ok {
		pl.Calls = append(pl.Calls, call(p.iamOp("Delete%sPolicy"), "", p.nameParam(), a.Principal, "PolicyName", a.Policy))
	}
	for _, m := range a.managed(p) {
		pl.Calls = append(pl.Calls, call(p.iamOp("Detach%sPolicy"), "", p.nameParam(), a.Principal, "PolicyArn", m.ARN),
			call("iam:DeletePolicy", "", "PolicyArn", m.ARN))
	}
	if len(pl.Calls) == 0 {
		pl.Already = true
		pl.Findings = append(pl.Findings, "no "+a.Policy+" policy on "+a.Principal)
	}
	return pl, nil
}

// Verify implements Action.
func (a *RemovePolicy) Verify(ctx context.Context, env *Env) (Verification, error) {
	p, err := readPrincipal(ctx, env, a.Kind, a.Principal)
	if err != nil {
		return Verification{}, err
	}
	if _, ok := p.Inline[a.Policy]; ok || len(a.managed(p)) > 0 {
		return Verification{Detail: a.Policy + " is still on " + a.Principal}, nil
	}
	return Verification{Holds: true, Detail: a.Policy + " is no longer on " + a.Principal}, nil
}

// DeleteLoginProfile deletes a user's console password. There is no
// "disable": deleting is the only way, and it cannot be undone (a new
// password can be set, but not the old one).
type DeleteLoginProfile struct {
	User string
}

// Name implements Action.
func (a *DeleteLoginProfile) Name() string { return "delete-login-profile" }

// Target implements Action.
func (a *DeleteLoginProfile) Target() Target { return principalTarget(KindUser, a.User) }

func loginProfile(ctx context.Context, env *Env, user string) (created string, exists bool, err error) {
	out, err := env.Sess.IAM().GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(user)})
	if err != nil {
		if session.Classify(err) == session.ClassNotFound {
			return "", false, nil
		}
		return "", false, session.Wrap("iam:GetLoginProfile", "", err)
	}
	if out.LoginProfile != nil && out.LoginProfile.CreateDate != nil {
		created = out.LoginProfile.CreateDate.UTC().Format(time.RFC3339)
	}
	return created, true, nil
}

// Plan implements Action.
func (a *DeleteLoginProfile) Plan(ctx context.Context, env *Env) (*Plan, error) {
	// GetLoginProfile answers NoSuchEntity both for a user without a
	// password and for no such user: only the first is "already".
	if err := requireUser(ctx, env, a.User); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	created, ok, err := loginProfile(ctx, env, a.User)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: "Delete the console password of user " + a.User, Irreversible: true, Undo: CannotUndo}
	if !ok {
		pl.Already = true
		pl.Findings = append(pl.Findings, a.User+" has no console password")
		return pl, nil
	}
	pl.Findings = append(pl.Findings, fmt.Sprintf("%s has a console password set %s: it is deleted, console sign-in stops", a.User, created),
		"console sessions already open are not ended: revoke sessions too")
	pl.Calls = []state.Call{irreversible(call("iam:DeleteLoginProfile", "", "UserName", a.User))}
	return pl, nil
}

// Verify implements Action.
func (a *DeleteLoginProfile) Verify(ctx context.Context, env *Env) (Verification, error) {
	_, ok, err := loginProfile(ctx, env, a.User)
	if err != nil {
		return Verification{}, err
	}
	if ok {
		return Verification{Detail: a.User + " still has a console password"}, nil
	}
	return Verification{Holds: true, Detail: a.User + " has no console password"}, nil
}

// RemoveMFA deactivates and deletes MFA devices of a user (the ones an
// attacker registered): virtual devices are deleted after deactivation,
// hardware ones only deactivated.
type RemoveMFA struct {
	User string
	// Serials to remove; empty means every device of the user.
	Serials []string
}

// Name implements Action.
func (a *RemoveMFA) Name() string { return "remove-mfa" }

// Target implements Action.
func (a *RemoveMFA) Target() Target { return Target{Kind: KindMFA, User: a.User, IDs: a.Serials} }

// devices lists the user's devices among Serials. A user that does not
// exist is an ErrNotFound naming the call.
func (a *RemoveMFA) devices(ctx context.Context, env *Env) ([]string, error) {
	if a.User == "" {
		return nil, errors.New("remove-mfa: no user")
	}
	var out []string
	pages := iam.NewListMFADevicesPaginator(env.Sess.IAM(), &iam.ListMFADevicesInput{UserName: aws.String(a.User)})
	for pages.HasMorePages() {
		pg, err := pages.NextPage(ctx)
		if err != nil {
			return nil, principalErr("iam:ListMFADevices", KindUser, a.User, err)
		}
		for _, d := range pg.MFADevices {
			s := aws.ToString(d.SerialNumber)
			if len(a.Serials) == 0 || contains(a.Serials, s) {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// Plan implements Action.
func (a *RemoveMFA) Plan(ctx context.Context, env *Env) (*Plan, error) {
	devs, err := a.devices(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: "Deactivate and delete MFA devices of user " + a.User, Irreversible: true, Undo: CannotUndo}
	if len(devs) == 0 {
		pl.Already = true
		pl.Findings = append(pl.Findings, a.User+" has none of these MFA devices")
		return pl, nil
	}
	if len(a.Serials) == 0 {
		pl.Warnings = append(pl.Warnings, "every MFA device of "+a.User+" is removed, the legitimate ones too")
	}
	for _, s := range devs {
		pl.Calls = append(pl.Calls, irreversible(call("iam:DeactivateMFADevice", "", "UserName", a.User, "SerialNumber", s)))
		if strings.Contains(s, ":mfa/") {
			pl.Calls = append(pl.Calls, irreversible(call("iam:DeleteVirtualMFADevice", "", "SerialNumber", s)))
		}
		pl.Findings = append(pl.Findings, "MFA device "+s+" is deactivated"+map[bool]string{true: " and deleted", false: ""}[strings.Contains(s, ":mfa/")])
	}
	return pl, nil
}

// Verify implements Action.
func (a *RemoveMFA) Verify(ctx context.Context, env *Env) (Verification, error) {
	devs, err := a.devices(ctx, env)
	if errors.Is(err, ErrNotFound) {
		// Verified after the action: the user went away since (torn down).
		return Verification{Holds: true, Detail: "user " + a.User + " no longer exists"}, nil
	}
	if err != nil {
		return Verification{}, err
	}
	if len(devs) > 0 {
		return Verification{Detail: fmt.Sprintf("%s still has MFA devices %v", a.User, devs)}, nil
	}
	return Verification{Holds: true, Detail: a.User + " has none of these MFA devices"}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
