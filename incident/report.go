package incident

import (
	"context"

	"github.com/warroom-ir/warroom/report"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// Report folds the journal at path as replay does (up to the first
// problem, and without the line before a broken link: either may have been
// altered) and builds its post-incident report, resources tied to the
// events that created them. banner says what the reading met ("" when the
// journal verified): the report is of what was read. warroom report and
// the drill's debrief build theirs here, so both show the same Still open.
// The journal is opened as state.Open does (its checkpoint used and
// refreshed, as opts say).
func Report(ctx context.Context, path string, opts state.OpenOptions) (r *report.Report, rep journal.Report, banner string, err error) {
	rp, err := state.OpenReplayWith(path, opts)
	if err != nil {
		return nil, rep, "", err
	}
	defer rp.Close()
	rep, banner = rp.Report(), rp.Banner()
	s, err := rp.Fold(ctx, rp.Len())
	if err != nil {
		return nil, rep, banner, err
	}
	raw := state.NewRawReader(path)
	defer raw.Close()
	return report.Build(s, rep, report.Options{Raw: raw.Raw}), rep, banner, nil
}
