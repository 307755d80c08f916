package contain

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// drill is a drill account on loopback, a console session on it, and an
// incident journal: everything an action test needs.
type drill struct {
	sim      *sim.Sim
	clock    *sim.ManualClock
	endpoint string
	sess     *session.Session
	env      *Env
	path     string
	rec      *state.Recorder
	runner   *Runner
	log      *bytes.Buffer
}

func newDrill(t testing.TB) *drill {
	t.Helper()
	// The drill's clock starts three hours before the wall clock: a child
	// process (the crash tests) revokes with its own clock, and the
	// revoke must come after every token the drill issued.
	clock := sim.NewManualClock(time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour))
	s := sim.New(sim.Options{Seed: 7, Clock: clock})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	d := &drill{sim: s, clock: clock, endpoint: srv.URL, log: &bytes.Buffer{}}
	d.path = filepath.Join(t.TempDir(), "journal.jsonl")
	d.connect(t, s.Responder(), false)
	return d
}

// connect (re)builds the session, env, journal and runner signing with c.
func (d *drill) connect(t testing.TB, c sim.Credentials, readOnly bool) {
	t.Helper()
	ctx := context.Background()
	sess, err := session.Load(ctx, session.Options{Endpoint: d.endpoint, ReadOnly: readOnly, MaxBackoff: 10 * time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sess.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.rec == nil {
		d.rec, err = state.OpenRecorder(d.path, state.IncidentOpened{ID: "wr-test-incident"}, state.LocalActor())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.rec.Close() })
	}
	d.sess = sess
	d.env = NewEnv(sess, id, "wr-test-incident")
	d.env.Now = d.sim.Now
	d.runner = &Runner{Env: d.env, Journal: d.rec, Path: d.path, Actor: state.LocalActor(),
		Logf: func(f string, a ...any) { fmt.Fprintf(d.log, f+"\n", a...) }}
}

// cfg is a plain SDK config signing with c, as an outside actor's.
func (d *drill) cfg(c sim.Credentials, region string) aws.Config {
	return aws.Config{Region: region, BaseEndpoint: aws.String(d.endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
}

// incident is what a compromise left in the drill account.
type incident struct {
	leakedUser  string
	leaked      sim.Credentials
	ownKey      sim.Credentials // a second key the attacker made on the leaked user
	backdoor    string
	backdoorKey sim.Credentials
	session     sim.Credentials // GetSessionToken
	federation  sim.Credentials // GetFederationToken
	role        string
	roleCreds   sim.Credentials
	password    string
	mfaSerial   string
	region      string // instances and the key pair
	instances   []string
	spotRegion  string
	spot        []string
	function    string
}

const attackerPub = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDf3v2ecX0jmC7Zb3AAZpB9Tz0rI2hDnn8B8wSEoFfWbO5yK0H6o5e7c2E8qGqYx1Xv root@kali"

// must fails the test on err: must(call())(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// compromise plays a leaked-key attack through the SDK: a backdoor user
// with a key, a console password and an MFA device; a second key; session,
// federation and role credentials; protected instances, a persistent spot
// request and a function. The records are then journaled as events.
func compromise(t *testing.T, d *drill) *incident {
	t.Helper()
	ctx := context.Background()
	s := d.sim
	in := &incident{leakedUser: "legacy-reporting", backdoor: "svc-monitoring", role: "OrganizationAccountAccessRole",
		region: "ap-southeast-3", spotRegion: "me-central-1", function: "log-forwarder", password: "Sup3r-s3cret-Passw0rd!"}
	if err := s.AddUser(in.leakedUser); err != nil {
		t.Fatal(err)
	}
	if err := s.AttachUserPolicy(in.leakedUser, "arn:aws:iam::aws:policy/AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	in.leaked = must(s.AddKey(in.leakedUser))(t)
	if err := s.AddRole(in.role, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.AddRole("lambda-exec", time.Hour); err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(time.Hour)
	cfg := d.cfg(in.leaked, "us-east-1")
	im := iam.NewFromConfig(cfg)
	must(im.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(in.backdoor)}))(t)
	must(im.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(in.backdoor), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))(t)
	must(im.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(in.backdoor), Password: aws.String(in.password)}))(t)
	bk := must(im.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(in.backdoor)}))(t)
	in.backdoorKey = sim.Credentials{AccessKeyID: aws.ToString(bk.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(bk.AccessKey.SecretAccessKey)}
	ok := must(im.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{}))(t)
	in.ownKey = sim.Credentials{AccessKeyID: aws.ToString(ok.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(ok.AccessKey.SecretAccessKey)}
	mfa := must(im.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("attacker-phone")}))(t)
	in.mfaSerial = aws.ToString(mfa.VirtualMFADevice.SerialNumber)
	must(im.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(in.backdoor), SerialNumber: aws.String(in.mfaSerial),
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}))(t)
	st := sts.NewFromConfig(cfg)
	tok := must(st.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129600)}))(t)
	in.session = sim.Credentials{AccessKeyID: aws.ToString(tok.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(tok.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(tok.Credentials.SessionToken)}
	fed := must(st.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("ops-admin"), DurationSeconds: aws.Int32(129600),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}))(t)
	in.federation = sim.Credentials{AccessKeyID: aws.ToString(fed.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(fed.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(fed.Credentials.SessionToken)}
	roleARN := fmt.Sprintf("arn:aws:iam::%s:role/%s", s.AccountID(), in.role)
	ar := must(st.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("botocore-session-1")}))(t)
	in.roleCreds = sim.Credentials{AccessKeyID: aws.ToString(ar.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(ar.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(ar.Credentials.SessionToken)}

	e := ec2.NewFromConfig(d.cfg(in.leaked, in.region))
	must(e.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("kali"), PublicKeyMaterial: []byte(attackerPub)}))(t)
	run := must(e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0a4e637babb7b0a86"), InstanceType: ec2types.InstanceTypeP316xlarge,
		KeyName: aws.String("kali"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2), DisableApiTermination: aws.Bool(true), DisableApiStop: aws.Bool(true)}))(t)
	for _, i := range run.Instances {
		in.instances = append(in.instances, aws.ToString(i.InstanceId))
	}
	es := ec2.NewFromConfig(d.cfg(in.roleCreds, in.spotRegion))
	sp := must(es.RequestSpotInstances(ctx, &ec2.RequestSpotInstancesInput{Type: ec2types.SpotInstanceTypePersistent, InstanceCount: aws.Int32(2),
		SpotPrice: aws.String("30.00"), LaunchSpecification: &ec2types.RequestSpotLaunchSpecification{ImageId: aws.String("ami-0a4e637babb7b0a86"),
			InstanceType: ec2types.InstanceTypeP316xlarge}}))(t)
	for _, r := range sp.SpotInstanceRequests {
		in.spot = append(in.spot, aws.ToString(r.SpotInstanceRequestId))
	}
	lm := lambda.NewFromConfig(d.cfg(in.leaked, in.region))
	must(lm.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(in.function), Runtime: lambdatypes.RuntimePython312,
		Role: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/lambda-exec", s.AccountID())), Handler: aws.String("index.handler"),
		Code: &lambdatypes.FunctionCode{ZipFile: []byte("PK\x03\x04import os")}}))(t)
	d.clock.Advance(time.Minute)
	d.ingest(t)
	return in
}

// ingest journals every CloudTrail record the sim wrote so far and not
// yet journaled, as the console's stream would.
func (d *drill) ingest(t testing.TB) {
	t.Helper()
	var recs []ctlog.Record
	for _, r := range d.sim.Records() {
		rec, err := ctlog.ParseRecord(r.JSON)
		if err != nil {
			t.Fatalf("sim record %s: %v", r.EventID, err)
		}
		recs = append(recs, rec)
	}
	if _, _, err := d.rec.RecordEvents("sim", recs, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.rec.Sync(); err != nil {
		t.Fatal(err)
	}
}

// store replays the journal.
func (d *drill) store(t testing.TB) *state.Store {
	t.Helper()
	s, rep, err := state.Replay(d.path)
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v %v", err, rep.Problem)
	}
	return s
}

// works reports whether c can still make a call that needs permission
// (ec2:DescribeInstances in us-east-1).
func (d *drill) works(c sim.Credentials) bool {
	_, err := ec2.NewFromConfig(d.cfg(c, "us-east-1")).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{})
	return err == nil
}

// mutating returns the responder's calls that were not reads.
func mutating(calls []sim.Call, key string) []sim.Call {
	var out []sim.Call
	for _, c := range calls {
		if c.AccessKeyID == key && !session.IsReadOperation(c.Operation) {
			out = append(out, c)
		}
	}
	return out
}
