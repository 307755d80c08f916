package gen

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// samplesDir holds real CloudTrail records recorded by others; the
// repository is cloned with shared/ beside it.
const samplesDir = "../../../../shared/testdata/cloudtrail"

var keyLayout = regexp.MustCompile(`^AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)

func TestWriteParses(t *testing.T) {
	cases := []struct {
		name    string
		opts    Options
		minimum int // files at least
	}{
		{"small", Options{Events: 500, Seed: 1}, 2},
		{"capped files", Options{Events: 1200, Seed: 2, PerFile: 40, Rate: 50}, 30},
		{"one region", Options{Events: 200, Seed: 3, Regions: []string{"eu-north-1"}, AccountID: "123456789012"}, 1},
		{"none", Options{Events: 0, Seed: 4}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := Write(dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != tc.opts.Events || st.Files < tc.minimum {
				t.Fatalf("stats %+v", st)
			}
			files := 0
			err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				files++
				rel, _ := filepath.Rel(dir, p)
				m := keyLayout.FindStringSubmatch(filepath.ToSlash(rel))
				if m == nil || m[1] != m[6] || m[2] != m[7] || m[8][:8] != m[3]+m[4]+m[5] {
					t.Errorf("key %s is not in CloudTrail's layout", rel)
				}
				if tc.opts.AccountID != "" && m != nil && m[1] != tc.opts.AccountID {
					t.Errorf("account %s", m[1])
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if files != st.Files {
				t.Errorf("%d files on disk, stats say %d", files, st.Files)
			}
			ids := map[string]bool{}
			var stats ctlog.Stats
			stats, probs, err := ctlog.ParsePaths([]string{dir}, ctlog.Options{}, func(r ctlog.Record) error {
				if ids[r.EventID] {
					t.Errorf("duplicate event id %s", r.EventID)
				}
				ids[r.EventID] = true
				if r.EventTime.IsZero() || r.EventName == "" || r.Region == "" || r.IdentityType == "" {
					t.Errorf("record missing fields: %+v", r)
				}
				if r.IdentityType == "AssumedRole" && (r.SessionIssuedAt.IsZero() || !strings.HasPrefix(r.AccessKeyID, "ASIA")) {
					t.Errorf("role session without issue time or ASIA key: %+v", r)
				}
				if r.Minted != nil && bytes.Contains(r.Raw, []byte("IQoJb3JpZ2luX2Vj")) {
					t.Errorf("minted token not redacted by the parser")
				}
				return nil
			})
			if err != nil || len(probs) > 0 {
				t.Fatalf("parse: %v %v", err, probs)
			}
			if len(ids) != tc.opts.Events {
				t.Errorf("parsed %d records, wrote %d (stats %+v)", len(ids), tc.opts.Events, stats)
			}
		})
	}
}

func TestWriteDeterministic(t *testing.T) {
	end := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	list := func() map[string][]byte {
		dir := t.TempDir()
		if _, err := Write(dir, Options{Events: 800, Seed: 9, End: end}); err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				b, _ := os.ReadFile(p)
				out[rel] = gunzip(t, b)
			}
			return err
		})
		return out
	}
	a, b := list(), list()
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d and %d files", len(a), len(b))
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			t.Fatalf("file %s differs between runs", k)
		}
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// keySets collects, per object path in a record ("", "userIdentity",
// "userIdentity.sessionContext" …), the keys seen there.
func keySets(recs []map[string]any) map[string]map[string]int {
	out := map[string]map[string]int{}
	var walk func(path string, m map[string]any)
	walk = func(path string, m map[string]any) {
		if out[path] == nil {
			out[path] = map[string]int{}
		}
		for k, v := range m {
			out[path][k]++
			if sub, ok := v.(map[string]any); ok && (path == "" && (k == "userIdentity" || k == "tlsDetails") ||
				strings.HasPrefix(path, "userIdentity")) {
				walk(strings.TrimPrefix(path+"."+k, "."), sub)
			}
		}
	}
	for _, r := range recs {
		walk("", r)
	}
	return out
}

func loadSamples(t *testing.T) []map[string]any {
	t.Helper()
	var recs []map[string]any
	_, probs, err := ctlog.ParsePaths([]string{samplesDir}, ctlog.Options{}, func(r ctlog.Record) error {
		var m map[string]any
		if err := json.Unmarshal(r.Raw, &m); err != nil {
			return err
		}
		if _, ok := m["eventTime"]; ok { // pipelines that dropped eventTime reshaped the rest too
			recs = append(recs, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 100 {
		t.Fatalf("only %d sample records (%d problems): is %s there?", len(recs), len(probs), samplesDir)
	}
	return recs
}

// TestFieldSetMatchesRealRecords checks that generated records use the
// keys real CloudTrail records use, at the top level and inside
// userIdentity, and that every key all real records carry is there.
func TestFieldSetMatchesRealRecords(t *testing.T) {
	real := keySets(loadSamples(t))
	dir := t.TempDir()
	if _, err := Write(dir, Options{Events: 800, Seed: 6}); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if _, _, err := ctlog.ParsePaths([]string{dir}, ctlog.Options{}, func(r ctlog.Record) error {
		var m map[string]any
		if err := json.Unmarshal(r.Raw, &m); err != nil {
			return err
		}
		recs = append(recs, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	gen := keySets(recs)
	paths := make([]string, 0, len(gen))
	for p := range gen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		t.Run("at "+p, func(t *testing.T) {
			have, ok := real[p]
			if !ok {
				t.Fatalf("real records have no object at %q", p)
			}
			for k := range gen[p] {
				if have[k] == 0 {
					t.Errorf("key %q at %q is not in any real record", k, p)
				}
			}
		})
	}
	// Keys every real record has must be in every generated one.
	total := real[""]["eventVersion"]
	for k, n := range real[""] {
		if n == total && gen[""][k] != len(recs) {
			t.Errorf("key %q: in every real record, in %d of %d generated", k, gen[""][k], len(recs))
		}
	}
	for _, want := range []string{"sessionContext", "accessKeyId", "invokedBy", "userName"} {
		if gen["userIdentity"][want] == 0 {
			t.Errorf("no generated record has userIdentity.%s", want)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		if _, err := Write(filepath.Join(dir, strings.Repeat("x", i%3+1)), Options{Events: 10000, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "records/s")
}
