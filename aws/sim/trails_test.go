package sim

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// countByKey counts records signed with key.
func countByKey(recs []map[string]any, key string) int {
	n := 0
	for _, r := range recs {
		if dig(r, "userIdentity", "accessKeyId") == key {
			n++
		}
	}
	return n
}

func TestTrailsCreateDeleteSelectors(t *testing.T) {
	env := newEnv(t, Options{LookupRate: 1000})
	ctx := context.Background()
	key := leak(t, env)
	ct := env.ct(env.sim.Responder(), "us-east-1")
	read := func() { // a read-only call
		if _, err := env.sts(key, "eu-west-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}

	sels, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("management-events")})
	if err != nil || len(sels.EventSelectors) != 1 || sels.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeAll ||
		!aws.ToBool(sels.EventSelectors[0].IncludeManagementEvents) {
		t.Fatalf("default selectors: %v %+v", err, sels)
	}

	// A second trail, with a key prefix; not logging until started.
	created, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("backup"), S3BucketName: aws.String(env.sim.TrailBucket()),
		S3KeyPrefix: aws.String("backup"), IsMultiRegionTrail: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:cloudtrail:us-east-1:" + env.sim.AccountID() + ":trail/backup"
	if aws.ToString(created.TrailARN) != arn || !aws.ToBool(created.IsMultiRegionTrail) {
		t.Errorf("CreateTrail answer %+v", created)
	}
	rec := recordOf(t, env.sim, "CreateTrail")
	if dig(rec, "requestParameters", "name") != "backup" || dig(rec, "requestParameters", "s3BucketName") != env.sim.TrailBucket() ||
		dig(rec, "requestParameters", "isMultiRegionTrail") != true || dig(rec, "responseElements", "trailARN") != arn {
		t.Errorf("CreateTrail record %s", mustJSON(t, rec))
	}
	st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("backup")})
	if err != nil || aws.ToBool(st.IsLogging) {
		t.Errorf("a new trail logs: %v %v", err, aws.ToBool(st.IsLogging))
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"create again", func() error {
			_, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("backup"), S3BucketName: aws.String(env.sim.TrailBucket())})
			return err
		}(), "TrailAlreadyExistsException"},
		{"unknown bucket", func() error {
			_, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("other"), S3BucketName: aws.String("nope-bucket")})
			return err
		}(), "S3BucketDoesNotExistException"},
		{"selectors of unknown trail", func() error {
			_, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("nope")})
			return err
		}(), "TrailNotFoundException"},
		{"bad read/write type", func() error {
			_, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("backup"),
				EventSelectors: []cttypes.EventSelector{{ReadWriteType: "Sometimes"}}})
			return err
		}(), "InvalidEventSelectorsException"},
		{"delete from another Region", func() error {
			_, err := env.ct(env.sim.Responder(), "eu-west-1").DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("backup")})
			return err
		}(), "InvalidHomeRegionException"},
	} {
		if got := errCode(t, tc.err); got != tc.code {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.code)
		}
	}
	list, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil || len(list.TrailList) != 2 {
		t.Fatalf("DescribeTrails: %v %d", err, len(list.TrailList))
	}

	// The attacker narrows the main trail to writes: reads stop reaching it.
	put, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("management-events"),
		EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(true)}}})
	if err != nil || len(put.EventSelectors) != 1 || put.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeWriteOnly {
		t.Fatalf("PutEventSelectors: %v %+v", err, put)
	}
	rec = recordOf(t, env.sim, "PutEventSelectors")
	if dig(rec, "requestParameters", "trailName") != "management-events" ||
		dig(rec, "requestParameters", "eventSelectors", 0, "readWriteType") != "WriteOnly" ||
		dig(rec, "requestParameters", "eventSelectors", 0, "includeManagementEvents") != true ||
		dig(rec, "responseElements", "eventSelectors", 0, "readWriteType") != "WriteOnly" {
		t.Errorf("PutEventSelectors record %s", mustJSON(t, rec))
	}
	read()
	env.clock.Advance(10 * time.Minute)
	_, main := s3RecordsUnder(t, env, "AWSLogs/")
	_, backup := s3RecordsUnder(t, env, "backup/AWSLogs/")
	if countByKey(main, key.AccessKeyID) != 0 || countByKey(backup, key.AccessKeyID) != 1 {
		t.Errorf("after WriteOnly: main %d, backup %d; want 0, 1", countByKey(main, key.AccessKeyID), countByKey(backup, key.AccessKeyID))
	}
	// Put the selectors back; then the attacker deletes the main trail.
	if _, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("management-events"),
		EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("management-events")}); err != nil {
		t.Fatal(err)
	}
	rec = recordOf(t, env.sim, "DeleteTrail")
	if dig(rec, "requestParameters", "name") != "management-events" || rec["errorCode"] != nil {
		t.Errorf("DeleteTrail record %s", mustJSON(t, rec))
	}
	read()
	env.clock.Advance(10 * time.Minute)
	_, main = s3RecordsUnder(t, env, "AWSLogs/")
	_, backup = s3RecordsUnder(t, env, "backup/AWSLogs/")
	if countByKey(main, key.AccessKeyID) != 0 || countByKey(backup, key.AccessKeyID) != 2 {
		t.Errorf("after delete: main %d, backup %d; want 0, 2", countByKey(main, key.AccessKeyID), countByKey(backup, key.AccessKeyID))
	}
	// Event history goes on whatever the trails do.
	evs, err := lookup(t, env, "eu-west-1", &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(key.AccessKeyID)}}})
	if err != nil || len(evs) != 2 {
		t.Errorf("LookupEvents after delete: %v, %d events", err, len(evs))
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"status", func() error {
			_, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("management-events")})
			return err
		}()},
		{"start", func() error {
			_, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("management-events")})
			return err
		}()},
		{"stop", func() error {
			_, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("management-events")})
			return err
		}()},
		{"selectors", func() error {
			_, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("management-events")})
			return err
		}()},
		{"delete", func() error {
			_, err := ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("management-events")})
			return err
		}()},
	} {
		if got := errCode(t, tc.err); got != "TrailNotFoundException" {
			t.Errorf("%s of a deleted trail: %q", tc.name, got)
		}
	}
	list, err = env.ct(env.sim.Responder(), "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil || len(list.TrailList) != 1 || aws.ToString(list.TrailList[0].Name) != "backup" {
		t.Errorf("DescribeTrails after delete: %v %+v", err, list)
	}
	// Recreated with the same name, it logs again once started.
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("management-events"),
		S3BucketName: aws.String(env.sim.TrailBucket()), IsMultiRegionTrail: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("management-events")}); err != nil {
		t.Fatal(err)
	}
	read()
	env.clock.Advance(10 * time.Minute)
	if _, main = s3RecordsUnder(t, env, "AWSLogs/"); countByKey(main, key.AccessKeyID) != 1 {
		t.Errorf("recreated trail delivered %d", countByKey(main, key.AccessKeyID))
	}
}
