package advisor

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

type drill struct {
	sim      *sim.Sim
	clock    *sim.ManualClock
	endpoint string
}

func newDrill(t *testing.T, opts sim.Options) *drill {
	t.Helper()
	clock := sim.NewManualClock(time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC))
	opts.Clock = clock
	if opts.Seed == 0 {
		opts.Seed = 19
	}
	s := sim.New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &drill{sim: s, clock: clock, endpoint: srv.URL}
}

func (d *drill) session(t *testing.T, c sim.Credentials) *session.Session {
	t.Helper()
	s, err := session.Load(context.Background(), session.Options{
		Endpoint:    d.endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		MaxBackoff:  20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func noSleep(context.Context, time.Duration) error { return nil }

// TestReachAgainstDrill: a user who called EC2 from eu-west-1 and holds
// AdministratorAccess: every service the drill serves is allowed, EC2
// used (when, where, the action), S3 never — the sim's own truth.
func TestReachAgainstDrill(t *testing.T) {
	d := newDrill(t, sim.Options{})
	if err := d.sim.AddUser("app"); err != nil {
		t.Fatal(err)
	}
	if err := d.sim.AttachUserPolicy("app", "arn:aws:iam::aws:policy/AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	key, _ := d.sim.AddKey("app")
	ec := ec2.NewFromConfig(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(d.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, "")})
	if _, err := ec.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:iam::" + d.sim.AccountID() + ":user/app"
	r, err := Reach(context.Background(), d.session(t, d.sim.Responder()).IAM(), arn, Options{Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	want, region, _ := d.sim.LastAccess(arn, "ec2")
	var ec2r, s3r *state.ServiceReach
	for i, s := range r.Services {
		switch s.Namespace {
		case "ec2":
			ec2r = &r.Services[i]
		case "s3":
			s3r = &r.Services[i]
		}
	}
	if r.Status != state.JobCompleted || r.JobID == "" || ec2r == nil || s3r == nil || len(r.Services) < 6 {
		t.Fatalf("reach %+v", r)
	}
	if !ec2r.LastUsed.Equal(want.Truncate(time.Second)) || ec2r.Region != region || region != "eu-west-1" || ec2r.Entity != arn ||
		len(ec2r.Actions) != 1 || ec2r.Actions[0].Name != "DescribeInstances" {
		t.Fatalf("ec2 %+v, the sim says %s in %s", ec2r, want, region)
	}
	if s3r.Used() || r.UsedCount() != 1 {
		t.Fatalf("s3 %+v, used %d", s3r, r.UsedCount())
	}
}

// TestReachErrors: a job that stays IN_PROGRESS is given up on with a
// clear word; an unknown principal, a denied caller and throttling are
// each in the fact's Error, classified.
func TestReachErrors(t *testing.T) {
	ctx := context.Background()
	d := newDrill(t, sim.Options{ImplicitDeny: true})
	admin := d.session(t, d.sim.Responder())
	me := "arn:aws:iam::" + d.sim.AccountID() + ":user/incident-responder"

	d.sim.SetAdvisorPolls(1000)
	slept := 0
	r, err := Reach(ctx, admin.IAM(), me, Options{MaxWait: 10 * time.Second, Sleep: func(context.Context, time.Duration) error { slept++; return nil }})
	if !errors.Is(err, ErrStillRunning) || r.Status != state.JobInProgress || r.Error == nil || !strings.Contains(r.Error.Error, "job still IN_PROGRESS after") {
		t.Fatalf("running job: %v %+v", err, r)
	}
	if slept < 3 || slept > 8 {
		t.Fatalf("slept %d times for 10 s of backoff from 250 ms", slept)
	}
	d.sim.SetAdvisorPolls(1)

	r, err = Reach(ctx, admin.IAM(), "arn:aws:iam::"+d.sim.AccountID()+":user/gone", Options{Sleep: noSleep})
	if err == nil || r.Error == nil || r.Error.Class != string(session.ClassNotFound) || r.Status != state.JobFailed {
		t.Fatalf("unknown user: %v %+v", err, r)
	}
	if err := d.sim.AddUser("viewer"); err != nil {
		t.Fatal(err)
	}
	viewer, _ := d.sim.AddKey("viewer")
	r, err = Reach(ctx, d.session(t, viewer).IAM(), me, Options{Sleep: noSleep})
	if err == nil || r.Error == nil || r.Error.Class != string(session.ClassDenied) || r.Error.Call != "iam:GenerateServiceLastAccessedDetails" {
		t.Fatalf("denied: %v %+v", err, r.Error)
	}

	th := newDrill(t, sim.Options{ThrottleRate: 1})
	r, err = Reach(ctx, th.session(t, th.sim.Responder()).IAM(), me, Options{Sleep: noSleep})
	if err == nil || r.Error == nil || r.Error.Class != string(session.ClassThrottled) {
		t.Fatalf("throttled: %v %+v", err, r.Error)
	}
}

// TestHistoryAgainstDrill: a security group the attacker opened has its
// items in the home Region; another Region says Config is not recording;
// a recorder stopped says so; an unknown resource is not discovered;
// denied, throttled and a disabled Region are errors, classified.
func TestHistoryAgainstDrill(t *testing.T) {
	ctx := context.Background()
	d := newDrill(t, sim.Options{DisabledRegions: []string{"ap-east-1"}})
	admin := d.session(t, d.sim.Responder())
	ec := admin.EC2("us-east-1")
	ecm := ec2.NewFromConfig(admin.Config("us-east-1"))
	sg, err := ecm.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("open"), Description: aws.String("x")})
	if err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(time.Minute)
	if _, err := ecm.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpProtocol: aws.String("tcp"),
		FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	_ = ec
	id := *sg.GroupId
	typ := TypeOf(id)
	h, err := History(ctx, admin.ConfigService("us-east-1"), "us-east-1", typ, id)
	if err != nil {
		t.Fatal(err)
	}
	want := d.sim.ConfigItems(typ, id)
	if h.Recording != state.ConfigRecording || len(h.Items) != 2 || len(want) != 2 || h.Items[0].Status != "OK" || h.Items[1].Status != "ResourceDiscovered" ||
		!strings.Contains(h.Items[0].Configuration, `"fromPort":22`) || strings.Contains(h.Items[1].Configuration, `"fromPort":22`) {
		t.Fatalf("history %+v, the sim holds %v", h, want)
	}
	h, err = History(ctx, admin.ConfigService("eu-west-1"), "eu-west-1", typ, id)
	if err != nil || h.Recording != state.ConfigNoRecorder || len(h.Items) != 0 || !strings.Contains(h.Summary(), "AWS Config is not recording here") {
		t.Fatalf("eu-west-1: %v %+v", err, h)
	}
	h, err = History(ctx, admin.ConfigService("us-east-1"), "us-east-1", "AWS::EC2::Instance", "i-0123456789abcdef0")
	if err != nil || !h.NotDiscovered {
		t.Fatalf("unknown instance: %v %+v", err, h)
	}
	h, err = History(ctx, admin.ConfigService("ap-east-1"), "ap-east-1", typ, id)
	if err == nil || h.Error == nil || h.Error.Call != "config:DescribeConfigurationRecorderStatus" {
		t.Fatalf("disabled Region: %v %+v", err, h)
	}
	d.sim.SetConfigRecording("us-east-1", false)
	h, err = History(ctx, admin.ConfigService("us-east-1"), "us-east-1", typ, id)
	if err != nil || h.Recording != state.ConfigNotRecording {
		t.Fatalf("stopped: %v %+v", err, h)
	}

	dd := newDrill(t, sim.Options{ImplicitDeny: true})
	if err := dd.sim.AddUser("viewer"); err != nil {
		t.Fatal(err)
	}
	viewer, _ := dd.sim.AddKey("viewer")
	h, err = History(ctx, dd.session(t, viewer).ConfigService("us-east-1"), "us-east-1", typ, id)
	if err == nil || h.Error == nil || h.Error.Class != string(session.ClassDenied) {
		t.Fatalf("denied: %v %+v", err, h.Error)
	}
	th := newDrill(t, sim.Options{ThrottleRate: 1})
	h, err = History(ctx, th.session(t, th.sim.Responder()).ConfigService("us-east-1"), "us-east-1", typ, id)
	if err == nil || h.Error == nil || h.Error.Class != string(session.ClassThrottled) {
		t.Fatalf("throttled: %v %+v", err, h.Error)
	}
}

func TestTypeOf(t *testing.T) {
	for id, want := range map[string]string{
		"i-0abc": "AWS::EC2::Instance", "sg-01": "AWS::EC2::SecurityGroup", "arn:aws:iam::123456789012:user/a/b": "AWS::IAM::User",
		"arn:aws:iam::123456789012:role/r": "AWS::IAM::Role", "AIDAEXAMPLE": "AWS::IAM::User", "bucket": "",
	} {
		if got := TypeOf(id); got != want {
			t.Errorf("TypeOf(%q) = %q, want %q", id, got, want)
		}
	}
}
