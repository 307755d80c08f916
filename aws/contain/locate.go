package contain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/warroom-ir/warroom/aws/regions"
	"github.com/warroom-ir/warroom/aws/session"
)

// ErrNotFound: the target does not exist (in any Region looked in, for a
// Regional resource). An action never reads a missing target as "already
// in effect": only a target that exists can already be in the wanted
// state.
var ErrNotFound = errors.New("not found")

// notFound is an ErrNotFound naming what is missing and, when AWS said so,
// the call that said it.
func notFound(cause error, format string, args ...any) error {
	return &notFoundError{msg: fmt.Sprintf(format, args...), cause: cause}
}

type notFoundError struct {
	msg   string
	cause error
}

func (e *notFoundError) Error() string {
	if e.cause != nil {
		return e.msg + " (" + e.cause.Error() + ")"
	}
	return e.msg
}

func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

func (e *notFoundError) Unwrap() error { return e.cause }

// regionFinder reads which of ids exist in region. A Regional resource
// that does not exist there is simply absent from found; err is for a
// Region that could not be read.
type regionFinder func(ctx context.Context, region string, ids []string) (found []string, err error)

// located is where a Regional target's resources are.
type located struct {
	// Region is the one Region every id is in.
	Region string
	// Finding says where they were found when that is not the Region
	// asked for ("i-… is in ca-west-1, not us-east-1"); empty otherwise.
	Finding string
}

// searchParallel is how many Regions are read at once when every enabled
// Region is searched.
const searchParallel = 6

// locate finds the one Region that holds every id of kind (what names
// them in messages: "instance", "key pair" …). It reads the given Region
// first; what is not there is looked for in the Regions the journal saw
// it in (env.Locate), then in every enabled Region of the account
// (ec2:DescribeRegions). unique says ids are unique across Regions
// (instance and spot request ids); names (key pairs, functions) may exist
// in several Regions, and then the responder must choose.
//
// It fails, naming every Region it looked in, when an id is nowhere; and
// it refuses, naming each id's Region, when the ids are spread over
// several Regions: an action's intent, busy check and verification are
// about one Region, so the responder runs it once per Region.
func locate(ctx context.Context, env *Env, kind Kind, what, given string, ids []string, unique bool, find regionFinder) (located, error) {
	if len(ids) == 0 {
		return located{}, fmt.Errorf("%s: no id given", what)
	}
	where := map[string][]string{} // id → Regions holding it
	var looked []string
	failed := map[string]error{}
	lookIn := func(region string, want []string) {
		if region == "" || slices.Contains(looked, region) {
			return
		}
		looked = append(looked, region)
		found, err := find(ctx, region, want)
		if err != nil {
			failed[region] = err
		}
		for _, id := range found {
			where[id] = append(where[id], region)
		}
	}
	missing := func() []string {
		var out []string
		for _, id := range ids {
			if len(where[id]) == 0 {
				out = append(out, id)
			}
		}
		return out
	}
	// 1. The Region asked for. A Region that cannot be read is an error
	// here (the resource may well be there), unless it is not enabled.
	if given != "" {
		lookIn(given, ids)
		if err := failed[given]; err != nil && session.Classify(err) != session.ClassRegionDisabled {
			return located{}, err
		}
		if len(missing()) == 0 {
			return located{Region: given}, nil
		}
	}
	// 2. Where the journal saw them.
	if env.Locate != nil {
		var seen []string
		for _, id := range missing() {
			for _, r := range env.Locate(kindOf(kind, id), id) {
				if !slices.Contains(seen, r) {
					seen = append(seen, r)
				}
			}
		}
		for _, r := range seen {
			if m := missing(); len(m) > 0 {
				lookIn(r, m)
			}
		}
	}
	// 3. Every enabled Region: names may repeat across Regions, so a name
	// found once is still looked for everywhere else when no Region was
	// given; unique ids stop the search once all are found.
	if m := missing(); len(m) > 0 || (!unique && given == "") {
		home := env.Sess.HomeRegion()
		list, err := regions.List(ctx, env.Sess.EC2(home), home)
		if err != nil {
			return located{}, fmt.Errorf("%s %s: not found in %s, and the account's Regions could not be listed: %w",
				what, strings.Join(m, ", "), orNone(looked), err)
		}
		var rest []string
		for _, r := range regions.Enabled(list) {
			if !slices.Contains(looked, r) {
				rest = append(rest, r)
			}
		}
		want := m
		if !unique {
			want = ids
		}
		var mu sync.Mutex
		each(len(rest), searchParallel, func(i int) {
			r := rest[i]
			found, err := find(ctx, r, want)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed[r] = err
			}
			for _, id := range found {
				if !slices.Contains(where[id], r) {
					where[id] = append(where[id], r)
				}
			}
		})
		looked = append(looked, rest...)
	}
	if m := missing(); len(m) > 0 {
		slices.Sort(looked)
		msg := fmt.Sprintf("%s %s: not found in any of the %d Regions looked in (%s)", what, strings.Join(m, ", "), len(looked), strings.Join(looked, ", "))
		if len(failed) > 0 {
			msg += "; could not read " + failedList(failed)
		}
		return located{}, notFound(nil, "%s", msg)
	}
	// One Region for all of them.
	regionsOf := map[string][]string{}
	for _, id := range ids {
		for _, r := range where[id] {
			regionsOf[r] = append(regionsOf[r], id)
		}
	}
	if len(regionsOf) > 1 {
		// A name given with its Region that is also elsewhere: the Region
		// asked for wins.
		if given != "" && len(regionsOf[given]) == len(ids) {
			return located{Region: given}, nil
		}
		rs := make([]string, 0, len(regionsOf))
		for r := range regionsOf {
			rs = append(rs, r)
		}
		slices.Sort(rs)
		var parts []string
		for _, r := range rs {
			parts = append(parts, strings.Join(regionsOf[r], ",")+" in "+r)
		}
		if !unique && len(ids) == 1 {
			return located{}, fmt.Errorf("%s %s exists in %d Regions (%s): give the Region (--region) to act on one", what, ids[0], len(rs), strings.Join(rs, ", "))
		}
		return located{}, fmt.Errorf("%s are in several Regions (%s): an action acts in one Region; run it once per Region with --region", what, strings.Join(parts, "; "))
	}
	var region string
	for r := range regionsOf {
		region = r
	}
	l := located{Region: region}
	if region != given {
		verb := "is"
		if len(ids) > 1 {
			verb = "are"
		}
		if given == "" {
			l.Finding = fmt.Sprintf("%s %s in %s (no Region given; looked in %s)", strings.Join(ids, ", "), verb, region, strings.Join(lookedUpTo(looked), ", "))
		} else {
			l.Finding = fmt.Sprintf("%s %s in %s, not %s", strings.Join(ids, ", "), verb, region, given)
		}
	}
	return l, nil
}

// lookedUpTo is the Regions looked in, or their number when the whole
// account was searched.
func lookedUpTo(looked []string) []string {
	if len(looked) > 6 {
		return []string{fmt.Sprintf("%d Regions", len(looked))}
	}
	return looked
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "no Region"
	}
	return strings.Join(list, ", ")
}

func failedList(failed map[string]error) string {
	rs := make([]string, 0, len(failed))
	for r := range failed {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r + " (" + string(session.Classify(failed[r])) + ")"
	}
	return strings.Join(parts, ", ")
}

// kindOf is the kind of one id of a target of kind: a tag target holds
// instance and spot request ids.
func kindOf(kind Kind, id string) Kind {
	if kind != KindTagResource {
		return kind
	}
	if strings.HasPrefix(id, "sir-") {
		return KindSpot
	}
	return KindInstances
}
