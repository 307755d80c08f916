package scenario

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
)

// The organisation variant of the leaked-key scenario: the key leaks in
// one member account (A, the single-account scenario played there in
// full) and its user may assume a role in another member (B) whose trust
// allows A's account. The attacker pivots: it assumes that role with
// whatever it holds in A, and plants footholds in B (a user with an access
// key, miners), which it restores when they are contained, as it does in A.

// PivotRole is the role in the pivot account whose trust allows the
// leaked account.
const PivotRole = "deploy-cross"

// pivotUser is the user the attacker creates in the pivot account, and
// pivotRegion where it runs miners there.
const (
	pivotUser   = "svc-replication"
	pivotRegion = "ap-southeast-1"
)

// OrgScenario is the leaked-key incident in a drill organisation.
type OrgScenario struct {
	*Scenario
	org   *sim.Org
	pivot *sim.Sim

	mu        sync.Mutex
	session   sim.Credentials // the attacker's session of PivotRole in B
	key       sim.Credentials // its key of pivotUser in B
	footholds []Foothold
	instances []string
	reacted   []string
}

// OrgTruth is the ground truth of the organisation scenario.
type OrgTruth struct {
	// LeakedAccount holds the leaked key; PivotAccount is where the
	// attacker assumed PivotRole.
	LeakedAccount, PivotAccount string
	LeakedKey                   string
	PivotRoleARN                string
	// Accounts are the accounts the key's family touched, leaked first.
	Accounts []string
	// Footholds are what the attacker planted, by account id.
	Footholds map[string][]Foothold
	// PivotSessions are the access key ids of the attacker's sessions of
	// PivotRole (in PivotAccount, their parents keys of LeakedAccount).
	PivotSessions []string
}

// NewOrg sets the organisation up for the named scenario (the leaked-key
// scenario, played in the organisation's first member account with a
// pivot into the second) on o, which serves at endpoint.
func NewOrg(name string, o *sim.Org, endpoint string, opts Options) (*OrgScenario, error) {
	members := o.Members()
	if len(members) < 2 {
		return nil, fmt.Errorf("scenario: the organisation variant needs two member accounts, the organisation has %d", len(members))
	}
	sc, err := New(name, members[0], endpoint, opts)
	if err != nil {
		return nil, err
	}
	b := members[1]
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`,
		members[0].AccountID())
	if err := b.AddRoleWithTrust(PivotRole, trust, adminPolicy); err != nil {
		return nil, err
	}
	// B's own people, so that its inventory is not only the attacker's.
	for _, u := range []string{"release-bot", "ops.martin"} {
		if err := b.AddUser(u); err != nil {
			return nil, err
		}
		if _, err := b.AddKey(u); err != nil {
			return nil, err
		}
	}
	return &OrgScenario{Scenario: sc, org: o, pivot: b}, nil
}

// Org is the organisation the scenario plays on.
func (ps *OrgScenario) Org() *sim.Org { return ps.org }

// LeakedAccount is the id of the account holding the leaked key.
func (ps *OrgScenario) LeakedAccount() string { return ps.sim.AccountID() }

// PivotAccount is the id of the account the attacker pivots into.
func (ps *OrgScenario) PivotAccount() string { return ps.pivot.AccountID() }

// Truth returns the ground truth so far.
func (ps *OrgScenario) Truth() OrgTruth {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	t := OrgTruth{LeakedAccount: ps.sim.AccountID(), PivotAccount: ps.pivot.AccountID(), LeakedKey: ps.leaked.AccessKeyID,
		PivotRoleARN: "arn:aws:iam::" + ps.pivot.AccountID() + ":role/" + PivotRole,
		Accounts:     []string{ps.sim.AccountID()},
		Footholds:    map[string][]Foothold{ps.sim.AccountID(): ps.attacker.Footholds()}}
	if len(ps.footholds) > 0 {
		t.Accounts = append(t.Accounts, ps.pivot.AccountID())
		t.Footholds[ps.pivot.AccountID()] = slices.Clone(ps.footholds)
	}
	// A session of PivotRole, never another role's (the organisation's
	// responder reads B through OrganizationAccountAccessRole and calls
	// GetCallerIdentity too: the debrief counted it among the attacker's
	// credentials that still work).
	for _, c := range ps.pivot.Calls() {
		if c.Operation == "GetCallerIdentity" && c.OK() && !slices.Contains(t.PivotSessions, c.AccessKeyID) &&
			len(c.AccessKeyID) > 4 && c.AccessKeyID[:4] == "ASIA" && strings.Contains(c.PrincipalARN, ":assumed-role/"+PivotRole+"/") {
			t.PivotSessions = append(t.PivotSessions, c.AccessKeyID)
		}
	}
	return t
}

// PivotReactions lists what the attacker restored in the pivot account.
func (ps *OrgScenario) PivotReactions() []string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return slices.Clone(ps.reacted)
}

// Run plays the scenario until ctx is done: the single-account scenario
// in the leaked account, and, once the attacker is established there, its
// pivot into the other account, a round at a time.
func (ps *OrgScenario) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = ps.Scenario.Run(ctx)
	}()
	if ps.opts.AttackAfter > 0 {
		select {
		case <-ps.attacker.Established():
			for round := 0; ctx.Err() == nil; round++ {
				ps.pivotRound(ctx, round)
				if ps.pace(ctx, ps.opts.Round) != nil {
					break
				}
			}
		case <-ctx.Done():
		}
	}
	wg.Wait()
	return nil
}

func (ps *OrgScenario) planted(f Foothold) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, g := range ps.footholds {
		if g.Kind == f.Kind && g.ID == f.ID {
			return
		}
	}
	ps.footholds = append(ps.footholds, f)
}

// pivotCfg is an SDK config for c in region, as the attacker looks.
func (ps *OrgScenario) pivotCfg(c sim.Credentials, region string) aws.Config {
	return ps.attacker.id.config(ps.endpoint, c, region)
}

// works reports whether c still authenticates in the pivot account.
func (ps *OrgScenario) works(ctx context.Context, c sim.Credentials) bool {
	if c.AccessKeyID == "" {
		return false
	}
	_, err := sts.NewFromConfig(ps.pivotCfg(c, homeRgn)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	return err == nil
}

// pivotRound: a session of the pivot role (assumed again with whatever
// the attacker holds in A when the last one died), then the footholds in
// B: the user and its key (made again when deleted or deactivated), and
// miners (launched again when stopped or terminated).
func (ps *OrgScenario) pivotRound(ctx context.Context, round int) {
	ps.mu.Lock()
	sess, key := ps.session, ps.key
	ps.mu.Unlock()
	if !ps.works(ctx, sess) {
		roleARN := "arn:aws:iam::" + ps.pivot.AccountID() + ":role/" + PivotRole
		_, _ = ps.attacker.try(ctx, "AssumeRole "+roleARN, nil, func(cfg func(string) aws.Config) error {
			out, err := sts.NewFromConfig(cfg(homeRgn)).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN),
				RoleSessionName: aws.String("deploy")})
			if err == nil {
				sess = stsCreds(out.Credentials.AccessKeyId, out.Credentials.SecretAccessKey, out.Credentials.SessionToken, out.Credentials.Expiration)
			}
			return err
		})
		if !ps.works(ctx, sess) {
			sess = sim.Credentials{}
		} else {
			ps.mu.Lock()
			if ps.session.AccessKeyID != "" {
				ps.reacted = append(ps.reacted, "AssumeRole "+PivotRole)
			}
			ps.session = sess
			ps.mu.Unlock()
			ps.planted(Foothold{Kind: "session", ID: "role/" + PivotRole, Detail: "assumed from " + ps.sim.AccountID()})
		}
	}
	// What works in B: the session first, then the key.
	var creds []sim.Credentials
	for _, c := range []sim.Credentials{sess, key} {
		if ps.works(ctx, c) {
			creds = append(creds, c)
		}
	}
	if len(creds) == 0 {
		return
	}
	if !ps.works(ctx, key) {
		ps.plantKey(ctx, creds[0], key.AccessKeyID != "")
	}
	ps.minersInPivot(ctx, creds, round)
}

// plantKey creates (once) the attacker's user in B and a key for it.
func (ps *OrgScenario) plantKey(ctx context.Context, c sim.Credentials, again bool) {
	cl := iam.NewFromConfig(ps.pivotCfg(c, homeRgn))
	if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(pivotUser)}); err == nil {
		ps.planted(Foothold{Kind: "user", ID: pivotUser})
		_, _ = cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(pivotUser), PolicyArn: aws.String(adminPolicy)})
	} else if apiCode(err) != "EntityAlreadyExists" {
		return
	}
	out, err := cl.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(pivotUser)})
	if err != nil {
		return
	}
	k := sim.Credentials{AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(out.AccessKey.SecretAccessKey)}
	ps.mu.Lock()
	ps.key = k
	if again {
		ps.reacted = append(ps.reacted, "CreateAccessKey "+pivotUser)
	}
	ps.mu.Unlock()
	ps.planted(Foothold{Kind: "key", ID: k.AccessKeyID, Detail: "of user " + pivotUser})
}

// minersInPivot keeps two miners running in B's pivotRegion.
func (ps *OrgScenario) minersInPivot(ctx context.Context, creds []sim.Credentials, round int) {
	for _, c := range creds {
		cl := ec2.NewFromConfig(ps.pivotCfg(c, pivotRegion))
		out, err := cl.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			continue
		}
		running := 0
		ps.mu.Lock()
		mine := slices.Clone(ps.instances)
		ps.mu.Unlock()
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				if slices.Contains(mine, aws.ToString(in.InstanceId)) && in.State != nil &&
					(in.State.Name == ec2types.InstanceStateNameRunning || in.State.Name == ec2types.InstanceStateNamePending) {
					running++
				}
			}
		}
		if running > 0 {
			return
		}
		run, err := cl.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0a4e637babb7b0a86"),
			InstanceType: ec2types.InstanceTypeC524xlarge, MinCount: aws.Int32(1), MaxCount: aws.Int32(2),
			TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
				Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("replication-worker")}}}}})
		if err != nil {
			continue
		}
		ps.mu.Lock()
		if len(ps.instances) > 0 {
			ps.reacted = append(ps.reacted, fmt.Sprintf("RunInstances in %s (round %d)", pivotRegion, round))
		}
		for _, in := range run.Instances {
			ps.instances = append(ps.instances, aws.ToString(in.InstanceId))
		}
		ps.mu.Unlock()
		for _, in := range run.Instances {
			ps.planted(Foothold{Kind: "instance", ID: aws.ToString(in.InstanceId), Region: pivotRegion})
		}
		return
	}
}

// PivotCredentials are the credentials the attacker holds in the pivot
// account now: its session of PivotRole and its user's key (for tests
// that try them from outside).
func (ps *OrgScenario) PivotCredentials() []sim.Credentials {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var out []sim.Credentials
	for _, c := range []sim.Credentials{ps.session, ps.key} {
		if c.AccessKeyID != "" {
			out = append(out, c)
		}
	}
	return out
}

// PivotEstablished reports whether the attacker holds footholds in B
// (a user key and running miners) — for tests to wait on.
func (ps *OrgScenario) PivotEstablished() bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.key.AccessKeyID != "" && len(ps.instances) > 0
}
