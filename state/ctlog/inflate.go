package ctlog

import (
	"os"
	"sync/atomic"
)

// inflater decompresses whole gzip members held in memory. It exists only
// where a faster decompressor than the pure Go one can be loaded (see
// inflate_libdeflate.go); the streaming reader in parse.go stays the
// reference, and handles every file the inflater does not accept.
type inflater interface {
	// member decompresses the gzip member at the start of in into out,
	// checking its CRC and size. It returns the bytes written to out and
	// read from in. memberNoSpace means out was too small; memberBad that
	// the member is damaged, truncated or not gzip.
	member(in, out []byte) (wrote, used int, res memberResult)
}

type memberResult int8

const (
	memberOK memberResult = iota
	memberNoSpace
	memberBad
)

// useCInflater is cleared by WARROOM_INFLATE=go, and by tests that compare
// the two paths.
var useCInflater atomic.Bool

func init() { useCInflater.Store(os.Getenv("WARROOM_INFLATE") != "go") }

// Inflater names the gzip decompressor that files are read with:
// "libdeflate" when the library could be loaded (cgo builds on a machine
// that has it, unless WARROOM_INFLATE=go), else "compress/flate (Go)".
func Inflater() string {
	if name := cInflaterName(); name != "" && useCInflater.Load() {
		return name
	}
	return "compress/flate (Go)"
}

// maxDeflateRatio bounds how much one compressed byte can expand: deflate
// cannot do better than 258 bytes per length code of at least two bits,
// about 1032:1. A buffer is never sized past it from a gzip trailer, which
// the file's author chose.
const maxDeflateRatio = 1032

// sizeHint returns a first buffer size for the decompressed form of the
// gzip data: the last member's trailer size (exact for a single member),
// bounded by what the compressed size allows and by the limit.
func sizeHint(data []byte, limit int64) int64 {
	hint := int64(0)
	if n := len(data); n >= 18 {
		hint = int64(uint32(data[n-4]) | uint32(data[n-3])<<8 | uint32(data[n-2])<<16 | uint32(data[n-1])<<24)
	}
	hint = max(hint, int64(len(data))*4, 4096)
	return min(hint, int64(len(data))*maxDeflateRatio+4096, limit+1)
}

// gunzipWhole decompresses every member of data with the C inflater into
// d.buf. ok is false when there is no C inflater, or data is not a clean
// gzip stream that fits in limit bytes: the streaming reader then decides
// (and words) what is wrong, so both paths report the same problems.
func (d *docParser) gunzipWhole(data []byte, limit int64) (out []byte, ok bool) {
	if !useCInflater.Load() {
		return nil, false
	}
	if d.inf == nil {
		if d.inf = newCInflater(); d.inf == nil {
			return nil, false
		}
	}
	ceiling := min(int64(len(data))*maxDeflateRatio+4096, limit+1)
	buf := d.buf[:0]
	if hint := sizeHint(data, limit); int64(cap(buf)) < hint {
		d.buf = nil
		buf = d.newBuf(nil, hint, &d.bufRes)
	}
	in := data
	for len(in) > 0 {
		wrote, used, res := d.inf.member(in, buf[len(buf):cap(buf)])
		switch res {
		case memberOK:
			buf = buf[:len(buf)+wrote]
			in = in[used:]
			if int64(len(buf)) > limit {
				d.buf = buf[:0]
				return nil, false
			}
			continue
		case memberNoSpace:
			if int64(cap(buf)) >= ceiling {
				d.buf = buf[:0]
				return nil, false
			}
			// Try the member again in twice the room (earlier members kept).
			d.buf = nil
			n := min(max(int64(cap(buf))*2, 4096), ceiling)
			if len(buf) == 0 {
				buf = nil // nothing to keep: let it go before the next
			}
			buf = d.newBuf(buf, n, &d.bufRes)
			continue
		}
		d.buf = buf[:0]
		return nil, false
	}
	d.buf = buf
	return buf, true
}
