package state

import (
	"encoding/json"
	"unsafe"

	"github.com/warroom-ir/warroom/state/journal"
)

// A span is where a record is in its events line: its start from the
// line's first byte (high 32 bits) and its length (low 32). 0: not known.
type span = uint64

// keepSpans records where each of recs, which share e.Data's memory (as
// decodeEvents returns them), is in e's line.
func (t *EventTable) keepSpans(e journal.Entry, recs []json.RawMessage) {
	if len(recs) == 0 || len(e.Data) == 0 {
		return
	}
	out := make([]span, len(recs))
	base := uintptr(unsafe.Pointer(&e.Data[0]))
	for i, r := range recs {
		if len(r) == 0 {
			continue
		}
		d := uintptr(unsafe.Pointer(&r[0])) - base
		if d >= uintptr(len(e.Data)) || d+uintptr(len(r)) > uintptr(len(e.Data)) {
			continue
		}
		at := uint64(e.DataAt) + uint64(d)
		if at>>32 != 0 || uint64(len(r))>>32 != 0 {
			continue
		}
		out[i] = at<<32 | uint64(len(r))
	}
	if t.spans == nil {
		t.spans = map[int64][]span{}
	}
	t.spans[e.Offset] = out
}

// spanOf returns the span of the record at ref (0: not known).
func (t *EventTable) spanOf(ref EventRef) span {
	s := t.spans[ref.Offset]
	if int(ref.Index) < len(s) {
		return s[ref.Index]
	}
	return 0
}
