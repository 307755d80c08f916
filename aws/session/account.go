package session

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// DefaultRoleName is the role Organizations creates in every account it
// creates, trusted by the management account: warroom assumes it into each
// member account unless told another (--role-name).
const DefaultRoleName = "OrganizationAccountAccessRole"

// DefaultRoleSessionName marks warroom's role sessions: CloudTrail records
// it in the member account's events (assumed-role/ROLE/warroom), next to the
// app id in the user agent.
const DefaultRoleSessionName = "warroom"

// Role is the role warroom assumes into member accounts (Options.Role).
type Role struct {
	// Name of the role in each member account; empty is DefaultRoleName.
	Name string
	// ExternalID is sent with AssumeRole when the role's trust asks for one.
	ExternalID string
	// MFASerial is the MFA device's serial (or ARN) AssumeRole is called with;
	// Options.MFA is then asked for the code, once per fresh credentials.
	MFASerial string
	// SessionName is the role session name; empty is DefaultRoleSessionName.
	SessionName string
}

// RoleName is the role's name, the default filled in.
func (r Role) RoleName() string {
	if r.Name == "" {
		return DefaultRoleName
	}
	return r.Name
}

// sessionName is the role session name, the default filled in.
func (r Role) sessionName() string {
	if r.SessionName == "" {
		return DefaultRoleSessionName
	}
	return r.SessionName
}

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// ValidAccountID reports whether id is an AWS account id (twelve digits).
func ValidAccountID(id string) bool { return accountIDPattern.MatchString(id) }

// ParseAccountIDs reads a comma-separated account list (--accounts): each
// id twelve digits, duplicates dropped, order kept. An error names the
// first bad entry and its position.
func ParseAccountIDs(list string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for i, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !ValidAccountID(f) {
			return nil, fmt.Errorf("account %d of the list, %q: not an account id (twelve digits)", i+1, f)
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the account list is empty")
	}
	return out, nil
}

// Account is the account a member session reads, given to ForAccount; empty
// for the base session, whose account is the one its credentials belong to
// (Identify tells it).
func (s *Session) Account() string { return s.account }

// RoleARN is the role a member session assumed; empty for the base session.
func (s *Session) RoleARN() string { return s.roleARN }

// Base is the session a member session was made from; the session itself
// for a base session.
func (s *Session) Base() *Session {
	if s.parent != nil {
		return s.parent
	}
	return s
}

// SetPartition sets the partition member role ARNs are built in (Identify's
// Identity.Partition); "aws" until set.
func (s *Session) SetPartition(p string) {
	s.mu.Lock()
	s.partition = p
	s.mu.Unlock()
}

// RoleARNFor is the ARN of the role ForAccount assumes in accountID.
func (s *Session) RoleARNFor(accountID string) string {
	b := s.Base()
	b.mu.Lock()
	p := b.partition
	b.mu.Unlock()
	if p == "" {
		p = "aws"
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", p, accountID, b.opts.Role.RoleName())
}

// ForAccount returns the session that reads accountID through the role
// Options.Role names, assumed with the base session's credentials by the
// SDK's own assume-role provider (external id, MFA serial and code as the
// SDK supports them) behind a credentials cache: AssumeRole is called on
// first use and again before the credentials expire, never per call. The
// member session has the base session's endpoint, app id, retryer, HTTP
// client and read-only guard. Sessions are cached per account; making one
// calls nothing, so a role that fails shows on the first call (or Probe).
func (s *Session) ForAccount(accountID string) (*Session, error) {
	b := s.Base()
	if !ValidAccountID(accountID) {
		return nil, fmt.Errorf("account %q: not an account id (twelve digits)", accountID)
	}
	b.mu.Lock()
	if m, ok := b.members[accountID]; ok {
		b.mu.Unlock()
		return m, nil
	}
	b.mu.Unlock()
	arn := b.RoleARNFor(accountID)
	role := b.opts.Role
	// AssumeRole mints credentials, so the read-only guard would refuse it:
	// the provider's client is built from the configuration as loaded,
	// before the guard. What the member session then calls is guarded.
	stsCfg := b.loaded.Copy()
	stsClient := sts.NewFromConfig(stsCfg)
	mfa := b.opts.MFA
	prov := stscreds.NewAssumeRoleProvider(stsClient, arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = role.sessionName()
		if role.ExternalID != "" {
			o.ExternalID = aws.String(role.ExternalID)
		}
		if role.MFASerial != "" {
			o.SerialNumber = aws.String(role.MFASerial)
			if mfa != nil {
				o.TokenProvider = mfa
			}
		}
	})
	cfg := b.base.Copy()
	cfg.APIOptions = slices.Clip(cfg.APIOptions)
	keys := &keyWatch{next: prov, seen: map[string]bool{}, inherit: b.keys}
	cfg.Credentials = aws.NewCredentialsCache(keys)
	m := &Session{base: cfg, loaded: cfg, opts: b.opts, clients: map[clientKey]any{}, keys: keys,
		parent: b, account: accountID, roleARN: arn}
	b.mu.Lock()
	defer b.mu.Unlock()
	if prev, ok := b.members[accountID]; ok {
		return prev, nil
	}
	if b.members == nil {
		b.members = map[string]*Session{}
	}
	b.members[accountID] = m
	return m, nil
}

// Organizations returns an Organizations client for reading. Organizations
// is served from us-east-1 in the commercial partition.
func (s *Session) Organizations() *organizations.Client {
	return client(s, "organizations", DefaultRegion, false, func(c aws.Config) *organizations.Client {
		return organizations.NewFromConfig(c)
	})
}

// Access is whether warroom could get into an account through its role.
type Access string

// Access statuses.
const (
	AccessOK Access = "ok"
	// AccessDenied: AssumeRole was refused. AWS answers a role that does
	// not exist with the same AccessDenied as a trust that does not allow
	// the caller, so this covers both unless the endpoint says more.
	AccessDenied Access = "denied"
	// AccessMissingRole: the answer said the role does not exist.
	AccessMissingRole Access = "missing-role"
	// AccessSCP: a service control policy denied the call.
	AccessSCP Access = "scp-blocked"
	// AccessSuspended: the account is suspended (or closed).
	AccessSuspended Access = "suspended"
	// AccessError: any other failure (network, throttling, expired keys).
	AccessError Access = "error"
)

// ClassifyAccess says what an error met getting into an account means for
// access to it: the text of a service control policy's deny, a suspended
// account, a role that does not exist, a refused AssumeRole; AccessOK for nil.
func ClassifyAccess(err error) Access {
	if err == nil {
		return AccessOK
	}
	code, msg := "", err.Error()
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()+" "+msg
	}
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "service control policy"):
		return AccessSCP
	case code == "AccountSuspendedException", strings.Contains(low, "suspended"), strings.Contains(low, "account is closed"):
		return AccessSuspended
	case code == "NoSuchEntity", strings.Contains(low, "role does not exist"), strings.Contains(low, "cannot be found"):
		return AccessMissingRole
	case Classify(err) == ClassDenied:
		return AccessDenied
	}
	return AccessError
}

// Probe gets into a member session's account and reads one thing there:
// AssumeRole (through the cache, so a probe on fresh credentials calls
// nothing), sts:GetCallerIdentity (the account the credentials act in must
// be the one asked for) and iam:ListAccountAliases, which a deny SCP
// refuses. It returns the access status and the error, classified; a base
// session is probed with the same two reads.
func (s *Session) Probe(ctx context.Context) (Access, error) {
	if _, err := s.base.Credentials.Retrieve(ctx); err != nil {
		e := Wrap("sts:AssumeRole", DefaultRegion, err)
		if s.roleARN != "" {
			e = fmt.Errorf("account %s, role %s: %w", s.account, s.roleARN, e)
		}
		return ClassifyAccess(err), e
	}
	out, err := s.STS("").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return ClassifyAccess(err), s.accountErr(Wrap("sts:GetCallerIdentity", s.base.Region, err))
	}
	if s.account != "" && deref(out.Account) != s.account {
		return AccessError, fmt.Errorf("account %s, role %s: the credentials act in account %s", s.account, s.roleARN, deref(out.Account))
	}
	if _, err := s.IAM().ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}); err != nil {
		a := ClassifyAccess(err)
		if a == AccessSCP || a == AccessSuspended {
			return a, s.accountErr(Wrap("iam:ListAccountAliases", DefaultRegion, err))
		}
		// A role that may not list aliases still gets in.
	}
	return AccessOK, nil
}

func (s *Session) accountErr(err error) error {
	if s.account == "" {
		return err
	}
	return fmt.Errorf("account %s: %w", s.account, err)
}
