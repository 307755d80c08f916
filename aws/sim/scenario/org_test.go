package scenario

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
)

// cfgAs is an SDK config for c against endpoint, with the standard retryer.
func cfgAs(endpoint string, c sim.Credentials, region string) aws.Config {
	return aws.Config{Region: region, BaseEndpoint: aws.String(endpoint), HTTPClient: HTTPClient(""),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		Retryer:     func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 10) }}
}

// lookupAll reads every event of account (as its responder) in us-east-1
// matching the attribute.
func lookupAll(t *testing.T, endpoint string, acct *sim.Sim, key cttypes.LookupAttributeKey, value string) []cttypes.Event {
	t.Helper()
	cl := cloudtrail.NewFromConfig(cfgAs(endpoint, acct.Responder(), "us-east-1"))
	var out []cttypes.Event
	p := cloudtrail.NewLookupEventsPaginator(cl, &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: key, AttributeValue: aws.String(value)}}})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Events...)
	}
	return out
}

// TestOrgPivot: the leaked key of member A assumes deploy-cross in member
// B and plants footholds there; the attacker's events are in both
// accounts' event history and in the organisation trail's bucket under
// each account; containment in B is answered by a new key.
func TestOrgPivot(t *testing.T) {
	o := sim.NewOrg(sim.OrgOptions{Options: sim.Options{Seed: 11, Speed: 300}})
	ctx, cancel := context.WithCancel(context.Background())
	endpoint, err := o.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := NewOrg(DefaultScenario, o, endpoint, Options{Seed: 11, AttackAfter: 2, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sc.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = o.Close()
	})
	waitFor(t, "the pivot's footholds", sc.PivotEstablished)
	a, b := o.Account(sc.LeakedAccount()), o.Account(sc.PivotAccount())
	if a != o.Members()[0] || b != o.Members()[1] || o.AccountOfKey(sc.LeakedKey()) != a.AccountID() {
		t.Fatalf("accounts: leaked %s, pivot %s", sc.LeakedAccount(), sc.PivotAccount())
	}

	truth := sc.Truth()
	if !slices.Equal(truth.Accounts, []string{a.AccountID(), b.AccountID()}) || len(truth.PivotSessions) == 0 {
		t.Fatalf("truth %+v", truth)
	}
	// The organisation's responder reading B through its
	// OrganizationAccountAccessRole (as warroom does) is never counted
	// among the attacker's sessions.
	assumed, err := sts.NewFromConfig(cfgAs(endpoint, o.Responder(), "us-east-1")).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + b.AccountID() + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("warroom")})
	if err != nil {
		t.Fatal(err)
	}
	ours := sim.Credentials{AccessKeyID: aws.ToString(assumed.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(assumed.Credentials.SecretAccessKey), SessionToken: aws.ToString(assumed.Credentials.SessionToken)}
	if _, err := sts.NewFromConfig(cfgAs(endpoint, ours, "us-east-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(sc.Truth().PivotSessions, ours.AccessKeyID) {
		t.Fatalf("the responder's session %s counted as the attacker's", ours.AccessKeyID)
	}
	kinds := map[string]bool{}
	for _, f := range truth.Footholds[b.AccountID()] {
		kinds[f.Kind] = true
	}
	if !kinds["user"] || !kinds["key"] || !kinds["instance"] || !b.HasUser(pivotUser) {
		t.Fatalf("footholds in B: %v", truth.Footholds[b.AccountID()])
	}

	// A's history: the AssumeRole of B's role, by the attacker.
	var inA bool
	for _, ev := range lookupAll(t, endpoint, a, cttypes.LookupAttributeKeyEventName, "AssumeRole") {
		if strings.Contains(*ev.CloudTrailEvent, truth.PivotRoleARN) && strings.Contains(*ev.CloudTrailEvent, `"sharedEventID"`) {
			inA = true
		}
	}
	// B's history: the same AssumeRole (the caller an AWSAccount of A),
	// and the session's CreateUser.
	var inB, created bool
	for _, ev := range lookupAll(t, endpoint, b, cttypes.LookupAttributeKeyEventName, "AssumeRole") {
		if strings.Contains(*ev.CloudTrailEvent, `"type":"AWSAccount"`) && strings.Contains(*ev.CloudTrailEvent, `"accountId":"`+a.AccountID()+`"`) {
			inB = true
		}
	}
	for _, s := range truth.PivotSessions {
		for _, ev := range lookupAll(t, endpoint, b, cttypes.LookupAttributeKeyAccessKeyId, s) {
			if *ev.EventName == "CreateUser" {
				created = true
			}
		}
	}
	if !inA || !inB || !created {
		t.Fatalf("AssumeRole in A %v, in B %v; CreateUser by the session in B %v", inA, inB, created)
	}

	// The organisation trail: both accounts' files, B's holding the session's calls.
	s3c := s3.NewFromConfig(cfgAs(endpoint, o.Responder(), "us-east-1"), func(op *s3.Options) { op.UsePathStyle = true })
	waitFor(t, "the org trail's files of B", func() bool {
		return orgTrailHas(t, s3c, o, b.AccountID(), truth.PivotSessions[0]) && orgTrailHas(t, s3c, o, a.AccountID(), sc.LeakedKey())
	})

	// Containment in B: the pivot user's key deactivated; the attacker
	// makes another with its session.
	ic := iam.NewFromConfig(cfgAs(endpoint, b.Responder(), "us-east-1"))
	keys, err := ic.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(pivotUser)})
	if err != nil || len(keys.AccessKeyMetadata) != 1 {
		t.Fatal(keys, err)
	}
	if _, err := ic.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: aws.String(pivotUser),
		AccessKeyId: keys.AccessKeyMetadata[0].AccessKeyId, Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the attacker's reaction in B", func() bool {
		return slices.Contains(sc.PivotReactions(), "CreateAccessKey "+pivotUser)
	})
}

// orgTrailHas reports whether some org-trail log file of account holds a
// record made with key.
func orgTrailHas(t *testing.T, c *s3.Client, o *sim.Org, account, key string) bool {
	t.Helper()
	ctx := context.Background()
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(o.OrgTrailBucket()), Prefix: aws.String(o.OrgTrailPrefix(account))})
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range out.Contents {
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.OrgTrailBucket()), Key: obj.Key})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(g.Body)
		g.Body.Close()
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		if bytes.Contains(body, []byte(`"accessKeyId":"`+key+`"`)) && bytes.Contains(body, []byte(`"recipientAccountId":"`+account+`"`)) {
			return true
		}
	}
	return false
}
