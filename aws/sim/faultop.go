package sim

// Per-operation faults, for tests of one call's error path while the rest
// of the account answers: ThrottleOp makes the next n calls of an
// operation answer the protocol's throttling error (recorded, as AWS
// records a throttled call).

type opFaults struct {
	throttle map[string]int
}

func (s *Sim) opFaultsLocked() *opFaults {
	return s.State("op-faults", func() any { return &opFaults{throttle: map[string]int{}} }).(*opFaults)
}

// ThrottleOp makes the next n calls of op (an operation name such as
// "CreateNetworkAclEntry", of any service) answer the protocol's
// throttling error; n of 0 clears it.
func (s *Sim) ThrottleOp(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opFaultsLocked().throttle[op] = n
}

// throttleOpLocked reports whether this call of op is to be throttled,
// counting it.
func (s *Sim) throttleOpLocked(op string) bool {
	f := s.opFaultsLocked()
	if f.throttle[op] <= 0 {
		return false
	}
	f.throttle[op]--
	return true
}
