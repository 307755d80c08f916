package trail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// S3API is what the S3 trail source calls. *s3.Client implements it.
type S3API interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// ParseBucketURL splits "s3://bucket/prefix" into bucket and prefix (with
// no leading or trailing slash).
func ParseBucketURL(raw string) (bucket, prefix string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return "", "", fmt.Errorf("trail bucket %q: want s3://BUCKET[/PREFIX]", raw)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// DescribeTrailsAPI is the CloudTrail call that finds the trail's bucket.
type DescribeTrailsAPI interface {
	DescribeTrails(ctx context.Context, in *cloudtrail.DescribeTrailsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.DescribeTrailsOutput, error)
}

// DiscoverBucket finds where the account's trail delivers: the first
// multi-Region trail's bucket and key prefix, else the first trail's.
func DiscoverBucket(ctx context.Context, api DescribeTrailsAPI, region string) (bucket, prefix string, err error) {
	out, err := api.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		return "", "", session.Wrap("cloudtrail:DescribeTrails", region, err)
	}
	var pick *int
	for i, t := range out.TrailList {
		if aws.ToString(t.S3BucketName) == "" {
			continue
		}
		if pick == nil || aws.ToBool(t.IsMultiRegionTrail) && !aws.ToBool(out.TrailList[*pick].IsMultiRegionTrail) {
			pick = &i
		}
	}
	if pick == nil {
		return "", "", errors.New("no trail delivers to S3 in this account: give --trail-bucket s3://BUCKET/PREFIX")
	}
	t := out.TrailList[*pick]
	return aws.ToString(t.S3BucketName), strings.Trim(aws.ToString(t.S3KeyPrefix), "/"), nil
}

// Defaults for S3Options.
const (
	DefaultS3PollEvery = time.Minute
	DefaultS3Parallel  = 8
	// MaxLogObject bounds one log file's download: CloudTrail writes at
	// most 50 MB compressed.
	MaxLogObject = 64 << 20
)

// S3Options configure an S3Source.
type S3Options struct {
	Bucket string
	Prefix string // the trail's key prefix, without slashes around it
	// AccountID is the account whose logs are read. Empty: every account
	// found under AWSLogs/ (and AWSLogs/o-ORG/ for organisation trails).
	AccountID string
	// Regions whose logs are read.
	Regions []string
	// Since is how far back the first read reaches (default 24 h).
	Since time.Duration
	// Once stops after the first read.
	Once bool
	// PollEvery is the time between reads of the newest days.
	PollEvery time.Duration
	// Parallel bounds concurrent downloads.
	Parallel int
	// Now tells the time; time.Now when nil.
	Now func() time.Time
	// BucketRegion is where the bucket is, for error messages.
	BucketRegion string
}

// S3Source reads a trail's log files from S3: it lists by account, Region
// and day in CloudTrail's key layout, downloads and parses new files in
// parallel, and follows new ones.
type S3Source struct {
	api  S3API
	sink Sink
	opts S3Options
	name string // s3://bucket/prefix

	mu      sync.Mutex
	seen    map[string]bool // keys read, in the days still listed
	newest  time.Time
	fresh   int
	status  string
	errText string
	sent    state.StreamHealth

	// parsing bounds the objects decompressed and parsed at once: a
	// downloaded object may be a gzip bomb that fills its parser's buffer
	// up to ctlog's per-file limit (1 GiB), and Parallel of them at once
	// would hold Parallel GiB.
	parsing chan struct{}
}

// maxParsing is how many S3 objects are decompressed and parsed at once.
const maxParsing = 2

// NewS3Source returns a source reading opts.Bucket through api into sink.
func NewS3Source(api S3API, sink Sink, opts S3Options) *S3Source {
	if opts.Since <= 0 {
		opts.Since = DefaultSince
	}
	if opts.PollEvery <= 0 {
		opts.PollEvery = DefaultS3PollEvery
	}
	if opts.Parallel <= 0 {
		opts.Parallel = DefaultS3Parallel
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Prefix = strings.Trim(opts.Prefix, "/")
	name := "s3://" + opts.Bucket
	if opts.Prefix != "" {
		name += "/" + opts.Prefix
	}
	return &S3Source{api: api, sink: sink, opts: opts, name: name, seen: map[string]bool{}, status: StatusBackfill,
		parsing: make(chan struct{}, maxParsing)}
}

// Name is the source's name in health facts: s3://bucket/prefix.
func (s *S3Source) Name() string { return s.name }

// Run reads from Since, then (unless Once) follows until ctx is done. It
// returns nil when ctx is done or the read is complete, and a Sink error
// otherwise. Failed calls are health, not errors: the next poll retries.
func (s *S3Source) Run(ctx context.Context) error {
	if err := s.health(ctx, true); err != nil {
		return err
	}
	from := s.opts.Now().Add(-s.opts.Since)
	for {
		err := s.poll(ctx, from)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if s.opts.Once {
			return nil
		}
		// After the first read, only the newest two days are listed:
		// files are named for their delivery time, so a late file lands
		// in today's (or, near midnight, yesterday's) folder.
		from = s.opts.Now().Add(-24 * time.Hour)
		t := time.NewTimer(s.opts.PollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// poll lists every day folder from from to today and reads the new files.
func (s *S3Source) poll(ctx context.Context, from time.Time) error {
	bases, err := s.accountBases(ctx)
	if err != nil {
		s.fail(err)
		return s.health(ctx, false)
	}
	now := s.opts.Now().UTC()
	var days []string
	for d := from.UTC().Truncate(24 * time.Hour); !d.After(now); d = d.Add(24 * time.Hour) {
		days = append(days, d.Format("2006/01/02"))
	}
	var folders []string
	for _, base := range bases {
		for _, r := range s.opts.Regions {
			for _, d := range days {
				folders = append(folders, base+"CloudTrail/"+r+"/"+d+"/")
			}
		}
	}
	var (
		mu     sync.Mutex
		keys   []string
		failed bool
	)
	listed := map[string]bool{}
	s.parallel(ctx, folders, func(folder string) {
		ks, err := s.list(ctx, folder)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed = true
			s.fail(err)
			return
		}
		for _, k := range ks {
			listed[k] = true
		}
		keys = append(keys, ks...)
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	s.mu.Lock()
	todo := keys[:0]
	for _, k := range keys {
		if !s.seen[k] {
			todo = append(todo, k)
		}
	}
	s.mu.Unlock()
	slices.Sort(todo)
	var sinkErr error
	s.parallel(ctx, todo, func(key string) {
		if err := s.read(ctx, key); err != nil {
			var se errSink
			if errors.As(err, &se) {
				mu.Lock()
				sinkErr = cmpErr(sinkErr, err)
				mu.Unlock()
				return
			}
			mu.Lock()
			failed = true
			mu.Unlock()
			s.fail(err)
			return
		}
		s.mu.Lock()
		s.seen[key] = true
		s.mu.Unlock()
	})
	if sinkErr != nil {
		return sinkErr
	}
	// Forget keys in folders no longer listed: memory stays bounded. Not
	// after a failed listing, whose keys would be read again.
	s.mu.Lock()
	if !failed {
		for k := range s.seen {
			if !listed[k] {
				delete(s.seen, k)
			}
		}
		s.status, s.errText = StatusOK, ""
	}
	s.mu.Unlock()
	return s.health(ctx, true)
}

func cmpErr(old, err error) error {
	if old != nil {
		return old
	}
	return err
}

// parallel runs fn on every item, at most Parallel at once.
func (s *S3Source) parallel(ctx context.Context, items []string, fn func(string)) {
	sem := make(chan struct{}, s.opts.Parallel)
	var wg sync.WaitGroup
	for _, it := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(it)
		}()
	}
	wg.Wait()
}

// accountBases returns "[prefix/]AWSLogs/[o-org/]ACCOUNT/" for each account read.
func (s *S3Source) accountBases(ctx context.Context) ([]string, error) {
	root := "AWSLogs/"
	if s.opts.Prefix != "" {
		root = s.opts.Prefix + "/" + root
	}
	// An organisation trail puts the org id (o-…) in between.
	subs, err := s.folders(ctx, root)
	if err != nil {
		return nil, err
	}
	acct := s.opts.AccountID
	var out []string
	for _, sub := range subs {
		name := strings.TrimSuffix(strings.TrimPrefix(sub, root), "/")
		switch org := strings.HasPrefix(name, "o-"); {
		case !org && (acct == "" || name == acct):
			out = append(out, sub)
		case org && acct != "":
			out = append(out, sub+acct+"/")
		case org:
			accts, err := s.folders(ctx, sub)
			if err != nil {
				return nil, err
			}
			out = append(out, accts...)
		}
	}
	if acct != "" && len(out) == 0 {
		out = []string{root + acct + "/"}
	}
	return out, nil
}

// folders lists the "subfolders" of prefix.
func (s *S3Source) folders(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	pages := s3.NewListObjectsV2Paginator(s.api, &s3.ListObjectsV2Input{Bucket: aws.String(s.opts.Bucket),
		Prefix: aws.String(prefix), Delimiter: aws.String("/")})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("s3:ListObjectsV2", s.opts.BucketRegion, err)
		}
		for _, p := range page.CommonPrefixes {
			out = append(out, aws.ToString(p.Prefix))
		}
	}
	return out, nil
}

// list returns the log file keys under folder (digests are elsewhere).
func (s *S3Source) list(ctx context.Context, folder string) ([]string, error) {
	var out []string
	pages := s3.NewListObjectsV2Paginator(s.api, &s3.ListObjectsV2Input{Bucket: aws.String(s.opts.Bucket), Prefix: aws.String(folder)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("s3:ListObjectsV2", s.opts.BucketRegion, err)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); strings.HasSuffix(k, ".json.gz") || strings.HasSuffix(k, ".json") {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// quietChecksum stops the SDK from logging, on stderr and over the
// console, each object that carries no checksum to validate (CloudTrail's
// log files carry none).
func quietChecksum(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true }

// read downloads one log file, parses it and hands its records to the Sink.
func (s *S3Source) read(ctx context.Context, key string) error {
	source := "s3://" + s.opts.Bucket + "/" + key
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.opts.Bucket), Key: aws.String(key)}, quietChecksum)
	if err != nil {
		return fmt.Errorf("reading %s: %w", source, session.Wrap("s3:GetObject", s.opts.BucketRegion, err))
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, MaxLogObject+1))
	if err != nil {
		return fmt.Errorf("reading %s: %w", source, session.Wrap("s3:GetObject", s.opts.BucketRegion, err))
	}
	var skipped []state.Skipped
	if len(data) > MaxLogObject {
		skipped = append(skipped, state.Skipped{File: source, Index: -1, Reason: fmt.Sprintf("larger than %d bytes: not read", MaxLogObject)})
		return s.deliver(ctx, source, nil, skipped)
	}
	var recs []ctlog.Record
	select {
	case s.parsing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	probs, _ := ctlog.ParseBytes(source, data, ctlog.Options{}, func(r ctlog.Record) error {
		recs = append(recs, r)
		return nil
	})
	<-s.parsing
	// ParseBytes lists a file's first problems and counts the rest (a
	// small hostile object can hold a million bad records).
	skipped = append(skipped, state.SkippedOf(probs)...)
	return s.deliver(ctx, source, recs, skipped)
}

func (s *S3Source) deliver(ctx context.Context, source string, recs []ctlog.Record, skipped []state.Skipped) error {
	if len(recs) == 0 && len(skipped) == 0 {
		return nil
	}
	s.mu.Lock()
	for _, r := range recs {
		if r.EventTime.After(s.newest) {
			s.newest = r.EventTime
		}
	}
	s.fresh += len(recs)
	s.mu.Unlock()
	// Records read from S3 that the sink holds already (LookupEvents may
	// have brought them first) count as read, and are not delivered again.
	if a, ok := s.sink.(Admitter); ok {
		recs = slices.DeleteFunc(recs, func(r ctlog.Record) bool { return !a.Admit(&r) })
		if len(recs) == 0 && len(skipped) == 0 {
			return nil
		}
	}
	if err := s.sink.Events(ctx, source, recs, skipped); err != nil {
		return errSink{err}
	}
	return nil
}

// fail records a failed call as the source's status.
func (s *S3Source) fail(err error) {
	status := StatusError
	switch session.Classify(err) {
	case session.ClassDenied:
		status = StatusDenied
	case session.ClassThrottled:
		status = StatusThrottled
	}
	s.mu.Lock()
	s.status, s.errText = status, err.Error()
	s.mu.Unlock()
}

// health sends the source's health on change, or always with force.
func (s *S3Source) health(ctx context.Context, force bool) error {
	s.mu.Lock()
	h := state.StreamHealth{Source: s.name, Status: s.status, Error: s.errText, NewestAt: s.newest, Delivered: s.fresh}
	if !s.newest.IsZero() {
		h.Lag = state.Duration(max(0, s.opts.Now().Sub(s.newest)).Round(time.Second))
	}
	if !force && h.Status == s.sent.Status && h.Error == s.sent.Error {
		s.mu.Unlock()
		return nil
	}
	s.sent, s.fresh = h, 0
	s.mu.Unlock()
	if err := s.sink.Health(ctx, h); err != nil {
		return errSink{err}
	}
	return nil
}
