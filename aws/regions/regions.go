// Package regions reads the account's Regions and their opt-in status
// (ec2:DescribeRegions with AllRegions), and re-reads them periodically:
// an attacker who enables a Region gains a place the responder is not
// looking, so a change is reported as soon as it is seen.
package regions

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// API is the one EC2 call this package makes. *ec2.Client implements it.
type API interface {
	DescribeRegions(ctx context.Context, in *ec2.DescribeRegionsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
}

// List returns every Region of the account with its opt-in status, sorted
// by name. region is where the call is sent (for the error message).
func List(ctx context.Context, api API, region string) ([]state.Region, error) {
	// DescribeRegions is not paginated: one call answers with every Region.
	out, err := api.DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		return nil, session.Wrap("ec2:DescribeRegions", region, err)
	}
	list := make([]state.Region, 0, len(out.Regions))
	for _, r := range out.Regions {
		name := aws.ToString(r.RegionName)
		if name == "" {
			continue
		}
		list = append(list, state.Region{Name: name, OptInStatus: aws.ToString(r.OptInStatus)})
	}
	slices.SortFunc(list, func(a, b state.Region) int { return strings.Compare(a.Name, b.Name) })
	return list, nil
}

// Enabled returns the names of the Regions that can be called, sorted.
func Enabled(list []state.Region) []string {
	var out []string
	for _, r := range list {
		if r.Enabled() {
			out = append(out, r.Name)
		}
	}
	slices.Sort(out)
	return out
}

// Change is one Region whose opt-in status differs between two reads.
// From is empty for a Region that was not listed before, To for one that
// is no longer listed.
type Change struct {
	Region string
	From   string
	To     string
}

// Enabled reports whether the change made a Region callable that was not.
func (c Change) Enabled() bool {
	return (c.From == "" || c.From == "not-opted-in") && c.To != "" && c.To != "not-opted-in"
}

// String describes the change: "ap-east-1: not-opted-in → opted-in".
func (c Change) String() string {
	from, to := c.From, c.To
	if from == "" {
		from = "(absent)"
	}
	if to == "" {
		to = "(absent)"
	}
	return c.Region + ": " + from + " → " + to
}

// Diff lists the Regions whose status differs from old to cur, by name.
func Diff(old, cur []state.Region) []Change {
	was := make(map[string]string, len(old))
	for _, r := range old {
		was[r.Name] = r.OptInStatus
	}
	var out []Change
	seen := make(map[string]bool, len(cur))
	for _, r := range cur {
		seen[r.Name] = true
		if from, ok := was[r.Name]; !ok || from != r.OptInStatus {
			out = append(out, Change{Region: r.Name, From: from, To: r.OptInStatus})
		}
	}
	for _, r := range old {
		if !seen[r.Name] {
			out = append(out, Change{Region: r.Name, From: r.OptInStatus})
		}
	}
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.Region, b.Region) })
	return out
}

// Watcher re-reads the Region list every Every and reports each read that
// differs from the one before (the first read always counts as a change).
type Watcher struct {
	// API answers DescribeRegions; Region is where it is sent.
	API    API
	Region string
	// Every is the time between reads (default 5 minutes).
	Every time.Duration
	// OnChange receives the whole new list and what changed. An error from
	// it stops the watcher.
	OnChange func(ctx context.Context, list []state.Region, changes []Change) error
	// OnError receives a failed read; the watcher goes on. Optional.
	OnError func(ctx context.Context, err error)
}

// DefaultEvery is how often a Watcher re-reads the Region list by default.
const DefaultEvery = 5 * time.Minute

// Run reads until ctx is done. It returns ctx's error, or OnChange's.
func (w *Watcher) Run(ctx context.Context) error {
	every := w.Every
	if every <= 0 {
		every = DefaultEvery
	}
	var last []state.Region
	first := true
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		list, err := List(ctx, w.API, w.Region)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if w.OnError != nil {
				w.OnError(ctx, err)
			}
		case first || len(Diff(last, list)) > 0:
			changes := Diff(last, list)
			first, last = false, list
			if w.OnChange != nil {
				if err := w.OnChange(ctx, list, changes); err != nil {
					return err
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
