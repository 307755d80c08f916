// Package journal is warroom's incident journal: an append-only file of JSON
// lines, each chained to the one before by its SHA-256, shared safely by
// several processes, and readable while another process writes it.
package journal

import (
	"encoding/json"
	"time"
)

// Actor says who recorded an entry.
type Actor struct {
	User string `json:"user,omitempty"` // OS user
	Host string `json:"host,omitempty"` // host name
	SSH  string `json:"ssh,omitempty"`  // SSH client address, when set
	AWS  string `json:"aws,omitempty"`  // AWS caller ARN, when known
	PID  int    `json:"pid,omitempty"`
}

// Entry is one journal line.
//
// On disk: {"seq":N,"at":RFC3339Nano,"by":{...},"kind":"...","data":{...},"prev":"<hex>"}
// where prev is the SHA-256 of the previous line's bytes (without its
// newline) and, for line 1, the SHA-256 of the incident id.
type Entry struct {
	Seq  int64           `json:"seq"`
	At   time.Time       `json:"at"`
	By   Actor           `json:"by"`
	Kind string          `json:"kind"`
	Data json.RawMessage `json:"data"`
	Prev string          `json:"prev"`

	// Offset is the byte offset of the line in the file; Hash the SHA-256
	// (hex) of the line. Neither is written: both are known from reading.
	Offset int64  `json:"-"`
	Hash   string `json:"-"`
	// DataAt is where Data starts in the line (0: not known), so that a
	// part of it can be read back at Offset+DataAt+k.
	DataAt int `json:"-"`
}
