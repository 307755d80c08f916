package contain

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// UserPrior is everything a user had, recorded in the result before the
// user is deleted: a deleted user cannot be restored, so the journal keeps
// what was. It holds ids and documents, never a secret.
type UserPrior struct {
	Name         string            `json:"name"`
	ARN          string            `json:"arn"`
	ID           string            `json:"id,omitempty"`
	Path         string            `json:"path,omitempty"`
	Created      time.Time         `json:"created,omitzero"`
	Tags         []state.Tag       `json:"tags,omitempty"`
	Boundary     string            `json:"boundary,omitempty"`
	LoginProfile *time.Time        `json:"login_profile_created,omitempty"`
	Keys         []state.AccessKey `json:"keys,omitempty"`
	SigningCerts []string          `json:"signing_certs,omitempty"`
	SSHKeys      []string          `json:"ssh_keys,omitempty"`
	ServiceCreds []string          `json:"service_creds,omitempty"`
	MFA          []string          `json:"mfa,omitempty"`
	Inline       []state.Policy    `json:"inline,omitempty"`
	Attached     []state.Policy    `json:"attached,omitempty"`
	Groups       []string          `json:"groups,omitempty"`
}

// readUserPrior reads a user's complete state. A user that does not exist
// is an ErrNotFound naming iam:GetUser's answer.
func readUserPrior(ctx context.Context, env *Env, name string) (up UserPrior, err error) {
	cl := env.Sess.IAM()
	u, err := cl.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	if err != nil {
		return up, principalErr("iam:GetUser", KindUser, name, err)
	}
	up = UserPrior{Name: name, ARN: aws.ToString(u.User.Arn), ID: aws.ToString(u.User.UserId), Path: aws.ToString(u.User.Path),
		Created: aws.ToTime(u.User.CreateDate)}
	for _, t := range u.User.Tags {
		up.Tags = append(up.Tags, state.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	if u.User.PermissionsBoundary != nil {
		up.Boundary = aws.ToString(u.User.PermissionsBoundary.PermissionsBoundaryArn)
	}
	lp, err := cl.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(name)})
	switch {
	case err == nil && lp.LoginProfile != nil:
		t := aws.ToTime(lp.LoginProfile.CreateDate)
		up.LoginProfile = &t
	case err != nil && session.Classify(err) != session.ClassNotFound:
		return up, session.Wrap("iam:GetLoginProfile", "", err)
	}
	keys, err := cl.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(name)})
	if err != nil {
		return up, session.Wrap("iam:ListAccessKeys", "", err)
	}
	for _, k := range keys.AccessKeyMetadata {
		up.Keys = append(up.Keys, state.AccessKey{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), Created: aws.ToTime(k.CreateDate)})
	}
	certs, err := cl.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: aws.String(name)})
	if err != nil {
		return up, session.Wrap("iam:ListSigningCertificates", "", err)
	}
	for _, c := range certs.Certificates {
		up.SigningCerts = append(up.SigningCerts, aws.ToString(c.CertificateId))
	}
	ssh, err := cl.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String(name)})
	if err != nil {
		return up, session.Wrap("iam:ListSSHPublicKeys", "", err)
	}
	for _, k := range ssh.SSHPublicKeys {
		up.SSHKeys = append(up.SSHKeys, aws.ToString(k.SSHPublicKeyId))
	}
	sc, err := cl.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String(name)})
	if err != nil {
		return up, session.Wrap("iam:ListServiceSpecificCredentials", "", err)
	}
	for _, c := range sc.ServiceSpecificCredentials {
		up.ServiceCreds = append(up.ServiceCreds, aws.ToString(c.ServiceSpecificCredentialId))
	}
	mfa, err := cl.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(name)})
	if err != nil {
		return up, session.Wrap("iam:ListMFADevices", "", err)
	}
	for _, d := range mfa.MFADevices {
		up.MFA = append(up.MFA, aws.ToString(d.SerialNumber))
	}
	p, err := readPrincipal(ctx, env, KindUser, name)
	if err != nil {
		return up, err
	}
	for _, pn := range p.Order {
		up.Inline = append(up.Inline, state.Policy{Name: pn, Inline: true, Document: p.Inline[pn]})
	}
	for _, a := range p.Attached {
		up.Attached = append(up.Attached, state.Policy{Name: a.Name, ARN: a.ARN, Document: a.Document})
	}
	gp := iam.NewListGroupsForUserPaginator(cl, &iam.ListGroupsForUserInput{UserName: aws.String(name)})
	for gp.HasMorePages() {
		out, err := gp.NextPage(ctx)
		if err != nil {
			return up, session.Wrap("iam:ListGroupsForUser", "", err)
		}
		for _, g := range out.Groups {
			up.Groups = append(up.Groups, aws.ToString(g.GroupName))
		}
	}
	return up, nil
}

// TeardownUser removes a user an attacker created: it quarantines the
// user first (so nothing it holds works while the rest is removed),
// records its complete prior state in the result, removes every
// dependent IAM requires gone (login profile, access keys, signing
// certificates, SSH keys, service-specific credentials, MFA devices,
// inline and attached policies, group memberships, permissions boundary),
// and deletes it. It cannot be undone.
type TeardownUser struct {
	User string
}

// Name implements Action.
func (a *TeardownUser) Name() string { return "teardown-user" }

// Target implements Action.
func (a *TeardownUser) Target() Target { return principalTarget(KindUser, a.User) }

// Plan implements Action.
func (a *TeardownUser) Plan(ctx context.Context, env *Env) (*Plan, error) {
	up, err := readUserPrior(ctx, env, a.User)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: "Tear down user " + a.User + " (quarantine, remove everything, delete)",
		Irreversible: true, Undo: CannotUndo}
	if isSelf(env, KindUser, a.User) {
		pl.Self = true
		pl.Warnings = append(pl.Warnings, "the console itself runs as "+a.User)
	}
	pl.Prior = up
	u := func(api string, kv ...string) state.Call {
		return irreversible(call(api, "", append([]string{"UserName", a.User}, kv...)...))
	}
	p, err := readPrincipal(ctx, env, KindUser, a.User)
	if err != nil {
		return nil, err
	}
	// 1. Quarantine first: while its dependents go, nothing it holds works.
	var unquarantine []state.Call
	if p.denyAll() == "" {
		q, finding := putPolicyCalls(env, p, QuarantinePolicyName, DenyAllDocument, managedName(QuarantinePolicyName, p, env.now()))
		pl.Calls = append(pl.Calls, q...)
		pl.Findings = append(pl.Findings, finding)
		for _, c := range q {
			switch c.API {
			case "iam:PutUserPolicy":
				unquarantine = append(unquarantine, u("iam:DeleteUserPolicy", "PolicyName", QuarantinePolicyName))
			case "iam:AttachUserPolicy":
				unquarantine = append(unquarantine, u("iam:DetachUserPolicy", "PolicyArn", c.Params["PolicyArn"]),
					irreversible(call("iam:DeletePolicy", "", "PolicyArn", c.Params["PolicyArn"])))
			}
		}
	}
	if up.LoginProfile != nil {
		pl.Calls = append(pl.Calls, u("iam:DeleteLoginProfile"))
	}
	for _, k := range up.Keys {
		if k.Status == "Active" {
			pl.Calls = append(pl.Calls, call("iam:UpdateAccessKey", "", "UserName", a.User, "AccessKeyId", k.ID, "Status", "Inactive"))
		}
		pl.Calls = append(pl.Calls, u("iam:DeleteAccessKey", "AccessKeyId", k.ID))
	}
	for _, id := range up.SigningCerts {
		pl.Calls = append(pl.Calls, u("iam:DeleteSigningCertificate", "CertificateId", id))
	}
	for _, id := range up.SSHKeys {
		pl.Calls = append(pl.Calls, u("iam:DeleteSSHPublicKey", "SSHPublicKeyId", id))
	}
	for _, id := range up.ServiceCreds {
		pl.Calls = append(pl.Calls, u("iam:DeleteServiceSpecificCredential", "ServiceSpecificCredentialId", id))
	}
	for _, s := range up.MFA {
		pl.Calls = append(pl.Calls, u("iam:DeactivateMFADevice", "SerialNumber", s))
		if strings.Contains(s, ":mfa/") {
			pl.Calls = append(pl.Calls, irreversible(call("iam:DeleteVirtualMFADevice", "", "SerialNumber", s)))
		}
	}
	for _, ip := range up.Inline {
		if ip.Name != QuarantinePolicyName || p.denyAll() != "" {
			pl.Calls = append(pl.Calls, u("iam:DeleteUserPolicy", "PolicyName", ip.Name))
		}
	}
	for _, ap := range up.Attached {
		pl.Calls = append(pl.Calls, u("iam:DetachUserPolicy", "PolicyArn", ap.ARN))
	}
	for _, g := range up.Groups {
		pl.Calls = append(pl.Calls, u("iam:RemoveUserFromGroup", "GroupName", g))
	}
	if up.Boundary != "" {
		pl.Calls = append(pl.Calls, u("iam:DeleteUserPermissionsBoundary"))
	}
	// Last, the quarantine itself: IAM deletes no user with a policy left.
	pl.Calls = append(pl.Calls, unquarantine...)
	pl.Calls = append(pl.Calls, u("iam:DeleteUser"))
	pl.Findings = append(pl.Findings, fmt.Sprintf("user %s (created %s): %d keys, console password %v, %d MFA, %d inline and %d attached policies, %d groups, %d certificates, %d SSH keys, %d service credentials; its state is recorded in the journal before deletion",
		a.User, up.Created.UTC().Format(time.RFC3339), len(up.Keys), up.LoginProfile != nil, len(up.MFA), len(up.Inline), len(up.Attached),
		len(up.Groups), len(up.SigningCerts), len(up.SSHKeys), len(up.ServiceCreds)))
	return pl, nil
}

// Verify implements Action.
func (a *TeardownUser) Verify(ctx context.Context, env *Env) (Verification, error) {
	_, err := env.Sess.IAM().GetUser(ctx, &iam.GetUserInput{UserName: aws.String(a.User)})
	if err == nil {
		return Verification{Detail: "user " + a.User + " still exists"}, nil
	}
	if session.Classify(err) == session.ClassNotFound {
		return Verification{Holds: true, Detail: "user " + a.User + " no longer exists"}, nil
	}
	return Verification{}, session.Wrap("iam:GetUser", "", err)
}
