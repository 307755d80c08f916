// Package gen writes synthetic CloudTrail logs: N records of a plausible
// account's day-to-day activity (people, pipelines, role sessions and AWS
// services, reads and writes, some denied), as S3 delivery files in the
// real key layout, for benchmarks and load tests of the rest of warroom.
// The output is deterministic for a seed.
package gen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Options say what to generate.
type Options struct {
	// Events is the number of records to write.
	Events int
	// Seed makes the output deterministic.
	Seed uint64
	// AccountID is the account the records belong to; derived from Seed
	// when empty.
	AccountID string
	// End is the time of the newest record; now when zero.
	End time.Time
	// Rate is the average number of records per second; 2 when zero.
	Rate float64
	// Regions the activity happens in; a handful of common ones when empty.
	// Global services are always recorded in us-east-1.
	Regions []string
	// PerFile caps the records in one file (CloudTrail delivers one file
	// per Region about every five minutes); 1000 when zero.
	PerFile int
}

// Stats describe what was written.
type Stats struct {
	Files   int
	Records int
	Bytes   int64 // compressed bytes written
}

// window is the delivery interval: a file holds the records of one Region
// and one five-minute window, delivered at its end.
const window = 5 * time.Minute

// Write generates o.Events records and writes them under dir as
// AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz,
// each file gzip of {"Records":[...]}.
func Write(dir string, o Options) (Stats, error) {
	if o.Events < 0 {
		return Stats{}, fmt.Errorf("gen: negative event count %d", o.Events)
	}
	g := newGenerator(o)
	var st Stats
	pending := map[string]*fileBuf{} // by Region: the window being filled
	flush := func(f *fileBuf) error {
		n, err := g.writeFile(dir, f)
		if err != nil {
			return err
		}
		st.Files++
		st.Bytes += n
		return nil
	}
	for i := range o.Events {
		rec, region, at := g.next(i)
		f := pending[region]
		start := at.Truncate(window)
		if f != nil && (!f.start.Equal(start) || f.n >= g.perFile) {
			if err := flush(f); err != nil {
				return st, err
			}
			f = nil
		}
		if f == nil {
			f = &fileBuf{region: region, start: start}
			f.buf = append(f.buf, `{"Records":[`...)
			pending[region] = f
		}
		if f.n > 0 {
			f.buf = append(f.buf, ',')
		}
		f.buf = append(f.buf, rec...)
		f.n++
		st.Records++
	}
	regions := make([]string, 0, len(pending))
	for r := range pending {
		regions = append(regions, r)
	}
	// Flush in a fixed order so that the file suffixes stay deterministic.
	slices.Sort(regions)
	for _, r := range regions {
		if err := flush(pending[r]); err != nil {
			return st, err
		}
	}
	return st, nil
}

type fileBuf struct {
	region string
	start  time.Time
	buf    []byte
	n      int
}

func (g *generator) writeFile(dir string, f *fileBuf) (int64, error) {
	f.buf = append(f.buf, "]}"...)
	end := f.start.Add(window).UTC()
	// Delivery comes a few minutes after the window closes.
	end = end.Add(time.Duration(g.rng.IntN(4)) * time.Minute)
	sub := filepath.Join(dir, "AWSLogs", g.account, "CloudTrail", f.region, end.Format("2006"), end.Format("01"), end.Format("02"))
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return 0, fmt.Errorf("gen: %w", err)
	}
	name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", g.account, f.region, end.Format("20060102T1504Z"), g.str(alnum, 16))
	path := filepath.Join(sub, name)
	// O_EXCL: a new file or nothing; never over an existing file, and
	// never through a symlink (O_CREAT|O_EXCL does not follow one).
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, fmt.Errorf("gen: %w", err)
	}
	cw := &countWriter{w: out}
	zw, _ := gzip.NewWriterLevel(cw, gzip.BestSpeed)
	_, err = zw.Write(f.buf)
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("gen: write %s: %w", path, err)
	}
	return cw.n, nil
}

type countWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ---- the account and its activity ----

const (
	alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upper32   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	lowerHex  = "0123456789abcdef"
	base64ish = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

var defaultRegions = []string{"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"}

// principal is someone who makes calls.
type principal struct {
	kind      string // IAMUser, AssumedRole, AWSService
	name      string // user or role name; the service for AWSService
	id        string // AIDA…/AROA…
	key       string // AKIA… (users)
	ip        string
	agent     string
	readShare float64 // fraction of reads among its calls
	// role sessions: the current session's key and issue time
	sessKey   string
	sessName  string
	sessStart time.Time
}

type generator struct {
	rng     *rand.Rand
	account string
	regions []string
	perFile int
	start   time.Time
	step    float64 // mean seconds between records
	people  []*principal
}

var agents = []string{
	"aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1017-aws exe/x86_64.ubuntu.22 prompt/off command/ec2.describe-instances",
	"aws-cli/2.13.0 Python/3.11.4 Darwin/23.1.0 exe/x86_64 prompt/off command/iam.list-users",
	"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.173.0",
	"Boto3/1.34.34 md/Botocore#1.34.34 ua/2.0 os/linux#5.10.210-201.852.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.1 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.34",
	"APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.39.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2 os/linux lang/go#1.21.7 md/GOOS#linux md/GOARCH#amd64 api/sts#1.28.1",
	"console.amazonaws.com",
}

func newGenerator(o Options) *generator {
	g := &generator{rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x63a1f0d2)), regions: o.Regions, perFile: o.PerFile}
	if len(g.regions) == 0 {
		g.regions = defaultRegions
	}
	if g.perFile <= 0 {
		g.perFile = 1000
	}
	g.account = o.AccountID
	if g.account == "" {
		g.account = "1" + g.str("0123456789", 11)
	}
	rate := o.Rate
	if rate <= 0 {
		rate = 2
	}
	g.step = 1 / rate
	end := o.End
	if end.IsZero() {
		end = time.Now()
	}
	g.start = end.UTC().Add(-time.Duration(float64(o.Events) * g.step * float64(time.Second)))
	users := []string{"alice.smith", "bob.jones", "carol.garcia", "dave.miller", "erin.davis", "frank.lopez", "grace.wilson",
		"ci-deploy", "terraform-state", "backup-agent", "grafana-cloudwatch", "datadog-integration"}
	for i, u := range users {
		g.people = append(g.people, &principal{kind: "IAMUser", name: u, id: "AIDA" + g.str(upper32, 17), key: "AKIA" + g.str(upper32, 16),
			ip: g.ip(), agent: agents[i%(len(agents)-1)], readShare: 0.8})
	}
	roles := []string{"deploy-pipeline", "ReadOnlyAuditor", "ecs-task-execution", "lambda-exec", "AWSReservedSSO_AdministratorAccess_4f2a9c1e", "eks-node-group"}
	for i, r := range roles {
		g.people = append(g.people, &principal{kind: "AssumedRole", name: r, id: "AROA" + g.str(upper32, 17), ip: g.ip(),
			agent: agents[(i+2)%(len(agents)-1)], readShare: 0.9})
	}
	for _, svc := range []string{"ec2.amazonaws.com", "lambda.amazonaws.com", "autoscaling.amazonaws.com"} {
		g.people = append(g.people, &principal{kind: "AWSService", name: svc, ip: svc, agent: svc, readShare: 0})
	}
	return g
}

func (g *generator) str(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *generator) uuid() string {
	h := g.str(lowerHex, 32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + string("89ab"[g.rng.IntN(4)]) + h[17:20] + "-" + h[20:32]
}

func (g *generator) ip() string {
	return fmt.Sprintf("%d.%d.%d.%d", 3+g.rng.IntN(200), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
}

// op is one kind of call the account makes.
type op struct {
	source, name string
	readOnly     bool
	global       bool // recorded in us-east-1
	params       func(g *generator, region string) any
	resp         func(g *generator, p *principal, region string, at time.Time) any
	resource     string // resources[].type, when the record names one
}

var (
	reads = []op{
		{source: "ec2.amazonaws.com", name: "DescribeInstances", readOnly: true, params: func(g *generator, _ string) any {
			return map[string]any{"instancesSet": map[string]any{}, "filterSet": map[string]any{}}
		}},
		{source: "ec2.amazonaws.com", name: "DescribeSecurityGroups", readOnly: true},
		{source: "ec2.amazonaws.com", name: "DescribeVolumes", readOnly: true},
		{source: "iam.amazonaws.com", name: "ListUsers", readOnly: true, global: true},
		{source: "iam.amazonaws.com", name: "GetUser", readOnly: true, global: true, params: func(g *generator, _ string) any {
			return map[string]any{"userName": "alice.smith"}
		}},
		{source: "iam.amazonaws.com", name: "ListAccessKeys", readOnly: true, global: true},
		{source: "sts.amazonaws.com", name: "GetCallerIdentity", readOnly: true},
		{source: "s3.amazonaws.com", name: "ListBuckets", readOnly: true, global: true},
		{source: "lambda.amazonaws.com", name: "ListFunctions20150331", readOnly: true},
		{source: "cloudtrail.amazonaws.com", name: "LookupEvents", readOnly: true, params: func(g *generator, _ string) any {
			return map[string]any{"maxResults": 50}
		}},
		{source: "kms.amazonaws.com", name: "Decrypt", readOnly: true, params: func(g *generator, _ string) any {
			return map[string]any{"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
		}},
	}
	writes = []op{
		{source: "ec2.amazonaws.com", name: "RunInstances", resource: "AWS::EC2::Instance", params: func(g *generator, _ string) any {
			return map[string]any{"instancesSet": map[string]any{"items": []any{map[string]any{"imageId": "ami-0c7217cdde317cfec", "minCount": 1, "maxCount": 1}}},
				"instanceType": "t3.micro", "disableApiTermination": false}
		}, resp: func(g *generator, _ *principal, region string, at time.Time) any {
			return map[string]any{"requestId": g.uuid(), "reservationId": "r-" + g.str(lowerHex, 17), "ownerId": g.account,
				"instancesSet": map[string]any{"items": []any{map[string]any{"instanceId": "i-" + g.str(lowerHex, 17), "imageId": "ami-0c7217cdde317cfec",
					"instanceState": map[string]any{"code": 0, "name": "pending"}, "instanceType": "t3.micro", "launchTime": at.UnixMilli(),
					"placement": map[string]any{"availabilityZone": region + "a", "tenancy": "default"}}}}}
		}},
		{source: "ec2.amazonaws.com", name: "CreateTags", params: func(g *generator, _ string) any {
			return map[string]any{"resourcesSet": map[string]any{"items": []any{map[string]any{"resourceId": "i-" + g.str(lowerHex, 17)}}},
				"tagSet": map[string]any{"items": []any{map[string]any{"key": "owner", "value": "platform"}}}}
		}, resp: func(g *generator, _ *principal, _ string, _ time.Time) any {
			return map[string]any{"requestId": g.uuid(), "_return": true}
		}},
		{source: "sts.amazonaws.com", name: "AssumeRole", params: func(g *generator, _ string) any {
			return map[string]any{"roleArn": "arn:aws:iam::" + g.account + ":role/deploy-pipeline", "roleSessionName": "ci-" + g.str(lowerHex, 8)}
		}, resp: func(g *generator, _ *principal, _ string, at time.Time) any {
			return map[string]any{"credentials": map[string]any{"accessKeyId": "ASIA" + g.str(upper32, 16),
				"sessionToken": "IQoJb3JpZ2luX2VjE" + g.str(base64ish, 200), "expiration": at.Add(time.Hour).UTC().Format("Jan 2, 2006, 3:04:05 PM")},
				"assumedRoleUser": map[string]any{"assumedRoleId": "AROA" + g.str(upper32, 17) + ":ci", "arn": "arn:aws:sts::" + g.account + ":assumed-role/deploy-pipeline/ci"}}
		}},
		{source: "iam.amazonaws.com", name: "UpdateAccessKey", global: true, params: func(g *generator, _ string) any {
			return map[string]any{"accessKeyId": "AKIA" + g.str(upper32, 16), "status": "Inactive"}
		}},
		{source: "lambda.amazonaws.com", name: "UpdateFunctionCode20150331v2", params: func(g *generator, _ string) any {
			return map[string]any{"functionName": "api-handler", "publish": true}
		}},
		{source: "s3.amazonaws.com", name: "PutBucketPolicy", global: true, params: func(g *generator, _ string) any {
			return map[string]any{"bucketName": "assets-" + g.account, "Host": "assets-" + g.account + ".s3.amazonaws.com"}
		}},
	}
	serviceOps = []op{
		{source: "sts.amazonaws.com", name: "AssumeRole", readOnly: true, params: func(g *generator, _ string) any {
			return map[string]any{"roleArn": "arn:aws:iam::" + g.account + ":role/lambda-exec", "roleSessionName": "api-handler"}
		}},
		{source: "kms.amazonaws.com", name: "GenerateDataKey", readOnly: true, params: func(g *generator, _ string) any {
			return map[string]any{"keySpec": "AES_256"}
		}},
	}
)

// next returns record i (JSON), its Region and time.
func (g *generator) next(i int) ([]byte, string, time.Time) {
	at := g.start.Add(time.Duration((float64(i) + g.rng.Float64()) * g.step * float64(time.Second))).Truncate(time.Second)
	p := g.people[g.rng.IntN(len(g.people))]
	var o op
	switch {
	case p.kind == "AWSService":
		o = serviceOps[g.rng.IntN(len(serviceOps))]
	case g.rng.Float64() < p.readShare:
		o = reads[g.rng.IntN(len(reads))]
	default:
		o = writes[g.rng.IntN(len(writes))]
	}
	region := g.regions[g.rng.IntN(len(g.regions))]
	if o.global {
		region = "us-east-1"
	}
	rec := record{
		EventVersion:       "1.09",
		UserIdentity:       g.identity(p, at),
		EventTime:          at.UTC().Format(time.RFC3339),
		EventSource:        o.source,
		EventName:          o.name,
		AWSRegion:          region,
		SourceIPAddress:    p.ip,
		UserAgent:          p.agent,
		RequestID:          g.uuid(),
		EventID:            g.uuid(),
		ReadOnly:           o.readOnly,
		EventType:          "AwsApiCall",
		ManagementEvent:    true,
		RecipientAccountID: g.account,
		EventCategory:      "Management",
	}
	if p.kind != "AWSService" {
		host := strings.TrimSuffix(o.source, ".amazonaws.com") + "." + region + ".amazonaws.com"
		rec.TLSDetails = &tls{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: host}
	} else {
		rec.SharedEventID = g.uuid()
	}
	if o.params != nil {
		rec.RequestParameters = o.params(g, region)
	}
	// A few calls are denied, as in any account.
	if p.kind != "AWSService" && g.rng.IntN(25) == 0 {
		rec.ErrorCode = "AccessDenied"
		if o.source == "ec2.amazonaws.com" {
			rec.ErrorCode = "Client.UnauthorizedOperation"
		}
		rec.ErrorMessage = "User: " + rec.UserIdentity.ARN + " is not authorized to perform: " +
			strings.TrimSuffix(o.source, ".amazonaws.com") + ":" + o.name + " because no identity-based policy allows the " +
			strings.TrimSuffix(o.source, ".amazonaws.com") + ":" + o.name + " action"
	} else if o.resp != nil {
		rec.ResponseElements = o.resp(g, p, region, at)
		if o.resource != "" {
			if items, ok := dig(rec.ResponseElements, "instancesSet", "items").([]any); ok && len(items) > 0 {
				id, _ := items[0].(map[string]any)["instanceId"].(string)
				rec.Resources = []resource{{ARN: "arn:aws:ec2:" + region + ":" + g.account + ":instance/" + id, AccountID: g.account, Type: o.resource}}
			}
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		// Every value above is a plain map or string: this cannot happen.
		panic(fmt.Sprintf("gen: %v", err))
	}
	return b, region, at
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// identity builds userIdentity for p at time at; role sessions last an hour.
func (g *generator) identity(p *principal, at time.Time) identity {
	switch p.kind {
	case "AWSService":
		return identity{Type: "AWSService", InvokedBy: p.name}
	case "AssumedRole":
		if p.sessKey == "" || at.Sub(p.sessStart) >= time.Hour {
			p.sessKey, p.sessName, p.sessStart = "ASIA"+g.str(upper32, 16), strconv.Itoa(1700000000+g.rng.IntN(99999999)), at.Add(-time.Duration(g.rng.IntN(600))*time.Second)
		}
		roleARN := "arn:aws:iam::" + g.account + ":role/" + p.name
		return identity{Type: "AssumedRole", PrincipalID: p.id + ":" + p.sessName,
			ARN: "arn:aws:sts::" + g.account + ":assumed-role/" + p.name + "/" + p.sessName, AccountID: g.account, AccessKeyID: p.sessKey,
			SessionContext: &sessionContext{SessionIssuer: &issuer{Type: "Role", PrincipalID: p.id, ARN: roleARN, AccountID: g.account, UserName: p.name},
				Attributes: attributes{CreationDate: p.sessStart.UTC().Format(time.RFC3339), MFAAuthenticated: "false"}}}
	}
	return identity{Type: "IAMUser", PrincipalID: p.id, ARN: "arn:aws:iam::" + g.account + ":user/" + p.name, AccountID: g.account,
		AccessKeyID: p.key, UserName: p.name}
}

// The record shape, field for field as CloudTrail writes it.
type record struct {
	EventVersion       string     `json:"eventVersion"`
	UserIdentity       identity   `json:"userIdentity"`
	EventTime          string     `json:"eventTime"`
	EventSource        string     `json:"eventSource"`
	EventName          string     `json:"eventName"`
	AWSRegion          string     `json:"awsRegion"`
	SourceIPAddress    string     `json:"sourceIPAddress"`
	UserAgent          string     `json:"userAgent"`
	ErrorCode          string     `json:"errorCode,omitempty"`
	ErrorMessage       string     `json:"errorMessage,omitempty"`
	RequestParameters  any        `json:"requestParameters"`
	ResponseElements   any        `json:"responseElements"`
	RequestID          string     `json:"requestID"`
	EventID            string     `json:"eventID"`
	ReadOnly           bool       `json:"readOnly"`
	Resources          []resource `json:"resources,omitempty"`
	EventType          string     `json:"eventType"`
	ManagementEvent    bool       `json:"managementEvent"`
	RecipientAccountID string     `json:"recipientAccountId"`
	SharedEventID      string     `json:"sharedEventID,omitempty"`
	EventCategory      string     `json:"eventCategory"`
	TLSDetails         *tls       `json:"tlsDetails,omitempty"`
}

type identity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *sessionContext `json:"sessionContext,omitempty"`
	InvokedBy      string          `json:"invokedBy,omitempty"`
}

type sessionContext struct {
	SessionIssuer *issuer    `json:"sessionIssuer,omitempty"`
	Attributes    attributes `json:"attributes"`
}

type issuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

type attributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

type tls struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

type resource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
}
