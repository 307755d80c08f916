package incident

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/state"
)

// identityCenterLoop reads the home account's IAM Identity Center (in the
// session's Region) every Pacing.Inventory, journaling an identitycenter
// fact when it changes: its users and their access, "not enabled", or
// "not readable" with AWS's reason. A failure is a fact, never an end.
func (c *Core) identityCenterLoop(ctx context.Context) error {
	t := time.NewTicker(c.pace.Inventory)
	defer t.Stop()
	var last []byte
	for {
		ic := inventory.IdentityCenter(ctx, c.sess, c.sess.HomeRegion(), c.id.AccountID)
		if ctx.Err() != nil {
			return nil
		}
		cmp := ic
		cmp.TakenAt = time.Time{}
		b, _ := json.Marshal(cmp)
		if !bytes.Equal(b, last) {
			if _, err := c.rec.Record(state.KindIdentityCenter, ic); err != nil {
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
