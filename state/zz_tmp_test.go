package state

import (
	"os"
	"testing"
	"time"
)

func TestZZFast(t *testing.T) {
	p := os.Getenv("ZZ_J")
	if p == "" {
		t.Skip()
	}
	f, _ := ParseFilter(os.Getenv("ZZ_F"))
	for range 10 {
		t0 := time.Now()
		a, _, ok := QueryIndexed(p, f)
		t1 := time.Now()
		n := 0
		if ok {
			a.Records(0, func(int, []byte) error { n++; return nil })
		}
		t.Logf("ok %v query %v records %v (%d, spanned %d)", ok, t1.Sub(t0), time.Since(t1), n, a.spanned)
	}
}

func TestZZKey(t *testing.T) {
	p := os.Getenv("ZZ_J")
	if p == "" {
		t.Skip()
	}
	f, _ := os.Open(IndexPath(p))
	fi, _ := f.Stat()
	tab, err := readTable(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := tab.read(f, colKey)
	c := newColumn()
	loadColumn(c, sec, tab.n)
	key := ""
	for v, s := range c.strs {
		if n := len(c.posts[v]); s != "" && n > 10 && n < 2000 && (key == "" || s < key) {
			key = s
		}
	}
	t.Log("KEY", key, len(c.posts[c.ids[key]]))
}
