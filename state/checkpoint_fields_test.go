package state

import (
	"reflect"
	"testing"

	"github.com/warroom-ir/warroom/state/journal"
)

// TestCheckpointKeepsEveryStoreField: every exported field of the Store is
// written to the checkpoint (or is the event table, which has sections of
// its own). A field added to the Store and not here is lost on every open
// through the checkpoint, and the tests that compare stores through it
// cannot see the loss (Integrity was: a trail found broken read as never
// checked after a restart).
func TestCheckpointKeepsEveryStoreField(t *testing.T) {
	ck := map[string]bool{}
	for f := range reflect.TypeFor[ckStore]().Fields() {
		ck[f.Name] = true
	}
	for f := range reflect.TypeFor[Store]().Fields() {
		switch {
		case !f.IsExported(), f.Name == "Events":
		case f.Name == "ActionLedger":
			if !ck["Actions"] {
				t.Error("the checkpoint does not keep the actions")
			}
		case !ck[f.Name]:
			t.Errorf("Store.%s is not in the checkpoint (ckStore)", f.Name)
		}
	}
}

// TestCheckpointKeepsIntegrity: a trail validation survives an open from
// the checkpoint, with the unvouched events it names (derived on load).
func TestCheckpointKeepsIntegrity(t *testing.T) {
	path := eventsJournal(t, 3, 60)
	rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	ti := TrailIntegrity{Source: "trails of account 1", Problems: []TrailProblem{{What: "log", Status: "missing"}},
		UnvouchedFrom: []UnvouchedFrom{{File: "s3://b/k.json.gz", Events: []string{"ev-planted"}}}}
	if _, err := rec.Record(KindTrailIntegrity, ti); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	openIndexed(t, path) // writes the checkpoint past the fact
	o, warn := openIndexed(t, path)
	if warn != "" || o.from != o.store.Seq {
		t.Fatalf("not opened from the checkpoint: warned %q, from %d of %d", warn, o.from, o.store.Seq)
	}
	got, ok := o.store.Integrity[ti.Source]
	if !ok || !reflect.DeepEqual(got.V, mustFold(t, path).Integrity[ti.Source].V) {
		t.Fatalf("integrity after the checkpoint: %+v (found %v)", got.V, ok)
	}
	if !o.store.UnvouchedEvent("ev-planted") {
		t.Error("the unvouched event is not marked after an open from the checkpoint")
	}
}
