package scenario

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The attacker's moves against the trail's evidence, for a test to make
// when it wants them (the rounds never make them on their own): each
// breaks what log file integrity validation vouches for, through the API,
// with the attacker's credentials, recorded as AWS records them (the S3
// object calls are data events, in the trail only when it selects them).
const (
	// TamperDeleteObject deletes an object of the trail bucket (a log
	// file or a digest file); the target is its key.
	TamperDeleteObject = "delete object"
	// TamperOverwriteLog rewrites a log file with its records dropped;
	// the target is its key.
	TamperOverwriteLog = "overwrite log"
	// TamperEditDigest rewrites a digest file's JSON (its log file list
	// emptied) and keeps its signature metadata; the target is its key.
	TamperEditDigest = "edit digest"
	// TamperStopLogging and TamperStartLogging stop and start a trail;
	// the target is the trail's name.
	TamperStopLogging  = "stop logging"
	TamperStartLogging = "start logging"
	// TamperRecreateTrail deletes a trail and makes it again with the same
	// name, bucket, prefix and Regions, validation on, logging: its digests
	// start a new chain. The target is the trail's name.
	TamperRecreateTrail = "recreate trail"
)

// Tamper makes one of the moves above against target.
func (a *Attacker) Tamper(ctx context.Context, move, target string) error {
	bucket := a.sc.sim.TrailBucket()
	s3c := func(cfg func(string) aws.Config) *s3.Client {
		return s3.NewFromConfig(cfg(homeRgn), func(o *s3.Options) { o.UsePathStyle = true })
	}
	ct := func(cfg func(string) aws.Config) *cloudtrail.Client { return cloudtrail.NewFromConfig(cfg(homeRgn)) }
	var call func(cfg func(string) aws.Config) error
	switch move {
	case TamperDeleteObject:
		call = func(cfg func(string) aws.Config) error {
			_, err := s3c(cfg).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &target})
			return err
		}
	case TamperOverwriteLog, TamperEditDigest:
		call = func(cfg func(string) aws.Config) error {
			c := s3c(cfg)
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &target},
				func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
			if err != nil {
				return err
			}
			body, err := io.ReadAll(out.Body)
			_ = out.Body.Close()
			if err != nil {
				return err
			}
			edited, err := rewrite(body, move)
			if err != nil {
				return fmt.Errorf("%s %s: %w", move, target, err)
			}
			in := &s3.PutObjectInput{Bucket: &bucket, Key: &target, Body: bytes.NewReader(edited), ContentType: out.ContentType}
			if move == TamperEditDigest {
				in.Metadata = out.Metadata // the signature, kept
			}
			_, err = c.PutObject(ctx, in)
			return err
		}
	case TamperStopLogging:
		call = func(cfg func(string) aws.Config) error {
			_, err := ct(cfg).StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: &target})
			return err
		}
	case TamperStartLogging:
		call = func(cfg func(string) aws.Config) error {
			_, err := ct(cfg).StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &target})
			return err
		}
	case TamperRecreateTrail:
		call = func(cfg func(string) aws.Config) error {
			c := ct(cfg)
			d, err := c.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{target}})
			if err != nil {
				return err
			}
			if len(d.TrailList) == 0 {
				return fmt.Errorf("no trail %s", target)
			}
			tr := d.TrailList[0]
			if _, err := c.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: &target}); err != nil {
				return err
			}
			if _, err := c.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: &target, S3BucketName: tr.S3BucketName,
				S3KeyPrefix: tr.S3KeyPrefix, IsMultiRegionTrail: tr.IsMultiRegionTrail, EnableLogFileValidation: aws.Bool(true),
				IncludeGlobalServiceEvents: tr.IncludeGlobalServiceEvents}); err != nil {
				return err
			}
			_, err = c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &target})
			return err
		}
	default:
		return fmt.Errorf("scenario: unknown tamper move %q", move)
	}
	_, err := a.try(ctx, move+" "+target, nil, call)
	return err
}

// rewrite returns a gzip log file with its records dropped, or a gzip
// digest with its log file list emptied.
func rewrite(gz []byte, move string) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	if move == TamperOverwriteLog {
		raw = []byte(`{"Records":[]}`)
	} else {
		i := bytes.Index(raw, []byte(`"logFiles":[`))
		if i < 0 {
			return nil, fmt.Errorf("not a digest file")
		}
		// The space makes an edit of a digest with no log files too.
		raw = append(append([]byte{}, raw[:i]...), `"logFiles":[] }`...)
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, _ = zw.Write(raw)
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
