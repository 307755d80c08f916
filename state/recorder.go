package state

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
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
	return es[0], nil
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
	// Built by hand: the raw records are already compact JSON, and
	// encoding/json would re-validate and copy every byte. bytes.Join
	// allocates the payload at its size without clearing it first, as a
	// make would for every byte (megabytes a batch) only for them to be
	// overwritten; Append checks the result.
	src, _ := json.Marshal(source)
	head := append([]byte(`{"source":`), src...)
	head = append(head, `,"records":[`...)
	tail := []byte{']'}
	if len(skipped) > 0 {
		sk, err := json.Marshal(skipped)
		if err != nil {
			return journal.Entry{}, ev, err
		}
		tail = append(append(tail, `,"skipped":`...), sk...)
	}
	tail = append(tail, '}')
	parts := make([][]byte, 0, 2*len(raws)+2)
	parts = append(parts, head)
	for i, raw := range raws {
		if i > 0 {
			parts = append(parts, recordSep)
		}
		parts = append(parts, raw)
	}
	buf := bytes.Join(append(parts, tail), nil)
	es, err := r.w.Append(draft(KindEvents, buf))
	if err != nil {
		return journal.Entry{}, ev, err
	}
	return es[0], ev, nil
}

// recordSep separates the records of an events payload.
var recordSep = []byte{','}

// Sync forces group-committed facts to disk.
func (r *Recorder) Sync() error { return r.w.Sync() }

// Close syncs and closes the journal.
func (r *Recorder) Close() error { return r.w.Close() }
