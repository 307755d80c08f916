package state

import (
	"encoding/json"
	"fmt"

	"github.com/warroom-ir/warroom/state/journal"
)

// RawReader reads events' raw CloudTrail records back from the journal by
// reference: the store keeps only where each record is, never its bytes. It
// keeps the last batch it decoded, so reading events in journal order
// decodes each line once.
type RawReader struct {
	path   string
	offset int64
	batch  []json.RawMessage
}

// NewRawReader returns a reader of the journal at path.
func NewRawReader(path string) *RawReader { return &RawReader{path: path, offset: -1} }

// Raw returns the raw JSON of the record at ref.
func (r *RawReader) Raw(ref EventRef) ([]byte, error) {
	if ref.Offset != r.offset {
		e, err := journal.ReadAt(r.path, ref.Offset)
		if err != nil {
			return nil, err
		}
		if Kind(e.Kind) != KindEvents {
			return nil, fmt.Errorf("journal %s offset %d: a %s fact, not events", r.path, ref.Offset, e.Kind)
		}
		ev, ok := decodeEvents(e.Data)
		if !ok {
			ev = Events{}
			if err := json.Unmarshal(e.Data, &ev); err != nil {
				return nil, fmt.Errorf("journal %s line %d: %w", r.path, e.Seq, err)
			}
		}
		r.offset, r.batch = ref.Offset, ev.Records
	}
	if int(ref.Index) >= len(r.batch) {
		return nil, fmt.Errorf("journal %s offset %d: no record %d in a batch of %d", r.path, ref.Offset, ref.Index, len(r.batch))
	}
	return r.batch[ref.Index], nil
}

// Close releases the reader.
func (r *RawReader) Close() error {
	r.batch = nil
	return nil
}
