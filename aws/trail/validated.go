package trail

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/warroom-ir/warroom/aws/session"
)

// Described is one trail as DescribeTrails describes it, for integrity
// validation: where it delivers and whether it writes digest files.
type Described struct {
	Name, ARN, HomeRegion string
	Bucket, Prefix        string // Prefix without slashes at its ends
	Validation            bool   // log file validation on: it writes digests
	MultiRegion, Org      bool
}

// DescribeTrails lists the trails region sees (its own and other Regions'
// multi-Region trails) and the account's clock: the Date of the answer,
// the clock CloudTrail's digests run on (the local clock when the answer
// has none).
func DescribeTrails(ctx context.Context, api DescribeTrailsAPI, region string) ([]Described, time.Time, error) {
	out, err := api.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		return nil, time.Time{}, session.Wrap("cloudtrail:DescribeTrails", region, err)
	}
	now, ok := awsmw.GetServerTime(out.ResultMetadata)
	if !ok || now.IsZero() {
		now = time.Now()
	}
	list := make([]Described, 0, len(out.TrailList))
	seen := map[string]bool{}
	for _, t := range out.TrailList {
		d := Described{Name: aws.ToString(t.Name), ARN: aws.ToString(t.TrailARN), HomeRegion: aws.ToString(t.HomeRegion),
			Bucket: aws.ToString(t.S3BucketName), Prefix: strings.Trim(aws.ToString(t.S3KeyPrefix), "/"),
			Validation: aws.ToBool(t.LogFileValidationEnabled), MultiRegion: aws.ToBool(t.IsMultiRegionTrail), Org: aws.ToBool(t.IsOrganizationTrail)}
		if seen[d.ARN] && d.ARN != "" {
			continue
		}
		seen[d.ARN] = true
		list = append(list, d)
	}
	return list, now.UTC(), nil
}
