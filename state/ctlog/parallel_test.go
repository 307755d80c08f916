package ctlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
)

// TestParsePathsParallelMatches: the parallel walk emits exactly what the
// sequential one does, in the same order, with the same problems and stats.
func TestParsePathsParallelMatches(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec := func(id string) string {
		return `{"eventID":"` + id + `","eventTime":"2026-11-23T04:00:00Z","eventName":"ListUsers","eventSource":"iam.amazonaws.com","awsRegion":"us-east-1"}`
	}
	for _, name := range []string{"a/1.json", "a/2.json", "b/3.json", "c/4.json", "c/5.json", "d/6.json"} {
		write(name, `{"Records":[`+rec(name+"-x")+`,`+rec(name+"-y")+`]}`)
	}
	// Records the parser must rewrite or decode: pretty-printed, escaped,
	// a minted session token, LookupEvents output, gzip.
	write("f/pretty.json", "{\"Records\": [\n  {\"eventID\": \"p1\", \"eventTime\": \"2026-11-23T04:00:00Z\",\n   \"eventName\": \"Get\\u0055ser\", \"userIdentity\": {\"userName\": \"b\\u00f6b\"}}\n]}")
	write("f/escaped.json", `{"Records":[{"eventID":"e1","eventTime":"2026-11-23T04:00:00Z","eventName":"Get\u0055ser","userIdentity":{"userName":"b\u00f6b"}},{"eventID":"e2","eventTime":"2026-11-23T04:00:00Z","eventName":"Put\u0055ser","userIdentity":{"userName":"\u00e5sa"}}]}`)
	write("f/minted.json", `[{"eventID":"m1","eventTime":"2026-11-23T04:00:00Z","eventName":"AssumeRole","eventSource":"sts.amazonaws.com","responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLE","sessionToken":"secret-token","expiration":"Nov 23, 2026, 5:00:00 AM"}}}]`)
	write("f/lookup.json", `{"Events":[{"EventId":"l1","CloudTrailEvent":"{\"eventID\":\"l1\",\"eventTime\":\"2026-11-23T04:00:00Z\",\"eventName\":\"ListKeys\"}"},{"EventId":"l2","CloudTrailEvent":"{\"eventID\":\"l2\",\"eventTime\":\"2026-11-23T04:00:01Z\",\"eventName\":\"ListKeys\"}"}]}`)
	write("f/zipped.json", string(gz(t, `{"Records":[`+rec("z1")+`,`+rec("z2")+`]}`)))
	write("b/bad.json", "{not json")
	write("c/notes.txt", "hello")
	write("e/mixed.ndjson", rec("n1")+"\n{oops\n"+rec("n2")+"\n")
	// Walk problems come in order among the files: a link to nothing.
	if err := os.Symlink(filepath.Join(dir, "missing.json"), filepath.Join(dir, "c", "dangling.json")); err != nil {
		t.Fatal(err)
	}
	paths := []string{dir}
	if _, err := os.Stat(samplesDir); err == nil {
		paths = append(paths, samplesDir)
	}

	collect := func(parse func(func(Record) error) (Stats, []Problem, error)) ([]string, Stats, []Problem) {
		var (
			ids    []string
			inEmit atomic.Int32
		)
		st, probs, err := parse(func(r Record) error {
			// Calls come from the workers, but one at a time.
			if inEmit.Add(1) != 1 {
				t.Error("emit called while another call was running")
			}
			defer inEmit.Add(-1)
			ids = append(ids, snapshot(r))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return ids, st, probs
	}
	seqIDs, seqSt, seqProbs := collect(func(emit func(Record) error) (Stats, []Problem, error) {
		return ParsePaths(paths, Options{}, emit)
	})
	// In batches, one file's records at a time: never an empty one.
	batches := func(borrow bool, workers int) func(emit func(Record) error) (Stats, []Problem, error) {
		return func(emit func(Record) error) (Stats, []Problem, error) {
			return ParsePathsBatches(paths, Options{Borrow: borrow}, workers, func(recs []Record) error {
				if len(recs) == 0 {
					t.Error("an empty batch")
				}
				for i := range recs {
					if err := emit(recs[i]); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	for _, borrow := range []bool{false, true} {
		for _, workers := range []int{-2, 1, 2, 3, 8} {
			for _, inBatches := range []bool{false, true} {
				if !inBatches && workers < 2 {
					continue // that is ParsePaths
				}
				parse := batches(borrow, workers)
				if !inBatches {
					parse = func(emit func(Record) error) (Stats, []Problem, error) {
						return ParsePathsParallel(paths, Options{Borrow: borrow}, workers, emit)
					}
				}
				ids, st, probs := collect(parse)
				if !reflect.DeepEqual(ids, seqIDs) {
					for i := range min(len(ids), len(seqIDs)) {
						if ids[i] != seqIDs[i] {
							t.Errorf("borrow=%v workers=%d batches=%v: record %d\n got %s\nwant %s", borrow, workers, inBatches, i, ids[i], seqIDs[i])
							break
						}
					}
					t.Errorf("borrow=%v workers=%d batches=%v: %d records differ from the sequential %d", borrow, workers, inBatches, len(ids), len(seqIDs))
				}
				if st != seqSt {
					t.Errorf("borrow=%v workers=%d batches=%v: stats %+v, sequential %+v", borrow, workers, inBatches, st, seqSt)
				}
				if !reflect.DeepEqual(probs, seqProbs) {
					t.Errorf("borrow=%v workers=%d batches=%v: problems %v, sequential %v", borrow, workers, inBatches, probs, seqProbs)
				}
			}
		}
	}
	if len(seqProbs) < 4 {
		t.Errorf("the bad file, the text file, the bad NDJSON line and the dangling link should be problems: %v", seqProbs)
	}

	// An emit error stops the walk and is returned, without deadlock.
	boom := errors.New("boom")
	n := 0
	_, _, err := ParsePathsParallel(paths, Options{}, 2, func(Record) error {
		n++
		if n == 3 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 3 {
		t.Errorf("emit error: err %v after %d records; want boom after 3", err, n)
	}
}

// snapshot prints every field of r, following its pointers, so that a
// borrowed record can be compared after emit returns.
func snapshot(r Record) string {
	m, a := r.Minted, r.Addendum
	r.Minted, r.Addendum = nil, nil
	out := fmt.Sprintf("%+v raw=%s", r, r.Raw)
	if m != nil {
		out += fmt.Sprintf(" minted=%+v", *m)
	}
	if a != nil {
		out += fmt.Sprintf(" addendum=%+v", *a)
	}
	return out
}
