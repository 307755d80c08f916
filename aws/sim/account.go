package sim

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// credKind says how a credential came to be.
type credKind int

const (
	credLongTerm   credKind = iota // an IAM user's access key (AKIA)
	credSession                    // sts:GetSessionToken (ASIA, acts as the user)
	credFederation                 // sts:GetFederationToken (ASIA, a federated user)
	credRole                       // sts:AssumeRole (ASIA, a role session)
)

// credential is one access key the sim knows, long-term or temporary.
type credential struct {
	ID      string
	Secret  string
	Token   string // empty for long-term keys
	Kind    credKind
	User    *user // the user (long-term, session, federation)
	Role    *role // the role (role sessions)
	Session string
	Status  string // Active, Inactive (long-term keys)
	Created time.Time
	Expires time.Time // zero for long-term keys
	Deleted bool
	Parent  string // the key that minted a temporary credential
	MFA     bool
	// Account is the other account an outside key belongs to
	// (Sim.AddOutsideKey); empty for the drill account's own keys.
	Account string
	// SSOUserID is the identity store user an Identity Center session
	// belongs to (identitystore:UserId); empty for other credentials.
	SSOUserID string

	LastUsed    time.Time
	LastService string
	LastRegion  string
}

// namedPolicy is an inline policy.
type namedPolicy struct {
	Name     string
	Document string
}

// user is an IAM user.
type user struct {
	Name, ID, ARN, Path string
	Created             time.Time
	PasswordLastUsed    time.Time
	Keys                []*credential
	Inline              []namedPolicy
	Attached            []string // managed policy ARNs
	Groups              []string
	Login               *loginProfile
	MFA                 []*mfaDevice
	Tags                []Tag
	SigningCerts        int
	SSHKeys             int
	ServiceCreds        int
	Deleted             bool
}

// loginProfile is a console password. The password itself is never kept.
type loginProfile struct {
	Created       time.Time
	ResetRequired bool
}

// mfaDevice is an MFA device, virtual or not.
type mfaDevice struct {
	Serial  string
	Enabled time.Time
	Created time.Time
	User    string // the user it is enabled for, "" when unassigned
}

// role is an IAM role.
type role struct {
	Name, ID, ARN, Path string
	Description         string
	Created             time.Time
	MaxSession          int32
	Trust               string
	Inline              []namedPolicy
	Attached            []string
	Tags                []Tag
	LastUsed            time.Time
	LastRegion          string
}

// group is an IAM group.
type group struct {
	Name, ID, ARN, Path string
	Created             time.Time
	Inline              []namedPolicy
	Attached            []string
}

// managedPolicy is a managed policy, AWS's or the account's.
type managedPolicy struct {
	Name, ID, ARN, Path string
	Document            string
	Created             time.Time
}

// Tag is a resource tag.
type Tag struct {
	Key   string
	Value string
}

// account is the drill account's IAM state. It is guarded by Sim.mu.
type account struct {
	ID       string
	Alias    string
	users    map[string]*user
	roles    map[string]*role
	groups   map[string]*group
	policies map[string]*managedPolicy // by ARN
	keys     map[string]*credential    // by access key id
	mfa      map[string]*mfaDevice     // by serial

	reportAt  time.Time // when the credential report was last generated
	reportCSV []byte
}

func newAccount(id string) *account {
	a := &account{
		ID:       id,
		users:    map[string]*user{},
		roles:    map[string]*role{},
		groups:   map[string]*group{},
		policies: map[string]*managedPolicy{},
		keys:     map[string]*credential{},
		mfa:      map[string]*mfaDevice{},
	}
	for _, p := range append(slices.Clone(awsManagedPolicies), quarantineManagedPolicies()...) {
		a.policies[p.ARN] = &managedPolicy{Name: p.Name, ARN: p.ARN, ID: p.ID, Path: "/", Document: p.Document,
			Created: time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)}
	}
	return a
}

// awsManagedPolicies are the AWS managed policies the sim knows by name.
var awsManagedPolicies = []managedPolicy{
	{Name: "AdministratorAccess", ID: "ANPAIWMBCKSKIEE64ZLYK", ARN: "arn:aws:iam::aws:policy/AdministratorAccess",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	{Name: "ReadOnlyAccess", ID: "ANPAILL3HVNFSB6DCOWYQ", ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*","ec2:Describe*","cloudtrail:LookupEvents","cloudtrail:Describe*","cloudtrail:Get*","s3:Get*","s3:List*","lambda:List*","lambda:Get*"],"Resource":"*"}]}`},
	{Name: "IAMUserChangePassword", ID: "ANPAJ4L4MM2A7QIEB56MS", ARN: "arn:aws:iam::aws:policy/IAMUserChangePassword",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ChangePassword"],"Resource":"*"}]}`},
}

// userARN returns the ARN of user name at path.
func (a *account) userARN(path, name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:user%s%s", a.ID, path, name)
}

// roleARN returns the ARN of role name at path.
func (a *account) roleARN(path, name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role%s%s", a.ID, path, name)
}

// sortedUsers returns the live users by name.
func (a *account) sortedUsers() []*user {
	out := make([]*user, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// sortedRoles returns the roles by name.
func (a *account) sortedRoles() []*role {
	out := make([]*role, 0, len(a.roles))
	for _, r := range a.roles {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// policyByARN finds a managed policy, AWS's or the account's.
func (a *account) policyByARN(arn string) *managedPolicy { return a.policies[arn] }

// normPath returns p as an IAM path ("/" when empty).
func normPath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}
