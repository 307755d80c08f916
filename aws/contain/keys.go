package contain

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// keyState is an access key as read just now.
type keyState struct {
	User    string
	Status  string // Active, Inactive; "" when the key does not exist
	Others  []iamtypes.AccessKeyMetadata
	Created string
	// Missing says why the key was not found (an ErrNotFound naming the
	// call) when Status is "".
	Missing error
}

// readKey finds the user owning key (when user is empty) and the key's
// status. A key that does not exist (deleted, or never ours) has Status "".
func readKey(ctx context.Context, env *Env, key, user string) (keyState, error) {
	cl := env.Sess.IAM()
	if strings.HasPrefix(key, "ASIA") {
		return keyState{}, fmt.Errorf("%w: %s is a temporary key: it cannot be deactivated or deleted; revoke the sessions of the principal that issued it", ErrUnsupported, key)
	}
	if user == "" {
		lu, err := cl.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(key)})
		if err != nil {
			err = session.Wrap("iam:GetAccessKeyLastUsed", "", err)
			switch session.Classify(err) {
			case session.ClassNotFound:
				return keyState{Missing: notFound(err, "access key %s", key)}, nil
			case session.ClassDenied:
				// IAM answers AccessDenied for a key no user of this
				// account holds (deleted, or another account's).
				return keyState{}, fmt.Errorf("access key %s: not found in this account, or its owner cannot be read "+
					"(IAM answers AccessDenied for a key no user of the account holds: check warroom whois): %w", key, err)
			}
			return keyState{}, err
		}
		user = aws.ToString(lu.UserName)
		if user == "" {
			return keyState{Missing: notFound(nil, "access key %s: iam:GetAccessKeyLastUsed names no user", key)}, nil
		}
	}
	ks := keyState{User: user}
	out, err := cl.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		if err := principalErr("iam:ListAccessKeys", KindUser, user, err); errors.Is(err, ErrNotFound) {
			return keyState{User: user, Missing: fmt.Errorf("access key %s: %w", key, err)}, nil
		}
		return ks, session.Wrap("iam:ListAccessKeys", "", err)
	}
	ks.Missing = notFound(nil, "access key %s is not a key of user %s (iam:ListAccessKeys)", key, user)
	for _, k := range out.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == key {
			ks.Missing = nil
			ks.Status = string(k.Status)
			if k.CreateDate != nil {
				ks.Created = k.CreateDate.UTC().Format("2006-01-02T15:04:05Z")
			}
		} else {
			ks.Others = append(ks.Others, k)
		}
	}
	return ks, nil
}

// selfUser is the console's own IAM user name, when it runs as a user.
func selfUser(env *Env) string {
	if p, ok := state.ParsePrincipal(env.Self.ARN); ok && p.Kind == state.PrincipalUser {
		return p.Name
	}
	return ""
}

// selfRole is the role the console's session assumed, when it did.
func selfRole(env *Env) string {
	if p, ok := state.ParsePrincipal(env.Self.ARN); ok && p.Kind == state.PrincipalAssumedRole {
		return p.Name
	}
	return ""
}

// SetKeyStatus deactivates (Active false) or reactivates an access key.
type SetKeyStatus struct {
	Key    string
	User   string // owning user; found when empty
	Active bool
}

// Name implements Action.
func (a *SetKeyStatus) Name() string {
	if a.Active {
		return "reactivate-key"
	}
	return "deactivate-key"
}

// Target implements Action.
func (a *SetKeyStatus) Target() Target { return Target{Kind: KindKey, ID: a.Key, User: a.User} }

func (a *SetKeyStatus) want() string {
	if a.Active {
		return string(iamtypes.StatusTypeActive)
	}
	return string(iamtypes.StatusTypeInactive)
}

// Plan implements Action.
func (a *SetKeyStatus) Plan(ctx context.Context, env *Env) (*Plan, error) {
	ks, err := readKey(ctx, env, a.Key, a.User)
	if err != nil {
		return nil, err
	}
	if ks.Status == "" {
		return nil, fmt.Errorf("%s: %w", a.Name(), ks.Missing)
	}
	a.User = ks.User
	verb := "Deactivate"
	if a.Active {
		verb = "Reactivate"
	}
	p := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("%s access key %s of user %s", verb, a.Key, ks.User)}
	p.Undo = "reactivate-key " + a.Key
	if a.Active {
		p.Undo = "deactivate-key " + a.Key
	}
	if ks.Status == a.want() {
		p.Already = true
		p.Findings = append(p.Findings, fmt.Sprintf("key %s is already %s", a.Key, ks.Status))
		return p, nil
	}
	p.Findings = append(p.Findings, fmt.Sprintf("key %s of %s: %s → %s", a.Key, ks.User, ks.Status, a.want()))
	if !a.Active {
		p.Findings = append(p.Findings, "temporary keys it minted keep working until they expire: revoke sessions too")
	}
	if !a.Active && a.Key == env.Self.KeyID {
		p.Self = true
		p.Warnings = append(p.Warnings, "this is the key the console itself signs with")
	}
	p.Calls = []state.Call{call("iam:UpdateAccessKey", "", "UserName", ks.User, "AccessKeyId", a.Key, "Status", a.want())}
	return p, nil
}

// Verify implements Action.
func (a *SetKeyStatus) Verify(ctx context.Context, env *Env) (Verification, error) {
	ks, err := readKey(ctx, env, a.Key, a.User)
	if err != nil {
		return Verification{}, err
	}
	switch {
	case ks.Status == "" && !a.Active:
		return Verification{Holds: true, Detail: "key " + a.Key + " no longer exists"}, nil
	case ks.Status == a.want():
		return Verification{Holds: true, Detail: "key " + a.Key + " is " + ks.Status}, nil
	}
	return Verification{Detail: fmt.Sprintf("key %s is %q, want %s", a.Key, ks.Status, a.want())}, nil
}

// Undo implements Undoer.
func (a *SetKeyStatus) Undo() Action {
	return &SetKeyStatus{Key: a.Key, User: a.User, Active: !a.Active}
}

// DeleteKey deletes an inactive access key. It refuses an active one:
// deactivate first (reversible, keeps the id searchable), delete later.
type DeleteKey struct {
	Key  string
	User string
}

// Name implements Action.
func (a *DeleteKey) Name() string { return "delete-key" }

// Target implements Action.
func (a *DeleteKey) Target() Target { return Target{Kind: KindKey, ID: a.Key, User: a.User} }

// Plan implements Action.
func (a *DeleteKey) Plan(ctx context.Context, env *Env) (*Plan, error) {
	ks, err := readKey(ctx, env, a.Key, a.User)
	if err != nil {
		return nil, err
	}
	p := &Plan{Action: a.Name(), Target: a.Target(), Title: "Delete access key " + a.Key, Irreversible: true, Undo: CannotUndo}
	switch ks.Status {
	case "":
		return nil, fmt.Errorf("%s: %w", a.Name(), ks.Missing)
	case string(iamtypes.StatusTypeActive):
		return nil, fmt.Errorf("access key %s of %s is active: only an inactive key is deleted (deactivate-key first)", a.Key, ks.User)
	}
	a.User = ks.User
	p.Target = a.Target()
	p.Title += " of user " + ks.User
	p.Findings = append(p.Findings, fmt.Sprintf("key %s of %s (created %s) is inactive: it will be deleted for good", a.Key, ks.User, ks.Created))
	if a.Key == env.Self.KeyID {
		p.Self = true
	}
	p.Calls = []state.Call{irreversible(call("iam:DeleteAccessKey", "", "UserName", ks.User, "AccessKeyId", a.Key))}
	return p, nil
}

// Verify implements Action.
func (a *DeleteKey) Verify(ctx context.Context, env *Env) (Verification, error) {
	ks, err := readKey(ctx, env, a.Key, a.User)
	if err != nil {
		return Verification{}, err
	}
	if ks.Status == "" {
		return Verification{Holds: true, Detail: "key " + a.Key + " no longer exists"}, nil
	}
	return Verification{Detail: "key " + a.Key + " still exists (" + ks.Status + ")"}, nil
}

// RotateKey replaces a legitimate user's key: it creates a new key, then
// deactivates the old one. The new key's secret is handed back once, in
// Outcome.NewKey, for the responder to pass on; it is never journaled or
// logged.
type RotateKey struct {
	Key  string
	User string
	// created is the new key id, once made (for Verify).
	created string
}

// Name implements Action.
func (a *RotateKey) Name() string { return "rotate-key" }

// Target implements Action.
func (a *RotateKey) Target() Target { return Target{Kind: KindKey, ID: a.Key, User: a.User} }

// Plan implements Action.
func (a *RotateKey) Plan(ctx context.Context, env *Env) (*Plan, error) {
	ks, err := readKey(ctx, env, a.Key, a.User)
	if err != nil {
		return nil, err
	}
	if ks.Status == "" {
		return nil, fmt.Errorf("%s: %w", a.Name(), ks.Missing)
	}
	a.User = ks.User
	p := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Rotate access key %s of user %s", a.Key, ks.User),
		Undo: "reactivate-key " + a.Key + " (the new key stays; delete it with deactivate-key and delete-key)"}
	if ks.Status == string(iamtypes.StatusTypeInactive) {
		for _, o := range ks.Others {
			if o.Status == iamtypes.StatusTypeActive {
				p.Already = true
				p.Findings = append(p.Findings, fmt.Sprintf("key %s is inactive and %s has active key %s: already rotated", a.Key, ks.User, aws.ToString(o.AccessKeyId)))
				return p, nil
			}
		}
	}
	if len(ks.Others) > 0 {
		return nil, fmt.Errorf("user %s already has a second key (%s): IAM allows two; delete the unused one first", ks.User, aws.ToString(ks.Others[0].AccessKeyId))
	}
	if a.Key == env.Self.KeyID {
		p.Self = true
		p.Warnings = append(p.Warnings, "this is the key the console itself signs with")
	}
	p.Findings = append(p.Findings, "a new key is created for "+ks.User+"; its secret is shown once and written nowhere",
		fmt.Sprintf("then key %s (%s) is deactivated", a.Key, ks.Status))
	p.Calls = []state.Call{
		call("iam:CreateAccessKey", "", "UserName", ks.User),
		call("iam:UpdateAccessKey", "", "UserName", ks.User, "AccessKeyId", a.Key, "Status", string(iamtypes.StatusTypeInactive)),
	}
	return p, nil
}

// observe takes the new key from CreateAccessKey's answer.
func (a *RotateKey) observe(c state.Call, out any, o *Outcome) {
	if ck, ok := out.(*iam.CreateAccessKeyOutput); ok && ck.AccessKey != nil {
		a.created = aws.ToString(ck.AccessKey.AccessKeyId)
		o.NewKey = &NewKey{AccessKeyID: a.created, SecretAccessKey: aws.ToString(ck.AccessKey.SecretAccessKey), User: a.User}
	}
}

// Verify implements Action.
func (a *RotateKey) Verify(ctx context.Context, env *Env) (Verification, error) {
	ks, err := readKey(ctx, env, a.Key, a.User)
	if err != nil {
		return Verification{}, err
	}
	active := ""
	for _, o := range ks.Others {
		if o.Status == iamtypes.StatusTypeActive && (a.created == "" || aws.ToString(o.AccessKeyId) == a.created) {
			active = aws.ToString(o.AccessKeyId)
		}
	}
	if ks.Status != string(iamtypes.StatusTypeActive) && active != "" {
		return Verification{Holds: true, Detail: fmt.Sprintf("old key %s is %s; new key %s is active", a.Key, orGone(ks.Status), active)}, nil
	}
	return Verification{Detail: fmt.Sprintf("old key %s is %s; new active key: %q", a.Key, orGone(ks.Status), active)}, nil
}

// Undo implements Undoer.
func (a *RotateKey) Undo() Action { return &SetKeyStatus{Key: a.Key, User: a.User, Active: true} }

func orGone(status string) string {
	if status == "" {
		return "gone"
	}
	return status
}

// NewKey is a key created by rotation. Its secret is for the responder's
// eyes once: String and GoString never print it.
type NewKey struct {
	AccessKeyID     string
	SecretAccessKey string
	User            string
}

// String shows the key id only.
func (k NewKey) String() string { return "NewKey{" + k.AccessKeyID + "}" }

// GoString shows the key id only.
func (k NewKey) GoString() string { return k.String() }
