package sim

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cfgtypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func (e *testEnv) config(c Credentials, region string) *configservice.Client {
	return configservice.NewFromConfig(e.cfg(c, region))
}

// TestAccessAdvisor drives Access Advisor through the SDK: a user with a
// policy allowing EC2 and S3 that called EC2 only sees both allowed, EC2
// used (when, where, by whom, which action), S3 not; the job is
// IN_PROGRESS at first; unknown ARNs and job ids get AWS's errors; both
// calls are recorded as CloudTrail records them.
func TestAccessAdvisor(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	admin := env.iam(env.sim.Responder())
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:Describe*","s3:GetObject"],"Resource":"*"}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("app"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	key, err := env.sim.AddKey("app")
	if err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(time.Minute)
	if _, err := ec2.NewFromConfig(env.cfg(key, "eu-west-1")).DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatal(err)
	}
	used := env.sim.Now().UTC().Truncate(time.Second)
	arn := "arn:aws:iam::" + env.sim.AccountID() + ":user/app"

	gen, err := admin.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn), Granularity: iamtypes.AccessAdvisorUsageGranularityTypeActionLevel})
	if err != nil {
		t.Fatal(err)
	}
	rec := lastRecord(t, env.sim)
	if rec["eventName"] != "GenerateServiceLastAccessedDetails" || rec["readOnly"] != true {
		t.Fatalf("record %v", rec)
	}
	if rp, _ := rec["requestParameters"].(map[string]any); rp["arn"] != arn || rp["granularity"] != "ACTION_LEVEL" {
		t.Fatalf("requestParameters %v", rec["requestParameters"])
	}
	if re, _ := rec["responseElements"].(map[string]any); re["jobId"] != *gen.JobId {
		t.Fatalf("responseElements %v", rec["responseElements"])
	}
	get := func() *iam.GetServiceLastAccessedDetailsOutput {
		out, err := admin.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: gen.JobId})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := get(); out.JobStatus != iamtypes.JobStatusTypeInProgress {
		t.Fatalf("first read: %s, want IN_PROGRESS", out.JobStatus)
	}
	out := get()
	if out.JobStatus != iamtypes.JobStatusTypeCompleted || out.JobType != iamtypes.AccessAdvisorUsageGranularityTypeActionLevel {
		t.Fatalf("second read: %s %s", out.JobStatus, out.JobType)
	}
	byNS := map[string]iamtypes.ServiceLastAccessed{}
	for _, s := range out.ServicesLastAccessed {
		byNS[*s.ServiceNamespace] = s
	}
	if len(byNS) != 2 {
		t.Fatalf("services %v, want ec2 and s3", byNS)
	}
	e := byNS["ec2"]
	if e.LastAuthenticated == nil || !e.LastAuthenticated.Equal(used) || *e.LastAuthenticatedRegion != "eu-west-1" || *e.LastAuthenticatedEntity != arn || *e.ServiceName != "Amazon EC2" {
		t.Fatalf("ec2 %+v", e)
	}
	if len(e.TrackedActionsLastAccessed) != 1 || *e.TrackedActionsLastAccessed[0].ActionName != "DescribeInstances" {
		t.Fatalf("ec2 actions %+v", e.TrackedActionsLastAccessed)
	}
	if s3 := byNS["s3"]; s3.LastAuthenticated != nil {
		t.Fatalf("s3 was never used: %+v", s3)
	}

	_, err = admin.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::" + env.sim.AccountID() + ":user/nobody")})
	if c := errCode(t, err); c != "NoSuchEntity" {
		t.Fatalf("unknown user: %v", err)
	}
	_, err = admin.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("not-an-arn")})
	if c := errCode(t, err); c != "InvalidInput" {
		t.Fatalf("bad arn: %v", err)
	}
	_, err = admin.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String("00000000-0000-4000-8000-000000000000")})
	if c := errCode(t, err); c != "InvalidInput" {
		t.Fatalf("unknown job: %v", err)
	}
	// A principal denied Access Advisor gets AccessDenied.
	_, err = iam.NewFromConfig(env.cfg(key, "us-east-1")).GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn)})
	if env.sim.opts.ImplicitDeny && errCode(t, err) != "AccessDenied" {
		t.Fatalf("denied: %v", err)
	}
}

// TestAccessAdvisorDenied: an explicit deny on the action answers
// AccessDenied, recorded.
func TestAccessAdvisorDenied(t *testing.T) {
	env := newEnv(t, Options{ImplicitDeny: true})
	ctx := context.Background()
	if err := env.sim.AddUser("viewer"); err != nil {
		t.Fatal(err)
	}
	key, _ := env.sim.AddKey("viewer")
	_, err := iam.NewFromConfig(env.cfg(key, "us-east-1")).GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{
		Arn: aws.String("arn:aws:iam::" + env.sim.AccountID() + ":user/viewer")})
	if c := errCode(t, err); c != "AccessDenied" {
		t.Fatalf("got %v, want AccessDenied", err)
	}
	if rec := lastRecord(t, env.sim); rec["errorCode"] != "AccessDenied" {
		t.Fatalf("record %v", rec)
	}
}

// TestConfigHistory drives AWS Config through the SDK: the recorder
// records in the home Region only; an instance and a user changed by
// calls have items (ResourceDiscovered, OK, ResourceDeleted) paged newest
// first; another Region has no recorder and answers
// ResourceNotDiscoveredException.
func TestConfigHistory(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	admin := env.sim.Responder()
	st, err := env.config(admin, "us-east-1").DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.ConfigurationRecordersStatus) != 1 || !st.ConfigurationRecordersStatus[0].Recording {
		t.Fatalf("home Region recorder %+v", st.ConfigurationRecordersStatus)
	}
	other, err := env.config(admin, "eu-west-1").DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{})
	if err != nil || len(other.ConfigurationRecordersStatus) != 0 {
		t.Fatalf("eu-west-1: %v %+v", err, other)
	}
	ec := ec2.NewFromConfig(env.cfg(admin, "us-east-1"))
	run, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12345678"), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	id := *run.Instances[0].InstanceId
	env.clock.Advance(time.Minute)
	if _, err := ec.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{id}, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("miner")}}}); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(time.Minute)
	if _, err := ec.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(time.Hour)
	cfg := env.config(admin, "us-east-1")
	var items []cfgtypes.ConfigurationItem
	var token *string
	pages := 0
	for {
		out, err := cfg.GetResourceConfigHistory(ctx, &configservice.GetResourceConfigHistoryInput{ResourceType: cfgtypes.ResourceTypeInstance, ResourceId: aws.String(id), Limit: 1, NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		items = append(items, out.ConfigurationItems...)
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	var statuses []string
	for _, it := range items {
		statuses = append(statuses, string(it.ConfigurationItemStatus))
	}
	// Newest first: deleted, then the tag's change (and the state's), first discovery last.
	if len(items) < 3 || statuses[0] != "ResourceDeleted" || statuses[len(statuses)-1] != "ResourceDiscovered" || pages != len(items) {
		t.Fatalf("items %v over %d pages", statuses, pages)
	}
	var conf map[string]any
	for _, it := range items {
		if it.ConfigurationItemStatus == cfgtypes.ConfigurationItemStatusOk && strings.Contains(aws.ToString(it.Configuration), "miner") {
			if err := json.Unmarshal([]byte(*it.Configuration), &conf); err != nil {
				t.Fatal(err)
			}
		}
	}
	if conf["instanceId"] != id || it0(items).AwsRegion == nil || *it0(items).AwsRegion != "us-east-1" {
		t.Fatalf("no OK item with the tag: %v", statuses)
	}
	rec := lastRecord(t, env.sim)
	if rec["eventSource"] != "config.amazonaws.com" || rec["eventName"] != "GetResourceConfigHistory" || rec["readOnly"] != true {
		t.Fatalf("record %v", rec)
	}
	if rp, _ := rec["requestParameters"].(map[string]any); rp["resourceId"] != id || rp["resourceType"] != "AWS::EC2::Instance" {
		t.Fatalf("requestParameters %v", rec["requestParameters"])
	}
	// IAM users are global resources, recorded in the home Region by id.
	iamc := env.iam(admin)
	u, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("backdoor")})
	if err != nil {
		t.Fatal(err)
	}
	uh, err := cfg.GetResourceConfigHistory(ctx, &configservice.GetResourceConfigHistoryInput{ResourceType: cfgtypes.ResourceTypeUser, ResourceId: u.User.UserId})
	if err != nil || len(uh.ConfigurationItems) != 1 || *uh.ConfigurationItems[0].ResourceName != "backdoor" || *uh.ConfigurationItems[0].AwsRegion != "global" {
		t.Fatalf("user history: %v %+v", err, uh)
	}
	_, err = env.config(admin, "eu-west-1").GetResourceConfigHistory(ctx, &configservice.GetResourceConfigHistoryInput{ResourceType: cfgtypes.ResourceTypeInstance, ResourceId: aws.String(id)})
	if c := errCode(t, err); c != "ResourceNotDiscoveredException" {
		t.Fatalf("eu-west-1: %v", err)
	}
	_, err = cfg.GetResourceConfigHistory(ctx, &configservice.GetResourceConfigHistoryInput{ResourceType: cfgtypes.ResourceTypeInstance, ResourceId: aws.String(id), NextToken: aws.String("bogus")})
	if c := errCode(t, err); c != "InvalidNextTokenException" {
		t.Fatalf("bad token: %v", err)
	}
	// Recording stopped: DescribeConfigurationRecorderStatus says so.
	env.sim.SetConfigRecording("us-east-1", false)
	st, _ = cfg.DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{})
	if len(st.ConfigurationRecordersStatus) != 1 || st.ConfigurationRecordersStatus[0].Recording {
		t.Fatalf("stopped recorder %+v", st.ConfigurationRecordersStatus)
	}
}

func it0(items []cfgtypes.ConfigurationItem) cfgtypes.ConfigurationItem { return items[0] }
