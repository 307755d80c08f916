package state

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// KindAccountAccess is the kind of AccountAccess facts.
const KindAccountAccess Kind = "account.access"

// Account access statuses (AccountAccess.Status).
const (
	AccessOK          = "ok"
	AccessDenied      = "denied"       // AssumeRole refused: the trust does not allow the caller (or, as AWS answers the same, no such role)
	AccessMissingRole = "missing-role" // the answer said the role does not exist
	AccessSCP         = "scp-blocked"  // a service control policy denied the call
	AccessSuspended   = "suspended"    // the account is suspended or closing
	AccessError       = "error"        // anything else: network, throttling, expired credentials
)

// AccountAccess records whether warroom could get into a member account
// through its role, journaled when it changes: the account, the role ARN
// used, the status and AWS's error text. A member whose role fails is
// retried later; the rest of the organisation goes on.
type AccountAccess struct {
	AccountID string `json:"account_id"`
	Name      string `json:"name,omitempty"` // the account's name in Organizations
	RoleARN   string `json:"role_arn,omitempty"`
	Status    string `json:"status"` // AccessOK, AccessDenied, …
	Error     string `json:"error,omitempty"`
	// Retry is when warroom tries again (zero once in).
	Retry time.Time `json:"retry,omitzero"`
}

// OK reports whether warroom got in.
func (a AccountAccess) OK() bool { return a.Status == AccessOK }

// AccountFacts is what the store holds of one member account: the
// account-scoped facts whose AccountID is not the home account's (those
// stay in the Store's own fields, as before accounts were journaled).
type AccountFacts struct {
	Access       *Dated[AccountAccess]
	Regions      []Region
	RegionsAt    time.Time
	Inventory    *Inventory
	InventorySeq int64
	// Health maps an event source to its latest health in this account.
	Health map[string]Dated[StreamHealth]
	// Sweeps holds the latest sweep of each Region and kind in this account.
	Sweeps map[SweepKey]Dated[Sweep]
}

// Home is the incident's own account: the account of the first session
// that named one; empty before. A fact with no account, or this one, is
// the home account's and folds as it did before accounts were journaled.
func (s *Store) Home() string {
	for _, ss := range s.Sessions {
		if ss.V.AccountID != "" {
			return ss.V.AccountID
		}
	}
	return ""
}

// member returns the facts of account a, or nil when a is the home
// account (or empty): those go in the Store's own fields.
func (s *Store) member(a string) *AccountFacts {
	if a == "" {
		return nil
	}
	home := s.Home()
	if home == "" || a == home {
		return nil
	}
	if s.Accounts == nil {
		s.Accounts = map[string]*AccountFacts{}
	}
	m := s.Accounts[a]
	if m == nil {
		m = &AccountFacts{Health: map[string]Dated[StreamHealth]{}, Sweeps: map[SweepKey]Dated[Sweep]{}}
		s.Accounts[a] = m
	}
	return m
}

// AccountIDs lists the accounts the store knows: the home account first
// (when known), then the members in id order.
func (s *Store) AccountIDs() []string {
	var out []string
	if h := s.Home(); h != "" {
		out = append(out, h)
	}
	return append(out, slices.Sorted(maps.Keys(s.Accounts))...)
}

// Account returns the facts of account a as one view, the home account's
// taken from the Store's own fields; ok is false for an account the store
// knows nothing of.
func (s *Store) Account(a string) (AccountFacts, bool) {
	if a == "" || a == s.Home() {
		return AccountFacts{Access: s.homeAccess(), Regions: s.Regions, RegionsAt: s.RegionsAt, Inventory: s.Inventory,
			InventorySeq: s.InventorySeq, Health: s.Health, Sweeps: s.Sweeps}, true
	}
	m, ok := s.Accounts[a]
	if !ok {
		return AccountFacts{}, false
	}
	return *m, true
}

func (s *Store) homeAccess() *Dated[AccountAccess] {
	if m, ok := s.Accounts[s.Home()]; ok {
		return m.Access
	}
	return nil
}

// applyAccess folds an AccountAccess fact.
func (s *Store) applyAccess(d Dated[AccountAccess]) string {
	a := d.V.AccountID
	m := s.member(a)
	if m == nil {
		// The home account's access (an org run whose base account is
		// one of the members read) is kept with the members'.
		if s.Accounts == nil {
			s.Accounts = map[string]*AccountFacts{}
		}
		if m = s.Accounts[a]; m == nil {
			m = &AccountFacts{Health: map[string]Dated[StreamHealth]{}, Sweeps: map[SweepKey]Dated[Sweep]{}}
			s.Accounts[a] = m
		}
	}
	m.Access = &d
	sum := fmt.Sprintf("account %s: %s", a, d.V.Status)
	if d.V.RoleARN != "" {
		sum += " through " + d.V.RoleARN
	}
	if d.V.Error != "" {
		sum += ": " + d.V.Error
	}
	return sum
}

// FamilyAccounts lists the accounts the suspect families touched, sorted:
// the account of every principal their keys' events ran as (an assumed
// role's session acts in the role's account), and the accounts of the roles
// their minted credentials belong to. The event table does not hold
// recipientAccountId: the principal's account is the same but for calls on
// another account's resources.
func (s *Store) FamilyAccounts() []string {
	set := s.SuspectSet()
	seen := map[string]bool{}
	add := func(arn string) {
		if a, ok := ParseARN(arn); ok && ValidAccount(a.Account) {
			seen[a.Account] = true
		}
	}
	for _, root := range set.Roots {
		for _, l := range s.Events.Family(root) {
			add(l.RoleARN)
		}
		f, err := ParseFilter("family:" + root)
		if err != nil {
			continue
		}
		for _, c := range s.Events.Counts(FieldPrincipal, f) {
			add(c.Value)
		}
	}
	for p := range set.principals {
		add(p)
	}
	return slices.Sorted(maps.Keys(seen))
}

// ValidAccount reports whether a is an AWS account id (twelve digits).
func ValidAccount(a string) bool {
	if len(a) != 12 {
		return false
	}
	for _, c := range a {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
