//go:build !(cgo && (linux || darwin || freebsd))

package ctlog

// Without cgo (a static build) there is no libdeflate: every file goes
// through the pure Go inflater.
func newCInflater() inflater { return nil }

func cInflaterName() string { return "" }
