package incident

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/warroom-ir/warroom/aws/findings"
	"github.com/warroom-ir/warroom/state"
)

// guarddutyLoop reads GuardDuty's findings in every enabled Region at
// start and every Pacing.GuardDuty, journaling a guardduty fact when what
// it found (findings, or a Region's status) differs from the last one
// journaled. A Region that fails (denied, throttled, …) is a status in the
// fact, named with its error; the others are read on.
func (c *Core) guarddutyLoop(ctx context.Context, began time.Time) error {
	if c.pace.GuardDuty <= 0 {
		return nil
	}
	t := time.NewTicker(c.pace.GuardDuty)
	defer t.Stop()
	var last []byte
	for {
		gd := findings.Read(ctx, findings.SessionClient(c.sess), findings.Options{Regions: c.EnabledRegions(), Since: began})
		if ctx.Err() != nil {
			return nil
		}
		if b := guarddutyBody(gd); !bytes.Equal(b, last) {
			if _, err := c.rec.Record(state.KindGuardDuty, gd); err != nil {
				return err
			}
			last = b
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// guarddutyBody is a read without its time, to tell a change.
func guarddutyBody(gd state.GuardDuty) []byte {
	gd.ReadAt = time.Time{}
	b, _ := json.Marshal(gd)
	return b
}
