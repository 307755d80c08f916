package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/warroom-ir/warroom/aws/sim/awscli"
)

func (e *testEnv) guardduty(c Credentials, region string) *guardduty.Client {
	return guardduty.NewFromConfig(e.cfg(c, region))
}

// gdSample is a finding about the attacker's key from its address.
func gdSample(i int) GuardDutyFinding {
	return GuardDutyFinding{Type: "Recon:IAMUser/MaliciousIPCaller", Severity: 5, ResourceType: "AccessKey",
		Title:       "Reconnaissance API ListUsers was invoked from a known malicious IP address.",
		AccessKeyID: "AKIAEXAMPLE000000001", PrincipalID: "AIDAEXAMPLE", UserName: "ci-deployer", UserType: "IAMUser",
		API: "ListUsers", ServiceName: "iam.amazonaws.com", RemoteIP: fmt.Sprintf("198.51.100.%d", i)}
}

// TestGuardDutyServesFindings: a detector in two Regions only; the others
// list none; findings listed page by page (over 50, as ListFindings pages)
// and read back in GuardDuty's shape; every call recorded as CloudTrail
// does (guardduty.amazonaws.com, read-only management events).
func TestGuardDutyServesFindings(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	resp := env.sim.Responder()
	det, err := env.sim.EnableGuardDuty("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.sim.EnableGuardDuty("eu-west-1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := env.sim.ReportFinding("ap-south-1", gdSample(1)); ok {
		t.Fatal("a finding was made where GuardDuty is not enabled")
	}
	for i := range 60 {
		if _, ok := env.sim.ReportFinding("us-east-1", gdSample(i)); !ok {
			t.Fatal("no detector in us-east-1")
		}
	}
	again, _ := env.sim.ReportFinding("us-east-1", gdSample(0)) // seen again: aggregated
	miner := GuardDutyFinding{Type: "CryptoCurrency:EC2/BitcoinTool.B!DNS", Severity: 8, ResourceType: "Instance",
		InstanceID: "i-0123456789abcdef0", Domain: "pool.minexmr.com", Title: "Bitcoin-related domain name queried by EC2 instance i-0123456789abcdef0."}
	if _, ok := env.sim.ReportFinding("us-east-1", miner); !ok {
		t.Fatal("miner finding refused")
	}

	off, err := env.guardduty(resp, "ap-south-1").ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil || len(off.DetectorIds) != 0 {
		t.Fatalf("Region without GuardDuty: %v, %v", off, err)
	}
	gd := env.guardduty(resp, "us-east-1")
	dets, err := gd.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
	if err != nil || len(dets.DetectorIds) != 1 || dets.DetectorIds[0] != det {
		t.Fatalf("ListDetectors: %v, %v", dets, err)
	}
	var ids []string
	pages := 0
	p := guardduty.NewListFindingsPaginator(gd, &guardduty.ListFindingsInput{DetectorId: aws.String(det), MaxResults: aws.Int32(50)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		ids = append(ids, page.FindingIds...)
	}
	if len(ids) != 61 || pages != 2 {
		t.Fatalf("%d findings in %d pages, want 61 in 2", len(ids), pages)
	}
	got, err := gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(det), FindingIds: []string{again, ids[60]}})
	if err != nil || len(got.Findings) != 2 {
		t.Fatalf("GetFindings: %v, %v", got, err)
	}
	f := got.Findings[0]
	k := f.Resource.AccessKeyDetails
	call := f.Service.Action.AwsApiCallAction
	if aws.ToString(f.Type) != "Recon:IAMUser/MaliciousIPCaller" || aws.ToFloat64(f.Severity) != 5 ||
		aws.ToString(k.AccessKeyId) != "AKIAEXAMPLE000000001" || aws.ToString(k.UserName) != "ci-deployer" ||
		aws.ToString(call.RemoteIpDetails.IpAddressV4) != "198.51.100.0" || aws.ToInt32(f.Service.Count) != 2 ||
		aws.ToString(f.Service.DetectorId) != det || !strings.HasPrefix(aws.ToString(f.Arn), "arn:aws:guardduty:us-east-1:") ||
		aws.ToString(f.Service.EventFirstSeen) == "" || aws.ToString(f.Region) != "us-east-1" {
		t.Fatalf("finding read back: %+v %+v %+v", f, k, f.Service)
	}
	m := got.Findings[1]
	if aws.ToString(m.Resource.InstanceDetails.InstanceId) != "i-0123456789abcdef0" ||
		aws.ToString(m.Service.Action.DnsRequestAction.Domain) != "pool.minexmr.com" || aws.ToString(m.Service.Action.ActionType) != "DNS_REQUEST" {
		t.Fatalf("miner finding: %+v", m)
	}
	// The window: nothing updated after now.
	later := env.sim.Now().Add(1e12).UnixMilli()
	none, err := gd.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String(det), FindingCriteria: &gdtypes.FindingCriteria{
		Criterion: map[string]gdtypes.Condition{"updatedAt": {GreaterThanOrEqual: aws.Int64(later)}}}})
	if err != nil || len(none.FindingIds) != 0 {
		t.Fatalf("updatedAt after now: %v, %v", none, err)
	}

	evs, err := lookup(t, env, "us-east-1", &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventSource, AttributeValue: aws.String("guardduty.amazonaws.com")}}})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, ev := range evs {
		var rec map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &rec); err != nil {
			t.Fatal(err)
		}
		name := rec["eventName"].(string)
		names[name]++
		if rec["readOnly"] != true || rec["managementEvent"] != true || rec["eventSource"] != "guardduty.amazonaws.com" {
			t.Errorf("%s recorded as %v", name, rec)
		}
		if name == "GetFindings" {
			rp := rec["requestParameters"].(map[string]any)
			if rp["detectorId"] != det || len(rp["findingIds"].([]any)) != 2 {
				t.Errorf("GetFindings requestParameters %v", rp)
			}
		}
	}
	if names["ListDetectors"] != 1 || names["ListFindings"] != 3 || names["GetFindings"] != 1 {
		t.Fatalf("recorded %v", names)
	}
}

// TestGuardDutyErrors: each error path in GuardDuty's own words.
func TestGuardDutyErrors(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	resp := env.sim.Responder()
	det, _ := env.sim.EnableGuardDuty("us-east-1")
	gd := env.guardduty(resp, "us-east-1")
	tooMany := make([]string, 51)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("%032x", i)
	}
	for _, tc := range []struct {
		name, fault, want string
		call              func() error
	}{
		{"unknown detector", "", "BadRequestException", func() error {
			_, err := gd.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String("0000")})
			return err
		}},
		{"51 ids", "", "BadRequestException", func() error {
			_, err := gd.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(det), FindingIds: tooMany})
			return err
		}},
		{"denied", GuardDutyDenied, "AccessDeniedException", func() error {
			_, err := gd.ListDetectors(ctx, &guardduty.ListDetectorsInput{})
			return err
		}},
		{"throttled", GuardDutyThrottled, "TooManyRequestsException", func() error {
			_, err := gd.ListFindings(ctx, &guardduty.ListFindingsInput{DetectorId: aws.String(det)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.sim.SetGuardDutyFault("us-east-1", tc.fault)
			defer env.sim.SetGuardDutyFault("us-east-1", "")
			if got := errCode(t, tc.call()); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	// A fault in one Region leaves the others answering.
	env.sim.SetGuardDutyFault("us-east-1", GuardDutyDenied)
	if _, err := env.guardduty(resp, "eu-west-1").ListDetectors(ctx, &guardduty.ListDetectorsInput{}); err != nil {
		t.Fatalf("eu-west-1 with us-east-1 denied: %v", err)
	}
}

// TestGuardDutyCLI checks the wire format with the AWS CLI v1.
func TestGuardDutyCLI(t *testing.T) {
	var cli awscli.CLI
	for _, c := range awscli.Find() {
		if c.Name == "v1" {
			cli = c
		}
	}
	if cli.Bin == "" {
		t.Skip("AWS CLI v1 not installed")
	}
	if testing.Short() {
		t.Skip("the AWS CLI takes seconds per call")
	}
	env := newEnv(t, Options{})
	resp := env.sim.Responder()
	det, _ := env.sim.EnableGuardDuty("us-east-1")
	id, _ := env.sim.ReportFinding("us-east-1", gdSample(7))
	run := func(region string, args ...string) map[string]any {
		t.Helper()
		code, stdout, stderr := cli.Run(t, env.endpoint, resp.AccessKeyID, resp.SecretAccessKey,
			append(args, "--endpoint-url", env.endpoint, "--region", region, "--output", "json")...)
		if code != 0 {
			t.Fatalf("aws %v: exit %d: %s", args, code, stderr)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(stdout), &m); err != nil {
			t.Fatalf("aws %v: %v: %s", args, err, stdout)
		}
		return m
	}
	if l := run("us-east-1", "guardduty", "list-detectors")["DetectorIds"].([]any); len(l) != 1 || l[0] != det {
		t.Fatalf("list-detectors %v", l)
	}
	if l := run("eu-north-1", "guardduty", "list-detectors")["DetectorIds"].([]any); len(l) != 0 {
		t.Fatalf("list-detectors where GuardDuty is off: %v", l)
	}
	if l := run("us-east-1", "guardduty", "list-findings", "--detector-id", det,
		"--finding-criteria", `{"Criterion":{"service.archived":{"Eq":["false"]}}}`)["FindingIds"].([]any); len(l) != 1 || l[0] != id {
		t.Fatalf("list-findings %v", l)
	}
	fs := run("us-east-1", "guardduty", "get-findings", "--detector-id", det, "--finding-ids", id)["Findings"].([]any)
	f := fs[0].(map[string]any)
	ip, _ := str(f, "Service", "Action", "AwsApiCallAction", "RemoteIpDetails", "IpAddressV4")
	key, _ := str(f, "Resource", "AccessKeyDetails", "AccessKeyId")
	if f["Type"] != "Recon:IAMUser/MaliciousIPCaller" || f["Severity"] != 5.0 || ip != "198.51.100.7" || key != "AKIAEXAMPLE000000001" {
		t.Fatalf("get-findings %v", f)
	}
	env.sim.SetGuardDutyFault("us-east-1", GuardDutyDenied)
	code, _, stderr := cli.Run(t, env.endpoint, resp.AccessKeyID, resp.SecretAccessKey, "guardduty", "list-detectors",
		"--endpoint-url", env.endpoint, "--region", "us-east-1")
	if code == 0 || !strings.Contains(stderr, "AccessDeniedException") {
		t.Fatalf("denied: exit %d, %s", code, stderr)
	}
}
