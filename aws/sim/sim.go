// Package sim is the drill account: a local AWS endpoint that speaks the
// real wire protocols of IAM, STS, EC2, CloudTrail, Lambda, S3, Athena,
// Organizations and GuardDuty to the unmodified AWS SDK and CLI, checks
// SigV4 signatures against its own key
// store, and records every call it serves as a CloudTrail record in the
// real shape, delivered to LookupEvents and to the trail's S3 bucket after
// a delay, as a real account would.
//
// Point a client at it with an endpoint override (AWS_ENDPOINT_URL, or
// BaseEndpoint in the SDK; S3 also needs path-style addressing).
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Defaults for Options fields left zero.
const (
	// DefaultDeliveryDelay is how late CloudTrail delivers on average; the
	// sim uses it only when a caller asks for it (Options.DeliveryDelay
	// zero means events are visible at once).
	DefaultDeliveryDelay = 5 * time.Minute
	// DefaultDeliveryInterval is how often a log file is written to S3.
	DefaultDeliveryInterval = 5 * time.Minute
	// HomeRegion is where the trail lives, and where IAM and global STS
	// events are recorded.
	HomeRegion = "us-east-1"
)

// Options configure a Sim.
type Options struct {
	// Seed makes ids, keys and fault injection deterministic.
	Seed uint64
	// AccountID is the account's id; derived from Seed when empty.
	AccountID string
	// Speed compresses the scenario's pacing and the delivery delay and
	// interval (2 = twice as fast). Event times stay on Clock. Zero means 1.
	Speed float64
	// Latency is added to every call before it is served.
	Latency time.Duration
	// ThrottleRate is the fraction of calls answered with the protocol's
	// throttling error; ErrorRate the fraction answered with a 5xx.
	ThrottleRate float64
	ErrorRate    float64
	// DeniedRegions answer AccessDenied to every regional call.
	DeniedRegions []string
	// DisabledRegions are not opted in: calls there fail authentication,
	// as AWS answers for a disabled Region, and DescribeRegions says
	// not-opted-in.
	DisabledRegions []string
	// DeliveryDelay is the simulated time between a call and its record
	// becoming visible to LookupEvents and S3. Zero means at once.
	DeliveryDelay time.Duration
	// DeliveryInterval is the simulated time between S3 log files.
	// Zero means DefaultDeliveryInterval.
	DeliveryInterval time.Duration
	// Clock tells the time; WallClock when nil.
	Clock Clock
	// LookupRate is LookupEvents' limit per Region per second; 2 when zero
	// (AWS's limit, which is not adjustable).
	LookupRate float64
	// ImplicitDeny makes the sim evaluate Allow statements as IAM does: an
	// action no identity policy (the user's, its groups', or the role's)
	// allows is denied. Without it the sim is permissive and only explicit
	// Deny statements bite. Resources are not evaluated either way.
	ImplicitDeny bool
}

// Credentials are an access key, with its secret and, for temporary
// credentials, the session token. String never prints the secret or token.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expires         time.Time
}

// String shows the key id only.
func (c Credentials) String() string { return "Credentials{" + c.AccessKeyID + "}" }

// GoString shows the key id only, so %#v cannot leak the secret either.
func (c Credentials) GoString() string { return c.String() }

// Sim is the drill account. Its methods are safe for concurrent use.
type Sim struct {
	opts  Options
	clock Clock
	ids   *ids
	speed float64
	// latency is added to every call (Options.Latency; SetLatency).
	latency atomic.Int64
	// throttleOps are the operations every call of which is throttled (ThrottleOps).
	throttleOps atomic.Pointer[map[string]bool]
	// throttled lists operations answered as throttled, every call
	// (SetThrottled); under mu.
	throttled []string
	// bornSim is when the sim was made, by its own clock (see budgetTime).
	bornSim time.Time

	// mu guards everything below. Handlers run with it held. The Sims of
	// one organisation share it (an Org's calls cross accounts).
	mu       *sync.Mutex
	acct     *account
	services map[string]*Service
	// svcMu guards services too: Register writes under both it and mu,
	// so a request finds its service under svcMu alone and takes mu once
	// a call, not twice (every account of an organisation shares mu).
	svcMu    sync.RWMutex
	trail    *trailState
	calls    []Call
	limiters map[string]*rate.Limiter // LookupEvents, per Region
	ext      map[string]any           // state of handlers in other files, by name

	responder Credentials
	server    *http.Server
	// org is the organisation the account belongs to (org.go); nil for
	// the single drill account.
	org *Org
}

// New builds a drill account holding an administrator (the responder) and
// a multi-Region trail delivering to an S3 bucket.
func New(opts Options) *Sim { return newSim(opts, new(sync.Mutex)) }

// newSim is New with the lock given (an organisation's Sims share one).
func newSim(opts Options, mu *sync.Mutex) *Sim {
	s := &Sim{mu: mu, opts: opts, clock: opts.Clock, ids: newIDs(opts.Seed), speed: opts.Speed,
		services: map[string]*Service{}, limiters: map[string]*rate.Limiter{}, ext: map[string]any{}}
	if s.clock == nil {
		s.clock = WallClock{}
	}
	s.latency.Store(int64(opts.Latency))
	s.bornSim = s.clock.Now()
	if s.speed <= 0 {
		s.speed = 1
	}
	if s.opts.DeliveryInterval <= 0 {
		s.opts.DeliveryInterval = DefaultDeliveryInterval
	}
	if s.opts.LookupRate <= 0 {
		s.opts.LookupRate = 2
	}
	id := opts.AccountID
	if id == "" {
		id = "1" + s.ids.str(digits, 11)
	}
	s.acct = newAccount(id)
	s.acct.Alias = "drill-" + id[len(id)-4:]
	s.trail = newTrailState(s)
	s.Register(stsService(s))
	s.Register(iamService(s))
	s.iamPolicyOps()
	s.iamExtraOps()
	s.iamAdvisorOps()
	s.Register(cloudtrailService(s))
	s.Register(s3Service(s))
	s.Register(ec2Service(s))
	s.Register(lambdaService(s))
	s.Register(organizationsService(nil, s))
	s.Register(athenaService(s))
	s.Register(guarddutyService(s))
	s.Register(ssoAdminService(s))
	s.Register(identityStoreService(s))
	s.Register(configService(s))

	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUserLocked("incident-responder", "/", now.Add(-400*24*time.Hour))
	s.acct.users["incident-responder"].Attached = []string{"arn:aws:iam::aws:policy/AdministratorAccess"}
	c := s.addKeyLocked(s.acct.users["incident-responder"], now.Add(-30*24*time.Hour))
	s.responder = Credentials{AccessKeyID: c.ID, SecretAccessKey: c.Secret}
	s.addRoleLocked("IncidentResponse", "/", 3600, now.Add(-400*24*time.Hour))
	s.acct.roles["IncidentResponse"].Attached = []string{"arn:aws:iam::aws:policy/AdministratorAccess"}
	return s
}

// Register adds a service (its signing name, protocol and operations).
// A service registered under a name already taken replaces it.
func (s *Sim) Register(svc *Service) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.svcMu.Lock()
	defer s.svcMu.Unlock()
	s.services[svc.Name] = svc
}

// State returns the value stored under name for a handler file's own
// state, creating it with mk on first use. Call it with the lock held
// (from a handler) or from a constructor.
func (s *Sim) State(name string, mk func() any) any {
	v, ok := s.ext[name]
	if !ok {
		v = mk()
		s.ext[name] = v
	}
	return v
}

// AccountID is the drill account's id.
func (s *Sim) AccountID() string { return s.acct.ID }

// Now is the sim's clock reading.
func (s *Sim) Now() time.Time { return s.clock.Now() }

// Responder returns the console's credentials: a long-term key of the
// user incident-responder, which holds AdministratorAccess. The role
// IncidentResponse (also an administrator) can be assumed with it.
func (s *Sim) Responder() Credentials { return s.responder }

// Pace waits for d of simulated time (d divided by Speed), or until ctx is done.
func (s *Sim) Pace(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(time.Duration(float64(d) / s.speed))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// scaled returns the real-clock duration of d simulated.
func (s *Sim) scaled(d time.Duration) time.Duration { return time.Duration(float64(d) / s.speed) }

// Start listens on 127.0.0.1 (an ephemeral port) and serves until ctx is
// done or Close is called. It returns the endpoint URL for AWS_ENDPOINT_URL.
func (s *Sim) Start(ctx context.Context) (string, error) { return s.StartAt(ctx, "127.0.0.1:0") }

// StartAt is Start on a given address.
func (s *Sim) StartAt(ctx context.Context, addr string) (string, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sim: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	s.mu.Lock()
	s.server = srv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener failed; Close reports nothing more useful
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops the server started by Start.
func (s *Sim) Close() error {
	s.mu.Lock()
	srv := s.server
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// WriteSettings prints shell lines that point AWS tools at the sim with
// creds. It is the one place the sim prints a secret, and only on request.
func WriteSettings(w io.Writer, endpoint, region string, creds Credentials) error {
	_, err := fmt.Fprintf(w, "export AWS_ENDPOINT_URL=%s\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\nexport AWS_REGION=%s\n",
		endpoint, creds.AccessKeyID, creds.SecretAccessKey, region)
	if err == nil && creds.SessionToken != "" {
		_, err = fmt.Fprintf(w, "export AWS_SESSION_TOKEN=%s\n", creds.SessionToken)
	}
	return err
}

// AddUser creates an IAM user (no keys, no policies). It fails if the
// user exists.
func (s *Sim) AddUser(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.acct.users[name]; ok {
		return fmt.Errorf("sim: user %s exists", name)
	}
	s.addUserLocked(name, "/", s.clock.Now())
	return nil
}

// AddKey creates an active access key for an existing user and returns it.
func (s *Sim) AddKey(userName string) (Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.acct.users[userName]
	if !ok {
		return Credentials{}, fmt.Errorf("sim: no user %s", userName)
	}
	c := s.addKeyLocked(u, s.clock.Now())
	return Credentials{AccessKeyID: c.ID, SecretAccessKey: c.Secret}, nil
}

// AddRole creates a role any principal of the account may assume.
func (s *Sim) AddRole(name string, maxSession time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.acct.roles[name]; ok {
		return fmt.Errorf("sim: role %s exists", name)
	}
	s.addRoleLocked(name, "/", int32(maxSession/time.Second), s.clock.Now())
	return nil
}

// AddOutsideKey creates a long-term key of user userName in another
// account (accountID, not the drill's): an outside principal. It can call
// only sts:GetCallerIdentity and sts:AssumeRole, and the role's trust
// policy decides whether AssumeRole lets it in. Its other calls are
// answered AccessDenied; the drill records only its AssumeRole calls, as
// the role's account does at AWS.
func (s *Sim) AddOutsideKey(accountID, userName string) (Credentials, error) {
	if !accountIDPattern.MatchString(accountID) || accountID == s.acct.ID {
		return Credentials{}, fmt.Errorf("sim: %q is not another account's id", accountID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &user{Name: userName, Path: "/", ID: s.ids.prefixed("AIDA"), ARN: fmt.Sprintf("arn:aws:iam::%s:user/%s", accountID, userName),
		Created: s.clock.Now().UTC().Truncate(time.Second)}
	c := &credential{ID: s.ids.prefixed("AKIA"), Secret: s.ids.secret(), Kind: credLongTerm, User: u, Status: "Active",
		Created: u.Created, Account: accountID}
	s.acct.keys[c.ID] = c
	return Credentials{AccessKeyID: c.ID, SecretAccessKey: c.Secret}, nil
}

// AttachUserPolicy attaches a managed policy (by ARN) to a user.
func (s *Sim) AttachUserPolicy(userName, policyARN string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.acct.users[userName]
	if !ok {
		return fmt.Errorf("sim: no user %s", userName)
	}
	if s.acct.policyByARN(policyARN) == nil {
		return fmt.Errorf("sim: no policy %s", policyARN)
	}
	if !slices.Contains(u.Attached, policyARN) {
		u.Attached = append(u.Attached, policyARN)
	}
	return nil
}

// AddGroup creates a group holding the given (existing) users.
func (s *Sim) AddGroup(name string, members ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.acct.groups[name]; ok {
		return fmt.Errorf("sim: group %s exists", name)
	}
	s.acct.groups[name] = &group{Name: name, Path: "/", ID: s.ids.prefixed("AGPA"),
		ARN: fmt.Sprintf("arn:aws:iam::%s:group/%s", s.acct.ID, name), Created: s.clock.Now()}
	for _, m := range members {
		u, ok := s.acct.users[m]
		if !ok {
			return fmt.Errorf("sim: no user %s", m)
		}
		u.Groups = append(u.Groups, name)
	}
	return nil
}

func (s *Sim) addUserLocked(name, path string, created time.Time) *user {
	path = normPath(path)
	u := &user{Name: name, Path: path, ID: s.ids.prefixed("AIDA"), ARN: s.acct.userARN(path, name), Created: created.UTC().Truncate(time.Second)}
	s.acct.users[name] = u
	return u
}

func (s *Sim) addKeyLocked(u *user, created time.Time) *credential {
	c := &credential{ID: s.ids.prefixed("AKIA"), Secret: s.ids.secret(), Kind: credLongTerm, User: u,
		Status: "Active", Created: created.UTC().Truncate(time.Second)}
	u.Keys = append(u.Keys, c)
	s.acct.keys[c.ID] = c
	return c
}

func (s *Sim) addRoleLocked(name, path string, maxSession int32, created time.Time) *role {
	path = normPath(path)
	if maxSession <= 0 {
		maxSession = 3600
	}
	r := &role{Name: name, Path: path, ID: s.ids.prefixed("AROA"), ARN: s.acct.roleARN(path, name), MaxSession: maxSession,
		Created: created.UTC().Truncate(time.Second),
		Trust:   fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, s.acct.ID)}
	s.acct.roles[name] = r
	return r
}

// Call is the sim's own record of one request it served: who made it,
// what it was, and how it ended. Unlike CloudTrail it includes calls that
// CloudTrail does not record (unknown keys, data events).
type Call struct {
	Time        time.Time
	RequestID   string
	Service     string // signing name: iam, sts, ec2 …
	Operation   string
	Region      string
	AccessKeyID string
	// PrincipalARN is the caller's ARN when the key is known, else empty.
	PrincipalARN string
	SourceIP     string
	UserAgent    string
	Status       int
	ErrorCode    string
}

// OK reports whether the call succeeded.
func (c Call) OK() bool { return c.ErrorCode == "" }

// Calls returns every call served so far, oldest first.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// RegionInfo is one Region and its opt-in status.
type RegionInfo struct {
	Name        string
	OptInStatus string // opt-in-not-required, opted-in, not-opted-in
}

// regionsOptIn are the Regions that need opting in.
var regionsOptIn = []string{"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
	"ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1", "mx-central-1"}

// regionsDefault are the Regions enabled in every account.
var regionsDefault = []string{"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2",
	"us-west-1", "us-west-2"}

// Regions lists every Region with its opt-in status: opt-in Regions are
// opted in unless listed in Options.DisabledRegions.
func (s *Sim) Regions() []RegionInfo {
	var out []RegionInfo
	for _, r := range regionsDefault {
		out = append(out, RegionInfo{Name: r, OptInStatus: "opt-in-not-required"})
	}
	for _, r := range regionsOptIn {
		st := "opted-in"
		if slices.Contains(s.opts.DisabledRegions, r) {
			st = "not-opted-in"
		}
		out = append(out, RegionInfo{Name: r, OptInStatus: st})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// regionKnown reports whether name is a Region the sim serves.
func regionKnown(name string) bool {
	return slices.Contains(regionsDefault, name) || slices.Contains(regionsOptIn, name)
}

// regionEnabled reports whether calls may be made in name.
func (s *Sim) regionEnabled(name string) bool {
	return !slices.Contains(s.opts.DisabledRegions, name)
}

// SetLatency changes the latency added to every call from now on.
func (s *Sim) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// SetThrottled makes every call of the named operations ("GetAccessKeyLastUsed")
// answer with the protocol's throttling error from now on, as a
// ThrottleRate of 1 would for those alone; none: stop.
func (s *Sim) SetThrottled(ops ...string) {
	s.mu.Lock()
	s.throttled = slices.Clone(ops)
	s.mu.Unlock()
}
