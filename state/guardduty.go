package state

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// KindGuardDuty is the kind of GuardDuty facts: one read of GuardDuty's
// findings in every Region asked, with each Region's status.
const KindGuardDuty Kind = "guardduty"

// GuardDuty statuses of a Region (GuardDutyRegion.Status).
const (
	GuardDutyEnabled    = "enabled"     // a detector answered; its findings are read
	GuardDutyNotEnabled = "not-enabled" // ListDetectors answered no detector: GuardDuty is off there
	GuardDutyDenied     = "denied"      // AccessDenied (an SCP, a missing guardduty:List*/Get* permission)
	GuardDutyThrottled  = "throttled"   // still throttled after the retries
	GuardDutyFailed     = "failed"      // any other failure
)

// GuardDuty is one read of GuardDuty: per Region what it answered, and
// the findings of the Regions that answered.
type GuardDuty struct {
	ReadAt time.Time `json:"read_at"`
	// Since is the start of the window asked (findings updated since);
	// zero means every finding the detectors hold.
	Since   time.Time         `json:"since,omitzero"`
	Regions []GuardDutyRegion `json:"regions"`
	// AccountID is the account read; empty is the home account.
	AccountID string `json:"account_id,omitempty"`
}

// GuardDutyRegion is one Region's answer.
type GuardDutyRegion struct {
	Region    string             `json:"region"`
	Status    string             `json:"status"`
	Detectors []string           `json:"detectors,omitempty"`
	Findings  []GuardDutyFinding `json:"findings,omitempty"`
	// Error is what failed (denied, throttled, failed): AWS's code and
	// message, naming the call and Region.
	Error string `json:"error,omitempty"`
}

// GuardDutyFinding is one GuardDuty finding, as warroom keeps it. Title,
// Description, UserName and the like may carry names the attacker chose.
type GuardDutyFinding struct {
	ID         string    `json:"id"`
	DetectorID string    `json:"detector_id"`
	Region     string    `json:"region"`
	AccountID  string    `json:"account_id,omitempty"`
	Type       string    `json:"type"`
	Severity   float64   `json:"severity"`
	Title      string    `json:"title,omitempty"`
	Desc       string    `json:"description,omitempty"`
	Count      int       `json:"count,omitempty"`
	FirstSeen  time.Time `json:"first_seen,omitzero"`
	LastSeen   time.Time `json:"last_seen,omitzero"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	Archived   bool      `json:"archived,omitempty"`
	// ResourceType is "AccessKey", "Instance", …
	ResourceType string `json:"resource_type,omitempty"`
	// What the finding names: the access key (resource.accessKeyDetails),
	// the instance, the remote address, the call.
	AccessKeyID string `json:"access_key_id,omitempty"`
	PrincipalID string `json:"principal_id,omitempty"`
	UserName    string `json:"user_name,omitempty"`
	UserType    string `json:"user_type,omitempty"`
	InstanceID  string `json:"instance_id,omitempty"`
	RemoteIP    string `json:"remote_ip,omitempty"`
	API         string `json:"api,omitempty"`
	ServiceName string `json:"service_name,omitempty"`
	Domain      string `json:"domain,omitempty"`
}

// SeverityWord is GuardDuty's name for the severity: critical (9 and up),
// high (7), medium (4), low.
func (f GuardDutyFinding) SeverityWord() string {
	switch {
	case f.Severity >= 9:
		return "critical"
	case f.Severity >= 7:
		return "high"
	case f.Severity >= 4:
		return "medium"
	}
	return "low"
}

// applyGuardDuty folds a read into the store: a Region that answered
// (enabled or not) replaces what was known of it; one that failed keeps
// its earlier findings and says why the latest read failed.
func (s *Store) applyGuardDuty(e Dated[GuardDuty]) string {
	if s.GuardDuty == nil {
		s.GuardDuty = map[string]Dated[GuardDutyRegion]{}
	}
	n, off := 0, 0
	var failed []string
	for _, r := range e.V.Regions {
		d := Dated[GuardDutyRegion]{Seq: e.Seq, At: e.At, By: e.By, V: r}
		switch r.Status {
		case GuardDutyEnabled, GuardDutyNotEnabled:
		default:
			d.V.Findings = s.GuardDuty[r.Region].V.Findings
			failed = append(failed, r.Region+" "+r.Status)
		}
		if r.Status == GuardDutyNotEnabled {
			off++
		}
		n += len(r.Findings)
		s.GuardDuty[r.Region] = d
	}
	sum := fmt.Sprintf("GuardDuty: %s in %s, not enabled in %s", Plural(n, "finding"), Plural(len(e.V.Regions)-off-len(failed), "Region"), Plural(off, "Region"))
	if len(failed) > 0 {
		sum += "; could not read " + strings.Join(failed, ", ")
	}
	return sum
}

// GuardDutyFindings returns every GuardDuty finding the store holds, most severe
// first, then newest.
func (s *Store) GuardDutyFindings() []GuardDutyFinding {
	var out []GuardDutyFinding
	for _, r := range s.GuardDuty {
		out = append(out, r.V.Findings...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Severity != out[j].Severity {
			return out[i].Severity > out[j].Severity
		}
		if !out[i].UpdatedAt.Equal(out[j].UpdatedAt) {
			return out[i].UpdatedAt.After(out[j].UpdatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// GuardDutyOff lists the Regions where GuardDuty is not enabled, as last
// read, sorted.
func (s *Store) GuardDutyOff() []string { return s.guardDutyWith(GuardDutyNotEnabled) }

// GuardDutyUnread lists the Regions whose last read failed (denied,
// throttled, failed), with the status: "eu-west-1 denied".
func (s *Store) GuardDutyUnread() []string {
	var out []string
	for _, r := range s.GuardDuty {
		switch r.V.Status {
		case GuardDutyEnabled, GuardDutyNotEnabled:
		default:
			out = append(out, r.V.Region+" "+r.V.Status)
		}
	}
	slices.Sort(out)
	return out
}

func (s *Store) guardDutyWith(status string) []string {
	var out []string
	for _, r := range s.GuardDuty {
		if r.V.Status == status {
			out = append(out, r.V.Region)
		}
	}
	slices.Sort(out)
	return out
}

// FindingTie is one thing a finding names that belongs to the incident:
// a key of a suspect family, a suspect principal, an instance the family
// launched, or an address the family called from.
type FindingTie struct {
	What  string `json:"what"` // "key", "principal", "instance", "ip"
	Value string `json:"value"`
}

// String is "key AKIA…".
func (t FindingTie) String() string { return t.What + " " + t.Value }

// FindingTies says what of f belongs to the suspect set x: its access key
// (of a family), its principal (its user marked, or the user of a family
// key), its instance (launched by a family key, by cr when given), its
// remote address (one a family key called from). None: the finding is not
// tied to the incident as the journal knows it.
func (s *Store) FindingTies(f GuardDutyFinding, x *SuspectSet, cr *Creators) []FindingTie {
	return s.findingTies(f, x, cr, nil)
}

// findingTies is FindingTies with the answers for addresses already
// asked (ips, when not nil): many findings name the same address.
func (s *Store) findingTies(f GuardDutyFinding, x *SuspectSet, cr *Creators, ips map[string]bool) []FindingTie {
	if x == nil {
		return nil
	}
	var out []FindingTie
	if f.AccessKeyID != "" && x.Key(f.AccessKeyID) {
		out = append(out, FindingTie{"key", f.AccessKeyID})
	}
	if f.UserName != "" {
		for p := range x.principals {
			if pp, ok := ParsePrincipal(p); ok && pp.Kind == PrincipalUser && pp.Name == f.UserName && (f.AccountID == "" || pp.ARN.Account == f.AccountID) {
				out = append(out, FindingTie{"principal", p})
				break
			}
		}
	}
	if f.InstanceID != "" {
		if c, ok := cr.Lookup(f.Region, f.InstanceID); ok && x.Key(c.AccessKeyID) {
			out = append(out, FindingTie{"instance", f.InstanceID})
		}
	}
	if f.RemoteIP != "" {
		called, ok := ips[f.RemoteIP]
		if !ok {
			called = s.familyCalledFrom(f.RemoteIP, x)
			if ips != nil {
				ips[f.RemoteIP] = called
			}
		}
		if called {
			out = append(out, FindingTie{"ip", f.RemoteIP})
		}
	}
	return out
}

// familyCalledFrom reports whether a key of x (or a principal marked) signed
// a call from ip: the posting lists of the address and of the family's
// keys intersected, then, for marked principals, the address's events.
func (s *Store) familyCalledFrom(ip string, x *SuspectSet) bool {
	if len(x.keys) > 0 {
		keys := make([]string, 0, len(x.keys))
		for k := range x.keys {
			keys = append(keys, k)
		}
		if f, err := ParseFilter("ip:" + ip + " key:" + strings.Join(keys, ",")); err == nil && s.Events.Query(f).Len() > 0 {
			return true
		}
	}
	if len(x.principals) == 0 {
		return false
	}
	f, err := ParseFilter("ip:" + ip)
	if err != nil {
		return false
	}
	res := s.Events.Query(f)
	for i := 0; i < res.Len(); i++ {
		if ev := s.Events.Event(res.At(i)); x.Has("", ev.Principal) {
			return true
		}
	}
	return false
}

// TiedFinding is a finding with what ties it to the incident.
type TiedFinding struct {
	GuardDutyFinding
	Ties []FindingTie `json:"ties,omitempty"`
}

// Family reports whether the finding names something of a suspect family.
func (t TiedFinding) Family() bool { return len(t.Ties) > 0 }

// TiedFindings returns every finding (GuardDutyFindings' order) with its
// ties to x: the one list the console, the CLI and the report show.
func (s *Store) TiedFindings(x *SuspectSet, cr *Creators) []TiedFinding {
	fs := s.GuardDutyFindings()
	out := make([]TiedFinding, len(fs))
	ips := map[string]bool{}
	for i, f := range fs {
		out[i] = TiedFinding{GuardDutyFinding: f, Ties: s.findingTies(f, x, cr, ips)}
	}
	return out
}
