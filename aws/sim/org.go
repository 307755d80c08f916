package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// An organisation is several drill accounts behind one endpoint: a
// management account and N member accounts, each a Sim of its own (its
// own IAM, EC2, CloudTrail event history and trail bucket), sharing one
// clock and one lock. A request is served by the account that holds the
// access key it is signed with. The organisation adds what AWS
// Organizations adds: the Organizations API (orgapi.go), cross-account
// sts:AssumeRole (each member's OrganizationAccountAccessRole trusts the
// management account), service control policies on every member
// account's calls, and the organisation trail, which delivers every
// account's records to the management account's bucket under
// AWSLogs/o-…/ACCOUNT/.

// DefaultOrgMembers is the number of member accounts NewOrg makes when
// OrgOptions.Members is zero.
const DefaultOrgMembers = 4

// OrgAccessRole is the role AWS Organizations creates in the accounts it
// makes: AdministratorAccess, trusted by the management account.
const OrgAccessRole = "OrganizationAccountAccessRole"

// OrgTrailName is the management account's organisation trail.
const OrgTrailName = "organization-trail"

// OrgOptions configure an Org.
type OrgOptions struct {
	// Options are shared by every account (Seed, Speed, Clock, Latency,
	// ThrottleRate, DeliveryDelay, ImplicitDeny …). AccountID, when set,
	// is the management account's id.
	Options
	// Members is the number of member accounts; DefaultOrgMembers when zero.
	Members int
	// NoAccessRole lists members (by index into Members()) that have no
	// OrganizationAccountAccessRole, as an account invited into the
	// organisation has none unless someone made it.
	NoAccessRole []int
	// UntrustedAccessRole lists members whose OrganizationAccountAccessRole
	// trusts only their own account, not the management account.
	UntrustedAccessRole []int
}

// orgUnit is an organisational unit (or the root, ID r-…).
type orgUnit struct {
	ID, ARN, Name string
	Parent        string // parent's id; "" for the root
}

// orgAccount is an account's membership.
type orgAccount struct {
	ID, ARN, Name, Email string
	JoinedMethod         string
	Joined               time.Time
	Parent               string // OU or root id
	sim                  *Sim
}

// scp is a service control policy.
type scp struct {
	ID, ARN, Name, Description string
	Content                    string
	AWSManaged                 bool
}

// Org is a drill organisation. Its methods are safe for concurrent use.
type Org struct {
	opts    OrgOptions
	mu      *sync.Mutex // shared with every account's Sim
	ids     *ids
	id, arn string
	mgmt    *Sim
	members []*Sim

	// Guarded by mu.
	root     *orgUnit
	ous      []*orgUnit             // in creation order
	accounts []*orgAccount          // management first, then members
	byID     map[string]*orgAccount // by account id
	policies []*scp                 // in creation order, FullAWSAccess first
	attached map[string][]string    // target id → policy ids, in attachment order
	// scpDocs holds each SCP content parsed: every member call is judged
	// against its SCPs under the sim's one lock, and parsing them again
	// for every call was half the time that lock was held.
	scpDocs map[string]*policyDoc

	routeMu sync.Mutex
	route   map[string]*Sim // access key id → the account holding it

	server *http.Server
}

// NewOrg builds an organisation: the management account (whose responder
// is the organisation's administrator), opts.Members member accounts,
// the OU tree Root → Workloads, Sandbox holding the members, the
// AWS-managed FullAWSAccess SCP attached to the root and to every OU and
// account (as AWS attaches it), each member's OrganizationAccountAccessRole,
// and the organisation trail.
func NewOrg(opts OrgOptions) *Org {
	if opts.Members <= 0 {
		opts.Members = DefaultOrgMembers
	}
	if opts.Clock == nil {
		opts.Clock = WallClock{}
	}
	mu := new(sync.Mutex)
	o := &Org{opts: opts, mu: mu, ids: newIDs(opts.Seed ^ 0x0a9c0a9c0a9c0a9c), byID: map[string]*orgAccount{},
		attached: map[string][]string{}, route: map[string]*Sim{}}
	mopts := opts.Options
	o.mgmt = newSim(mopts, mu)
	taken := map[string]bool{o.mgmt.AccountID(): true}
	for i := range opts.Members {
		mo := opts.Options
		mo.AccountID = ""
		mo.Seed = opts.Seed + uint64(i+1)*0x9e3779b97f4a7c15
		for {
			m := newSim(mo, mu)
			if !taken[m.AccountID()] {
				taken[m.AccountID()] = true
				o.members = append(o.members, m)
				break
			}
			mo.Seed++
		}
	}
	mgmtID := o.mgmt.AccountID()
	o.id = "o-" + o.ids.str("abcdefghijklmnopqrstuvwxyz0123456789", 10)
	o.arn = fmt.Sprintf("arn:aws:organizations::%s:organization/%s", mgmtID, o.id)
	rootID := "r-" + o.ids.str("abcdefghijklmnopqrstuvwxyz0123456789", 4)
	o.root = &orgUnit{ID: rootID, Name: "Root", ARN: fmt.Sprintf("arn:aws:organizations::%s:root/%s/%s", mgmtID, o.id, rootID)}
	for _, name := range []string{"Workloads", "Sandbox"} {
		id := "ou-" + rootID[2:] + "-" + o.ids.str("abcdefghijklmnopqrstuvwxyz0123456789", 8)
		o.ous = append(o.ous, &orgUnit{ID: id, Name: name, Parent: rootID,
			ARN: fmt.Sprintf("arn:aws:organizations::%s:ou/%s/%s", mgmtID, o.id, id)})
	}
	full := &scp{ID: "p-FullAWSAccess", ARN: "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
		Name: "FullAWSAccess", Description: "Allows access to every operation", AWSManaged: true,
		Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}
	o.policies = append(o.policies, full)

	now := opts.Clock.Now().UTC()
	born := now.Add(-600 * 24 * time.Hour).Truncate(time.Second)
	o.addAccount(o.mgmt, "management", "INVITED", rootID, born)
	for i, m := range o.members {
		parent := o.ous[0].ID // Workloads; every third member in Sandbox
		name := fmt.Sprintf("workload-%d", i+1)
		if i%3 == 2 {
			parent, name = o.ous[1].ID, fmt.Sprintf("sandbox-%d", i+1)
		}
		o.addAccount(m, name, "CREATED", parent, born.Add(time.Duration(i+1)*24*time.Hour))
	}
	o.attached[rootID] = []string{full.ID}
	for _, ou := range o.ous {
		o.attached[ou.ID] = []string{full.ID}
	}
	for _, a := range o.accounts {
		o.attached[a.ID] = []string{full.ID}
	}

	for _, s := range o.sims() {
		s.org = o
		s.Register(organizationsService(o, s))
	}
	for i, m := range o.members {
		if slices.Contains(opts.NoAccessRole, i) {
			continue
		}
		m.mu.Lock()
		r := m.addRoleLocked(OrgAccessRole, "/", 3600, born.Add(time.Duration(i+1)*24*time.Hour))
		r.Attached = []string{"arn:aws:iam::aws:policy/AdministratorAccess"}
		if !slices.Contains(opts.UntrustedAccessRole, i) {
			r.Trust = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, mgmtID)
		}
		m.mu.Unlock()
	}

	// The organisation trail: the management account's, logging every
	// account's management events to its bucket.
	o.mgmt.mu.Lock()
	t := o.mgmt.newTrail(OrgTrailName, o.mgmt.trail.bucket, "", HomeRegion, true)
	t.logging, t.startedAt, t.orgID = true, o.mgmt.trail.created, o.id
	o.mgmt.trail.trails[t.name] = t
	o.mgmt.mu.Unlock()
	return o
}

func (o *Org) addAccount(s *Sim, name, method, parent string, joined time.Time) {
	id := s.AccountID()
	a := &orgAccount{ID: id, Name: name, Email: fmt.Sprintf("aws+%s@drill.example", name), JoinedMethod: method, Joined: joined,
		Parent: parent, sim: s, ARN: fmt.Sprintf("arn:aws:organizations::%s:account/%s/%s", o.mgmt.AccountID(), o.id, id)}
	o.accounts = append(o.accounts, a)
	o.byID[id] = a
}

// sims returns every account, the management account first.
func (o *Org) sims() []*Sim { return append([]*Sim{o.mgmt}, o.members...) }

// ID is the organisation's id (o-…).
func (o *Org) ID() string { return o.id }

// ARN is the organisation's ARN.
func (o *Org) ARN() string { return o.arn }

// Management is the management account.
func (o *Org) Management() *Sim { return o.mgmt }

// Members are the member accounts, in the order they were made.
func (o *Org) Members() []*Sim { return slices.Clone(o.members) }

// Accounts are every account, the management account first.
func (o *Org) Accounts() []*Sim { return o.sims() }

// Account returns the account with the given id, or nil.
func (o *Org) Account(id string) *Sim {
	for _, s := range o.sims() {
		if s.AccountID() == id {
			return s
		}
	}
	return nil
}

// Responder is the management account's administrator credentials.
func (o *Org) Responder() Credentials { return o.mgmt.Responder() }

// Now is the organisation's clock reading.
func (o *Org) Now() time.Time { return o.mgmt.Now() }

// OrgTrailBucket is the bucket the organisation trail delivers to (the
// management account's).
func (o *Org) OrgTrailBucket() string { return o.mgmt.TrailBucket() }

// OrgTrailPrefix is where the organisation trail writes an account's log
// files in OrgTrailBucket: AWSLogs/o-…/ACCOUNT/CloudTrail/.
func (o *Org) OrgTrailPrefix(accountID string) string {
	return "AWSLogs/" + o.id + "/" + accountID + "/CloudTrail/"
}

// OUs returns the organisational units by name → id.
func (o *Org) OUs() map[string]string {
	out := map[string]string{}
	for _, ou := range o.ous {
		out[ou.Name] = ou.ID
	}
	return out
}

// RootID is the organisation root's id (r-…).
func (o *Org) RootID() string { return o.root.ID }

// Endpoint is the URL Start returned ("" before Start).
func (o *Org) Endpoint() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.server == nil {
		return ""
	}
	return o.server.Addr
}

// Start listens on 127.0.0.1 (an ephemeral port) and serves the whole
// organisation until ctx is done or Close is called. It returns the
// endpoint URL.
func (o *Org) Start(ctx context.Context) (string, error) { return o.StartAt(ctx, "127.0.0.1:0") }

// StartAt is Start on a given address.
func (o *Org) StartAt(ctx context.Context, addr string) (string, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sim: listen on %s: %w", addr, err)
	}
	url := "http://" + ln.Addr().String()
	// Addr holds the endpoint URL for Endpoint; the listener is given.
	srv := &http.Server{Handler: o, ReadHeaderTimeout: 10 * time.Second, Addr: url}
	o.mu.Lock()
	o.server = srv
	o.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return url, nil
}

// Close stops the server Start started.
func (o *Org) Close() error {
	o.mu.Lock()
	srv := o.server
	o.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// ServeHTTP routes a request to the account holding the access key it is
// signed with; a key no account holds goes to the management account,
// which answers it as any account does (InvalidClientTokenId).
func (o *Org) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.accountOfKey(requestKeyID(r)).ServeHTTP(w, r)
}

// requestKeyID is the access key id a request is signed with: the
// Authorization header's credential, or a presigned URL's X-Amz-Credential.
func requestKeyID(r *http.Request) string {
	if a, err := parseAuth(r.Header.Get("Authorization")); err == nil {
		return a.KeyID
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		id, _, _ := strings.Cut(c, "/")
		return id
	}
	return ""
}

// accountOfKey finds the account holding key id (keys never move between
// accounts, so the answer is kept); the management account when none does.
func (o *Org) accountOfKey(id string) *Sim {
	if id == "" {
		return o.mgmt
	}
	o.routeMu.Lock()
	s := o.route[id]
	o.routeMu.Unlock()
	if s != nil {
		return s
	}
	o.mu.Lock()
	for _, cand := range o.sims() {
		if cand.acct.keys[id] != nil {
			s = cand
			break
		}
	}
	o.mu.Unlock()
	if s == nil {
		return o.mgmt
	}
	o.routeMu.Lock()
	o.route[id] = s
	o.routeMu.Unlock()
	return s
}

// AccountOfKey returns the id of the account holding access key id, or "".
func (o *Org) AccountOfKey(id string) string {
	s := o.accountOfKey(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acct.keys[id] == nil {
		return ""
	}
	return s.acct.ID
}

// accountOfARNLocked returns the account an IAM ARN names, or nil.
func (o *Org) accountOfARNLocked(arn string) *Sim {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok || len(rest) < 12 {
		return nil
	}
	if a := o.byID[rest[:12]]; a != nil {
		return a.sim
	}
	return nil
}

// orgTrailAddLocked queues a member account's event for the organisation
// trail (the management account's own events reach it as any of its
// trails).
func (o *Org) orgTrailAddLocked(ev *event) {
	t := o.mgmt.trail.trails[OrgTrailName]
	if t == nil || t.orgID == "" || !t.logging || !t.delivers(ev) {
		return
	}
	t.pending = append(t.pending, ev)
}

// orgTrailLocked is the organisation trail, or nil once deleted.
func (o *Org) orgTrailLocked() *trail {
	if t := o.mgmt.trail.trails[OrgTrailName]; t != nil && t.orgID != "" {
		return t
	}
	return nil
}

// pathOfLocked returns the ids from the root down to target (an account
// or OU id), target last.
func (o *Org) pathOfLocked(target string) []string {
	var path []string
	for id := target; id != ""; {
		path = append([]string{id}, path...)
		switch {
		case id == o.root.ID:
			id = ""
		case o.byID[id] != nil:
			id = o.byID[id].Parent
		default:
			next := ""
			for _, ou := range o.ous {
				if ou.ID == id {
					next = ou.Parent
				}
			}
			id = next
		}
	}
	return path
}

// scpDeniesLocked applies the organisation's service control policies to
// a call in account s: none for the management account (as at AWS) nor
// for service-linked roles; otherwise every level from the root down to
// the account must allow the action and none may deny it.
func (o *Org) scpDeniesLocked(s *Sim, req *Request, action string) *Error {
	if s == o.mgmt || req.Caller == nil || req.Caller.cred == nil {
		return nil
	}
	c := req.Caller.cred
	principal := req.Caller.ARN
	if c.Kind == credRole && c.Role != nil {
		if strings.HasPrefix(c.Role.Path, "/aws-service-role/") {
			return nil
		}
		principal = c.Role.ARN
	}
	ctx := evalContext{Now: req.Now, SourceIP: req.SourceIP, Strings: map[string]string{
		"aws:principalarn":     principal,
		"aws:principalaccount": s.acct.ID,
		"aws:principalorgid":   o.id,
		"aws:requestedregion":  eventRegion(req),
	}}
	if c.Kind != credLongTerm {
		ctx.TokenIssued = c.Created
	}
	p := req.Service.Protocol
	for _, level := range o.pathOfLocked(s.acct.ID) {
		allowed := false
		for _, pid := range o.attached[level] {
			pol := o.policyLocked(pid)
			if pol == nil {
				continue
			}
			doc := o.scpDocLocked(pol.Content)
			if doc == nil {
				continue
			}
			if doc.denies(action, ctx) {
				return AccessDenied(p, req.Caller.ARN, action, "*", "with an explicit deny in a service control policy")
			}
			allowed = allowed || doc.allows(action, ctx)
		}
		if !allowed {
			return AccessDenied(p, req.Caller.ARN, action, "*", "because no service control policy allows the "+action+" action")
		}
	}
	return nil
}

// scpDocLocked is an SCP's content parsed (nil when it does not parse),
// parsed once per distinct content.
func (o *Org) scpDocLocked(content string) *policyDoc {
	if doc, ok := o.scpDocs[content]; ok {
		return doc
	}
	doc, err := parsePolicy(content)
	if err != nil {
		doc = nil
	}
	if o.scpDocs == nil {
		o.scpDocs = map[string]*policyDoc{}
	}
	o.scpDocs[content] = doc
	return doc
}

// policyLocked finds a policy by id.
func (o *Org) policyLocked(id string) *scp {
	for _, p := range o.policies {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// AddRoleWithTrust creates a role with the given trust policy (checked as
// IAM checks it on CreateRole) and managed policies attached (by ARN).
func (s *Sim) AddRoleWithTrust(name, trust string, policyARNs ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.acct.roles[name]; ok {
		return fmt.Errorf("sim: role %s exists", name)
	}
	if _, e := s.parseTrust(trust); e != nil {
		return fmt.Errorf("sim: trust policy of %s: %s", name, e.Message)
	}
	for _, p := range policyARNs {
		if s.acct.policyByARN(p) == nil {
			return fmt.Errorf("sim: no policy %s", p)
		}
	}
	r := s.addRoleLocked(name, "/", 3600, s.clock.Now())
	r.Trust, r.Attached = trust, slices.Clone(policyARNs)
	return nil
}

// HasUser reports whether the account has a live IAM user name.
func (s *Sim) HasUser(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.acct.users[name]
	return ok && !u.Deleted
}

// memberOrgTrailLocked is the organisation trail as a member account sees
// it (nil for the management account, whose own trail it is, and outside
// an organisation).
func (s *Sim) memberOrgTrailLocked() *trail {
	if s.org == nil || s == s.org.mgmt {
		return nil
	}
	return s.org.orgTrailLocked()
}

// HasRole reports whether the account has an IAM role name.
func (s *Sim) HasRole(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.acct.roles[name]
	return ok
}
