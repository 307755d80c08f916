package ctlog

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// This file generates realistic CloudTrail delivery files for benchmarks:
// a mix of IAM, STS, EC2 and S3 calls by IAM users, assumed roles and AWS
// services, with real-shaped userIdentity blocks, request parameters
// (policy documents as escaped JSON strings included), response elements
// (some minting credentials with a session token), errors, TLS details and
// user agents, about 1–1.5 KB per record, a few hundred records per file,
// each file gzip of {"Records":[...]}.

// genFile is one generated delivery file.
type genFile struct {
	name    string
	gz      []byte // as delivered
	plain   []byte // decompressed
	records int
	keys    []string // long-term keys used in the file
}

// gen is a deterministic record generator.
type gen struct {
	rng     *rand.Rand
	b       []byte
	t       time.Time
	account string
	users   []string
	keys    []string
	roles   []string
	ips     []string
	agents  []string
	regions []string
}

func newGen(seed uint64) *gen {
	g := &gen{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	g.t = time.Date(2024, 7, 30, 8, 0, 0, 0, time.UTC)
	g.account = g.digits(12)
	for range 40 {
		g.users = append(g.users, fmt.Sprintf("%s.%s", pick(g, []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}), pick(g, []string{"ops", "dev", "ci", "admin", "sre"})))
		g.keys = append(g.keys, "AKIA"+g.upper(16))
	}
	for range 15 {
		g.roles = append(g.roles, pick(g, []string{"Admin", "ReadOnly", "Deploy", "Lambda", "EC2", "Backup"})+"Role-"+g.upper(6))
	}
	for range 60 {
		g.ips = append(g.ips, fmt.Sprintf("%d.%d.%d.%d", 1+g.rng.IntN(222), g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256)))
	}
	g.ips = append(g.ips, "ec2.amazonaws.com", "lambda.amazonaws.com", "AWS Internal", "253.252.51.07")
	g.agents = []string{
		"aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1016-aws md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#iam.list-users",
		"aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/sts#1.30.3",
		"Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219-208.866.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.144",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750 Linux/5.10.219-186.866.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.412-b09 java/1.8.0_412 vendor/Oracle_Corporation cfg/retry-mode/standard]",
		"console.ec2.amazonaws.com",
		"Terraform/1.9.2 (+https://www.terraform.io) terraform-provider-aws/5.59.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 api/ec2#1.171.0",
		"python-requests/2.32.3 \u00e9t\u00e9 \"quoted\"",
	}
	for i, a := range g.agents {
		g.agents[i] = strconv.Quote(a)
	}
	g.regions = []string{"us-east-1", "us-east-1", "us-east-1", "eu-west-1", "eu-central-1", "us-west-2", "ap-southeast-2", "ap-northeast-1"}
	return g
}

func pick[T any](g *gen, s []T) T { return s[g.rng.IntN(len(s))] }

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func (g *gen) upper(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = upperAlnum[g.rng.IntN(len(upperAlnum))]
	}
	return string(b)
}

func (g *gen) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	return string(b)
}

func (g *gen) uuid() string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 36)
	for i := range b {
		switch i {
		case 8, 13, 18, 23:
			b[i] = '-'
		default:
			b[i] = hexd[g.rng.IntN(16)]
		}
	}
	return string(b)
}

func (g *gen) token() string {
	raw := make([]byte, 420+g.rng.IntN(300))
	for i := range raw {
		raw[i] = byte(g.rng.Uint32())
	}
	return "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString(raw)
}

// str appends a JSON member with a string value that needs no escaping.
func (g *gen) str(k, v string) {
	g.b = append(g.b, '"')
	g.b = append(g.b, k...)
	g.b = append(g.b, `":"`...)
	g.b = append(g.b, v...)
	g.b = append(g.b, `",`...)
}

func (g *gen) raw(k, v string) {
	g.b = append(g.b, '"')
	g.b = append(g.b, k...)
	g.b = append(g.b, `":`...)
	g.b = append(g.b, v...)
	g.b = append(g.b, ',')
}

func (g *gen) end() {
	if g.b[len(g.b)-1] == ',' {
		g.b = g.b[:len(g.b)-1]
	}
}

// identity appends a userIdentity; it returns the principal's access key.
func (g *gen) identity(kind int) string {
	g.b = append(g.b, `"userIdentity":{`...)
	var key string
	switch kind {
	case 0: // IAM user with a long-term key
		i := g.rng.IntN(len(g.users))
		key = g.keys[i]
		g.str("type", "IAMUser")
		g.str("principalId", "AIDA"+g.upper(17))
		g.str("arn", "arn:aws:iam::"+g.account+":user/"+g.users[i])
		g.str("accountId", g.account)
		g.str("accessKeyId", key)
		g.str("userName", g.users[i])
	case 1: // assumed role
		role := pick(g, g.roles)
		sess := pick(g, g.users)
		key = "ASIA" + g.upper(16)
		rid := "AROA" + g.upper(17)
		g.str("type", "AssumedRole")
		g.str("principalId", rid+":"+sess)
		g.str("arn", "arn:aws:sts::"+g.account+":assumed-role/"+role+"/"+sess)
		g.str("accountId", g.account)
		g.str("accessKeyId", key)
		g.b = append(g.b, `"sessionContext":{"sessionIssuer":{`...)
		g.str("type", "Role")
		g.str("principalId", rid)
		g.str("arn", "arn:aws:iam::"+g.account+":role/"+role)
		g.str("accountId", g.account)
		g.str("userName", role)
		g.end()
		g.b = append(g.b, `},"webIdFederationData":{},"attributes":{`...)
		g.str("creationDate", g.t.Add(-time.Duration(g.rng.IntN(3600))*time.Second).Format(time.RFC3339))
		g.str("mfaAuthenticated", pick(g, []string{"false", "true"}))
		g.end()
		g.b = append(g.b, `}},`...)
	default: // an AWS service
		g.str("type", "AWSService")
		g.str("invokedBy", pick(g, []string{"ec2.amazonaws.com", "lambda.amazonaws.com", "cloudformation.amazonaws.com"}))
	}
	g.end()
	g.b = append(g.b, `},`...)
	return key
}

// record appends one record.
func (g *gen) record() {
	g.t = g.t.Add(time.Duration(g.rng.IntN(2000)) * time.Millisecond)
	region := pick(g, g.regions)
	g.b = append(g.b, '{')
	g.str("eventVersion", "1.09")
	n := g.rng.IntN(100)
	kind := 0
	switch {
	case n < 45:
		kind = 1
	case n < 55:
		kind = 2
	}
	g.identity(kind)
	g.str("eventTime", g.t.Format(time.RFC3339))
	var source, name string
	readOnly := true
	switch m := g.rng.IntN(100); {
	case m < 12: // STS minting
		source, name, readOnly = "sts.amazonaws.com", pick(g, []string{"AssumeRole", "AssumeRole", "GetSessionToken", "GetFederationToken"}), false
	case m < 30:
		source, name = "iam.amazonaws.com", pick(g, []string{"ListUsers", "GetUser", "ListAccessKeys", "ListAttachedUserPolicies", "GetAccountAuthorizationDetails"})
	case m < 36:
		source, name, readOnly = "iam.amazonaws.com", pick(g, []string{"CreateAccessKey", "PutUserPolicy", "AttachUserPolicy", "CreateUser"}), false
	case m < 60:
		source, name = "ec2.amazonaws.com", pick(g, []string{"DescribeInstances", "DescribeRegions", "DescribeSecurityGroups", "DescribeVolumes"})
	case m < 66:
		source, name, readOnly = "ec2.amazonaws.com", pick(g, []string{"RunInstances", "AuthorizeSecurityGroupIngress", "CreateKeyPair"}), false
	case m < 95:
		source, name = "s3.amazonaws.com", pick(g, []string{"GetObject", "ListObjects", "HeadObject", "ListBuckets"})
	default:
		source, name = "sts.amazonaws.com", "GetCallerIdentity"
	}
	g.str("eventSource", source)
	g.str("eventName", name)
	g.str("awsRegion", region)
	g.str("sourceIPAddress", pick(g, g.ips))
	g.raw("userAgent", pick(g, g.agents))
	denied := g.rng.IntN(100) < 8
	if denied {
		g.str("errorCode", pick(g, []string{"AccessDenied", "Client.UnauthorizedOperation"}))
		g.str("errorMessage", "User: arn:aws:iam::"+g.account+":user/"+pick(g, g.users)+" is not authorized to perform: "+source[:3]+":"+name+" on resource: * because no identity-based policy allows the action")
	}
	g.requestAndResponse(name, denied)
	g.str("requestID", g.uuid())
	g.str("eventID", g.uuid())
	g.raw("readOnly", strconv.FormatBool(readOnly))
	g.str("eventType", "AwsApiCall")
	g.raw("managementEvent", strconv.FormatBool(source != "s3.amazonaws.com"))
	g.str("recipientAccountId", g.account)
	g.str("eventCategory", map[bool]string{true: "Data", false: "Management"}[source == "s3.amazonaws.com"])
	g.b = append(g.b, `"tlsDetails":{`...)
	g.str("tlsVersion", "TLSv1.3")
	g.str("cipherSuite", "TLS_AES_128_GCM_SHA256")
	g.str("clientProvidedHostHeader", source[:len(source)-len(".amazonaws.com")]+"."+region+".amazonaws.com")
	g.end()
	g.b = append(g.b, `}}`...)
}

func (g *gen) requestAndResponse(name string, denied bool) {
	switch name {
	case "AssumeRole":
		role := pick(g, g.roles)
		sess := "session-" + g.digits(10)
		g.raw("requestParameters", `{"roleArn":"arn:aws:iam::`+g.account+`:role/`+role+`","roleSessionName":"`+sess+`","durationSeconds":3600}`)
		if !denied {
			g.raw("responseElements", `{"credentials":{"accessKeyId":"ASIA`+g.upper(16)+`","sessionToken":"`+g.token()+`","expiration":"`+g.t.Add(time.Hour).Format("Jan 2, 2006, 3:04:05 PM")+`"},"assumedRoleUser":{"assumedRoleId":"AROA`+g.upper(17)+`:`+sess+`","arn":"arn:aws:sts::`+g.account+`:assumed-role/`+role+`/`+sess+`"}}`)
			g.raw("resources", `[{"accountId":"`+g.account+`","type":"AWS::IAM::Role","ARN":"arn:aws:iam::`+g.account+`:role/`+role+`"}]`)
			g.str("sharedEventID", g.uuid())
		}
	case "GetSessionToken", "GetFederationToken":
		params := `{"durationSeconds":43200}`
		if name == "GetFederationToken" {
			params = `{"name":"fed-` + g.digits(4) + `","policy":"{\n\t\"Version\": \"2012-10-17\",\n\t\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]\n}"}`
		}
		g.raw("requestParameters", params)
		if !denied {
			g.raw("responseElements", `{"credentials":{"accessKeyId":"ASIA`+g.upper(16)+`","sessionToken":"`+g.token()+`","expiration":"`+g.t.Add(12*time.Hour).Format("Jan 2, 2006, 3:04:05 PM")+`"}}`)
		}
	case "PutUserPolicy":
		g.raw("requestParameters", `{"userName":"`+pick(g, g.users)+`","policyName":"inline-`+g.digits(3)+`","policyDocument":"{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"}`)
		g.raw("responseElements", "null")
	case "CreateAccessKey":
		g.raw("requestParameters", `{"userName":"`+pick(g, g.users)+`"}`)
		if !denied {
			g.raw("responseElements", `{"accessKey":{"accessKeyId":"AKIA`+g.upper(16)+`","status":"Active","userName":"`+pick(g, g.users)+`","createDate":"`+g.t.Format("Jan 2, 2006, 3:04:05 PM")+`"}}`)
		}
	case "DescribeInstances":
		g.raw("requestParameters", `{"instancesSet":{"items":[{"instanceId":"i-0`+strconv.FormatUint(g.rng.Uint64()>>4, 16)+`"}]},"filterSet":{"items":[{"name":"instance-state-name","valueSet":{"items":[{"value":"running"}]}}]}}`)
		g.raw("responseElements", "null")
	case "RunInstances":
		g.raw("requestParameters", `{"instancesSet":{"items":[{"imageId":"ami-0`+strconv.FormatUint(g.rng.Uint64()>>8, 16)+`","minCount":1,"maxCount":`+strconv.Itoa(1+g.rng.IntN(20))+`}]},"instanceType":"`+pick(g, []string{"p3.16xlarge", "c5.24xlarge", "t3.micro"})+`","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":true,"clientToken":"`+g.uuid()+`"}`)
		g.raw("responseElements", "null")
	case "GetObject", "HeadObject", "ListObjects":
		bucket := pick(g, []string{"prod-backups", "customer-exports", "terraform-state", "logs-archive"})
		key := "exports/2024/07/" + g.uuid() + ".csv.gz"
		g.raw("requestParameters", `{"bucketName":"`+bucket+`","Host":"`+bucket+`.s3.amazonaws.com","key":"`+key+`"}`)
		g.raw("responseElements", "null")
		g.raw("additionalEventData", `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"`+g.token()[:76]+`","bytesTransferredOut":`+strconv.Itoa(g.rng.IntN(1<<24))+`}`)
		g.raw("resources", `[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::`+bucket+`/`+key+`"},{"accountId":"`+g.account+`","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::`+bucket+`"}]`)
	default:
		g.raw("requestParameters", "null")
		g.raw("responseElements", "null")
	}
}

// file returns one delivery file of n records.
func (g *gen) file(n int) (plain []byte) {
	g.b = append(g.b[:0], `{"Records":[`...)
	for i := range n {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		g.record()
	}
	g.b = append(g.b, `]}`...)
	return bytes.Clone(g.b)
}

// benchCorpusFiles and benchCorpusRecords size the benchmark corpus.
const (
	benchCorpusFiles   = 600
	benchCorpusRecords = 400 // per file: 240,000 records in all
)

var (
	corpusOnce sync.Once
	corpus     []genFile
)

// benchCorpus returns the benchmark corpus, generated once.
func benchCorpus() []genFile {
	corpusOnce.Do(func() {
		g := newGen(1)
		for i := range benchCorpusFiles {
			plain := g.file(benchCorpusRecords)
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			w.Write(plain)
			w.Close()
			corpus = append(corpus, genFile{
				name:    fmt.Sprintf("%s_CloudTrail_us-east-1_20240730T%04dZ_%s.json.gz", g.account, i, g.upper(16)),
				gz:      b.Bytes(),
				plain:   plain,
				records: benchCorpusRecords,
				keys:    g.keys,
			})
		}
	})
	return corpus
}
