package sim

import (
	"crypto/sha256"
	"fmt"
	"strconv"
	"strings"
	"time"
)

func stsService(s *Sim) *Service {
	return &Service{Name: "sts", EventSource: "sts.amazonaws.com", Protocol: ProtoQuery, XMLNS: xmlnsSTS,
		Ops: map[string]Op{
			// GetCallerIdentity and GetSessionToken need no permission and
			// cannot be denied by policy.
			"GetCallerIdentity":  {Handle: s.stsGetCallerIdentity, ReadOnly: true, NoAuthz: true},
			"GetSessionToken":    {Handle: s.stsGetSessionToken, ReadOnly: true, NoAuthz: true},
			"GetFederationToken": {Handle: s.stsGetFederationToken},
			"AssumeRole":         {Handle: s.stsAssumeRole, ReadOnly: true},
			"GetAccessKeyInfo":   {Handle: s.stsGetAccessKeyInfo, ReadOnly: true},
		}}
}

type callerIdentityResult struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

func (s *Sim) stsGetCallerIdentity(r *Request) (any, error) {
	c := r.Caller
	return callerIdentityResult{UserID: c.PrincipalID, Account: c.AccountID, Arn: c.ARN}, nil
}

type xCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

// durationParam reads DurationSeconds within [lo, hi], def when absent.
func durationParam(r *Request, def, lo, hi int) (int, *Error) {
	v := r.Param("DurationSeconds")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo {
		return 0, Errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", v, lo)
	}
	if n > hi {
		return 0, Errorf(400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	return n, nil
}

// mintLocked creates a temporary credential derived from the caller's.
func (s *Sim) mintLocked(r *Request, kind credKind, u *user, ro *role, session string, d time.Duration, mfa bool) *credential {
	c := &credential{ID: s.ids.prefixed("ASIA"), Secret: s.ids.secret(), Token: s.ids.token(), Kind: kind, User: u, Role: ro,
		Session: session, Status: "Active", Created: r.Now.Truncate(time.Second), Expires: r.Now.Truncate(time.Second).Add(d),
		Parent: r.Caller.AccessKeyID, MFA: mfa}
	s.acct.keys[c.ID] = c
	return c
}

func credsOut(c *credential) xCredentials {
	return xCredentials{AccessKeyID: c.ID, SecretAccessKey: c.Secret, SessionToken: c.Token, Expiration: isoTime(c.Expires)}
}

// credsRecord is responseElements.credentials as CloudTrail writes it: the
// key id, the token and the expiry, never the secret.
func credsRecord(c *credential) map[string]any {
	return map[string]any{"accessKeyId": c.ID, "sessionToken": c.Token, "expiration": ctExpiration(c.Expires)}
}

type sessionTokenResult struct {
	Credentials xCredentials `xml:"Credentials"`
}

func (s *Sim) stsGetSessionToken(r *Request) (any, error) {
	if r.Caller.Temporary() {
		return nil, AccessDenied(ProtoQuery, r.Caller.ARN, "sts:GetSessionToken", "*", "because it cannot be called with session credentials")
	}
	d, e := durationParam(r, 43200, 900, 129600)
	if e != nil {
		return nil, e
	}
	params := map[string]any{"durationSeconds": d}
	mfa := false
	if sn := r.Param("SerialNumber"); sn != "" {
		params["serialNumber"] = sn
		dev := s.acct.mfa[sn]
		if dev == nil || dev.User != r.Caller.UserName || len(r.Param("TokenCode")) != 6 {
			return nil, AccessDenied(ProtoQuery, r.Caller.ARN, "sts:GetSessionToken", "*", "because MultiFactorAuthentication failed with invalid MFA one time pass code.")
		}
		mfa = true
	}
	r.RequestParameters = params
	c := s.mintLocked(r, credSession, r.Caller.cred.User, nil, "", time.Duration(d)*time.Second, mfa)
	r.ResponseElements = map[string]any{"credentials": credsRecord(c)}
	return sessionTokenResult{Credentials: credsOut(c)}, nil
}

type federatedUser struct {
	FederatedUserID string `xml:"FederatedUserId"`
	Arn             string `xml:"Arn"`
}

type federationTokenResult struct {
	Credentials      xCredentials  `xml:"Credentials"`
	FederatedUser    federatedUser `xml:"FederatedUser"`
	PackedPolicySize int           `xml:"PackedPolicySize"`
}

func (s *Sim) stsGetFederationToken(r *Request) (any, error) {
	name := r.Param("Name")
	if len(name) < 2 || len(name) > 32 || strings.ContainsAny(name, " /") {
		return nil, Errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must have length between 2 and 32", name)
	}
	d, e := durationParam(r, 43200, 900, 129600)
	if e != nil {
		return nil, e
	}
	params := map[string]any{"name": name, "durationSeconds": d}
	if p := r.Param("Policy"); p != "" {
		if _, err := parsePolicy(p); err != nil {
			return nil, Errorf(400, "MalformedPolicyDocument", "The policy is not in the valid JSON format.")
		}
		params["policy"] = p
	}
	r.RequestParameters = params
	c := s.mintLocked(r, credFederation, r.Caller.cred.User, nil, name, time.Duration(d)*time.Second, false)
	fu := federatedUser{FederatedUserID: s.acct.ID + ":" + name, Arn: fmt.Sprintf("arn:aws:sts::%s:federated-user/%s", s.acct.ID, name)}
	r.ResponseElements = map[string]any{"credentials": credsRecord(c),
		"federatedUser": map[string]any{"federatedUserId": fu.FederatedUserID, "arn": fu.Arn}, "packedPolicySize": 6}
	return federationTokenResult{Credentials: credsOut(c), FederatedUser: fu, PackedPolicySize: 6}, nil
}

type assumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials     xCredentials    `xml:"Credentials"`
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
}

func (s *Sim) stsAssumeRole(r *Request) (any, error) {
	arn, session := r.Param("RoleArn"), r.Param("RoleSessionName")
	params := map[string]any{"roleArn": arn, "roleSessionName": session}
	r.RequestParameters = params
	if len(session) < 2 || len(session) > 64 {
		return nil, Errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64", session)
	}
	// The role is this account's, or (in an organisation) another
	// member's: owner is the account that holds it.
	owner := s
	if s.org != nil && !strings.HasPrefix(arn, "arn:aws:iam::"+s.acct.ID+":") {
		owner = s.org.accountOfARNLocked(arn)
	}
	var ro *role
	if owner != nil {
		for _, cand := range owner.acct.roles {
			if cand.ARN == arn {
				ro = cand
			}
		}
	}
	if ro == nil {
		return nil, AccessDenied(ProtoQuery, r.Caller.ARN, "sts:AssumeRole", arn, "")
	}
	if ext := r.Param("ExternalId"); ext != "" {
		params["externalId"] = ext
	}
	if !owner.trustAllows(r, ro) {
		return nil, AccessDenied(ProtoQuery, r.Caller.ARN, "sts:AssumeRole", arn, "")
	}
	max := int(ro.MaxSession)
	if r.Caller.cred.Kind == credRole {
		max = 3600 // role chaining
	}
	d, e := durationParam(r, 3600, 900, max)
	if e != nil {
		return nil, e
	}
	params["durationSeconds"] = d
	r.Resources = []EventResource{{ARN: ro.ARN, AccountID: owner.acct.ID, Type: "AWS::IAM::Role"}}
	// The session belongs to the role's account (its parent is the
	// caller's key): it works only there.
	c := owner.mintLocked(r, credRole, nil, ro, session, time.Duration(d)*time.Second, r.Caller.MFA)
	aru := assumedRoleUser{AssumedRoleID: ro.ID + ":" + session, Arn: fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", owner.acct.ID, ro.Name, session)}
	r.ResponseElements = map[string]any{"credentials": credsRecord(c),
		"assumedRoleUser": map[string]any{"assumedRoleId": aru.AssumedRoleID, "arn": aru.Arn}}
	if owner != s {
		// Recorded in both accounts, as AWS records a cross-account
		// AssumeRole, with one sharedEventID.
		r.sharedEventID, r.peer = s.ids.uuid(), owner
	}
	return assumeRoleResult{Credentials: credsOut(c), AssumedRoleUser: aru}, nil
}

type accessKeyInfoResult struct {
	Account string `xml:"Account"`
}

func (s *Sim) stsGetAccessKeyInfo(r *Request) (any, error) {
	id := r.Param("AccessKeyId")
	if len(id) < 16 {
		return nil, Errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16", id)
	}
	if c, ok := s.acct.keys[id]; ok {
		if c.Account != "" {
			return accessKeyInfoResult{Account: c.Account}, nil
		}
		return accessKeyInfoResult{Account: s.acct.ID}, nil
	}
	if s.org != nil {
		// AWS decodes the account from the key id itself: another
		// account of the organisation's key names that account (the
		// organisation's lock is this account's, held here).
		for _, other := range s.org.sims() {
			if c, ok := other.acct.keys[id]; ok && c.Account == "" {
				return accessKeyInfoResult{Account: other.acct.ID}, nil
			}
		}
	}
	// AWS decodes the account from any key id; a key the sim does not
	// know belongs to some other account, stable per key.
	sum := sha256.Sum256([]byte(id))
	var b strings.Builder
	for _, x := range sum[:12] {
		b.WriteByte('0' + x%10)
	}
	acct := b.String()
	if acct == s.acct.ID {
		acct = "000000000000"
	}
	return accessKeyInfoResult{Account: acct}, nil
}
