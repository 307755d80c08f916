package trail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/trailcheck"
)

// PublicKeysAPI is the CloudTrail call that serves the digest-signing keys.
type PublicKeysAPI interface {
	ListPublicKeys(ctx context.Context, in *cloudtrail.ListPublicKeysInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.ListPublicKeysOutput, error)
}

// BucketSource reads a trail bucket through the AWS API for log file
// integrity validation: it lists keys, reads objects with their user
// metadata (a digest's signature is there), and asks CloudTrail for its
// public keys. It is a trailcheck.Source.
type BucketSource struct {
	s3     S3API
	ct     PublicKeysAPI
	region string // for error messages: where the calls go
}

var _ trailcheck.Source = (*BucketSource)(nil)

// NewBucketSource reads through s3api (the bucket's Region) and ct (the
// trail's home Region: CloudTrail keeps a key pair per Region).
func NewBucketSource(s3api S3API, ct PublicKeysAPI, region string) *BucketSource {
	return &BucketSource{s3: s3api, ct: ct, region: region}
}

// List returns every key under prefix, in S3's order (lexicographic).
func (b *BucketSource) List(ctx context.Context, bucket, prefix string) ([]string, error) {
	var out []string
	pages := s3.NewListObjectsV2Paginator(b.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: %w", bucket, prefix, session.Wrap("s3:ListObjectsV2", b.region, err))
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out, nil
}

// Get reads one object, at most MaxLogObject bytes, with its metadata
// (names lowercased). An object that is not there is trailcheck.ErrNotFound.
func (b *BucketSource) Get(ctx context.Context, bucket, key string) (trailcheck.Object, error) {
	where := "s3://" + bucket + "/" + key
	out, err := b.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, quietChecksum)
	if err != nil {
		if notFound(err) {
			return trailcheck.Object{}, fmt.Errorf("%s: %w", where, trailcheck.ErrNotFound)
		}
		return trailcheck.Object{}, fmt.Errorf("reading %s: %w", where, session.Wrap("s3:GetObject", b.region, err))
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, MaxLogObject+1))
	if err != nil {
		return trailcheck.Object{}, fmt.Errorf("reading %s: %w", where, session.Wrap("s3:GetObject", b.region, err))
	}
	if len(body) > MaxLogObject {
		return trailcheck.Object{}, fmt.Errorf("reading %s: larger than %d bytes", where, MaxLogObject)
	}
	meta := make(map[string]string, len(out.Metadata))
	for k, v := range out.Metadata {
		meta[strings.ToLower(k)] = v
	}
	return trailcheck.Object{Bucket: bucket, Key: key, Body: body, Meta: meta}, nil
}

// PublicKeys returns CloudTrail's digest-signing keys valid in [start, end].
func (b *BucketSource) PublicKeys(ctx context.Context, start, end time.Time) ([]trailcheck.PublicKey, error) {
	var out []trailcheck.PublicKey
	in := &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(start), EndTime: aws.Time(end)}
	for page := 0; ; page++ {
		res, err := b.ct.ListPublicKeys(ctx, in)
		if err != nil {
			return nil, session.Wrap("cloudtrail:ListPublicKeys", b.region, err)
		}
		for _, k := range res.PublicKeyList {
			out = append(out, trailcheck.PublicKey{Fingerprint: aws.ToString(k.Fingerprint), Value: k.Value,
				Start: aws.ToTime(k.ValidityStartTime), End: aws.ToTime(k.ValidityEndTime)})
		}
		if aws.ToString(res.NextToken) == "" || page == 100 {
			return out, nil
		}
		in.NextToken = res.NextToken
	}
}

// notFound reports whether err says the object is not there.
func notFound(err error) bool {
	var nsk *s3types.NoSuchKey
	var nf *s3types.NotFound
	var ae smithy.APIError
	return errors.As(err, &nsk) || errors.As(err, &nf) || errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")
}
