package state

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/warroom-ir/warroom/state/journal"
)

// ActionLedger is the containment actions of a journal, as every responder
// writing to it recorded them: the action part of the fold. The Store
// embeds one; the containment runner reads one straight from the file
// (ReadActions, ActionLog) without folding anything else. Both fold action
// facts with the same reducer, apply.
type ActionLedger struct {
	// Actions lists containment actions in the order their intents were journaled.
	Actions []*Action
	byID    map[string]*Action
}

// Action returns the action with the given id, or nil.
func (l *ActionLedger) Action(id string) *Action { return l.byID[id] }

// Unfinished returns the actions whose outcome is unknown (Action.Unfinished).
func (l *ActionLedger) Unfinished() []*Action {
	var out []*Action
	for _, a := range l.Actions {
		if a.Unfinished() {
			out = append(out, a)
		}
	}
	return out
}

// Unfinished reports whether the action has an intent but neither a result
// nor a verification: its outcome is unknown. While its process lives it
// is in progress (another responder's busy check waits for it); after that
// process died, it must be read back (the runner's Resume), and the
// verification that journals ends it. It is the one definition of
// "unfinished", used by the store, the busy check and Resume.
func (a *Action) Unfinished() bool { return a.Result == nil && len(a.Verifies) == 0 }

// isActionKind reports whether kind is an action fact's.
func isActionKind(kind Kind) bool {
	return kind == KindActionIntent || kind == KindActionResult || kind == KindActionVerify
}

// apply folds one action fact (isActionKind) into the ledger and returns
// the action it was about. A result or verification of an action the
// ledger does not hold is an error, and changes nothing.
func (l *ActionLedger) apply(e journal.Entry) (*Action, error) {
	if l.byID == nil {
		l.byID = map[string]*Action{}
	}
	switch Kind(e.Kind) {
	case KindActionIntent:
		v, err := decode[ActionIntent](e)
		if err != nil {
			return nil, err
		}
		a := &Action{Intent: v, IntentSeq: e.Seq, At: e.At, By: e.By}
		l.Actions = append(l.Actions, a)
		l.byID[v.ActionID] = a
		return a, nil
	case KindActionResult:
		v, err := decode[ActionResult](e)
		if err != nil {
			return nil, err
		}
		a := l.byID[v.ActionID]
		if a == nil {
			return nil, fmt.Errorf("result for unknown action %q", v.ActionID)
		}
		a.Result, a.ResultAt = &v, e.At
		return a, nil
	case KindActionVerify:
		v, err := decode[ActionVerify](e)
		if err != nil {
			return nil, err
		}
		a := l.byID[v.ActionID]
		if a == nil {
			return nil, fmt.Errorf("verification of unknown action %q", v.ActionID)
		}
		a.Verifies = append(a.Verifies, v)
		return a, nil
	}
	return nil, fmt.Errorf("%s is not an action fact", e.Kind)
}

// actionSummary is the journal pane's line for an action fact of kind k
// just applied to a.
func actionSummary(k Kind, a *Action) string {
	switch k {
	case KindActionIntent:
		return fmt.Sprintf("intent %s %s (%s)", a.Intent.Action, a.Intent.Target, Plural(len(a.Intent.Plan), "call"))
	case KindActionResult:
		sum := fmt.Sprintf("result %s %s: %s", a.Intent.Action, a.Intent.Target, a.Outcome())
		if a.Result.Error != "" {
			sum += ": " + a.Result.Error
		}
		return sum
	}
	v := a.Verifies[len(a.Verifies)-1]
	sum := fmt.Sprintf("verify %s %s: %s", a.Intent.Action, a.Intent.Target, a.Outcome())
	if v.Detail != "" {
		sum += ": " + v.Detail
	}
	return sum
}

// ReadActions reads the action facts of the journal at path (every
// writer's), verifying the chain as Replay does: the ledger holds the
// actions of the lines the chain vouches for (readVouched), and the report
// says where and why reading stopped. The error is for I/O failures only.
func ReadActions(path string) (*ActionLedger, journal.Report, error) {
	l := &ActionLedger{byID: map[string]*Action{}}
	rep, err := readVouched(path, func(e journal.Entry) error {
		if isActionKind(Kind(e.Kind)) {
			_, _ = l.apply(e) // a fact that does not apply changes nothing
		}
		return nil
	})
	if err != nil {
		return nil, rep, err
	}
	return l, rep, nil
}

// actionMark is in every action fact's line, and in few others: the
// journal writes an entry's keys in one order and without spaces.
var actionMark = []byte(`"kind":"action.`)

// ActionLog keeps the action facts of a journal file up to date cheaply:
// each call folds only the lines appended since the last one. Lines are
// decoded, not verified (ReadActions verifies): it is the view of a check
// made before every containment action, which must stay fast on a journal
// of millions of events. It is safe for concurrent use.
type ActionLog struct {
	path string

	mu     sync.Mutex
	ledger *ActionLedger
	off    int64 // where the next read starts: just past the last complete line read
}

// NewActionLog returns an ActionLog of the journal at path that has read
// nothing yet.
func NewActionLog(path string) *ActionLog { return &ActionLog{path: path} }

// Unfinished brings the log up to the journal's last complete line and
// returns copies of the actions whose outcome is unknown then
// (Action.Unfinished), in journal order. They are copies so that a later
// call, on another goroutine, may go on folding.
func (al *ActionLog) Unfinished() ([]Action, error) {
	al.mu.Lock()
	defer al.mu.Unlock()
	if err := al.read(); err != nil {
		return nil, err
	}
	var out []Action
	for _, a := range al.ledger.Actions {
		if a.Unfinished() {
			out = append(out, *a)
		}
	}
	return out, nil
}

// read folds the lines appended since the last read.
func (al *ActionLog) read() error {
	f, err := os.Open(al.path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if al.ledger == nil || fi.Size() < al.off {
		// First read, or a writer cut a torn tail we had read past.
		al.ledger, al.off = &ActionLedger{byID: map[string]*Action{}}, 0
	}
	al.off, err = foldActions(f, al.off, al.ledger)
	return err
}

// foldActions folds the action facts of the complete lines of f from byte
// offset from into l, and returns the offset just past the last complete
// line. A line that does not decode, or a fact that does not apply, is
// passed over.
func foldActions(f io.ReadSeeker, from int64, l *ActionLedger) (int64, error) {
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return from, err
	}
	off := from
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A long line (an events batch): skip to its end.
			n := int64(len(line))
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				n += int64(len(line))
			}
			if err != nil {
				return off, ioErr(err) // no newline yet: an unfinished line, read it next time
			}
			off += n
			continue
		}
		if err != nil {
			return off, ioErr(err)
		}
		off += int64(len(line))
		if !bytes.Contains(line, actionMark) {
			continue
		}
		var e journal.Entry
		if json.Unmarshal(line, &e) == nil && isActionKind(Kind(e.Kind)) {
			_, _ = l.apply(e)
		}
	}
}

// ioErr is err unless it is the end of the file.
func ioErr(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
