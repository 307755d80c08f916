package contain

import (
	"fmt"
	"strings"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// Options are the choices some actions take.
type Options struct {
	// Terminate makes the credential playbook terminate instances
	// instead of stopping them.
	Terminate bool
	// Snapshot snapshots EBS volumes for evidence before terminating.
	Snapshot bool
	// NotBefore: see RevokeSessions.NotBefore.
	NotBefore time.Time
}

// ActionInfo describes one action for help texts and completion.
type ActionInfo struct {
	Name   string
	Kinds  []Kind // target kinds it takes
	Undo   string // the undoing action, or CannotUndo
	Short  string
	Target string // how the target is written on the command line
}

// Actions lists every action New builds.
var Actions = []ActionInfo{
	{Name: "deactivate-key", Kinds: []Kind{KindKey}, Undo: "reactivate-key", Short: "deactivate an access key", Target: "AKIA…"},
	{Name: "reactivate-key", Kinds: []Kind{KindKey}, Undo: "deactivate-key", Short: "reactivate an access key", Target: "AKIA…"},
	{Name: "delete-key", Kinds: []Kind{KindKey}, Undo: CannotUndo, Short: "delete an inactive access key", Target: "AKIA…"},
	{Name: "rotate-key", Kinds: []Kind{KindKey}, Undo: "reactivate-key", Short: "create a new key for the owner, then deactivate this one", Target: "AKIA…"},
	{Name: "revoke-sessions", Kinds: []Kind{KindUser, KindRole}, Undo: "unrevoke-sessions", Short: "deny every temporary credential issued before now", Target: "user/NAME | role/NAME"},
	{Name: "unrevoke-sessions", Kinds: []Kind{KindUser, KindRole}, Undo: "revoke-sessions", Short: "remove a revoke policy", Target: "user/NAME | role/NAME"},
	{Name: "quarantine", Kinds: []Kind{KindUser, KindRole}, Undo: "unquarantine", Short: "deny a principal everything", Target: "user/NAME | role/NAME"},
	{Name: "unquarantine", Kinds: []Kind{KindUser, KindRole}, Undo: "quarantine", Short: "lift a quarantine", Target: "user/NAME | role/NAME"},
	{Name: "delete-login-profile", Kinds: []Kind{KindUser}, Undo: CannotUndo, Short: "delete a user's console password", Target: "user/NAME"},
	{Name: "remove-mfa", Kinds: []Kind{KindMFA}, Undo: CannotUndo, Short: "deactivate and delete a user's MFA devices", Target: "mfa/USER[:SERIAL,…]"},
	{Name: "teardown-user", Kinds: []Kind{KindUser}, Undo: CannotUndo, Short: "quarantine, record, strip and delete a user", Target: "user/NAME"},
	{Name: "stop-instances", Kinds: []Kind{KindInstances}, Undo: "start them again by hand", Short: "stop instances (protection lifted first)", Target: "i-…,i-…"},
	{Name: "terminate-instances", Kinds: []Kind{KindInstances}, Undo: CannotUndo, Short: "terminate instances (protection lifted first)", Target: "i-…,i-…"},
	{Name: "cancel-spot", Kinds: []Kind{KindSpot}, Undo: CannotUndo, Short: "cancel spot requests, then terminate their instances", Target: "sir-…,sir-…"},
	{Name: "delete-key-pair", Kinds: []Kind{KindKeyPair}, Undo: CannotUndo, Short: "delete an EC2 key pair", Target: "NAME"},
	{Name: "delete-function", Kinds: []Kind{KindFunction}, Undo: CannotUndo, Short: "delete a Lambda function", Target: "NAME"},
	{Name: "tag", Kinds: []Kind{KindTagResource}, Undo: "remove the tag by hand", Short: "tag instances, spot requests, IAM users and roles with the incident id", Target: "i-…,sir-…,user/NAME,role/NAME"},
}

// Info returns the description of the named action.
func Info(name string) (ActionInfo, bool) {
	for _, a := range Actions {
		if a.Name == name {
			return a, true
		}
	}
	return ActionInfo{}, false
}

// New builds the named action for t.
func New(name string, t Target, o Options) (Action, error) {
	info, ok := Info(name)
	if !ok {
		return nil, fmt.Errorf("unknown action %q", name)
	}
	kindOK := false
	for _, k := range info.Kinds {
		kindOK = kindOK || k == t.Kind
	}
	if !kindOK {
		return nil, fmt.Errorf("%w: %s takes %s, not a %s", ErrUnsupported, name, info.Target, t.Kind)
	}
	switch name {
	case "deactivate-key":
		return &SetKeyStatus{Key: t.ID, User: t.User}, nil
	case "reactivate-key":
		return &SetKeyStatus{Key: t.ID, User: t.User, Active: true}, nil
	case "delete-key":
		return &DeleteKey{Key: t.ID, User: t.User}, nil
	case "rotate-key":
		return &RotateKey{Key: t.ID, User: t.User}, nil
	case "revoke-sessions":
		return &RevokeSessions{Kind: t.Kind, Principal: t.ID, NotBefore: o.NotBefore}, nil
	case "unrevoke-sessions":
		return NewUnrevoke(t.Kind, t.ID), nil
	case "quarantine":
		return &Quarantine{Kind: t.Kind, Principal: t.ID}, nil
	case "unquarantine":
		return NewUnquarantine(t.Kind, t.ID), nil
	case "delete-login-profile":
		return &DeleteLoginProfile{User: t.ID}, nil
	case "remove-mfa":
		return &RemoveMFA{User: t.User, Serials: t.IDs}, nil
	case "teardown-user":
		return &TeardownUser{User: t.ID}, nil
	case "stop-instances", "terminate-instances":
		return &StopInstances{Region: t.Region, IDs: t.IDs, Terminate: name == "terminate-instances", Snapshot: o.Snapshot}, nil
	case "cancel-spot":
		return &CancelSpot{Region: t.Region, IDs: t.IDs}, nil
	case "delete-key-pair":
		return &DeleteKeyPair{Region: t.Region, KeyName: t.ID}, nil
	case "delete-function":
		return &DeleteFunction{Region: t.Region, Function: t.ID}, nil
	case "tag":
		return &Tag{Region: t.Region, IDs: t.IDs}, nil
	}
	return nil, fmt.Errorf("unknown action %q", name)
}

// ParseArg reads a target as written on the command line for the named
// action: a key id; user/NAME or role/NAME (a bare name is a user);
// mfa/USER[:SERIAL,…]; comma-separated instance or spot request ids; a key
// pair or function name.
func ParseArg(action, arg, region string) (Target, error) {
	info, ok := Info(action)
	if !ok {
		return Target{}, fmt.Errorf("unknown action %q", action)
	}
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return Target{}, fmt.Errorf("%s: no target (want %s)", action, info.Target)
	}
	switch info.Kinds[0] {
	case KindKey:
		id, user, _ := strings.Cut(arg, "@")
		if !strings.HasPrefix(id, "AKIA") && !strings.HasPrefix(id, "ASIA") {
			return Target{}, fmt.Errorf("%s: %q is not an access key id (AKIA…)", action, id)
		}
		return Target{Kind: KindKey, ID: id, User: user}, nil
	case KindUser:
		switch {
		case strings.HasPrefix(arg, "role/"):
			return Target{Kind: KindRole, ID: strings.TrimPrefix(arg, "role/")}, nil
		case strings.HasPrefix(arg, "arn:") && strings.Contains(arg, ":role/"):
			return Target{Kind: KindRole, ID: arg[strings.LastIndexByte(arg, '/')+1:]}, nil
		case strings.HasPrefix(arg, "arn:") && strings.HasSuffix(arg, ":root"):
			return Target{Kind: KindRoot, ID: "root"}, nil
		case strings.HasPrefix(arg, "arn:"):
			return Target{Kind: KindUser, ID: arg[strings.LastIndexByte(arg, '/')+1:]}, nil
		}
		return Target{Kind: KindUser, ID: strings.TrimPrefix(arg, "user/")}, nil
	case KindMFA:
		rest := strings.TrimPrefix(arg, "mfa/")
		user, serials, _ := strings.Cut(rest, ":")
		return Target{Kind: KindMFA, User: user, IDs: splitList(serials)}, nil
	case KindInstances, KindSpot, KindTagResource:
		return Target{Kind: info.Kinds[0], IDs: splitList(arg), Region: region}, nil
	}
	return Target{Kind: info.Kinds[0], ID: arg, Region: region}, nil
}

// kindOfAction returns the target kind an intent of the action names.
func kindOfAction(action, target string) Kind {
	info, ok := Info(action)
	if !ok {
		return ""
	}
	if len(info.Kinds) > 1 && strings.HasPrefix(target, "role/") {
		return KindRole
	}
	return info.Kinds[0]
}

// FromIntent rebuilds the action an intent was journaled for, so that an
// action whose outcome is unknown can be verified.
func FromIntent(in state.ActionIntent) (Action, error) {
	if a, ok, err := footholdFromIntent(in); ok {
		return a, err
	}
	t, err := ParseTarget(kindOfAction(in.Action, in.Target), in.Target, in.Region)
	if err != nil {
		return nil, fmt.Errorf("intent %s: %w", in.ActionID, err)
	}
	a, err := New(in.Action, t, Options{})
	if err != nil {
		return nil, fmt.Errorf("intent %s: %w", in.ActionID, err)
	}
	switch v := a.(type) {
	case *RevokeSessions:
		// The cutoff the intent sent is the one to verify against.
		for _, c := range in.Plan {
			if doc := c.Params["PolicyDocument"]; doc != "" {
				if pd, err := state.ParsePolicy(doc); err == nil {
					if cut, ok := state.RevokeCutoff(pd); ok {
						v.cutoff = cut
					}
				}
			}
		}
	case *StopInstances:
		for _, c := range in.Plan {
			if c.API == "ec2:CreateSnapshot" {
				v.Snapshot = true
			}
		}
	}
	return a, nil
}
