package state

import "github.com/warroom-ir/warroom/state/journal"

// Replay rebuilds a store from a journal file with the same reducer the live
// console uses. It verifies the chain while reading: the store holds every
// entry up to the first problem, and the report says where reading stopped
// and why. The error is for I/O failures only.
func Replay(path string) (*Store, journal.Report, error) {
	s := NewStore()
	rep, err := journal.Read(path, s.Apply)
	return s, rep, err
}
