package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
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
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// readDrill is a drill account after a leaked-key incident, and a journal
// that already holds its CloudTrail events and the leaked key marked suspect.
type readDrill struct {
	sim      *sim.Sim
	clock    *sim.ManualClock
	endpoint string
	journal  string
	leaked   sim.Credentials
	// made lists what the attacker made: "region kind id".
	made []string
	// minted is the session token's key id the attacker minted.
	minted string
}

func (d *readDrill) cfg(c sim.Credentials, region string) aws.Config {
	return aws.Config{Region: region, BaseEndpoint: aws.String(d.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
}

// newReadDrill serves a drill account, points the SDK's environment at it
// as the responder, plays the incident, and journals its CloudTrail.
// asResponder points the command line at resp's credentials alone: no
// profile, configuration or journal from the environment.
func asResponder(t *testing.T, resp sim.Credentials) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", resp.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", resp.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("WARROOM_JOURNAL", "")
}

func newReadDrill(t *testing.T, opts sim.Options) *readDrill {
	t.Helper()
	clock := sim.NewManualClock(time.Now().Add(-2 * time.Hour).Truncate(time.Second))
	opts.Clock, opts.Seed = clock, 31
	s := sim.New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	d := &readDrill{sim: s, clock: clock, endpoint: srv.URL, journal: filepath.Join(t.TempDir(), "inc", "journal.jsonl")}
	asResponder(t, s.Responder())

	if err := s.AddUser("ci-deploy"); err != nil {
		t.Fatal(err)
	}
	if err := s.AttachUserPolicy("ci-deploy", "arn:aws:iam::aws:policy/AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	leaked, err := s.AddKey("ci-deploy")
	if err != nil {
		t.Fatal(err)
	}
	d.leaked = leaked
	clock.Advance(10 * time.Minute)
	began := clock.Now()
	clock.Advance(time.Minute)

	ctx := context.Background()
	a := iam.NewFromConfig(d.cfg(leaked, "us-east-1"))
	if _, err := a.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("backup-svc")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("backup-svc"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := a.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("backup-svc")}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := sts.NewFromConfig(d.cfg(leaked, "us-east-1")).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	d.minted = aws.ToString(tok.Credentials.AccessKeyId)
	for i, region := range []string{"eu-west-1", "ap-southeast-1"} {
		e := ec2.NewFromConfig(d.cfg(leaked, region))
		kp, err := e.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("kali"),
			PublicKeyMaterial: []byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@b")})
		if err != nil {
			t.Fatal(err)
		}
		run, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: ec2types.InstanceTypeP316xlarge,
			KeyName: aws.String("kali"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DisableApiTermination: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		spot, err := e.RequestSpotInstances(ctx, &ec2.RequestSpotInstancesInput{Type: ec2types.SpotInstanceTypePersistent,
			LaunchSpecification: &ec2types.RequestSpotLaunchSpecification{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: ec2types.InstanceTypeG4dn12xlarge}})
		if err != nil {
			t.Fatal(err)
		}
		d.made = append(d.made, region+" ec2:key-pair "+aws.ToString(kp.KeyPairId), region+" ec2:instance "+aws.ToString(run.Instances[0].InstanceId),
			region+" ec2:spot-request "+aws.ToString(spot.SpotInstanceRequests[0].SpotInstanceRequestId))
		if i == 0 {
			if _, err := lambda.NewFromConfig(d.cfg(leaked, region)).CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("updater"),
				Runtime: ltypes.RuntimePython312, Role: aws.String("arn:aws:iam::" + s.AccountID() + ":role/IncidentResponse"),
				Handler: aws.String("index.handler"), Code: &ltypes.FunctionCode{ZipFile: []byte("PK\x03\x04")}}); err != nil {
				t.Fatal(err)
			}
			d.made = append(d.made, region+" lambda:function updater")
		}
	}
	clock.Advance(time.Minute)

	// The journal: the incident's start, the CloudTrail so far, the leaked key marked.
	rec, err := state.OpenRecorder(d.journal, state.IncidentOpened{Title: "leaked ci key", Began: began}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	var recs []ctlog.Record
	for _, r := range s.Records() {
		p, err := ctlog.ParseRecord(r.JSON)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, p)
	}
	if _, _, err := rec.RecordEvents("sim", recs, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Record(state.KindSuspect, state.Suspect{AccessKeyID: leaked.AccessKeyID, Reason: "found on a paste site"}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRegionsCommand(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	code, out, errOut := warroom(t, "regions", "--journal", d.journal, "--endpoint-url", d.endpoint, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var m regionMap
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("output is not the region map: %v\n%s", err, out)
	}
	attacker := map[string]mapEntry{}
	for _, me := range m.Resources {
		if me.Attacker {
			attacker[me.Region+" "+me.Kind+" "+me.Resource.ID] = me
		}
	}
	for _, want := range d.made {
		me, ok := attacker[want]
		if !ok {
			t.Errorf("%s not marked as the attacker's", want)
			continue
		}
		if !me.New || me.Creator == nil || me.Creator.AccessKeyID != d.leaked.AccessKeyID {
			t.Errorf("%s: %+v", want, me)
		}
	}
	// The spot requests' instances are the attacker's too, through their requests.
	if len(attacker) != len(d.made)+2 {
		t.Errorf("%d resources marked the attacker's, want %d (made) + 2 spot instances", len(attacker), len(d.made))
	}

	s, rep, err := state.Replay(d.journal)
	if err != nil || rep.Problem != nil {
		t.Fatalf("replay: %v %v", err, rep.Problem)
	}
	if len(s.Regions) == 0 || len(s.Sweeps) != len(m.Sweeps) || len(m.Sweeps) == 0 {
		t.Errorf("journal holds %d Regions and %d sweeps, the command read %d sweeps", len(s.Regions), len(s.Sweeps), len(m.Sweeps))
	}

	t.Run("table", func(t *testing.T) {
		code, out, errOut := warroom(t, "regions", "--journal", d.journal, "--endpoint-url", d.endpoint, "--kinds", "ec2:instance,lambda:function")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		for _, want := range []string{"eu-west-1", "ATTACKER NEW", "! termination protection", "▲ 1 (1 new, 1 attacker)", d.leaked.AccessKeyID, "updater"} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
		// Nothing changed since the first run: nothing more is journaled.
		if !strings.Contains(errOut, "0 of ") {
			t.Errorf("a second sweep of an unchanged account journaled something: %s", errOut)
		}
	})
	t.Run("only the difference is journaled", func(t *testing.T) {
		e := ec2.NewFromConfig(d.cfg(d.leaked, "us-west-2"))
		if _, err := e.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"),
			InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := warroom(t, "regions", "--journal", d.journal, "--endpoint-url", d.endpoint)
		if code != 0 || !strings.Contains(errOut, "1 of ") {
			t.Fatalf("exit %d, want the one changed sweep journaled: %s", code, errOut)
		}
		s, _, err := state.Replay(d.journal)
		if err != nil {
			t.Fatal(err)
		}
		sweeps, regionFacts := 0, 0
		for _, it := range s.Timeline {
			switch it.Kind {
			case state.KindSweep:
				sweeps++
			case state.KindRegions:
				regionFacts++
			}
		}
		if sweeps != len(m.Sweeps)+1 || regionFacts != 1 {
			t.Errorf("journal holds %d sweep facts and %d Region lists, want %d and 1", sweeps, regionFacts, len(m.Sweeps)+1)
		}
		if sw := s.Sweeps[state.SweepKey{Region: "us-west-2", Kind: "ec2:instance"}]; len(sw.V.Resources) != 1 {
			t.Errorf("us-west-2 instances %+v", sw.V.Resources)
		}
	})
}

func TestRegionsCommandDeniedRegion(t *testing.T) {
	d := newReadDrill(t, sim.Options{DeniedRegions: []string{"ap-northeast-2"}, DisabledRegions: []string{"me-south-1"}})
	code, out, errOut := warroom(t, "regions", "--journal", d.journal, "--endpoint-url", d.endpoint, "--kinds", "ec2:instance")
	if code != exitProblem {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitProblem, out, errOut)
	}
	row := func(region string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, region+" ") {
				return l
			}
		}
		return ""
	}
	if r := row("ap-northeast-2"); !strings.Contains(r, "✗ denied") {
		t.Errorf("denied Region row %q", r)
	}
	if r := row("me-south-1"); !strings.Contains(r, "not-opted-in") || !strings.Contains(r, "·") {
		t.Errorf("disabled Region row %q", r)
	}
	if r := row("eu-west-1"); !strings.Contains(r, "attacker") {
		t.Errorf("the rest of the sweep did not go on: eu-west-1 row %q", r)
	}
	if !strings.Contains(errOut, "1 of ") || !strings.Contains(errOut, "sweeps failed") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestInventoryCommand(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	type output struct {
		Inventory state.Inventory `json:"inventory"`
		Lineage   []familyView    `json:"lineage"`
	}
	run := func(t *testing.T) output {
		t.Helper()
		code, out, errOut := warroom(t, "inventory", "--journal", d.journal, "--endpoint-url", d.endpoint, "-o", "json")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		var o output
		if err := json.Unmarshal([]byte(out), &o); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return o
	}
	o := run(t)
	i := slices.IndexFunc(o.Inventory.Users, func(u state.User) bool { return u.Name == "backup-svc" })
	if i < 0 {
		t.Fatal("backdoor user missing")
	}
	if u := o.Inventory.Users[i]; !u.New || !u.Admin || len(u.Keys) != 2 || !u.Keys[1].New {
		t.Errorf("backdoor user %+v", u)
	}
	family := func(o output) *familyView {
		for i := range o.Lineage {
			if o.Lineage[i].Key == d.leaked.AccessKeyID {
				return &o.Lineage[i]
			}
		}
		return nil
	}
	fv := family(o)
	// The family holds the minted session key, and the keys the leaked
	// key created (on the backdoor user): one family definition.
	mi := -1
	if fv != nil {
		for i, m := range fv.Family {
			if m.Key == d.minted && m.Call == "GetSessionToken" {
				mi = i
			}
		}
	}
	if fv == nil || mi < 0 || len(fv.Family) < 2 {
		t.Fatalf("lineage of the leaked key %+v", fv)
	}
	if rv := fv.Family[mi].Revocation; rv.Covered || rv.Reason != "no revoke policy" {
		t.Errorf("before the revoke: %+v", rv)
	}

	// The responder revokes the user's sessions: the minted token is covered.
	cutoff := d.clock.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":%q}}}]}`, cutoff)
	resp := d.sim.Responder()
	if _, err := iam.NewFromConfig(d.cfg(resp, "us-east-1")).PutUserPolicy(context.Background(), &iam.PutUserPolicyInput{
		UserName: aws.String("ci-deploy"), PolicyName: aws.String("AWSRevokeOlderSessions"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	fv = family(run(t))
	if fv != nil {
		for i, m := range fv.Family {
			if m.Key == d.minted {
				mi = i
			}
		}
	}
	if fv == nil || mi >= len(fv.Family) || !fv.Family[mi].Revocation.Covered || fv.Family[mi].Revocation.Policy != "AWSRevokeOlderSessions" {
		t.Errorf("after the revoke: %+v", fv)
	}

	t.Run("table", func(t *testing.T) {
		code, out, errOut := warroom(t, "inventory", "--journal", d.journal, "--endpoint-url", d.endpoint)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		for _, want := range []string{"backup-svc", "NEW ADMIN", "▲AdministratorAccess", "lineage of " + d.leaked.AccessKeyID, d.minted, "✓ by AWSRevokeOlderSessions", "root: ✓ MFA"} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
	})
	s, _, err := state.Replay(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	if s.Inventory == nil || len(s.Inventory.Users) != len(o.Inventory.Users) {
		t.Error("the inventory was not journaled")
	}
}

func TestWhoisKeyCommand(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	tests := []struct {
		name string
		key  string
		code int
		want []string
	}{
		{"the leaked key", d.leaked.AccessKeyID, 0, []string{"✓ OURS", "user:      ci-deploy", "last used:", "by ec2 in ap-southeast-1"}},
		{"a temporary key of ours", d.minted, 0, []string{"(temporary): ✓ OURS"}},
		{"someone else's key", "AKIAIOSFODNN7EXAMPLE", 0, []string{"✗ NOT OURS", "this is " + d.sim.AccountID()}},
		{"not a key id", "hello\x1b[31m", exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := warroom(t, "whois-key", tt.key, "--journal", d.journal, "--endpoint-url", d.endpoint)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out+errOut, "\x1b") {
				t.Error("an escape sequence reached the terminal")
			}
		})
	}
	s, _, err := state.Replay(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	if ki, ok := s.KeyInfos[d.leaked.AccessKeyID]; !ok || !ki.V.Ours || ki.V.UserName != "ci-deploy" {
		t.Errorf("journaled answer %+v", ki)
	}
	if len(s.KeyInfos) != 3 {
		t.Errorf("%d answers journaled, want 3", len(s.KeyInfos))
	}
}
