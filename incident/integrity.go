package incident

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/warroom-ir/warroom/aws/trail"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/trailcheck"
)

// The console's own check of CloudTrail's log-file integrity: at start and
// every Pacing.Integrity it asks CloudTrail which trails write digest files
// (DescribeTrails), validates each one's files from the incident's start
// (or the last Pacing.IntegrityWindow, whichever is longer) against its
// signed digests (trailcheck.Validate over aws/trail's BucketSource), and
// journals one trail.integrity fact for the account when the result
// differs from the last one journaled. It only reads.
//
// What it cannot check is said as such, never as intact: a failed read
// (DescribeTrails or the bucket denied) and no trail with validation on are
// "unchecked" (Failed); a trail that has not delivered a digest yet is
// "unsure" (Unsure), not broken.

// IntegritySource is the source the console journals an account's trail
// integrity under: one fact for all the account's trails, so each replaces
// the last whatever trails there are.
func IntegritySource(account string) string { return "trails of account " + account }

// maxUnvouchedReads bounds the log files a check reads for the event ids of
// files no digest vouches for; maxUnvouchedEvents bounds the ids a fact names.
const (
	maxUnvouchedReads  = 50
	maxUnvouchedEvents = 100_000
)

// maxIntegrityBack bounds how far back from now a check reaches.
const maxIntegrityBack = 48 * time.Hour

// integrityLoop checks the account's trails now and every Pacing.Integrity.
func (c *Core) integrityLoop(ctx context.Context, home string, began time.Time) error {
	if c.pace.Integrity <= 0 {
		return nil
	}
	src := IntegritySource(c.id.AccountID)
	var last string
	c.fold.Read(func(s *state.Store) {
		if d, ok := s.Integrity[src]; ok {
			last = integrityKey(d.V)
		}
	})
	for {
		fact := c.checkIntegrity(ctx, home, began)
		if ctx.Err() != nil {
			return nil
		}
		if k := integrityKey(fact); k != last {
			if _, err := c.rec.Record(state.KindTrailIntegrity, fact); err != nil {
				return err
			}
			last = k
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(integrityNext(c.pace.Integrity, fact)):
		}
	}
}

// integrityNext is how long until the next check: Pacing.Integrity, or a
// twelfth of it (at least ten seconds) while the last check could not say
// (no digest yet, or the trails could not be read): an hour of "unsure"
// at the start of an incident is an hour the responder reads unvouched
// logs without knowing.
func integrityNext(every time.Duration, last state.TrailIntegrity) time.Duration {
	if last.Unsure != "" || last.Failed != "" {
		return min(every, max(every/12, 10*time.Second))
	}
	return every
}

// integrityKey is what makes two checks' results differ: the verdict and
// where, not the times or the counts, which move as the window does, nor
// the pending files, which are not digested yet.
func integrityKey(t state.TrailIntegrity) string {
	t.Start, t.End = time.Time{}, time.Time{}
	t.Digests, t.DigestsValid, t.Logs, t.LogsValid = 0, 0, 0, 0
	t.Unvouched = nil
	b, _ := json.Marshal(t)
	return string(b)
}

// checkIntegrity validates every trail of the account that writes digests
// and returns the result as one fact.
func (c *Core) checkIntegrity(ctx context.Context, home string, began time.Time) state.TrailIntegrity {
	fact := state.TrailIntegrity{Source: IntegritySource(c.id.AccountID)}
	trails, now, err := trail.DescribeTrails(ctx, c.sess.CloudTrail(home), home)
	if now.IsZero() {
		now = time.Now().UTC()
	}
	fact.End = now
	if err != nil {
		fact.Failed = "the trails could not be read: " + err.Error()
		fact.Note = fact.Failed
		return fact
	}
	start := now.Add(-c.pace.IntegrityWindow)
	if !began.IsZero() && began.Before(start) {
		start = began.UTC()
	}
	if oldest := now.Add(-maxIntegrityBack); start.Before(oldest) {
		start = oldest
	}
	fact.Start = start
	var (
		checked []state.TrailIntegrity
		failed  []string
		unsure  []string
		without []string
	)
	for _, t := range trails {
		if !t.Validation || t.Bucket == "" {
			without = append(without, t.Name)
			continue
		}
		name := "s3://" + t.Bucket
		if t.Prefix != "" {
			name += "/" + t.Prefix
		}
		name += " trail " + t.Name
		fact.Trails = append(fact.Trails, name)
		keysRegion := cmpOr(t.HomeRegion, home)
		src := trail.NewBucketSource(c.sess.S3(home), c.sess.CloudTrail(keysRegion), home)
		o := trailcheck.Options{Bucket: t.Bucket, Prefix: t.Prefix, Trail: t.Name, Start: start, End: now}
		if !t.Org {
			// An organization trail's digests are under AWSLogs/o-…/ACCOUNT/:
			// narrowed by the trail's name only.
			o.Account = c.id.AccountID
		}
		res, err := trailcheck.Validate(ctx, src, o)
		if err != nil {
			failed = append(failed, name+": "+err.Error())
			continue
		}
		if res.Counts.Digests == 0 {
			why, broken, err := noDigest(ctx, src, t, c.id.AccountID, start, now, c.pace.DigestEvery)
			if err != nil {
				failed = append(failed, name+": "+err.Error())
				continue
			}
			if !broken {
				unsure = append(unsure, name+": "+why)
				continue
			}
		}
		one := IntegrityFact(name, res)
		one.UnvouchedFrom = unvouchedEvents(ctx, src, res)
		checked = append(checked, one)
	}
	if len(fact.Trails) == 0 {
		fact.Failed = "no trail has log file validation on: nothing vouches for the log files"
		if len(without) > 0 {
			fact.Failed += " (trails without it: " + strings.Join(without, ", ") + ")"
		}
	}
	fact.Failed = joinNonEmpty("; ", fact.Failed, strings.Join(failed, "; "))
	fact.Unsure = strings.Join(unsure, "; ")
	mergeIntegrity(&fact, checked)
	if fact.Failed != "" {
		fact.Note = joinNonEmpty("; ", fact.Failed, fact.Note)
	}
	return fact
}

// mergeIntegrity adds the trails' results to the account's fact: intact
// only when every trail is and nothing failed or is unsure.
func mergeIntegrity(fact *state.TrailIntegrity, trails []state.TrailIntegrity) {
	fact.Intact = len(trails) > 0 && fact.Failed == "" && fact.Unsure == ""
	fact.SignaturesChecked = len(trails) > 0
	var notes []string
	for _, t := range trails {
		fact.Intact = fact.Intact && t.Intact
		fact.SignaturesChecked = fact.SignaturesChecked && t.SignaturesChecked
		if t.Note != "" {
			notes = append(notes, t.Note)
		}
		fact.Digests += t.Digests
		fact.DigestsValid += t.DigestsValid
		fact.Logs += t.Logs
		fact.LogsValid += t.LogsValid
		fact.Gaps = append(fact.Gaps, t.Gaps...)
		for _, p := range t.Problems {
			if len(fact.Problems) < state.MaxTrailProblems {
				fact.Problems = append(fact.Problems, p)
			} else {
				fact.MoreProblems++
			}
		}
		fact.MoreProblems += t.MoreProblems
		fact.Unvouched = append(fact.Unvouched, t.Unvouched...)
		fact.UnvouchedFrom = append(fact.UnvouchedFrom, t.UnvouchedFrom...)
	}
	fact.Note = strings.Join(notes, "; ")
}

// noDigest tells, for a trail with no digest in [start, end], "no digest
// yet" (unsure) from digests gone (broken): CloudTrail writes one every
// digestEvery, so a log file of the trail's home Region delivered more
// than two periods ago should be in one.
func noDigest(ctx context.Context, src trailcheck.Source, t trail.Described, account string, start, end time.Time, digestEvery time.Duration) (why string, broken bool, err error) {
	if digestEvery <= 0 {
		digestEvery = time.Hour
	}
	due := end.Add(-2 * digestEvery)
	base := "AWSLogs/" + account + "/CloudTrail/" + cmpOr(t.HomeRegion, "") + "/"
	if t.Prefix != "" {
		base = t.Prefix + "/" + base
	}
	for day := start.Truncate(24 * time.Hour); !day.After(end); day = day.Add(24 * time.Hour) {
		keys, err := src.List(ctx, t.Bucket, base+day.Format("2006/01/02/"))
		if err != nil {
			return "", false, err
		}
		for _, k := range keys {
			if at, ok := trailcheck.LogKeyTime(k); ok && !at.Before(start) && at.Before(due) {
				return "", true, nil
			}
		}
	}
	return "no digest delivered yet (CloudTrail writes one every " + digestEvery.String() + ")", false, nil
}

// unvouchedEvents reads the log files present that no valid digest vouches
// for (invalid ones, and those no digest lists and not pending) and returns
// the event ids of their records by file, so the stream marks those events.
func unvouchedEvents(ctx context.Context, src trailcheck.Source, res *trailcheck.Result) []state.UnvouchedFrom {
	var files [][2]string
	for _, ch := range res.Chains {
		for _, f := range ch.Files {
			if f.Status == trailcheck.Invalid {
				files = append(files, [2]string{f.Bucket, f.Key})
			}
		}
		for _, u := range ch.Unvouched {
			if !u.Pending {
				files = append(files, [2]string{u.Bucket, u.Key})
			}
		}
	}
	var out []state.UnvouchedFrom
	n := 0
	for i, f := range files {
		if i == maxUnvouchedReads || n >= maxUnvouchedEvents {
			break
		}
		obj, err := src.Get(ctx, f[0], f[1])
		if err != nil {
			continue // gone since: the next check says so
		}
		from := state.UnvouchedFrom{File: "s3://" + f[0] + "/" + f[1]}
		_, _ = ctlog.ParseBytes(from.File, obj.Body, ctlog.Options{}, func(r ctlog.Record) error {
			if r.EventID != "" && n < maxUnvouchedEvents {
				from.Events = append(from.Events, r.EventID)
				n++
			}
			return nil
		})
		if len(from.Events) > 0 {
			out = append(out, from)
		}
	}
	return out
}

// IntegrityFact is a validation as the journal keeps it (trail validate's
// fact, and each trail's part of the console's).
func IntegrityFact(name string, res *trailcheck.Result) state.TrailIntegrity {
	c := res.Counts
	ti := state.TrailIntegrity{Source: name, Start: res.Start, End: res.End, Intact: res.Intact(), SignaturesChecked: res.SignaturesChecked,
		Note: res.SignatureNote, Digests: c.Digests, DigestsValid: c.DigestsValid, Logs: c.Logs, LogsValid: c.LogsValid}
	add := func(p state.TrailProblem) {
		if len(ti.Problems) < state.MaxTrailProblems {
			ti.Problems = append(ti.Problems, p)
		} else {
			ti.MoreProblems++
		}
	}
	for _, ch := range res.Chains {
		for _, g := range ch.Gaps {
			ti.Gaps = append(ti.Gaps, state.TrailGap{Chain: ch.ID.String(), From: g.From, To: g.To})
		}
		for _, d := range ch.Digests {
			if d.Status != trailcheck.Valid {
				add(state.TrailProblem{What: "digest", Bucket: d.Bucket, Key: d.Key, Status: string(d.Status), Why: d.Why})
			}
		}
		for _, l := range ch.Files {
			if l.Status != trailcheck.Valid {
				add(state.TrailProblem{What: "log", Bucket: l.Bucket, Key: l.Key, Status: string(l.Status), Why: l.Why})
			}
		}
		for _, u := range ch.Unvouched {
			if !u.Pending {
				add(state.TrailProblem{What: "unvouched", Bucket: u.Bucket, Key: u.Key, Status: "unvouched", Why: u.Why})
			}
			if len(ti.Unvouched) < 10*state.MaxTrailProblems {
				ti.Unvouched = append(ti.Unvouched, u.Bucket+"/"+u.Key)
			}
		}
	}
	if c.Digests == 0 {
		add(state.TrailProblem{What: "digest", Status: "missing", Why: "no digest files in the range"})
	}
	return ti
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
