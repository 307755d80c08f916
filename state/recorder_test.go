package state

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/warroom-ir/warroom/state/journal"
)

// TestRecordRawEvents checks that the payload RecordRawEvents builds by hand
// is the one encoding/json makes of the same Events.
func TestRecordRawEvents(t *testing.T) {
	raws := []json.RawMessage{
		json.RawMessage(`{"eventID":"1","eventName":"GetCallerIdentity"}`),
		json.RawMessage(`{"eventID":"2","userAgent":"café \"x\" \u003c"}`),
		json.RawMessage(`{"eventID":"3","requestParameters":{"k":[1,2.5,null,true]}}`),
	}
	skipped := []Skipped{{File: "a.json", Index: 3, Reason: "not an object"}}
	tests := []struct {
		name    string
		source  string
		raws    []json.RawMessage
		skipped []Skipped
	}{
		{"records", "file:a.json", raws, nil},
		{"one record", "lookup:eu-west-1", raws[:1], nil},
		{"records and skipped", "s3://bucket/key \"quoted\"", raws, skipped},
		{"only skipped", "file:a.json", []json.RawMessage{}, skipped},
	}
	rec, err := OpenRecorder(filepath.Join(t.TempDir(), "inc.journal"), IncidentOpened{}, journal.Actor{User: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ev, err := rec.RecordRawEvents(tt.source, tt.raws, tt.skipped)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(Events{Source: tt.source, Records: tt.raws, Skipped: tt.skipped})
			if err != nil {
				t.Fatal(err)
			}
			if string(e.Data) != string(want) {
				t.Fatalf("payload\n%s\nwant\n%s", e.Data, want)
			}
			if ev.Source != tt.source || len(ev.Records) != len(tt.raws) || len(ev.Skipped) != len(tt.skipped) {
				t.Fatalf("events %+v", ev)
			}
		})
	}
}
