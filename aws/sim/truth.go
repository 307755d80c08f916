package sim

import (
	"sort"
	"strings"
)

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

// Works says whether the credential with access key id keyID could call
// action (for example "ec2:DescribeInstances") in the drill account now,
// and if not, why: the ground truth a drill's debrief counts. It applies
// what a request meets (the key known and active, its user not deleted,
// not expired, the limits on temporary credentials, then the policies: a
// revoke-older-sessions deny or a quarantine), without making a call, so
// nothing is recorded and the attacker does not notice. Another account's
// key never works here: the drill serves only its own account.
func (s *Sim) Works(keyID, action string) (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.acct.keys[keyID]
	now := s.clock.Now()
	switch {
	case c == nil || c.Deleted:
		return false, "unknown or deleted key"
	case c.Kind == credLongTerm && c.Status != "Active":
		return false, "the key is " + c.Status
	case c.User != nil && c.User.Deleted:
		return false, "its user is deleted"
	case !c.Expires.IsZero() && !now.Before(c.Expires):
		return false, "expired"
	case c.Account != "":
		return false, "another account's key"
	}
	svcName, _, _ := strings.Cut(action, ":")
	svc := s.services[svcName]
	if svc == nil {
		return false, "no such service: " + svcName
	}
	req := &Request{Service: svc, Caller: s.identityOf(c), Now: now, Region: HomeRegion, Sim: s}
	if e := s.authorizeLocked(req, action, true); e != nil {
		return false, e.Error()
	}
	return true, ""
}
