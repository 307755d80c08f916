package ctlog

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// needCInflater skips a test that compares the two inflaters on a machine
// (or build) without libdeflate. CI installs it (.ci/run), so there the
// comparison always runs.
func needCInflater(t testing.TB) {
	t.Helper()
	if cInflaterName() == "" {
		if os.Getenv("WARROOM_REQUIRE_LIBDEFLATE") != "" {
			t.Fatal("libdeflate could not be loaded, and WARROOM_REQUIRE_LIBDEFLATE is set")
		}
		t.Skip("libdeflate is not installed (or cgo is off): only the Go inflater to test")
	}
}

// withInflater runs f with the C inflater on or off, restoring the setting.
func withInflater(t testing.TB, on bool, f func()) {
	t.Helper()
	old := useCInflater.Load()
	useCInflater.Store(on)
	defer useCInflater.Store(old)
	f()
}

// parseBoth parses data with each inflater and returns what each saw.
func parseBoth(t testing.TB, data []byte, opt Options) (c, g parsed) {
	t.Helper()
	run := func() (p parsed) {
		probs, err := ParseBytes("f.json.gz", data, opt, func(r Record) error {
			p.recs = append(p.recs, string(r.Raw))
			return nil
		})
		if err != nil {
			t.Fatalf("emit error %v", err)
		}
		p.probs = probs
		return p
	}
	withInflater(t, true, func() { c = run() })
	withInflater(t, false, func() { g = run() })
	return c, g
}

type parsed struct {
	recs  []string
	probs []Problem
}

// gzipped returns the gzip of s with the header fields set.
func gzipped(t testing.TB, s string, h gzip.Header) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Header = h
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestInflatersAgree feeds the same gzip files, good and bad, through
// libdeflate and through the Go inflater: the records and the problems
// (their wording included) must be the same.
func TestInflatersAgree(t *testing.T) {
	needCInflater(t)
	doc := `{"Records":[` + rec("a") + `,` + rec("b") + `]}`
	one := gz(t, doc)
	bigDoc := `{"Records":[` + strings.Repeat(rec("")+",", 5000) + rec("z") + `]}`
	corrupt := func(b []byte, at int, v byte) []byte {
		b = bytes.Clone(b)
		b[at] ^= v
		return b
	}
	wrongSize := bytes.Clone(one)
	binary.LittleEndian.PutUint32(wrongSize[len(wrongSize)-4:], 3) // trailer says 3 bytes
	hugeSize := bytes.Clone(one)
	binary.LittleEndian.PutUint32(hugeSize[len(hugeSize)-4:], 0xffffffff)
	tests := []struct {
		name string
		data []byte
		opt  Options
	}{
		{"one member", one, Options{}},
		{"three members", gz(t, `{"Records":[`+rec("a")+`]}`, `{"Records":[`+rec("b")+`]}`, `{"Records":[`+rec("c")+`]}`), Options{}},
		{"a member split mid-record", gz(t, `{"Records":[`+rec("a")+`,`, rec("b")+`]}`), Options{}},
		{"an empty member among others", gz(t, doc, "", doc), Options{}},
		{"name, comment and extra in the header", gzipped(t, doc, gzip.Header{Name: "x.json", Comment: "c", Extra: []byte("ex")}), Options{}},
		{"larger than its first buffer", gz(t, bigDoc), Options{}},
		{"first members small, last large", gz(t, doc, bigDoc), Options{}},
		{"trailer understates the size", wrongSize, Options{}},
		{"trailer claims 4 GiB", hugeSize, Options{}},
		{"truncated", one[:len(one)-10], Options{}},
		{"truncated in the header", one[:6], Options{}},
		{"crc flipped", corrupt(one, len(one)-6, 0x40), Options{}},
		{"body flipped", corrupt(one, 20, 0xff), Options{}},
		{"trailing garbage", append(bytes.Clone(one), "garbage"...), Options{}},
		{"trailing zeros", append(bytes.Clone(one), make([]byte, 16)...), Options{}},
		{"over the size limit", gz(t, bigDoc), Options{MaxFileBytes: 64 << 10}},
		{"exactly at the size limit", gz(t, doc), Options{MaxFileBytes: int64(len(doc))}},
		{"one byte over the size limit", gz(t, doc), Options{MaxFileBytes: int64(len(doc)) - 1}},
		{"magic only", []byte{0x1f, 0x8b}, Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, g := parseBoth(t, tc.data, tc.opt)
			if !reflect.DeepEqual(c, g) {
				t.Errorf("libdeflate: %d records, problems %v\nGo:         %d records, problems %v", len(c.recs), c.probs, len(g.recs), g.probs)
			}
		})
	}
}

// TestInflatersAgreeOnRealSamples parses every real sample with each
// inflater.
func TestInflatersAgreeOnRealSamples(t *testing.T) {
	needCInflater(t)
	if _, err := os.Stat(samplesDir); err != nil {
		t.Skipf("real samples not found: %v", err)
	}
	n := 0
	err := filepath.WalkDir(samplesDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil || !isGzip(data) {
			return err
		}
		n++
		c, g := parseBoth(t, data, Options{})
		if !reflect.DeepEqual(c, g) {
			t.Errorf("%s: libdeflate %d records %v, Go %d records %v", p, len(c.recs), c.probs, len(g.recs), g.probs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no gzip sample found")
	}
}

// TestSizeHintBounded: a trailer is the file author's claim, so the first
// buffer never exceeds what the compressed bytes could expand to.
func TestSizeHintBounded(t *testing.T) {
	tiny := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}
	if h := sizeHint(tiny, 1<<30); h > int64(len(tiny))*maxDeflateRatio+4096 {
		t.Errorf("hint %d for a %d-byte file", h, len(tiny))
	}
	one := gz(t, strings.Repeat("x", 100000))
	if h := sizeHint(one, 1<<30); h != 100000 {
		t.Errorf("hint %d, want the trailer's 100000", h)
	}
	if h := sizeHint(one, 5000); h != 5001 {
		t.Errorf("hint %d, want limit+1", h)
	}
}

// TestInflaterName says which inflater a build uses.
func TestInflaterName(t *testing.T) {
	withInflater(t, false, func() {
		if got := Inflater(); got != "compress/flate (Go)" {
			t.Errorf("with the C inflater off: %q", got)
		}
	})
	withInflater(t, true, func() {
		want := "compress/flate (Go)"
		if cInflaterName() != "" {
			want = "libdeflate"
		}
		if got := Inflater(); got != want {
			t.Errorf("Inflater() = %q, want %q", got, want)
		}
	})
}

// FuzzInflaters compares the two inflaters on arbitrary bytes after the
// gzip magic.
func FuzzInflaters(f *testing.F) {
	needCInflater(f)
	f.Add(gz(f, `{"Records":[`+rec("a")+`]}`))
	f.Add(gz(f, `{"Records":[`+rec("a")+`]}`, `[`+rec("b")+`]`))
	f.Add(gz(f, rec("a")+"\n"+rec("b")))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !isGzip(data) {
			data = append([]byte{0x1f, 0x8b}, data...)
		}
		c, g := parseBoth(t, data, Options{MaxFileBytes: 1 << 20})
		if !reflect.DeepEqual(c, g) {
			t.Fatalf("libdeflate: %d records %v\nGo: %d records %v", len(c.recs), c.probs, len(g.recs), g.probs)
		}
	})
}

// TestWholeFileInflater checks that the C inflater itself takes the files
// it should (the comparisons above would pass if it never did), and
// refuses the ones the streaming reader must word.
func TestWholeFileInflater(t *testing.T) {
	needCInflater(t)
	doc := `{"Records":[` + rec("a") + `]}`
	big := strings.Repeat(rec("")+",", 3000)
	tests := []struct {
		name string
		data []byte
		want string // "" when it must refuse
	}{
		{"one member", gz(t, doc), doc},
		{"two members, the first larger than the trailer says", gz(t, big, doc), big + doc},
		{"truncated", gz(t, doc)[:30], ""},
		{"trailing garbage", append(gz(t, doc), 'x'), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := new(docParser)
			out, ok := d.gunzipWhole(tc.data, 1<<30)
			if ok != (tc.want != "") || string(out) != tc.want {
				t.Errorf("ok=%v, %d bytes out; want %d bytes", ok, len(out), len(tc.want))
			}
		})
	}
}
