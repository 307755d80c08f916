package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func (e *testEnv) ec2(c Credentials, region string) *ec2.Client {
	return ec2.NewFromConfig(e.cfg(c, region))
}

// newUserKey adds a user with a key, attaching the given managed policies.
func newUserKey(t *testing.T, env *testEnv, name string, policies ...string) Credentials {
	t.Helper()
	if err := env.sim.AddUser(name); err != nil {
		t.Fatal(err)
	}
	for _, p := range policies {
		if err := env.sim.AttachUserPolicy(name, p); err != nil {
			t.Fatal(err)
		}
	}
	k, err := env.sim.AddKey(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	quarantineV3 = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
	testPubKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl attacker@box"
)

// recordOf returns the newest record named name, decoded.
func recordOf(t *testing.T, s *Sim, name string) map[string]any {
	t.Helper()
	recs := s.Records()
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].EventName == name {
			var m map[string]any
			if err := json.Unmarshal(recs[i].JSON, &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no %s record", name)
	return nil
}

// dig walks a decoded JSON value by keys and array indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func TestEC2DescribeRegions(t *testing.T) {
	env := newEnv(t, Options{DisabledRegions: []string{"me-south-1"}})
	ctx := context.Background()
	admin := env.sim.Responder()
	c := env.ec2(admin, "us-east-1")
	cases := []struct {
		name    string
		in      ec2.DescribeRegionsInput
		want    map[string]string // region → opt-in status that must be listed
		absent  []string
		minimum int
	}{
		{"enabled only", ec2.DescribeRegionsInput{},
			map[string]string{"us-east-1": "opt-in-not-required", "ap-east-1": "opted-in"}, []string{"me-south-1"}, 20},
		{"all regions", ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)},
			map[string]string{"me-south-1": "not-opted-in", "af-south-1": "opted-in", "eu-north-1": "opt-in-not-required"}, nil, 30},
		{"by name", ec2.DescribeRegionsInput{RegionNames: []string{"eu-west-1"}},
			map[string]string{"eu-west-1": "opt-in-not-required"}, []string{"us-east-1"}, 1},
		{"opt-in filter", ec2.DescribeRegionsInput{AllRegions: aws.Bool(true),
			Filters: []types.Filter{{Name: aws.String("opt-in-status"), Values: []string{"not-opted-in"}}}},
			map[string]string{"me-south-1": "not-opted-in"}, []string{"us-east-1", "ap-east-1"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.DescribeRegions(ctx, &tc.in)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range out.Regions {
				got[aws.ToString(r.RegionName)] = aws.ToString(r.OptInStatus)
				if aws.ToString(r.Endpoint) != "ec2."+aws.ToString(r.RegionName)+".amazonaws.com" {
					t.Errorf("endpoint %q", aws.ToString(r.Endpoint))
				}
			}
			if len(got) < tc.minimum {
				t.Errorf("%d regions, want at least %d", len(got), tc.minimum)
			}
			for r, st := range tc.want {
				if got[r] != st {
					t.Errorf("%s: status %q, want %q", r, got[r], st)
				}
			}
			for _, r := range tc.absent {
				if _, ok := got[r]; ok {
					t.Errorf("%s listed", r)
				}
			}
		})
	}
	t.Run("disabled region answers AuthFailure", func(t *testing.T) {
		_, err := env.ec2(admin, "me-south-1").DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if got := errCode(t, err); got != "AuthFailure" {
			t.Fatalf("code %q, want AuthFailure", got)
		}
	})
	t.Run("unknown region name", func(t *testing.T) {
		_, err := c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"xx-nowhere-9"}})
		if got := errCode(t, err); got != "InvalidParameterValue" {
			t.Fatalf("code %q", got)
		}
	})
}

func TestEC2InstanceLifecycle(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	admin := env.sim.Responder()
	const region = "ap-southeast-3"
	c := env.ec2(admin, region)
	if _, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("k"), PublicKeyMaterial: []byte(testPubKey)}); err != nil {
		t.Fatal(err)
	}
	run, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: types.InstanceTypeP316xlarge,
		KeyName: aws.String("k"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2), DisableApiTermination: aws.Bool(true),
		DisableApiStop: aws.Bool(true),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("miner")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Instances) != 2 || run.Instances[0].State.Name != types.InstanceStateNamePending {
		t.Fatalf("run: %+v", run.Instances)
	}
	ids := []string{aws.ToString(run.Instances[0].InstanceId), aws.ToString(run.Instances[1].InstanceId)}
	for _, id := range ids {
		if !ec2ValidID(id, "i") || len(id) != 19 {
			t.Fatalf("instance id %q", id)
		}
	}
	// The record attributes the instances to their launcher.
	rec := recordOf(t, env.sim, "RunInstances")
	for i, id := range ids {
		if got := dig(rec, "responseElements", "instancesSet", "items", i, "instanceId"); got != id {
			t.Errorf("record item %d instanceId %v, want %s", i, got, id)
		}
	}
	if rec["awsRegion"] != region || dig(rec, "requestParameters", "instanceType") != "p3.16xlarge" {
		t.Errorf("record %v %v", rec["awsRegion"], rec["requestParameters"])
	}
	id := ids[0]

	steps := []struct {
		name string
		call func() error
		code string
	}{
		{"stop protected", func() error {
			_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
			return err
		}, "OperationNotPermitted"},
		{"terminate protected", func() error {
			_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
			return err
		}, "OperationNotPermitted"},
		{"terminate not found", func() error {
			_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"terminate malformed", func() error {
			_, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{"i-xyz"}})
			return err
		}, "InvalidInstanceID.Malformed"},
		{"describe attribute", func() error {
			out, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id),
				Attribute: types.InstanceAttributeNameDisableApiTermination})
			if err == nil && !aws.ToBool(out.DisableApiTermination.Value) {
				return fmt.Errorf("disableApiTermination false")
			}
			return err
		}, ""},
		{"describe attribute unknown id", func() error {
			_, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String("i-0000000000000000f"),
				Attribute: types.InstanceAttributeNameDisableApiStop})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"lift stop protection", func() error {
			_, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
				DisableApiStop: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
			return err
		}, ""},
		{"stop dry run", func() error {
			_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}, DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation"},
		{"stop", func() error {
			out, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
			if err == nil && out.StoppingInstances[0].CurrentState.Name != types.InstanceStateNameStopping {
				return fmt.Errorf("current state %s", out.StoppingInstances[0].CurrentState.Name)
			}
			return err
		}, ""},
		{"lift termination protection", func() error {
			_, err := c.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
				Attribute: types.InstanceAttributeNameDisableApiTermination, Value: aws.String("false")})
			return err
		}, ""},
		{"attribute reads back", func() error {
			out, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(id),
				Attribute: types.InstanceAttributeNameDisableApiTermination})
			if err == nil && aws.ToBool(out.DisableApiTermination.Value) {
				return fmt.Errorf("still protected")
			}
			return err
		}, ""},
		{"terminate", func() error {
			out, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
			if err == nil && (out.TerminatingInstances[0].PreviousState.Name != types.InstanceStateNameStopped ||
				out.TerminatingInstances[0].CurrentState.Name != types.InstanceStateNameShuttingDown) {
				return fmt.Errorf("change %+v", out.TerminatingInstances[0])
			}
			return err
		}, ""},
		{"stop terminated", func() error {
			_, err := c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
			return err
		}, "IncorrectInstanceState"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if got := errCode(t, st.call()); got != st.code {
				t.Fatalf("code %q, want %q", got, st.code)
			}
		})
	}
	if rec := recordOf(t, env.sim, "StopInstances"); rec["errorCode"] != "Client.IncorrectInstanceState" {
		t.Errorf("last StopInstances record has error %v", rec["errorCode"])
	}
	if rec := recordOf(t, env.sim, "TerminateInstances"); dig(rec, "responseElements", "instancesSet", "items", 0, "currentState", "name") != "shutting-down" {
		t.Errorf("TerminateInstances responseElements %v", rec["responseElements"])
	}

	filters := []struct {
		name    string
		in      ec2.DescribeInstancesInput
		want    []string
		errCode string
	}{
		{"by id", ec2.DescribeInstancesInput{InstanceIds: []string{ids[1]}}, []string{ids[1]}, ""},
		{"by state terminated", ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"terminated"}}}}, []string{ids[0]}, ""},
		{"by state running", ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}}}, []string{ids[1]}, ""},
		{"by tag", ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:Name"), Values: []string{"min*"}}}}, ids, ""},
		{"by tag no match", ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:Name"), Values: []string{"web"}}}}, nil, ""},
		{"by instance-id filter", ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{ids[0]}}}}, []string{ids[0]}, ""},
		{"unknown id", ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0", "i-0123456789abcdef1"}}, nil, "InvalidInstanceID.NotFound"},
		{"bad filter", ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}}, nil, "InvalidParameterValue"},
		{"ids with max results", ec2.DescribeInstancesInput{InstanceIds: ids, MaxResults: aws.Int32(5)}, nil, "InvalidParameterCombination"},
		{"bad token", ec2.DescribeInstancesInput{NextToken: aws.String("bm9wZQ")}, nil, "InvalidPaginationToken"},
	}
	for _, tc := range filters {
		t.Run("describe "+tc.name, func(t *testing.T) {
			out, err := c.DescribeInstances(ctx, &tc.in)
			if got := errCode(t, err); got != tc.errCode {
				t.Fatalf("code %q, want %q", got, tc.errCode)
			}
			if err != nil {
				return
			}
			var got []string
			for _, r := range out.Reservations {
				for _, in := range r.Instances {
					got = append(got, aws.ToString(in.InstanceId))
					if aws.ToString(in.KeyName) != "k" || in.InstanceType != types.InstanceTypeP316xlarge || len(in.Tags) != 1 {
						t.Errorf("instance %s: key %q type %s tags %v", aws.ToString(in.InstanceId), aws.ToString(in.KeyName), in.InstanceType, in.Tags)
					}
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEC2Pagination(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	c := env.ec2(env.sim.Responder(), "eu-north-1")
	var launched []string
	for range 3 {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(4), MaxCount: aws.Int32(4)})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range out.Instances {
			launched = append(launched, aws.ToString(in.InstanceId))
		}
	}
	cases := []struct {
		name  string
		max   int32
		pages int
	}{
		{"five per page", 5, 3},
		{"six per page", 6, 2},
		{"one page", 1000, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ec2.NewDescribeInstancesPaginator(c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(tc.max)})
			var got []string
			pages := 0
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, r := range out.Reservations {
					for _, in := range r.Instances {
						got = append(got, aws.ToString(in.InstanceId))
					}
				}
			}
			if pages != tc.pages || !slices.Equal(got, launched) {
				t.Errorf("%d pages, %d instances; want %d pages, %v", pages, len(got), tc.pages, launched)
			}
		})
	}
	t.Run("max results too small", func(t *testing.T) {
		_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2)})
		if got := errCode(t, err); got != "InvalidParameterValue" {
			t.Fatalf("code %q", got)
		}
	})
}

func TestEC2DryRun(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	allowed := env.sim.Responder()
	denied := newUserKey(t, env, "quarantined", "arn:aws:iam::aws:policy/AdministratorAccess", quarantineV3)
	cases := []struct {
		name   string
		creds  Credentials
		call   func(c *ec2.Client) error
		code   string
		record string // the record's errorCode
	}{
		{"run allowed", allowed, func(c *ec2.Client) error {
			_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation", "Client.DryRunOperation"},
		{"run denied", denied, func(c *ec2.Client) error {
			_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DryRun: aws.Bool(true)})
			return err
		}, "UnauthorizedOperation", "Client.UnauthorizedOperation"},
		{"spot denied", denied, func(c *ec2.Client) error {
			_, err := c.RequestSpotInstances(ctx, &ec2.RequestSpotInstancesInput{DryRun: aws.Bool(true),
				LaunchSpecification: &types.RequestSpotLaunchSpecification{ImageId: aws.String("ami-1"), InstanceType: types.InstanceTypeC5Large}})
			return err
		}, "UnauthorizedOperation", "Client.UnauthorizedOperation"},
		{"describe allowed for quarantined", denied, func(c *ec2.Client) error {
			_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation", "Client.DryRunOperation"},
		{"run without dry run denied", denied, func(c *ec2.Client) error {
			_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			return err
		}, "UnauthorizedOperation", "Client.UnauthorizedOperation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(env.ec2(tc.creds, "us-west-2"))
			if got := errCode(t, err); got != tc.code {
				t.Fatalf("code %q, want %q", got, tc.code)
			}
			rec := lastRecord(t, env.sim)
			if rec["errorCode"] != tc.record {
				t.Errorf("record errorCode %v, want %s", rec["errorCode"], tc.record)
			}
		})
	}
	t.Run("nothing launched", func(t *testing.T) {
		out, err := env.ec2(allowed, "us-west-2").DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil || len(out.Reservations) != 0 {
			t.Fatalf("err %v, %d reservations", err, len(out.Reservations))
		}
	})
}

func TestEC2Spot(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	c := env.ec2(env.sim.Responder(), "sa-east-1")
	request := func(t *testing.T, typ types.SpotInstanceType) string {
		t.Helper()
		out, err := c.RequestSpotInstances(ctx, &ec2.RequestSpotInstancesInput{Type: typ, InstanceCount: aws.Int32(1),
			LaunchSpecification: &types.RequestSpotLaunchSpecification{ImageId: aws.String("ami-1"), InstanceType: types.InstanceTypeC524xlarge}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.SpotInstanceRequests[0].SpotInstanceRequestId)
	}
	describe := func(t *testing.T, id string) types.SpotInstanceRequest {
		t.Helper()
		out, err := c.DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		return out.SpotInstanceRequests[0]
	}
	terminate := func(t *testing.T, id string) {
		t.Helper()
		if _, err := c.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			t.Fatal(err)
		}
	}
	state := func(t *testing.T, id string) types.InstanceStateName {
		t.Helper()
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Reservations[0].Instances[0].State.Name
	}

	t.Run("persistent relaunches after terminate", func(t *testing.T) {
		sir := request(t, types.SpotInstanceTypePersistent)
		first := describe(t, sir)
		if first.State != types.SpotInstanceStateActive || aws.ToString(first.Status.Code) != "fulfilled" {
			t.Fatalf("request %s %s", first.State, aws.ToString(first.Status.Code))
		}
		old := aws.ToString(first.InstanceId)
		terminate(t, old)
		again := describe(t, sir)
		if again.State != types.SpotInstanceStateActive || aws.ToString(again.InstanceId) == old || aws.ToString(again.InstanceId) == "" {
			t.Fatalf("after terminate: %s instance %q (old %s)", again.State, aws.ToString(again.InstanceId), old)
		}
		if state(t, aws.ToString(again.InstanceId)) != types.InstanceStateNameRunning {
			t.Error("replacement not running")
		}
	})
	t.Run("cancel leaves instance running, then terminate sticks", func(t *testing.T) {
		sir := request(t, types.SpotInstanceTypePersistent)
		inst := aws.ToString(describe(t, sir).InstanceId)
		out, err := c.CancelSpotInstanceRequests(ctx, &ec2.CancelSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{sir}})
		if err != nil || out.CancelledSpotInstanceRequests[0].State != types.CancelSpotInstanceRequestStateCancelled {
			t.Fatalf("cancel: %v %+v", err, out)
		}
		if state(t, inst) != types.InstanceStateNameRunning {
			t.Fatal("cancel terminated the instance")
		}
		if got := aws.ToString(describe(t, sir).Status.Code); got != "request-canceled-and-instance-running" {
			t.Errorf("status %s", got)
		}
		terminate(t, inst)
		if got := describe(t, sir); got.State != types.SpotInstanceStateCancelled || aws.ToString(got.InstanceId) != inst {
			t.Errorf("after terminate: %s %q", got.State, aws.ToString(got.InstanceId))
		}
	})
	t.Run("one-time closes on terminate", func(t *testing.T) {
		sir := request(t, types.SpotInstanceTypeOneTime)
		terminate(t, aws.ToString(describe(t, sir).InstanceId))
		if got := describe(t, sir); got.State != types.SpotInstanceStateClosed {
			t.Errorf("state %s", got.State)
		}
	})
	errs := []struct {
		name string
		call func() error
		code string
	}{
		{"describe unknown", func() error {
			_, err := c.DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{"sir-nothere1"}})
			return err
		}, "InvalidSpotInstanceRequestID.NotFound"},
		{"cancel unknown", func() error {
			_, err := c.CancelSpotInstanceRequests(ctx, &ec2.CancelSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{"sir-nothere1"}})
			return err
		}, "InvalidSpotInstanceRequestID.NotFound"},
		{"filter by state", func() error {
			out, err := c.DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{
				Filters: []types.Filter{{Name: aws.String("state"), Values: []string{"active"}}}})
			if err == nil && len(out.SpotInstanceRequests) != 1 {
				return fmt.Errorf("%d active requests, want 1", len(out.SpotInstanceRequests))
			}
			return err
		}, ""},
		{"paginate", func() error {
			p := ec2.NewDescribeSpotInstanceRequestsPaginator(c, &ec2.DescribeSpotInstanceRequestsInput{MaxResults: aws.Int32(5)})
			n := 0
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				n += len(out.SpotInstanceRequests)
			}
			if n != 3 {
				return fmt.Errorf("%d requests", n)
			}
			return nil
		}, ""},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			if got := errCode(t, tc.call()); got != tc.code {
				t.Fatalf("code %q, want %q", got, tc.code)
			}
		})
	}
}

func TestEC2KeyPairsGroupsTags(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	c := env.ec2(env.sim.Responder(), "ca-central-1")
	var instanceID, groupID string
	steps := []struct {
		name string
		call func() error
		code string
	}{
		{"import", func() error {
			out, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("ops"), PublicKeyMaterial: []byte(testPubKey)})
			if err == nil && (!strings.HasPrefix(aws.ToString(out.KeyPairId), "key-") || len(aws.ToString(out.KeyFingerprint)) != 47) {
				return fmt.Errorf("import answer %s %s", aws.ToString(out.KeyPairId), aws.ToString(out.KeyFingerprint))
			}
			return err
		}, ""},
		{"import duplicate", func() error {
			_, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("ops"), PublicKeyMaterial: []byte(testPubKey)})
			return err
		}, "InvalidKeyPair.Duplicate"},
		{"import garbage", func() error {
			_, err := c.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("bad"), PublicKeyMaterial: []byte("not a key")})
			return err
		}, "InvalidKey.Format"},
		{"describe", func() error {
			out, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{})
			if err == nil && (len(out.KeyPairs) != 1 || aws.ToString(out.KeyPairs[0].KeyName) != "ops" || out.KeyPairs[0].KeyType != types.KeyTypeEd25519) {
				return fmt.Errorf("key pairs %+v", out.KeyPairs)
			}
			return err
		}, ""},
		{"describe unknown", func() error {
			_, err := c.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"nope"}})
			return err
		}, "InvalidKeyPair.NotFound"},
		{"run with unknown key", func() error {
			_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), KeyName: aws.String("nope"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			return err
		}, "InvalidKeyPair.NotFound"},
		{"delete", func() error {
			_, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("ops")})
			return err
		}, ""},
		{"delete again succeeds", func() error {
			_, err := c.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("ops")})
			return err
		}, ""},
		{"default security group", func() error {
			out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
			if err == nil {
				if len(out.SecurityGroups) != 1 || aws.ToString(out.SecurityGroups[0].GroupName) != "default" {
					return fmt.Errorf("groups %+v", out.SecurityGroups)
				}
				groupID = aws.ToString(out.SecurityGroups[0].GroupId)
			}
			return err
		}, ""},
		{"security group by name filter", func() error {
			out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{{Name: aws.String("group-name"), Values: []string{"web"}}}})
			if err == nil && len(out.SecurityGroups) != 0 {
				return fmt.Errorf("filter ignored")
			}
			return err
		}, ""},
		{"security group unknown", func() error {
			_, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"web"}})
			return err
		}, "InvalidGroup.NotFound"},
		{"launch to tag", func() error {
			out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			if err == nil {
				instanceID = aws.ToString(out.Instances[0].InstanceId)
			}
			return err
		}, ""},
		{"create tags", func() error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{instanceID, groupID},
				Tags: []types.Tag{{Key: aws.String("incident"), Value: aws.String("IR-1")}}})
			return err
		}, ""},
		{"tags read back", func() error {
			out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag:incident"), Values: []string{"IR-1"}}}})
			if err == nil && (len(out.Reservations) != 1 || aws.ToString(out.Reservations[0].Instances[0].InstanceId) != instanceID) {
				return fmt.Errorf("tag filter found %+v", out.Reservations)
			}
			return err
		}, ""},
		{"create tags unknown instance", func() error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"i-0000000000000000a"},
				Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
			return err
		}, "InvalidInstanceID.NotFound"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if got := errCode(t, st.call()); got != st.code {
				t.Fatalf("code %q, want %q", got, st.code)
			}
		})
	}
	if rec := recordOf(t, env.sim, "ImportKeyPair"); strings.Contains(string(mustJSON(t, rec)), "AAAAC3Nza") {
		t.Error("the public key material reached the record")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEC2Determinism(t *testing.T) {
	run := func() []string {
		env := newEnv(t, Options{Seed: 42})
		out, err := env.ec2(env.sim.Responder(), "us-east-2").RunInstances(context.Background(),
			&ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(3), MaxCount: aws.Int32(3)})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, in := range out.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
		return ids
	}
	a, b := run(), run()
	if !slices.Equal(a, b) || len(a) != 3 || a[0] == a[1] {
		t.Fatalf("runs gave %v and %v", a, b)
	}
}

// BenchmarkEC2DescribeInstances measures one DescribeInstances page of
// 200 instances over real HTTP with the SDK.
func BenchmarkEC2DescribeInstances(b *testing.B) {
	s := New(Options{Seed: 7})
	srv := httptest.NewServer(s)
	b.Cleanup(srv.Close)
	env := &testEnv{sim: s, endpoint: srv.URL}
	ctx := context.Background()
	c := env.ec2(env.sim.Responder(), "us-east-1")
	for range 2 {
		if _, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(100), MaxCount: aws.Int32(100)}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000)})
		if err != nil || len(out.Reservations) != 2 {
			b.Fatalf("%v, %d reservations", err, len(out.Reservations))
		}
	}
}
