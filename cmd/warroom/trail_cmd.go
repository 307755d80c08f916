package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/trail"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/trailcheck"
)

func init() { moreCommands = append(moreCommands, newTrailCmd) }

func newTrailCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "trail",
		Short: "Check CloudTrail's log files against its signed digest files, online or offline",
		Long: `An attacker with S3 rights can delete or edit the very log files an investigation reads.
CloudTrail's digest files (log file validation) list every log file it delivered, with its
SHA-256, are signed by CloudTrail and chained hour to hour: trail validate checks them,
and trail download copies a trail with its digests' signatures and public keys into a
folder that can be validated later with no network.`,
	}
	c.AddCommand(newTrailValidateCmd(e), newTrailDownloadCmd(e))
	c.Example = `  warroom trail validate s3://org-trail/logs --start 24h
  warroom trail download auto ./trail-copy --start 2026-12-01 --end 2026-12-02
  warroom trail validate ./trail-copy --start 2026-12-01 --end 2026-12-02`
	return c
}

// trailFlags are validate's and download's common flags.
type trailFlags struct {
	aws                        awsFlags
	start, end                 string
	account, region, name, org string
	bucket, prefix, publicKeys string
	prefixSet                  bool
}

func (f *trailFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.start, "start", "", "validate from this time: RFC 3339, a date (2026-12-01), or a duration back from --end (36h); default 24h before --end")
	c.Flags().StringVar(&f.end, "end", "", "validate up to this time (RFC 3339 or a date); default now")
	c.Flags().StringVar(&f.account, "account", "", "only this account's digests (an organization trail's member)")
	c.Flags().StringVar(&f.region, "source-region", "", "only the digests of this Region")
	c.Flags().StringVar(&f.name, "trail", "", "only the digests of the trail with this name")
	c.Flags().StringVar(&f.org, "org", "", "only this organization's digests (o-…), for an organization trail")
	c.Flags().StringVar(&f.bucket, "bucket", "", "the bucket's name, for a folder made by aws s3 sync (default: the name the digests give)")
	c.Flags().StringVar(&f.prefix, "prefix", "", "the trail's key prefix in a folder (default: the first digest's)")
	c.Flags().StringVar(&f.publicKeys, "public-keys", "", "CloudTrail's public keys from a file kept apart (as trail download writes .warroom/public-keys.json), instead of the source's")
	f.aws.register(c)
}

// open reads the flags of cmd and opens the trail arg names.
func (f *trailFlags) open(cmd *cobra.Command, e *env, arg string) (trailcheck.Options, trailcheck.Source, string, error) {
	f.prefixSet = cmd.Flags().Changed("prefix")
	o, err := f.options()
	if err != nil {
		return o, nil, "", err
	}
	src, name, err := f.openTrail(cmd.Context(), e, arg, &o)
	return o, src, name, err
}

// parseWhen reads --start or --end: RFC 3339, a date, or (for --start) a
// duration back from end.
func parseWhen(flag, s string, end time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && flag == "--start" && d > 0 {
		return end.Add(-d), nil
	}
	return time.Time{}, usageErr(fmt.Errorf("%s %q: want RFC 3339 (2026-12-01T05:00:00Z), a date (2026-12-01)%s", flag, s,
		map[bool]string{true: " or a duration (24h)", false: ""}[flag == "--start"]))
}

func (f *trailFlags) options() (trailcheck.Options, error) {
	o := trailcheck.Options{Account: f.account, Region: f.region, Trail: f.name, Org: f.org}
	o.End = time.Now().UTC()
	var err error
	if f.end != "" {
		if o.End, err = parseWhen("--end", f.end, o.End); err != nil {
			return o, err
		}
	}
	o.Start = o.End.Add(-24 * time.Hour)
	if f.start != "" {
		if o.Start, err = parseWhen("--start", f.start, o.End); err != nil {
			return o, err
		}
	}
	if o.Start.After(o.End) {
		return o, usageErr(errors.New("--start is after --end"))
	}
	if f.publicKeys != "" {
		keys, err := trailcheck.ReadPublicKeys(f.publicKeys, o.Start.Add(-time.Hour), o.End.Add(time.Hour))
		if errors.Is(err, trailcheck.ErrNotFound) {
			return o, usageErr(fmt.Errorf("--public-keys %s: no such file", sanitize.Terminal(f.publicKeys)))
		}
		if err != nil {
			return o, usageErr(err)
		}
		if len(keys) == 0 {
			return o, usageErr(fmt.Errorf("--public-keys %s: no key valid in the range", sanitize.Terminal(f.publicKeys)))
		}
		o.PublicKeys = keys
	}
	return o, nil
}

// trailBucketSource is the one place the S3 mode (s3://bucket/prefix, or
// auto: the trail DescribeTrails names) gets its Source: aws/trail's
// BucketSource, reading the bucket and CloudTrail's ListPublicKeys in the
// session's home Region.
func trailBucketSource(ctx context.Context, e *env, a *awsFlags, arg string) (src trailcheck.Source, bucket, prefix string, err error) {
	if arg != "auto" {
		if bucket, prefix, err = trail.ParseBucketURL(arg); err != nil {
			return nil, "", "", usageErr(err)
		}
	}
	sess, _, err := a.session(ctx, e)
	if err != nil {
		return nil, "", "", err
	}
	home := sess.HomeRegion()
	if arg == "auto" {
		if bucket, prefix, err = trail.DiscoverBucket(ctx, sess.CloudTrail(home), home); err != nil {
			return nil, "", "", usageErr(err)
		}
	}
	return trail.NewBucketSource(sess.S3(home), sess.CloudTrail(home), home), bucket, strings.Trim(prefix, "/"), nil
}

// openTrail opens SOURCE: s3://…, auto, or a folder. name is what the
// journal and the output call it.
func (f *trailFlags) openTrail(ctx context.Context, e *env, arg string, o *trailcheck.Options) (src trailcheck.Source, name string, err error) {
	if arg == "auto" || strings.HasPrefix(arg, "s3://") {
		src, bucket, prefix, err := trailBucketSource(ctx, e, &f.aws, arg)
		if err != nil {
			return nil, "", err
		}
		o.Bucket, o.Prefix = bucket, prefix
		name = "s3://" + bucket
		if prefix != "" {
			name += "/" + prefix
		}
		return src, name, nil
	}
	fi, err := os.Stat(arg)
	if err != nil {
		return nil, "", usageErr(fmt.Errorf("trail folder %s: %w", sanitize.Terminal(arg), err))
	}
	if !fi.IsDir() {
		return nil, "", usageErr(fmt.Errorf("%s is not a folder (give a folder, s3://BUCKET/PREFIX or auto)", sanitize.Terminal(arg)))
	}
	abs, _ := filepath.Abs(arg)
	folder := trailcheck.Folder{Dir: arg}
	bucket := f.bucket
	if _, err := os.Stat(filepath.Join(arg, ".warroom")); err != nil {
		// Not written by trail download: an aws s3 sync copy, one bucket's
		// keys directly in the folder, no metadata.
		folder.Bucket = "?"
		if bucket == "" {
			named, _, ok, err := trailcheck.Locate(ctx, folder, "?")
			if err != nil {
				return nil, "", usageErr(fmt.Errorf("trail folder %s: %w", sanitize.Terminal(arg), err))
			}
			if ok {
				bucket = named
			}
		}
		bucket = cmpOr(bucket, "?")
		folder.Bucket = bucket
	} else if bucket == "" {
		// DIR/BUCKET/KEY, as trail download writes it: the one bucket in it.
		ents, err := os.ReadDir(arg)
		if err != nil {
			return nil, "", usageErr(err)
		}
		var buckets []string
		for _, de := range ents {
			if de.IsDir() && !strings.HasPrefix(de.Name(), ".") {
				buckets = append(buckets, de.Name())
			}
		}
		if len(buckets) != 1 {
			return nil, "", usageErr(fmt.Errorf("trail folder %s holds %d buckets (%s): name one with --bucket",
				sanitize.Terminal(arg), len(buckets), sanitize.Terminal(strings.Join(buckets, ", "))))
		}
		bucket = buckets[0]
	}
	o.Bucket = bucket
	o.Prefix = strings.Trim(f.prefix, "/")
	if !f.prefixSet {
		if _, prefix, ok, err := trailcheck.Locate(ctx, folder, bucket); err == nil && ok {
			o.Prefix = prefix
		}
	}
	return folder, abs, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func newTrailValidateCmd(e *env) *cobra.Command {
	var (
		f       trailFlags
		output  string
		verbose bool
		path    string
	)
	c := &cobra.Command{
		Use:   "validate SOURCE",
		Short: "Validate a trail's log files against CloudTrail's signed digest files",
		Long: `validate checks a trail for a time range as aws cloudtrail validate-logs does: every digest
from the newest back through the chain (each signed by CloudTrail: RSA SHA-256 with the
public key whose fingerprint it names), and every log file a digest lists (SHA-256 of the
uncompressed file, hashed on every core). It prints, per hour (digest) and per file, what
is valid, invalid (and why), missing, every gap in the chain (validation off, logging
stopped, the trail deleted and recreated), and the log files present that no digest lists.

SOURCE is a folder — as trail download writes it (DIR/BUCKET/KEY, signatures and public
keys in DIR/.warroom), or as aws s3 sync writes it (DIR/KEY, no metadata: hashes and the
chain's links are checked, and it says signatures could not be) —, or s3://BUCKET/PREFIX,
or auto (the trail DescribeTrails names).

It exits 0 when the trail is intact (every digest and log file valid, no gap, every log
file vouched for but the ones delivered after the newest digest), 1 when it is not, and 2
on usage or I/O errors. With --journal, the result is journaled as a trail.integrity fact:
the console and the report show it.`,
		Example: `  warroom trail validate s3://org-trail/logs --start 24h
  warroom trail validate auto --profile prod
  warroom trail validate ./trail-copy --start 2026-12-01 --end 2026-12-02
  warroom trail validate ./synced-bucket --start 36h --output json
  warroom trail validate ./trail-copy -j incident/journal.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "table" {
				output = "text"
			}
			if output != "text" && output != "json" {
				return usageErr(fmt.Errorf("--output must be text or json, not %q", output))
			}
			if path != "" {
				if err := requireJournal(path); err != nil {
					return err
				}
			}
			o, src, name, err := f.open(cmd, e, args[0])
			if err != nil {
				return err
			}
			res, err := trailcheck.Validate(cmd.Context(), src, o)
			if err != nil {
				return usageErr(fmt.Errorf("validating %s: %w", name, err))
			}
			if path != "" {
				if err := journalIntegrity(path, name, res); err != nil {
					return err
				}
			}
			if output == "json" {
				if err := writeJSON(e.stdout, res); err != nil {
					return usageErr(err)
				}
			} else {
				printTrail(e.stdout, name, res, verbose)
			}
			if !res.Intact() {
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "list every valid log file too")
	journalFlag(c, &path, "journal to record the result in (a trail.integrity fact)")
	return c
}

func newTrailDownloadCmd(e *env) *cobra.Command {
	var f trailFlags
	c := &cobra.Command{
		Use:   "download SOURCE DIR",
		Short: "Copy a trail's digests, signatures, log files and public keys into a folder for offline validation",
		Long: `download copies what validating SOURCE for the range reads — every digest with its
signature (object metadata, kept in DIR/.warroom/meta), every log file a digest lists, the
log files present that none lists — and CloudTrail's public keys (DIR/.warroom/public-keys.json)
into DIR, as DIR/BUCKET/KEY. "warroom trail validate DIR" then needs no network. The public
keys in the folder are only as safe as the folder: keep a copy apart (or compare the
fingerprints printed) and give it with --public-keys.

It exits as validate does: 0 when what it copied is intact, 1 when not, 2 on errors.`,
		Example: `  warroom trail download s3://org-trail/logs ./trail-copy --start 2026-12-01 --end 2026-12-02`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, src, name, err := f.open(cmd, e, args[0])
			if err != nil {
				return err
			}
			if err := os.MkdirAll(args[1], 0o700); err != nil {
				return usageErr(err)
			}
			res, err := trailcheck.Download(cmd.Context(), src, trailcheck.Folder{Dir: args[1]}, o)
			if err != nil {
				return usageErr(fmt.Errorf("downloading %s: %w", name, err))
			}
			c := res.Counts
			fmt.Fprintf(e.stdout, "%s → %s: %d digests, %d log files, %d files no digest lists\n", sanitize.Terminal(name), sanitize.Terminal(args[1]),
				c.Digests, c.Logs, c.Unvouched)
			if len(res.KeyFingerprints) > 0 {
				fmt.Fprintf(e.stdout, "public keys: %s\n", sanitize.Terminal(strings.Join(res.KeyFingerprints, ", ")))
			}
			if !res.Intact() {
				fmt.Fprintf(e.stderr, "%s: NOT intact (run trail validate on the folder for where)\n", sanitize.Terminal(name))
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	f.register(c)
	return c
}

// printTrail writes a validation for a reader: per chain, per hour, the
// problems per file, the gaps, the files no digest lists, and a summary.
// Every name from the trail (keys, buckets: attacker-writable) is made safe.
func printTrail(w io.Writer, name string, res *trailcheck.Result, verbose bool) {
	t := sanitize.Terminal
	const day = "2006-01-02 15:04"
	fmt.Fprintf(w, "Validating %s from %s to %s\n", t(name), res.Start.Format(time.RFC3339), res.End.Format(time.RFC3339))
	for _, c := range res.Chains {
		fmt.Fprintf(w, "\n%s\n", t(c.ID.String()))
		for _, d := range c.Digests {
			when := d.End.Format(day)
			if !d.Start.IsZero() {
				when = d.Start.Format(day) + "–" + d.End.Format("15:04")
			}
			switch d.Status {
			case trailcheck.Valid:
				fmt.Fprintf(w, "  hour %s  valid    %d log files, signature %s\n", when, d.Logs, t(d.Signature))
			default:
				fmt.Fprintf(w, "  hour %s  %s  digest s3://%s/%s: %s\n", when, strings.ToUpper(string(d.Status)), t(d.Bucket), t(d.Key), t(d.Why))
			}
		}
		for _, l := range c.Files {
			if l.Status != trailcheck.Valid {
				fmt.Fprintf(w, "  log s3://%s/%s  %s: %s\n", t(l.Bucket), t(l.Key), strings.ToUpper(string(l.Status)), t(l.Why))
			} else if verbose {
				fmt.Fprintf(w, "  log s3://%s/%s  valid\n", t(l.Bucket), t(l.Key))
			}
		}
		for _, g := range c.Gaps {
			fmt.Fprintf(w, "  GAP %s – %s: no log files were delivered with digests (validation off, logging stopped, or the trail recreated)\n",
				g.From.Format(day), g.To.Format(day))
		}
		if !c.Began.IsZero() {
			fmt.Fprintf(w, "  chain begins %s (nothing earlier in the range is vouched for)\n", c.Began.Format(day))
		}
		for _, u := range c.Unvouched {
			word := "UNVOUCHED"
			if u.Pending {
				word = "pending"
			}
			fmt.Fprintf(w, "  log s3://%s/%s  %s: %s\n", t(u.Bucket), t(u.Key), word, t(u.Why))
		}
	}
	c := res.Counts
	fmt.Fprintf(w, "\n%d/%d digest files valid, %d/%d log files valid, %d gaps, %d log files no digest lists (%d pending)\n",
		c.DigestsValid, c.Digests, c.LogsValid, c.Logs, c.Gaps, c.Unvouched, c.Pending)
	switch {
	case res.SignaturesChecked:
		fmt.Fprintf(w, "signatures verified with public key(s) %s\n", t(strings.Join(res.KeyFingerprints, ", ")))
	case res.SignatureNote != "":
		fmt.Fprintf(w, "%s\n", t(res.SignatureNote))
	}
	if c.Digests == 0 {
		fmt.Fprintln(w, "no digest files found in the range: nothing is vouched for (is log file validation on for the trail?)")
	}
	if res.Intact() {
		fmt.Fprintf(w, "%s: intact\n", t(name))
	} else {
		fmt.Fprintf(w, "%s: NOT intact\n", t(name))
	}
}

// journalIntegrity records a validation in the journal at path.
func journalIntegrity(path, name string, res *trailcheck.Result) error {
	rec, err := state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		return usageErr(err)
	}
	_, err = rec.Record(state.KindTrailIntegrity, incident.IntegrityFact(name, res))
	if cerr := rec.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return usageErr(err)
	}
	return nil
}

// maxUnvouchedEvents bounds the event ids a trail.integrity fact names.
const maxUnvouchedEvents = 100_000

// ingestTrailCheck validates every folder among ingest's paths that holds
// CloudTrail digest files, journals each result (trail.integrity) with the
// event ids of the records in the files no valid digest vouches for (so
// those events are marked), and says so on stderr. A folder it cannot
// validate is said and skipped: ingest goes on.
func ingestTrailCheck(ctx context.Context, e *env, rec *state.Recorder, paths []string) error {
	for _, p := range paths {
		if !hasDigests(p) {
			continue
		}
		var f trailFlags
		o := trailcheck.Options{End: time.Now().UTC()}
		src, name, err := f.openTrail(ctx, e, p, &o)
		if err == nil {
			var res *trailcheck.Result
			if res, err = trailcheck.Validate(ctx, src, o); err == nil {
				fact := incident.IntegrityFact(name, res)
				files := notVouched(src.(trailcheck.Folder), res)
				marked := 0
				for _, file := range files {
					from := state.UnvouchedFrom{File: file}
					_, _, perr := ctlog.ParsePaths([]string{file}, ctlog.Options{}, func(r ctlog.Record) error {
						if marked < maxUnvouchedEvents && r.EventID != "" {
							from.Events = append(from.Events, r.EventID)
							marked++
						}
						return nil
					})
					_ = perr // ingest itself reports what it cannot parse
					if len(from.Events) > 0 {
						fact.UnvouchedFrom = append(fact.UnvouchedFrom, from)
					}
				}
				if _, err := rec.Record(state.KindTrailIntegrity, fact); err != nil {
					return usageErr(err)
				}
				c := res.Counts
				if res.Intact() {
					fmt.Fprintf(e.stderr, "trail %s: intact (%d digests, %d log files vouched for)\n", sanitize.Terminal(name), c.Digests, c.LogsValid)
				} else {
					fmt.Fprintf(e.stderr, "trail %s: NOT intact: %s; %d records from %d log files no valid digest vouches for are marked (warroom trail validate %s says where)\n",
						sanitize.Terminal(name), sanitize.Terminal(fact.Summary()), marked, len(files), sanitize.Terminal(p))
				}
				continue
			}
		}
		fmt.Fprintf(e.stderr, "trail %s: not validated: %s\n", sanitize.Terminal(p), sanitize.Terminal(err.Error()))
	}
	return nil
}

// hasDigests reports whether the folder p holds a CloudTrail-Digest folder.
func hasDigests(p string) bool {
	found := false
	filepath.WalkDir(p, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == "CloudTrail-Digest" {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}

// notVouched lists the local files of a validation's log files that are
// present but not vouched for: invalid ones and those no digest lists.
func notVouched(f trailcheck.Folder, res *trailcheck.Result) []string {
	local := func(bucket, key string) string {
		if f.Bucket != "" {
			return filepath.Join(f.Dir, filepath.FromSlash(key))
		}
		return filepath.Join(f.Dir, bucket, filepath.FromSlash(key))
	}
	var out []string
	for _, c := range res.Chains {
		for _, l := range c.Files {
			if l.Status == trailcheck.Invalid {
				out = append(out, local(l.Bucket, l.Key))
			}
		}
		for _, u := range c.Unvouched {
			out = append(out, local(u.Bucket, u.Key))
		}
	}
	return out
}
