package state

import (
	"fmt"
	"strings"
	"time"
)

// KindIdentityCenter is the kind of IdentityCenter facts.
const KindIdentityCenter Kind = "identitycenter"

// Identity Center read statuses (IdentityCenter.Status).
const (
	IdentityCenterOK         = "ok"
	IdentityCenterNotEnabled = "not-enabled" // no instance in the Region
	IdentityCenterUnreadable = "unreadable"  // a read failed: Reason says why (AccessDenied, Throttling …)
)

// IdentityCenter is the account's IAM Identity Center as read: its users
// with the permission sets they reach in the account (their own
// assignments and their groups'), or why it could not be read. Journaled
// when it changes.
type IdentityCenter struct {
	AccountID   string    `json:"account_id,omitempty"`
	Region      string    `json:"region"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason,omitempty"` // AccessDenied, Throttling, … (unreadable)
	Error       string    `json:"error,omitempty"`
	InstanceARN string    `json:"instance_arn,omitempty"`
	StoreID     string    `json:"identity_store_id,omitempty"`
	TakenAt     time.Time `json:"taken_at"`
	Users       []SSOUser `json:"users,omitempty"`
}

// SSOUser is one Identity Center user.
type SSOUser struct {
	ID          string   `json:"id"`
	UserName    string   `json:"user_name"`
	DisplayName string   `json:"display_name,omitempty"`
	Emails      []string `json:"emails,omitempty"`
	// Access lists the permission sets reaching the user in the account:
	// "NAME" for its own assignment, "NAME (via GROUP)" for a group's.
	Access []string `json:"access,omitempty"`
}

// Summary is the fact's one line.
func (ic IdentityCenter) Summary() string {
	switch ic.Status {
	case IdentityCenterOK:
		return fmt.Sprintf("Identity Center in %s: %s", ic.Region, Plural(len(ic.Users), "user"))
	case IdentityCenterNotEnabled:
		return "Identity Center is not enabled in " + ic.Region
	}
	return "Identity Center not readable: " + ic.Reason
}

// SSOSession is an Identity Center user's role session seen in CloudTrail:
// the AWSReservedSSO_ role it is a session of, and how many calls.
type SSOSession struct {
	ARN   string // arn:aws:sts::ACCOUNT:assumed-role/AWSReservedSSO_PS_HASH/SESSION
	Role  string // AWSReservedSSO_PS_HASH
	Calls int
}

// SSOSessions maps each Identity Center user of ic to the sessions
// CloudTrail shows of AWSReservedSSO_ roles whose session name is the
// user's name or one of its e-mail addresses (as the access portal names
// them), by user name.
func (s *Store) SSOSessions(ic IdentityCenter) map[string][]SSOSession {
	out := map[string][]SSOSession{}
	f, err := ParseFilter("principal:*assumed-role/AWSReservedSSO_*")
	if err != nil {
		return out
	}
	by := map[string]string{}
	for _, u := range ic.Users {
		by[strings.ToLower(u.UserName)] = u.UserName
		for _, e := range u.Emails {
			by[strings.ToLower(e)] = u.UserName
		}
	}
	for _, c := range s.Events.Counts(FieldPrincipal, f) {
		p, ok := ParsePrincipal(c.Value)
		if !ok || !p.Role() {
			continue
		}
		i := strings.LastIndexByte(c.Value, '/')
		j := strings.LastIndexByte(c.Value[:max(i, 0)], '/')
		if i < 0 || j < 0 {
			continue
		}
		role, session := c.Value[j+1:i], c.Value[i+1:]
		if !strings.HasPrefix(role, "AWSReservedSSO_") {
			continue
		}
		if u, ok := by[strings.ToLower(session)]; ok {
			out[u] = append(out[u], SSOSession{ARN: c.Value, Role: role, Calls: c.N})
		}
	}
	return out
}
