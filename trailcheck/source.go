// Package trailcheck validates CloudTrail log files against CloudTrail's signed, chained digest files.
package trailcheck

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Source.Get for an object that does not exist.
var ErrNotFound = errors.New("not found")

// Object is one S3 object as stored: Body is the stored bytes (gzip for logs and digests).
type Object struct {
	Bucket, Key string
	Body        []byte
	// Meta holds the object's user metadata, names lowercased without "x-amz-meta-"
	// ("signature", "signature-algorithm"); nil when the source could not keep metadata.
	Meta map[string]string
}

// PublicKey is one of CloudTrail's digest-signing public keys (cloudtrail:ListPublicKeys).
type PublicKey struct {
	Fingerprint string
	Value       []byte // DER, as ListPublicKeys returns it
	Start, End  time.Time
}

// Source is where the digests, the log files and the public keys come from: a bucket through the AWS API, or a local folder.
type Source interface {
	List(ctx context.Context, bucket, prefix string) ([]string, error)
	Get(ctx context.Context, bucket, key string) (Object, error)
	PublicKeys(ctx context.Context, start, end time.Time) ([]PublicKey, error)
}
