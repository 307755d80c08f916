package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/org"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// TestOrgIncidentEndToEnd is issue 18's first "Done when": against a
// drill organisation of 5 accounts served over HTTP, the key leaked in
// member A pivots into member B through a role; as the management
// account's responder, warroom (a) journals the family's events in both
// accounts through the per-account stream, (b) finds them in both with
// the Athena hunt over the organisation trail, agreeing with the trail's
// bucket read through the SDK, (c) contains the key in both accounts; and
// (d) the accounts, read back through the SDK as each member's responder,
// confirm it: A's leaked key inactive, every attacker credential in A and
// B refused, B's miners not running, B's backdoor user neutralised, and
// the attacker's later attempts failing.
//
// Seed 23's attacker backdoors the trust of A's OrganizationAccountAccessRole
// itself, the role warroom contains through: the playbook cannot restore a
// member role's trust it has no history of, nor revoke the sessions of the
// role it acts with, so the verdict must be "not contained", naming that
// trust, and the account must hold it (read through the SDK): a verdict
// that matches the account, not a contained one.
func TestOrgIncidentEndToEnd(t *testing.T) {
	for _, seed := range []uint64{7, 23} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			if seed == 23 && raceDetector {
				// Its containment runs out its whole 5-minute wait: under
				// -race (.ci/run) the package would near its 30-minute
				// limit. `go test ./...`, the README's command, plays it.
				t.Skip("seed 23 waits out containment's 5 minutes; played without -race")
			}
			orgIncidentEndToEnd(t, seed, seed != 23)
		})
	}
}

// orgRecord is what the test compares of one CloudTrail record.
type orgRecord struct {
	Account, EventID, Name, Key, Region string
	Time                                time.Time
}

func orgIncidentEndToEnd(t *testing.T, seed uint64, wantContained bool) {
	began := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := sim.NewOrg(sim.OrgOptions{Options: sim.Options{Seed: seed, Speed: 100}, Members: 4})
	endpoint, err := o.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if n := len(o.Accounts()); n != 5 {
		t.Fatalf("the organisation has %d accounts, want 5", n)
	}
	osc, err := scenario.NewOrg(scenario.DefaultScenario, o, endpoint, scenario.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	scDone := make(chan struct{})
	go func() { defer close(scDone); _ = osc.Run(ctx) }()
	defer func() { cancel(); <-scDone }()
	asResponder(t, o.Responder())
	A, B := osc.LeakedAccount(), osc.PivotAccount()
	leaked := osc.LeakedKey()
	waitCond(t, 3*time.Minute, "the attacker's pivot into B", osc.PivotEstablished)

	// (a) The per-account stream, as the console's organisation mode runs
	// it: the management account's responder, every member through its
	// OrganizationAccountAccessRole.
	dir := t.TempDir()
	streamJ := filepath.Join(dir, "stream", "journal.jsonl")
	resp := o.Responder()
	sess, err := session.Load(ctx, session.Options{Endpoint: endpoint, ReadOnly: true,
		Credentials: session.StaticCredentials(resp.AccessKeyID, resp.SecretAccessKey, resp.SessionToken)})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sess.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	accts, err := org.List(ctx, sess.Organizations())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := state.OpenRecorder(streamJ, state.IncidentOpened{ID: "wr-org-e2e"}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := incident.Attach(sess, rec, state.SessionStarted{Command: "console", Mode: state.ModeReadOnly, AccountID: id.AccountID}); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Record(state.KindSuspect, state.Suspect{AccessKeyID: leaked, Reason: "found on a paste site"}); err != nil {
		t.Fatal(err)
	}
	core := incident.New(sess, id, rec, incident.DrillPacing(100))
	core.SetMembers(incident.Members{Accounts: accts})
	cctx, stop := context.WithCancel(ctx)
	core.Start(cctx)
	var s *state.Store
	var byAcct map[string]int
	defer func() {
		if t.Failed() {
			t.Logf("the stream's journal: the family's events by account %v (A %s, B %s)", byAcct, A, B)
		}
	}()
	waitCond(t, 6*time.Minute, "the family's events in A and B through the per-account stream", func() bool {
		if s, _, err = state.Replay(streamJ); err != nil {
			t.Fatal(err)
		}
		byAcct = familyEventsByAccount(t, s, leaked)
		return byAcct[A] > 0 && byAcct[B] > 0
	})
	stop()
	core.Wait()
	rec.Close()
	if fam := s.FamilyAccounts(); !slices.Contains(fam, A) || !slices.Contains(fam, B) {
		t.Errorf("FamilyAccounts %v does not name A %s and B %s", fam, A, B)
	}
	// The family's keys, as the stream's journal knows them.
	famF, err := state.ParseFilter("family:" + leaked)
	if err != nil {
		t.Fatal(err)
	}
	var famKeys []string
	for _, c := range s.Events.Counts(state.FieldKey, famF) {
		famKeys = append(famKeys, c.Value)
	}
	slices.Sort(famKeys)
	t.Logf("stream: the family's events by account %v; keys %v", byAcct, famKeys)

	// (b) The hunt over the organisation trail, its table made on first
	// use; the bucket read independently before and after it.
	s3c := s3.NewFromConfig(orgCfg(endpoint, resp, "us-east-1"), func(op *s3.Options) { op.UsePathStyle = true })
	inFamily := func(r orgRecord) bool {
		return slices.Contains(famKeys, r.Key) && (r.Account == A || r.Account == B)
	}
	// The organisation trail delivers a few drill minutes behind the
	// stream: hunt once it holds the family's calls in both accounts.
	before := orgTrailRecords(t, s3c, o, []string{A, B}, inFamily)
	for wait := time.Now().Add(3 * time.Minute); time.Now().Before(wait); before = orgTrailRecords(t, s3c, o, []string{A, B}, inFamily) {
		by := map[string]int{}
		for _, r := range before {
			by[r.Account]++
		}
		if by[A] > 0 && by[B] > 0 {
			break
		}
		time.Sleep(2 * time.Second)
	}
	huntJ := filepath.Join(dir, "hunt", "journal.jsonl")
	var ids []string
	for _, a := range o.Accounts() {
		ids = append(ids, a.AccountID())
	}
	code, stdout, stderr := warroom(t, "hunt", "--athena", "--endpoint-url", endpoint, "-j", huntJ, "--output", "json",
		"--output-location", "s3://"+o.OrgTrailBucket()+"/athena/", "--create-table", "--bucket", o.OrgTrailBucket(),
		"--org-id", o.ID(), "--accounts", strings.Join(ids, ","), "--table-from", o.Now().Add(-72*time.Hour).Format("2006-01-02"),
		"key:"+strings.Join(famKeys, ",")+" account:"+A+","+B)
	if code != 0 {
		t.Fatalf("hunt: exit %d: %s\n%s", code, stderr, stdout)
	}
	var hres huntResult
	if err := json.Unmarshal([]byte(stdout), &hres); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if !hres.TableCreated || hres.New != hres.Found || hres.Found == 0 || hres.BytesScanned == 0 {
		t.Errorf("hunt result %+v", hres)
	}
	after := orgTrailRecords(t, s3c, o, []string{A, B}, inFamily)
	hs, _, err := state.Replay(huntJ)
	if err != nil {
		t.Fatal(err)
	}
	hunted := map[string]orgRecord{}
	huntBy := map[string]int{}
	for _, eid := range hs.Events.Query(&state.Filter{}).IDs() {
		ev := hs.Events.Event(eid)
		r := orgRecord{Account: ev.Account, EventID: ev.EventID, Name: ev.Name, Key: ev.AccessKeyID, Region: ev.Region, Time: ev.Time}
		hunted[r.Account+"/"+r.EventID] = r
		huntBy[r.Account]++
	}
	if huntBy[A] == 0 || huntBy[B] == 0 {
		t.Errorf("the hunt journaled the family's events by account %v; want some in A %s and B %s", huntBy, A, B)
	}
	for k, r := range before {
		if h, ok := hunted[k]; !ok {
			t.Errorf("the org trail held %+v before the hunt; the hunt did not journal it", r)
		} else if !h.Time.Equal(r.Time) || h != (orgRecord{r.Account, r.EventID, r.Name, r.Key, r.Region, h.Time}) {
			t.Errorf("the hunt journaled %+v; the org trail holds %+v", h, r)
		}
	}
	for k, h := range hunted {
		if _, ok := after[k]; !ok {
			t.Errorf("the hunt journaled %+v, which the org trail does not hold", h)
		}
	}
	t.Logf("hunt: %d records (by account %v), %d bytes scanned; the org trail held %d before, %d after", len(hunted), huntBy,
		hres.BytesScanned, len(before), len(after))

	// Every credential the attacker holds before containment.
	heldA := osc.Attacker().Credentials()
	heldB := osc.PivotCredentials()
	userA := osc.LeakedUser()
	backdoorB := "svc-replication"

	// (c) Containment across both accounts, from the management account.
	code, stdout, stderr = warroom(t, "contain", "credential", leaked, "--yes", "--journal", streamJ, "--endpoint-url", endpoint,
		"--role-name", session.DefaultRoleName, "--wait", "5m", "--poll", "1s")
	if !wantContained {
		// Not contained, and rightly: A's access role still trusts the
		// attacker's outside account.
		if code != 1 || !strings.Contains(stdout, "trust role/"+session.DefaultRoleName) {
			t.Fatalf("contain credential: exit %d, want 1 (not contained) naming the trust of %s: %s\n%s", code, session.DefaultRoleName, stderr, stdout)
		}
		ia := iam.NewFromConfig(orgCfg(endpoint, o.Account(A).Responder(), "us-east-1"))
		role, err := ia.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(session.DefaultRoleName)})
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
		if out := osc.Attacker().OutsideAccount(); out == "" || !strings.Contains(doc, out) {
			t.Fatalf("the verdict names the trust of %s open, but it does not trust the attacker's account %q: %s", session.DefaultRoleName, out, doc)
		}
		t.Logf("seed %d: not contained, as the account holds (%s trusts %s): %s", seed, session.DefaultRoleName, osc.Attacker().OutsideAccount(), time.Since(began).Round(time.Second))
		return
	}
	if code != 0 {
		t.Fatalf("contain credential: exit %d (want 0, contained): %s\n%s", code, stderr, stdout)
	}
	contained := o.Now()

	// (d) The accounts read back as each one's own responder.
	check := func(when string) {
		t.Helper()
		ia := iam.NewFromConfig(orgCfg(endpoint, o.Account(A).Responder(), "us-east-1"))
		keys, err := ia.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(userA)})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys.AccessKeyMetadata {
			if aws.ToString(k.AccessKeyId) == leaked && k.Status != iamtypes.StatusTypeInactive {
				t.Errorf("%s: A's leaked key %s is %s", when, leaked, k.Status)
			}
		}
		for _, c := range append(slices.Clone(heldA), heldB...) {
			if err := credentialWorks(ctx, endpoint, c); err == nil {
				t.Errorf("%s: the attacker's credential %s still works", when, c.AccessKeyID)
			}
		}
		ib := iam.NewFromConfig(orgCfg(endpoint, o.Account(B).Responder(), "us-east-1"))
		bkeys, err := ib.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(backdoorB)})
		if err == nil {
			for _, k := range bkeys.AccessKeyMetadata {
				if k.Status != iamtypes.StatusTypeInactive {
					t.Errorf("%s: B's backdoor user %s has an active key %s", when, backdoorB, aws.ToString(k.AccessKeyId))
				}
			}
			if pols, err := ib.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(backdoorB)}); err != nil {
				t.Fatal(err)
			} else {
				for _, p := range pols.AttachedPolicies {
					if aws.ToString(p.PolicyName) == "AdministratorAccess" {
						inl, _ := ib.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(backdoorB)})
						if inl == nil || len(inl.PolicyNames) == 0 {
							t.Errorf("%s: B's backdoor user %s keeps AdministratorAccess with no deny", when, backdoorB)
						}
					}
				}
			}
		}
		eb := ec2.NewFromConfig(orgCfg(endpoint, o.Account(B).Responder(), "ap-southeast-1"))
		out, err := eb.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range osc.Truth().Footholds[B] {
			if f.Kind != "instance" {
				continue
			}
			for _, r := range out.Reservations {
				for _, in := range r.Instances {
					if aws.ToString(in.InstanceId) == f.ID && in.State != nil &&
						(in.State.Name == ec2types.InstanceStateNameRunning || in.State.Name == ec2types.InstanceStateNamePending) {
						t.Errorf("%s: the attacker's instance %s in B is %s", when, f.ID, in.State.Name)
					}
				}
			}
		}
	}
	check("after containment")

	// The attacker keeps trying, in A and through A into B.
	waitCond(t, 2*time.Minute, "the attacker's attempts after containment", func() bool {
		return len(osc.Attacker().CallsSince(contained)) >= 20
	})
	heldA = append(heldA, osc.Attacker().Credentials()...)
	heldB = append(heldB, osc.PivotCredentials()...)
	check("a quarter of an hour later")
	if ok := osc.Attacker().SuccessesSince(contained); len(ok) > 0 {
		t.Errorf("the attacker's calls in A succeeded after containment: %d, first %s %s", len(ok), ok[0].Operation, ok[0].AccessKeyID)
	}
	var bKeys []string
	for _, c := range heldB {
		bKeys = append(bKeys, c.AccessKeyID)
	}
	for _, c := range o.Account(B).Calls() {
		if !c.Time.Before(contained) && c.OK() && c.Operation != "GetCallerIdentity" && slices.Contains(bKeys, c.AccessKeyID) {
			t.Errorf("the attacker's call in B succeeded after containment: %s with %s at %s", c.Operation, c.AccessKeyID, c.Time)
		}
	}
	t.Logf("seed %d: %s", seed, time.Since(began).Round(time.Second))
}

// waitCond polls cond until it holds, failing after d.
func waitCond(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// orgCfg is an SDK config for c against endpoint.
func orgCfg(endpoint string, c sim.Credentials, region string) aws.Config {
	return aws.Config{Region: region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
}

// credentialWorks tries c from outside: sts:GetCallerIdentity (refused
// for a deleted or inactive key) and, since no policy can deny that call,
// a read needing permission (refused for a revoked session too).
func credentialWorks(ctx context.Context, endpoint string, c sim.Credentials) error {
	if _, err := sts.NewFromConfig(orgCfg(endpoint, c, "us-east-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		return err
	}
	_, err := ec2.NewFromConfig(orgCfg(endpoint, c, "us-east-1")).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	return err
}

// familyEventsByAccount counts the events of key's family in s by the
// account they happened in.
func familyEventsByAccount(t *testing.T, s *state.Store, key string) map[string]int {
	t.Helper()
	f, err := state.ParseFilter("family:" + key)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]int{}
	for _, c := range s.Events.Counts(state.FieldAccount, f) {
		in[c.Value] += c.N
	}
	return in
}

// orgTrailRecords reads the organisation trail's log files of accounts
// through the SDK, as an outside client, and returns the records keep
// wants by account/eventID.
func orgTrailRecords(t *testing.T, c *s3.Client, o *sim.Org, accounts []string, keep func(orgRecord) bool) map[string]orgRecord {
	t.Helper()
	ctx := context.Background()
	out := map[string]orgRecord{}
	for _, acct := range accounts {
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(o.OrgTrailBucket()), Prefix: aws.String(o.OrgTrailPrefix(acct))})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, obj := range page.Contents {
				if !strings.HasSuffix(aws.ToString(obj.Key), ".json.gz") || strings.Contains(aws.ToString(obj.Key), "CloudTrail-Digest") {
					continue
				}
				g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.OrgTrailBucket()), Key: obj.Key})
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(g.Body)
				g.Body.Close()
				zr, err := gzip.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatalf("%s: %v", aws.ToString(obj.Key), err)
				}
				var file struct {
					Records []struct {
						EventID, EventName, AWSRegion, RecipientAccountID string
						EventTime                                         time.Time
						UserIdentity                                      struct{ AccessKeyID string }
					}
				}
				if err := json.NewDecoder(zr).Decode(&file); err != nil {
					t.Fatalf("%s: %v", aws.ToString(obj.Key), err)
				}
				for _, r := range file.Records {
					or := orgRecord{Account: r.RecipientAccountID, EventID: r.EventID, Name: r.EventName, Key: r.UserIdentity.AccessKeyID,
						Region: r.AWSRegion, Time: r.EventTime}
					if keep(or) {
						out[or.Account+"/"+or.EventID] = or
					}
				}
			}
		}
	}
	return out
}
