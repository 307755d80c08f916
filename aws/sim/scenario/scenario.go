// Package scenario plays incidents against the drill account (aws/sim):
// it fills the account with users, roles and keys, runs the normal
// background activity of a small company, and runs an attacker who uses a
// leaked key and reacts to containment. Every actor is an outside client:
// it talks to the sim only through the AWS SDK over HTTP.
package scenario

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/warroom-ir/warroom/aws/sim"
)

// DefaultScenario is the scenario warroom sim runs unless told otherwise.
const DefaultScenario = "leaked-key"

// Names lists the scenarios this package can play.
func Names() []string { return []string{DefaultScenario} }

// Options tune a scenario.
type Options struct {
	// Seed makes names, choices and timing deterministic.
	Seed uint64
	// Round is the simulated time between an actor's rounds; 30s when zero.
	// The sim's Speed divides it.
	Round time.Duration
	// AttackAfter is how many rounds of background activity come before
	// the attacker's first call; 4 when zero, none when negative.
	AttackAfter int
	// Logf, when set, receives one line per actor step (never a secret).
	Logf func(format string, args ...any)
	// NoQuarantine leaves out AWS's move: by default, once the attacker
	// holds its footholds and after a seed-chosen number of rounds (0 to
	// 2), AWS finds the leaked key in public and attaches its quarantine
	// policy (V2 or V3, seed-chosen) to the key's user.
	NoQuarantine bool
	// NoReporting leaves out the reporting job that uses the leaked key
	// before and after the leak (runReporting).
	NoReporting bool
	// NoGuardDuty leaves out GuardDuty's findings on the attacker
	// (runGuardDuty); the home Region's detector stays.
	NoGuardDuty bool
	// IdentityCenter adds IAM Identity Center (identitycenter.go): the
	// people as its users, and an intruder calling with a phished
	// administrator's Identity Center session after AttackAfter rounds.
	IdentityCenter bool
}

// Scenario is one incident in progress.
type Scenario struct {
	sim      *sim.Sim
	endpoint string
	opts     Options
	rng      *rand.Rand

	sso        *ssoPart // Options.IdentityCenter
	leakedUser string
	leaked     sim.Credentials
	adminRole  string
	lambdaRole string
	ci         sim.Credentials
	rotator    string
	rotatorKey sim.Credentials
	attacker   *Attacker

	quarantine      string // the policy AWS attaches
	quarantineAfter int    // rounds after the attacker is established
	qmu             sync.Mutex
	quarantinedAt   time.Time
}

// New sets up the account for the named scenario on s, which serves at
// endpoint, and returns the scenario ready to Run.
func New(name string, s *sim.Sim, endpoint string, opts Options) (*Scenario, error) {
	if name != DefaultScenario {
		return nil, fmt.Errorf("scenario: unknown scenario %q (known: %v)", name, Names())
	}
	if opts.Round <= 0 {
		opts.Round = 30 * time.Second
	}
	if opts.AttackAfter == 0 {
		opts.AttackAfter = 4
	}
	sc := &Scenario{sim: s, endpoint: endpoint, opts: opts,
		rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5ce0a410))}
	if err := sc.setup(); err != nil {
		return nil, err
	}
	if err := sc.enableGuardDuty(); err != nil {
		return nil, err
	}
	attacker, err := newAttacker(sc)
	if err != nil {
		return nil, err
	}
	sc.attacker = attacker
	pick := rand.New(rand.NewPCG(opts.Seed^0x9a7a1e, opts.Seed+3))
	sc.quarantine = []string{quarantineV2, quarantineV3}[pick.IntN(2)]
	sc.quarantineAfter = pick.IntN(3)
	return sc, nil
}

var (
	firstNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
		"niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yolanda", "zoe", "omar", "priya", "kenji"}
	lastNames = []string{"smith", "jones", "garcia", "miller", "davis", "lopez", "wilson", "anderson", "thomas", "moore",
		"martin", "lee", "clark", "lewis", "walker", "hall", "young", "king"}
)

const (
	quarantineV2   = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"
	quarantineV3   = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
	adminPolicy    = "arn:aws:iam::aws:policy/AdministratorAccess"
	readOnlyPolicy = "arn:aws:iam::aws:policy/ReadOnlyAccess"
)

// setup creates the account's people, machines and roles. These exist
// before the incident, so they are made directly, not through the API.
func (sc *Scenario) setup() error {
	s := sc.sim
	people := map[string]bool{}
	var devs, admins, readers []string
	for len(people) < 24 {
		n := firstNames[sc.rng.IntN(len(firstNames))] + "." + lastNames[sc.rng.IntN(len(lastNames))]
		if people[n] {
			continue
		}
		people[n] = true
	}
	names := make([]string, 0, len(people))
	for n := range people {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		if err := s.AddUser(n); err != nil {
			return err
		}
		switch i % 6 {
		case 0:
			admins = append(admins, n)
			if err := s.AttachUserPolicy(n, adminPolicy); err != nil {
				return err
			}
		case 1, 2:
			readers = append(readers, n)
		default:
			devs = append(devs, n)
		}
		if i%3 == 0 {
			if _, err := s.AddKey(n); err != nil {
				return err
			}
		}
	}
	for _, g := range []struct {
		name    string
		members []string
	}{{"admins", admins}, {"developers", devs}, {"readonly", readers}} {
		if err := s.AddGroup(g.name, g.members...); err != nil {
			return err
		}
	}
	machines := []struct{ name, policy string }{
		{"ci-deploy", adminPolicy}, {"terraform-state", adminPolicy}, {"backup-agent", readOnlyPolicy},
		{"grafana-cloudwatch", readOnlyPolicy}, {"legacy-reporting", adminPolicy}, {"datadog-integration", readOnlyPolicy},
	}
	for _, m := range machines {
		if err := s.AddUser(m.name); err != nil {
			return err
		}
		if err := s.AttachUserPolicy(m.name, m.policy); err != nil {
			return err
		}
	}
	var err error
	if sc.ci, err = s.AddKey("ci-deploy"); err != nil {
		return err
	}
	// The leaked key belongs to an old automation user with administrator
	// rights: the classic key committed to a public repository.
	sc.leakedUser = "legacy-reporting"
	if sc.leaked, err = s.AddKey(sc.leakedUser); err != nil {
		return err
	}
	sc.rotator = admins[0]
	if sc.rotatorKey, err = s.AddKey(sc.rotator); err != nil {
		return err
	}
	for _, m := range []string{"terraform-state", "backup-agent", "grafana-cloudwatch", "datadog-integration"} {
		if _, err := s.AddKey(m); err != nil {
			return err
		}
	}
	roles := []struct {
		name string
		max  time.Duration
	}{
		{"OrganizationAccountAccessRole", time.Hour}, {"deploy-pipeline", time.Hour}, {"lambda-exec", time.Hour},
		{"ReadOnlyAuditor", 4 * time.Hour}, {"ecs-task-execution", time.Hour}, {"AWSReservedSSO_Billing", 8 * time.Hour},
	}
	for _, r := range roles {
		if s.HasRole(r.name) {
			// A member of a drill organisation has its
			// OrganizationAccountAccessRole already.
			continue
		}
		if err := s.AddRole(r.name, r.max); err != nil {
			return err
		}
	}
	sc.adminRole = "OrganizationAccountAccessRole"
	sc.lambdaRole = "lambda-exec"
	if sc.opts.IdentityCenter {
		return sc.setupIdentityCenter(admins, devs)
	}
	return nil
}

// LeakedKey is the access key id the attacker starts with.
func (sc *Scenario) LeakedKey() string { return sc.leaked.AccessKeyID }

// ReportingFrom is the source address and user agent of the application
// that uses the leaked key legitimately (runReporting).
func ReportingFrom() (ip, userAgent string) { return reportIP, reportAgent }

// AttackerFrom is the attacker's source address and user agent.
func AttackerFrom() (ip, userAgent string) { return attackerIP, attackerAgent }

// LeakedUser is the IAM user the leaked key belongs to.
func (sc *Scenario) LeakedUser() string { return sc.leakedUser }

// AdminRole is the role the attacker assumes.
func (sc *Scenario) AdminRole() string { return sc.adminRole }

// Attacker is the scenario's attacker.
func (sc *Scenario) Attacker() *Attacker { return sc.attacker }

// Sim is the drill account the scenario plays on (its ground truth).
func (sc *Scenario) Sim() *sim.Sim { return sc.sim }

// Run plays the scenario until ctx is done: the background actors and the
// attacker run side by side, each paced by the sim's clock and speed. It
// returns nil when ctx ends it.
func (sc *Scenario) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	actors := []func(context.Context){sc.runCI, sc.runRotator}
	if !sc.opts.NoReporting {
		actors = append(actors, sc.runReporting)
	}
	if sc.sso != nil && sc.opts.AttackAfter > 0 {
		actors = append(actors, func(ctx context.Context) {
			if sc.pace(ctx, time.Duration(sc.opts.AttackAfter)*sc.opts.Round) == nil {
				sc.runSSOIntruder(ctx)
			}
		})
	}
	if sc.opts.AttackAfter > 0 {
		actors = append(actors, func(ctx context.Context) {
			if sc.pace(ctx, time.Duration(sc.opts.AttackAfter)*sc.opts.Round) == nil {
				sc.attacker.run(ctx)
			}
		})
		if !sc.opts.NoGuardDuty {
			actors = append(actors, sc.runGuardDuty) // GuardDuty's findings on the attacker (guardduty.go)
		}
		if !sc.opts.NoQuarantine {
			actors = append(actors, sc.runAWS)
		}
	}
	for _, a := range actors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// runAWS is AWS's side: once the attacker is established and a seed-chosen
// number of rounds later, AWS's scan finds the leaked key in public and
// quarantines its user.
func (sc *Scenario) runAWS(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-sc.attacker.Established():
	}
	if sc.quarantineAfter > 0 && sc.pace(ctx, time.Duration(sc.quarantineAfter)*sc.opts.Round) != nil {
		return
	}
	if err := sc.sim.AWSQuarantine(sc.leakedUser, sc.quarantine); err != nil {
		sc.logf("aws: quarantine %s: %v", sc.leakedUser, err)
		return
	}
	sc.qmu.Lock()
	sc.quarantinedAt = sc.sim.Now()
	sc.qmu.Unlock()
	sc.logf("aws: attached %s to %s (the key was found in public)", sc.quarantine, sc.leakedUser)
}

// Quarantine is the AWS quarantine policy the scenario has AWS attach to
// the leaked key's user, and when it did (zero until it has).
func (sc *Scenario) Quarantine() (policyARN string, at time.Time) {
	sc.qmu.Lock()
	defer sc.qmu.Unlock()
	return sc.quarantine, sc.quarantinedAt
}

// pace waits d of simulated time.
func (sc *Scenario) pace(ctx context.Context, d time.Duration) error { return sc.sim.Pace(ctx, d) }

func (sc *Scenario) logf(format string, args ...any) {
	if sc.opts.Logf != nil {
		sc.opts.Logf(format, args...)
	}
}
