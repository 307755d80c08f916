// Package contain runs containment actions against AWS: each action is a
// value that says what it targets, plans the exact API calls it will make
// (policy documents included) after reading the target's current state,
// and verifies afterwards, by reading back from AWS, whether it holds.
//
// The Runner carries an action through its lifecycle — plan, confirm (by
// the caller), intent fact (fsynced), the calls, result fact with AWS
// request ids, verification fact — and refuses, without an explicit
// override, to cut off the credentials the console itself runs on. The
// playbook "contain this credential" (PlanCredential) builds one plan for
// a suspect key's whole family.
//
// Nothing here ever writes a secret: a rotated key's secret is handed to
// the caller once, in Outcome.NewKey, and goes nowhere else.
package contain

import (
	"sync"

	"context"
	"errors"
	"fmt"
	"golang.org/x/time/rate"
	"slices"
	"strings"
	"time"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// Kind is what an action's target is.
type Kind string

// Target kinds.
const (
	KindKey           Kind = "key"            // an access key id
	KindUser          Kind = "user"           // an IAM user, by name
	KindRole          Kind = "role"           // an IAM role, by name
	KindGroup         Kind = "group"          // an IAM group, by name
	KindRoot          Kind = "root"           // the root user (nothing here acts on it)
	KindInstances     Kind = "instances"      // EC2 instances in one Region
	KindSpot          Kind = "spot"           // spot instance requests in one Region
	KindKeyPair       Kind = "key-pair"       // an EC2 key pair, by name
	KindFunction      Kind = "function"       // a Lambda function, by name
	KindMFA           Kind = "mfa"            // a user's MFA devices
	KindTagResource   Kind = "tag-resource"   // resources to tag with the incident id
	KindSecurityGroup Kind = "security-group" // an EC2 security group, by id
	KindTrail         Kind = "trail"          // a CloudTrail trail, by name or ARN
)

// Target is what an action acts on. Every string may come from CloudTrail
// and so from an attacker; actions pass them to AWS as parameters only.
type Target struct {
	Kind Kind
	// ID is the key id, user, group or role name, key pair or function
	// name, security group id, or trail name or ARN.
	ID string
	// IDs lists instance or spot request ids (KindInstances, KindSpot),
	// MFA serials (KindMFA; empty means every device of User), or the
	// resources to tag (KindTagResource: instance and spot request ids,
	// "user/NAME" for IAM users and "role/NAME" for IAM roles).
	IDs []string
	// User is the user owning a key or MFA device; found when empty.
	User string
	// Region is where an EC2 or Lambda resource is, or the Region a
	// trail is read from. Empty, or a Region that does not hold an EC2 or
	// Lambda resource, makes the action find it (Env.Locate, then every
	// enabled Region); planning sets it to where it was found.
	Region string
}

// String is the target as the journal's intent records it: a key id,
// "user/NAME", "group/NAME", "role/NAME", or a comma-separated id list. ParseTarget
// reads it back.
func (t Target) String() string {
	switch t.Kind {
	case KindKey:
		if t.User != "" {
			return t.ID + "@" + t.User
		}
		return t.ID
	case KindUser, KindRole, KindGroup, KindKeyPair, KindFunction, KindSecurityGroup, KindTrail, KindAccount:
		return string(t.Kind) + "/" + t.ID
	case KindMFA:
		s := "mfa/" + t.User
		if len(t.IDs) > 0 {
			s += ":" + strings.Join(t.IDs, ",")
		}
		return s
	case KindInstances, KindSpot:
		return strings.Join(t.IDs, ",")
	case KindTagResource:
		return "tag/" + strings.Join(t.IDs, ",")
	case KindSourceIPs:
		return "ips/" + strings.Join(t.IDs, ",")
	}
	return string(t.Kind) + "/" + t.ID
}

// Name is what a responder types to confirm an irreversible action on
// the target.
func (t Target) Name() string {
	switch t.Kind {
	case KindInstances, KindSpot, KindTagResource, KindSourceIPs:
		return strings.Join(t.IDs, ",")
	case KindMFA:
		return t.User
	}
	return t.ID
}

// ParseTarget reads a target back from an intent's Target and Region.
func ParseTarget(kind Kind, s, region string) (Target, error) {
	t := Target{Kind: kind, Region: region}
	switch kind {
	case KindKey:
		t.ID, t.User, _ = strings.Cut(s, "@")
	case KindUser, KindRole, KindGroup, KindKeyPair, KindFunction, KindSecurityGroup, KindTrail, KindAccount, KindSSOUser:
		name, ok := strings.CutPrefix(s, string(kind)+"/")
		if !ok {
			return t, fmt.Errorf("target %q: want %s/NAME", s, kind)
		}
		t.ID = name
	case KindMFA:
		rest, ok := strings.CutPrefix(s, "mfa/")
		if !ok {
			return t, fmt.Errorf("target %q: want mfa/USER[:SERIAL,…]", s)
		}
		user, serials, _ := strings.Cut(rest, ":")
		t.User, t.IDs = user, splitList(serials)
	case KindInstances, KindSpot:
		t.IDs = splitList(s)
	case KindTagResource:
		t.IDs = splitList(strings.TrimPrefix(s, "tag/"))
	case KindSourceIPs:
		t.IDs = splitList(strings.TrimPrefix(s, "ips/"))
	default:
		return t, fmt.Errorf("target %q: unknown kind %q", s, kind)
	}
	if t.ID == "" && len(t.IDs) == 0 && t.User == "" {
		return t, fmt.Errorf("empty target %q", s)
	}
	return t, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Plan is what an action will do, as read from AWS just now: the exact
// calls in order (with the policy documents they send), what the
// preflight found, and whether anything is left to do.
type Plan struct {
	Action string
	Target Target
	// Title is one line: "Deactivate access key AKIA… of user bob".
	Title string
	// Calls are the exact calls, in order. Empty when Already.
	Calls []state.Call
	// Findings say what the preflight read: what would change, what
	// cannot, and EC2 DryRun answers.
	Findings []string
	// Already is true when the action is in effect: nothing to do.
	Already bool
	// Irreversible plans need the target's name typed to confirm.
	Irreversible bool
	// Undo says how to undo, or "cannot be undone".
	Undo string
	// Warnings are shown above the plan (the console's own credentials …).
	Warnings []string
	// Self is set when the action would cut off the console's own
	// credentials; the Runner refuses it without an override.
	Self bool
	// Prior is state the action will destroy, recorded in the result so
	// the journal keeps what was (a torn-down user's policies, keys …).
	Prior any
}

// Region returns the Region of the plan's calls ("" for IAM).
func (p *Plan) Region() string { return p.Target.Region }

// HasIrreversible reports whether any call cannot be undone.
func (p *Plan) HasIrreversible() bool {
	if p.Irreversible {
		return true
	}
	return slices.ContainsFunc(p.Calls, func(c state.Call) bool { return c.Irreversible })
}

// Verification is the state read back after an action.
type Verification struct {
	Holds  bool
	Detail string
}

// Action is one containment action.
type Action interface {
	// Name is the action's name: "deactivate-key", "revoke-sessions" ….
	Name() string
	// Target is what it acts on.
	Target() Target
	// Plan reads the target's current state and returns the exact calls
	// that would put the action in effect, with the preflight's findings.
	Plan(ctx context.Context, env *Env) (*Plan, error)
	// Verify reads the state back and says whether the action holds.
	Verify(ctx context.Context, env *Env) (Verification, error)
}

// Undoer is an action that AWS lets undo: Undo returns the action that
// does it.
type Undoer interface {
	Undo() Action
}

// Undo returns the action that undoes a, or nil and the reason it cannot
// be undone.
func Undo(a Action) (Action, string) {
	if u, ok := a.(Undoer); ok {
		if ua := u.Undo(); ua != nil {
			return ua, ""
		}
	}
	return nil, CannotUndo
}

// CannotUndo is the Undo text of irreversible actions.
const CannotUndo = "cannot be undone"

// Env is what actions need: the session to read with, the mutating
// clients (nil in read-only mode), who the console is, and the incident.
type Env struct {
	Sess *session.Session
	// Mut is nil in read-only mode: nothing can be changed.
	Mut *session.Mutators
	// Self is the console's own identity: actions refuse to cut it off.
	Self session.Identity
	// Incident is the incident id, for tags.
	Incident string
	// Now is the clock (nil: time.Now).
	Now func() time.Time

	limMu     sync.Mutex
	lookupLim map[string]*rate.Limiter // LookupEvents' budget per Region
	// busy is, per Region, how its event history is read (pullEvents):
	// raised when a window did not fit the cheaper way.
	busy map[string]int
	// Locate, when set, returns the Regions where the incident's journal
	// saw a resource (its sweeps and CloudTrail events): kind is
	// KindInstances, KindSpot, KindKeyPair or KindFunction, id one
	// instance or spot request id, key pair or function name. A Regional
	// action whose resource is not in the Region it was given (or was
	// given none) reads these Regions first, then every enabled Region.
	// Nil: only the account's Regions are searched.
	Locate func(kind Kind, id string) []string

	// Account is the account the Env acts in and Role the role ARN it
	// assumed there: both empty for the session's own account. Every
	// action fact the Runner journals carries them.
	Account, Role string
	// Member opens a member account's session (ForAccount); nil: the
	// playbook acts in the session's own account only, and a family's
	// footholds elsewhere make its verdict unsure.
	Member MemberFunc
	// MemberRole is the role name warroom assumes in member accounts
	// (empty: OrganizationAccountAccessRole): the deny SCP spares it.
	MemberRole string
	parent     *Env // the Env ForAccount made this one from
	accounts   members
}

// NewEnv builds an Env for sess. In a read-only session Mut stays nil.
func NewEnv(sess *session.Session, self session.Identity, incident string) *Env {
	e := &Env{Sess: sess, Self: self, Incident: incident}
	if m, err := sess.Mutators(); err == nil {
		e.Mut = m
	}
	return e
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Errors the Runner returns; test them with errors.Is / errors.As.
var (
	// ErrReadOnly: the session cannot change anything.
	ErrReadOnly = session.ErrReadOnly
	// ErrSelf: the action would cut off the console's own credentials.
	ErrSelf = errors.New("refused: this would cut off the credentials the console itself runs on (override explicitly to go ahead)")
	// ErrPlanChanged: the state read just before running needs calls the
	// responder did not confirm.
	ErrPlanChanged = errors.New("the target changed since the plan was confirmed: plan again")
	// ErrUnsupported: the action does not apply to this target.
	ErrUnsupported = errors.New("action does not apply to this target")
)

// BusyError says another responder has an action on the same target in
// flight (an intent without a result or verification). The caller asks the
// responder whether to go ahead and, if so, runs again with Proceed.
type BusyError struct {
	Target   string
	Action   string // the other action
	ActionID string
	By       string // user@host (pid) of the other responder
	Since    time.Time
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("another responder (%s) is already acting on %s: %s since %s (action %s)",
		e.By, e.Target, e.Action, e.Since.UTC().Format(time.RFC3339), e.ActionID)
}

// call builds a state.Call from alternating key/value strings.
func call(api, region string, kv ...string) state.Call {
	c := state.Call{API: api, Region: region, Params: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		c.Params[kv[i]] = kv[i+1]
	}
	return c
}

// irreversible marks c as irreversible.
func irreversible(c state.Call) state.Call {
	c.Irreversible = true
	return c
}
