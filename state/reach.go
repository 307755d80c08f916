package state

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/warroom-ir/warroom/state/journal"
)

// The blast radius (IAM Access Advisor) and the configuration history
// (AWS Config) of what a suspect family holds and touched, as read from
// AWS: one fact per principal's report (KindReach) and one per resource's
// history in a Region (KindConfigHistory). Later facts replace earlier
// ones for the same principal or resource.

// Kinds of this file's facts.
const (
	KindReach         Kind = "principal.reach" // Reach: the services a principal's policies allow and which it used (Access Advisor)
	KindConfigHistory Kind = "config.history"  // ConfigHistory: a resource's AWS Config items in one Region
)

// Job statuses of an Access Advisor report, as IAM names them.
const (
	JobCompleted  = "COMPLETED"
	JobFailed     = "FAILED"
	JobInProgress = "IN_PROGRESS"
)

// Reach is an IAM principal's Access Advisor report: every service its
// policies allow, with when (and from where, by whom) it was last
// authenticated to each. Status is the job's: a report still
// IN_PROGRESS when the reader gave up, or FAILED, holds no services and
// says why in Error.
type Reach struct {
	// Principal is the user or role ARN reported on.
	Principal string `json:"principal"`
	// Key is the access key the responder asked about, when a key led to
	// the principal.
	Key         string    `json:"key,omitempty"`
	AccountID   string    `json:"account_id,omitempty"`
	JobID       string    `json:"job_id,omitempty"`
	Status      string    `json:"status"`
	Granularity string    `json:"granularity,omitempty"` // SERVICE_LEVEL, ACTION_LEVEL
	TakenAt     time.Time `json:"taken_at"`
	// Services are the services the policies allow, by namespace.
	Services []ServiceReach `json:"services,omitempty"`
	Error    *CallError     `json:"error,omitempty"`
}

// ServiceReach is one service a principal may call.
type ServiceReach struct {
	Namespace string `json:"namespace"` // "ec2"
	Name      string `json:"name,omitempty"`
	// LastUsed is zero when the principal never authenticated to it
	// (in Access Advisor's tracking period).
	LastUsed time.Time     `json:"last_used,omitzero"`
	Region   string        `json:"region,omitempty"`
	Entity   string        `json:"entity,omitempty"` // the last authenticated entity
	Actions  []ActionReach `json:"actions,omitempty"`
}

// Used reports whether the service was ever authenticated to.
func (s ServiceReach) Used() bool { return !s.LastUsed.IsZero() }

// ActionReach is one tracked action's last access (ACTION_LEVEL reports).
type ActionReach struct {
	Name     string    `json:"name"`
	LastUsed time.Time `json:"last_used,omitzero"`
	Region   string    `json:"region,omitempty"`
	Entity   string    `json:"entity,omitempty"`
}

// UsedCount is how many of the allowed services were used.
func (r Reach) UsedCount() int {
	n := 0
	for _, s := range r.Services {
		if s.Used() {
			n++
		}
	}
	return n
}

// Summary is the journal pane's line for r.
func (r Reach) Summary() string {
	switch {
	case r.Error != nil:
		return fmt.Sprintf("reach of %s: %s (%s)", r.Principal, r.Error.Class, r.Error.Error)
	case r.Status != JobCompleted:
		return fmt.Sprintf("reach of %s: job %s", r.Principal, r.Status)
	}
	return fmt.Sprintf("reach of %s: %s allowed, %d used", r.Principal, Plural(len(r.Services), "service"), r.UsedCount())
}

// Recording states of AWS Config in a Region.
const (
	ConfigRecording    = "recording"
	ConfigNotRecording = "not-recording" // a recorder that is stopped
	ConfigNoRecorder   = "no-recorder"
)

// ConfigHistory is one resource's AWS Config history in one Region, newest
// item first, or why there is none: Config not recording there
// (Recording), the resource not discovered (NotDiscovered), or a failed
// call (Error).
type ConfigHistory struct {
	Region       string    `json:"region"`
	ResourceType string    `json:"resource_type"` // AWS::EC2::Instance
	ResourceID   string    `json:"resource_id"`
	Name         string    `json:"name,omitempty"` // the name the responder knows it by (a user's), when not its id
	AccountID    string    `json:"account_id,omitempty"`
	TakenAt      time.Time `json:"taken_at"`
	// Recording is the Region's recorder state (ConfigRecording, …);
	// empty when it could not be read.
	Recording     string       `json:"recording,omitempty"`
	NotDiscovered bool         `json:"not_discovered,omitempty"`
	Items         []ConfigItem `json:"items,omitempty"`
	Error         *CallError   `json:"error,omitempty"`
}

// ConfigItem is one configuration item.
type ConfigItem struct {
	CaptureTime time.Time `json:"capture_time"`
	Status      string    `json:"status"` // OK, ResourceDiscovered, ResourceDeleted, …
	ARN         string    `json:"arn,omitempty"`
	Name        string    `json:"name,omitempty"`
	StateID     string    `json:"state_id,omitempty"`
	// Configuration is the item's configuration JSON, cut at
	// MaxConfigBytes (Cut says so).
	Configuration string `json:"configuration,omitempty"`
	Cut           bool   `json:"cut,omitempty"`
}

// MaxConfigBytes bounds an item's configuration kept in the journal.
const MaxConfigBytes = 8 << 10

// Key is the store's key of h: Region, type and id.
func (h ConfigHistory) Key() string { return ConfigKey(h.Region, h.ResourceType, h.ResourceID) }

// ConfigKey is the store's key of a resource's history.
func ConfigKey(region, typ, id string) string { return region + "|" + typ + "|" + id }

// Summary is the journal pane's line for h.
func (h ConfigHistory) Summary() string {
	what := h.ResourceType + " " + h.ResourceID + " in " + h.Region
	switch {
	case h.Error != nil:
		return fmt.Sprintf("config history of %s: %s (%s)", what, h.Error.Class, h.Error.Error)
	case h.Recording != ConfigRecording && h.Recording != "":
		return "config history of " + what + ": AWS Config is not recording here"
	case h.NotDiscovered:
		return "config history of " + what + ": not discovered by AWS Config"
	}
	return fmt.Sprintf("config history of %s: %s", what, Plural(len(h.Items), "item"))
}

// applyReach folds a principal.reach fact.
func (s *Store) applyReach(e journal.Entry) (string, error) {
	v, err := decode[Reach](e)
	if err != nil {
		return "", err
	}
	if s.Reaches == nil {
		s.Reaches = map[string]Dated[Reach]{}
	}
	s.Reaches[v.Principal] = dated(e, v)
	return v.Summary(), nil
}

// applyConfigHistory folds a config.history fact.
func (s *Store) applyConfigHistory(e journal.Entry) (string, error) {
	v, err := decode[ConfigHistory](e)
	if err != nil {
		return "", err
	}
	if s.ConfigHistories == nil {
		s.ConfigHistories = map[string]Dated[ConfigHistory]{}
	}
	s.ConfigHistories[v.Key()] = dated(e, v)
	return v.Summary(), nil
}

// ReachList returns the principals' reports sorted by principal.
func (s *Store) ReachList() []Dated[Reach] {
	out := make([]Dated[Reach], 0, len(s.Reaches))
	for _, v := range s.Reaches {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].V.Principal < out[j].V.Principal })
	return out
}

// ConfigHistoryList returns the resources' histories sorted by Region,
// type and id.
func (s *Store) ConfigHistoryList() []Dated[ConfigHistory] {
	out := make([]Dated[ConfigHistory], 0, len(s.ConfigHistories))
	for _, v := range s.ConfigHistories {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].V.Key() < out[j].V.Key() })
	return out
}

// ConfigHistoriesOf returns the histories read of a resource id (in any
// Region, of any type), sorted by Region.
func (s *Store) ConfigHistoriesOf(id string) []Dated[ConfigHistory] {
	var out []Dated[ConfigHistory]
	for _, v := range s.ConfigHistoryList() {
		if v.V.ResourceID == id || (v.V.Name != "" && strings.EqualFold(v.V.Name, id)) {
			out = append(out, v)
		}
	}
	return out
}

// KeyPrincipal returns the IAM user ARN of a long-term key, from the
// latest inventory; "" when the inventory does not hold it.
func (s *Store) KeyPrincipal(key string) string {
	if s.Inventory == nil {
		return ""
	}
	for _, u := range s.Inventory.Users {
		for _, k := range u.Keys {
			if k.ID == key {
				return u.ARN
			}
		}
	}
	return ""
}

// FamilyPrincipals returns the IAM users and roles a key's family acts as
// (EventTable.Family): the user of each long-term key (the inventory's),
// the roles it assumed, the users it created keys for or created — the
// principals whose reach (Access Advisor) is the family's. The key's own
// principal comes first; the rest are sorted.
func (s *Store) FamilyPrincipals(key string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(arn string) {
		if arn != "" && !seen[arn] {
			seen[arn] = true
			out = append(out, arn)
		}
	}
	add(s.KeyPrincipal(key))
	userARN := func(name string) string {
		if s.Inventory != nil {
			for _, u := range s.Inventory.Users {
				if u.Name == name {
					return u.ARN
				}
			}
			if s.Inventory.AccountID != "" {
				return "arn:aws:iam::" + s.Inventory.AccountID + ":user/" + name
			}
		}
		return ""
	}
	fam := s.Events.Family(key)
	inFam := map[string]bool{}
	for _, l := range fam {
		inFam[l.Key] = true
		add(s.KeyPrincipal(l.Key))
		if l.RoleARN != "" {
			add(l.RoleARN)
		}
		if l.User != "" {
			add(userARN(l.User))
		}
	}
	for name, ul := range s.Events.lineage.users {
		if inFam[s.Events.cols[colKey].strs[ul.key]] {
			add(userARN(name))
		}
	}
	if len(out) > 1 {
		sort.Strings(out[1:])
	}
	return out
}
