package state

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strings"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// Recorder writes facts to a journal: the only way facts are made. It marshals
// payloads, picks the fsync policy from the fact's kind (Durable), and builds
// event batches from already-redacted raw records.
type Recorder struct {
	w    *journal.Writer
	path string
	// Created is true when this Recorder created the journal.
	Created bool
}

// NewIncidentID returns a new incident id: the UTC time it was opened and a
// random suffix, e.g. "wr-20261123-0420-3fa9c1".
func NewIncidentID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return "wr-" + now.UTC().Format("20060102-1504") + "-" + hex.EncodeToString(b[:])
}

// LocalActor describes who is running this process: OS user, host, the SSH
// client address when the session came over SSH, and the pid.
func LocalActor() journal.Actor {
	a := journal.Actor{PID: os.Getpid()}
	if u, err := user.Current(); err == nil {
		a.User = u.Username
	} else {
		a.User = os.Getenv("USER")
	}
	a.Host, _ = os.Hostname()
	if c := os.Getenv("SSH_CLIENT"); c != "" {
		a.SSH = strings.Fields(c)[0]
	} else if c := os.Getenv("SSH_CONNECTION"); c != "" {
		a.SSH = strings.Fields(c)[0]
	}
	return a
}

// OpenRecorder opens the journal at path for appending, creating it (and its
// folder) with an incident.opened line when it does not exist or is empty.
// opened is used only when creating; its ID is generated when empty.
func OpenRecorder(path string, opened IncidentOpened, by journal.Actor) (*Recorder, error) {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.Size() > 0:
		w, err := journal.Open(path, by)
		if err != nil {
			return nil, err
		}
		return &Recorder{w: w, path: path}, nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	if opened.ID == "" {
		opened.ID = NewIncidentID(time.Now())
	}
	if opened.OpenedAt.IsZero() {
		opened.OpenedAt = time.Now().UTC()
	}
	if opened.User == "" {
		opened.User = by.User
	}
	if opened.Host == "" {
		opened.Host = by.Host
	}
	data, err := json.Marshal(opened)
	if err != nil {
		return nil, err
	}
	w, err := journal.Create(path, opened.ID, by, data)
	if err != nil {
		return nil, err
	}
	return &Recorder{w: w, path: path, Created: true}, nil
}

// Path returns the journal's path.
func (r *Recorder) Path() string { return r.path }

// Record journals one fact. Durable kinds are on disk when it returns.
func (r *Recorder) Record(kind Kind, payload any) (journal.Entry, error) {
	data, err := json.Marshal(payload)
	if err != nil {
		return journal.Entry{}, fmt.Errorf("record %s: %w", kind, err)
	}
	es, err := r.w.Append(draft(kind, data))
	if err != nil {
		return journal.Entry{}, err
	}
	// When the writer repaired the file's end first, its journal.repaired
	// entry comes before ours: ours is the last.
	return es[len(es)-1], nil
}

func draft(kind Kind, data json.RawMessage) journal.Draft {
	d := journal.Draft{Kind: string(kind), Data: data, Sync: journal.SyncGroup}
	if Durable(kind) {
		d.Sync = journal.SyncNow
	}
	return d
}

// RecordEvents journals a batch of parsed records (their Raw bytes, already
// compacted and redacted by ctlog) as one events fact, group-committed. It
// returns the entry and the payload, so the caller can apply both to a store
// with ApplyEvents without parsing the records again.
func (r *Recorder) RecordEvents(source string, recs []ctlog.Record, skipped []Skipped) (journal.Entry, Events, error) {
	raws := make([]json.RawMessage, len(recs))
	for i := range recs {
		raws[i] = recs[i].Raw
	}
	return r.RecordRawEvents(source, raws, skipped)
}

// RecordRawEvents is RecordEvents for callers that kept only the records'
// Raw bytes (as ctlog produced them: compact, secrets redacted).
func (r *Recorder) RecordRawEvents(source string, raws []json.RawMessage, skipped []Skipped) (journal.Entry, Events, error) {
	ev := Events{Source: source, Skipped: skipped, Records: raws}
	size := 64 + len(source)
	for _, raw := range raws {
		size += len(raw) + 1
	}
	var b EventsBatch
	b.Reset(source, slices.Grow([]byte(nil), size))
	for _, raw := range raws {
		b.Add(raw)
	}
	e, err := r.RecordBatch(&b, skipped)
	return e, ev, err
}

// EventsBatch builds the payload of an events fact one record at a time,
// in a buffer the caller owns and may reuse once the batch is recorded:
// a reader of many files copies each record once, from the parser's
// memory into the batch, and nothing is allocated per batch.
type EventsBatch struct {
	buf     []byte
	records int
	bytes   int
}

// Reset starts a batch of records from source in buf (its contents are
// dropped; its capacity is used).
func (b *EventsBatch) Reset(source string, buf []byte) {
	src, _ := json.Marshal(source)
	b.buf = append(append(append(buf[:0], `{"source":`...), src...), `,"records":[`...)
	b.records, b.bytes = 0, 0
}

// Add appends one record's raw JSON, as ctlog produced it (compact, its
// secrets redacted). The journal checks the whole payload when recorded.
func (b *EventsBatch) Add(raw json.RawMessage) {
	if b.records > 0 {
		b.buf = append(b.buf, ',')
	}
	b.buf = append(b.buf, raw...)
	b.records++
	b.bytes += len(raw)
}

// Len is the number of records added since Reset.
func (b *EventsBatch) Len() int { return b.records }

// Bytes is the size of the records added since Reset.
func (b *EventsBatch) Bytes() int { return b.bytes }

// Buffer returns the batch's buffer, for reuse in a later Reset once the
// batch has been recorded (or abandoned).
func (b *EventsBatch) Buffer() []byte { return b.buf[:0] }

// RecordBatch journals the batch as one events fact, group-committed,
// with the records that could not be parsed. The returned entry's Data is
// the batch's buffer: valid until the buffer is reused. The batch itself
// is finished: Reset it before adding again.
func (r *Recorder) RecordBatch(b *EventsBatch, skipped []Skipped) (journal.Entry, error) {
	b.buf = append(b.buf, ']')
	if len(skipped) > 0 {
		sk, err := json.Marshal(skipped)
		if err != nil {
			return journal.Entry{}, err
		}
		b.buf = append(append(b.buf, `,"skipped":`...), sk...)
	}
	b.buf = append(b.buf, '}')
	es, err := r.w.Append(draft(KindEvents, b.buf))
	if err != nil {
		return journal.Entry{}, err
	}
	// When the writer repaired the file's end first, its journal.repaired
	// entry comes before ours: ours is the last.
	return es[len(es)-1], nil
}

// Sync forces group-committed facts to disk.
func (r *Recorder) Sync() error { return r.w.Sync() }

// Close syncs and closes the journal.
func (r *Recorder) Close() error { return r.w.Close() }

// Head returns the seq and hash of the newest line the Recorder knows of
// (see journal.Writer.Head), and the incident id: what an anchor records.
func (r *Recorder) Head() (incident string, seq int64, hash string) {
	seq, hash = r.w.Head()
	return r.w.IncidentID(), seq, hash
}

// SkippedOf converts ctlog's problems to Skipped entries.
func SkippedOf(probs []ctlog.Problem) []Skipped {
	if len(probs) == 0 {
		return nil
	}
	out := make([]Skipped, len(probs))
	for i, p := range probs {
		out[i] = Skipped{File: p.File, Index: p.Index, Line: p.Line, Reason: p.Reason, Count: p.Count}
	}
	return out
}
