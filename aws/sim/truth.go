package sim

import "sort"

// InstanceInfo is one instance as the drill account holds it: the ground
// truth tests and the drill's debrief check warroom's verdict against.
type InstanceInfo struct {
	ID, Region, State string
	// Requester is the ARN of the principal that launched it (for a
	// spot instance, the spot request's requester).
	Requester     string
	SpotRequestID string
}

// Instances returns every instance of every Region, in Region and launch
// order.
func (s *Sim) Instances() []InstanceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ec2state()
	regions := make([]string, 0, len(st.regions))
	for r := range st.regions {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	var out []InstanceInfo
	now := s.clock.Now().UTC()
	for _, r := range regions {
		s.settleLocked(st.regions[r], now) // states move on with the clock, as a call would see them
		for _, in := range st.regions[r].order {
			out = append(out, InstanceInfo{ID: in.ID, Region: r, State: in.State, Requester: in.Requester, SpotRequestID: in.SpotRequestID})
		}
	}
	return out
}
