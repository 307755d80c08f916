package ctlog

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
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
	write("b/bad.json", "{not json")
	write("c/notes.txt", "hello")
	write("e/mixed.ndjson", rec("n1")+"\n{oops\n"+rec("n2")+"\n")
	paths := []string{dir}
	if _, err := os.Stat(samplesDir); err == nil {
		paths = append(paths, samplesDir)
	}

	collect := func(parse func(func(Record) error) (Stats, []Problem, error)) ([]string, Stats, []Problem) {
		var ids []string
		st, probs, err := parse(func(r Record) error {
			ids = append(ids, r.EventID+string(r.Raw))
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
	for _, workers := range []int{2, 3, 8} {
		ids, st, probs := collect(func(emit func(Record) error) (Stats, []Problem, error) {
			return ParsePathsParallel(paths, Options{}, workers, emit)
		})
		if !reflect.DeepEqual(ids, seqIDs) {
			t.Errorf("workers=%d: %d records differ from the sequential %d", workers, len(ids), len(seqIDs))
		}
		if st != seqSt {
			t.Errorf("workers=%d: stats %+v, sequential %+v", workers, st, seqSt)
		}
		if !reflect.DeepEqual(probs, seqProbs) {
			t.Errorf("workers=%d: problems %v, sequential %v", workers, probs, seqProbs)
		}
	}
	if len(seqProbs) < 3 {
		t.Errorf("the bad file, the text file and the bad NDJSON line should be problems: %v", seqProbs)
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
