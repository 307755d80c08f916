package contain

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
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

	// Document is the known-good trust policy (restore-trust) or the
	// inline policy document to put back (restore-policy).
	Document string
	// PolicyARN names a managed policy, Inline an inline policy
	// (detach-policy, restore-policy): exactly one of them.
	PolicyARN string
	Inline    string
	// Group is the group of remove-from-group and add-to-group.
	Group string
	// Rules are the ingress rules of revoke-ingress and authorize-ingress.
	Rules []IngressRule
	// Selectors is the JSON list of event selectors restore-event-selectors
	// puts back; empty means DefaultEventSelectors.
	Selectors string
	// StatementID is the statement remove-function-permission removes.
	StatementID string
	// Statement is the policy statement add-function-permission adds, as
	// lambda:GetPolicy shows it.
	Statement string
	// Principals (users and roles), Networks and Responder are block-ip's:
	// see BlockIPs.
	Principals []Target
	Networks   []NetRef
	Responder  []string
	// PriorReset is the PasswordResetRequired undo-password-reset puts
	// back, when PriorResetKnown (PriorReset finds it in the journal).
	PriorReset, PriorResetKnown bool
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
	{Name: "password-reset", Kinds: []Kind{KindUser}, Undo: "undo-password-reset", Short: "require a user to choose a new console password at the next sign-in (PasswordResetRequired)", Target: "user/NAME"},
	{Name: "undo-password-reset", Kinds: []Kind{KindUser}, Undo: "password-reset", Short: "put a user's password-reset flag back as it was before password-reset", Target: "user/NAME"},
	{Name: "remove-mfa", Kinds: []Kind{KindMFA}, Undo: CannotUndo, Short: "deactivate and delete a user's MFA devices", Target: "mfa/USER[:SERIAL,…]"},
	{Name: "teardown-user", Kinds: []Kind{KindUser}, Undo: CannotUndo, Short: "quarantine, record, strip and delete a user", Target: "user/NAME"},
	{Name: "stop-instances", Kinds: []Kind{KindInstances}, Undo: "start them again by hand", Short: "stop instances (protection lifted first)", Target: "i-…,i-…"},
	{Name: "terminate-instances", Kinds: []Kind{KindInstances}, Undo: CannotUndo, Short: "terminate instances (protection lifted first)", Target: "i-…,i-…"},
	{Name: "cancel-spot", Kinds: []Kind{KindSpot}, Undo: CannotUndo, Short: "cancel spot requests, then terminate their instances", Target: "sir-…,sir-…"},
	{Name: "delete-key-pair", Kinds: []Kind{KindKeyPair}, Undo: CannotUndo, Short: "delete an EC2 key pair", Target: "NAME"},
	{Name: "delete-function", Kinds: []Kind{KindFunction}, Undo: CannotUndo, Short: "delete a Lambda function", Target: "NAME"},
	{Name: "tag", Kinds: []Kind{KindTagResource}, Undo: "remove the tag by hand", Short: "tag instances, spot requests, IAM users and roles with the incident id", Target: "i-…,sir-…,user/NAME,role/NAME"},
	{Name: "restore-trust", Kinds: []Kind{KindRole}, Undo: "restore-trust with the replaced document (kept in the result)", Short: "put a role's known-good trust policy back", Target: "role/NAME --document FILE|-"},
	{Name: "detach-policy", Kinds: []Kind{KindUser, KindGroup, KindRole}, Undo: "restore-policy", Short: "detach a managed policy from, or delete an inline policy of, a user, group or role", Target: "user/NAME | group/NAME | role/NAME --policy-arn ARN | --inline NAME"},
	{Name: "restore-policy", Kinds: []Kind{KindUser, KindGroup, KindRole}, Undo: "detach-policy", Short: "attach a managed policy again, or put an inline policy back", Target: "user/NAME | group/NAME | role/NAME --policy-arn ARN | --inline NAME --document FILE|-"},
	{Name: "remove-from-group", Kinds: []Kind{KindUser}, Undo: "add-to-group", Short: "take a user out of a group", Target: "user/NAME --group GROUP"},
	{Name: "add-to-group", Kinds: []Kind{KindUser}, Undo: "remove-from-group", Short: "put a user back in a group", Target: "user/NAME --group GROUP"},
	{Name: "revoke-ingress", Kinds: []Kind{KindSecurityGroup}, Undo: "authorize-ingress", Short: "revoke exactly the given ingress rules of a security group", Target: "sg-… --rule PROTO:PORT[-PORT]:CIDR …"},
	{Name: "authorize-ingress", Kinds: []Kind{KindSecurityGroup}, Undo: "revoke-ingress", Short: "authorize ingress rules on a security group again", Target: "sg-… --rule PROTO:PORT[-PORT]:CIDR …"},
	{Name: "start-logging", Kinds: []Kind{KindTrail}, Undo: "stop-logging", Short: "start a trail's logging again", Target: "trail/NAME"},
	{Name: "stop-logging", Kinds: []Kind{KindTrail}, Undo: "start-logging", Short: "stop a trail's logging", Target: "trail/NAME"},
	{Name: "restore-event-selectors", Kinds: []Kind{KindTrail}, Undo: "restore-event-selectors with the replaced selectors (kept in the result)", Short: "put a trail's known-good event selectors back", Target: "trail/NAME [--selectors FILE|-]"},
	{Name: "remove-function-permission", Kinds: []Kind{KindFunction}, Undo: "add-function-permission with the removed statement (kept in the result)", Short: "remove one statement of a Lambda function's resource policy", Target: "function/NAME --statement-id ID"},
	{Name: "account-scp", Kinds: []Kind{KindAccount}, Undo: "remove-account-scp", Short: "attach a deny-all service control policy to a compromised member account (stops its applications; spares the incident-response roles)", Target: "ACCOUNT"},
	{Name: "remove-account-scp", Kinds: []Kind{KindAccount}, Undo: "account-scp", Short: "detach and delete the deny SCP warroom attached to a member account", Target: "ACCOUNT"},
	{Name: "sso-user", Kinds: []Kind{KindSSOUser}, Undo: "restore-sso-user", Short: "contain an IAM Identity Center user as AWSSupport-ContainIAMPrincipal does: deny it on its permission sets, delete its account assignments", Target: "USER"},
	{Name: "restore-sso-user", Kinds: []Kind{KindSSOUser}, Undo: "sso-user", Short: "lift warroom's deny on an IAM Identity Center user and create its backed-up account assignments again", Target: "USER"},
	{Name: "add-function-permission", Kinds: []Kind{KindFunction}, Undo: "remove-function-permission", Short: "add a statement to a Lambda function's resource policy", Target: "function/NAME --statement FILE|-"},
	{Name: "block-ip", Kinds: []Kind{KindSourceIPs}, Undo: "unblock-ip", Short: "deny requests from source IPs (aws:SourceIp deny on users and roles, network ACL deny where the attacker opened access)", Target: "IP|CIDR …"},
	{Name: "unblock-ip", Kinds: []Kind{KindSourceIPs}, Undo: "block-ip", Short: "lift a source IP block", Target: "IP|CIDR …"},
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
	case "password-reset":
		return &PasswordReset{User: t.ID, Required: true}, nil
	case "undo-password-reset":
		return &PasswordReset{User: t.ID, Undoing: true, Required: o.PriorReset, PriorKnown: o.PriorResetKnown}, nil
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
	case "restore-trust":
		if strings.TrimSpace(o.Document) == "" {
			return nil, fmt.Errorf("restore-trust %s: no known-good trust policy given (--document FILE|-)", t.ID)
		}
		return &RestoreTrust{Role: t.ID, Document: o.Document}, nil
	case "detach-policy", "restore-policy":
		if (o.PolicyARN == "") == (o.Inline == "") {
			return nil, fmt.Errorf("%s %s: give either a managed policy ARN (--policy-arn) or an inline policy name (--inline)", name, t)
		}
		if name == "detach-policy" {
			return &DetachPolicy{Kind: t.Kind, Principal: t.ID, PolicyARN: o.PolicyARN, Inline: o.Inline}, nil
		}
		if o.Inline != "" && strings.TrimSpace(o.Document) == "" {
			return nil, fmt.Errorf("restore-policy %s: inline policy %s needs its document (--document FILE|-)", t, o.Inline)
		}
		return &RestorePolicy{Kind: t.Kind, Principal: t.ID, PolicyARN: o.PolicyARN, Inline: o.Inline, Document: o.Document}, nil
	case "remove-from-group", "add-to-group":
		if o.Group == "" {
			return nil, fmt.Errorf("%s %s: no group given (--group GROUP)", name, t)
		}
		if name == "remove-from-group" {
			return &RemoveFromGroup{User: t.ID, Group: o.Group}, nil
		}
		return &AddToGroup{User: t.ID, Group: o.Group}, nil
	case "revoke-ingress", "authorize-ingress":
		if err := checkRules(o.Rules); err != nil {
			return nil, fmt.Errorf("%s %s: %w (--rule PROTO:PORT[-PORT]:CIDR)", name, t.ID, err)
		}
		if name == "revoke-ingress" {
			return &RevokeIngress{Region: t.Region, GroupID: t.ID, Rules: slices.Clone(o.Rules)}, nil
		}
		return &AuthorizeIngress{Region: t.Region, GroupID: t.ID, Rules: slices.Clone(o.Rules)}, nil
	case "start-logging":
		return &StartLogging{Region: t.Region, Trail: t.ID}, nil
	case "stop-logging":
		return &StopLogging{Region: t.Region, Trail: t.ID}, nil
	case "restore-event-selectors":
		sel := o.Selectors
		if strings.TrimSpace(sel) == "" {
			sel = DefaultEventSelectors
		}
		if _, _, err := canonicalSelectors(sel); err != nil {
			return nil, fmt.Errorf("restore-event-selectors %s: %w", t.ID, err)
		}
		return &RestoreEventSelectors{Region: t.Region, Trail: t.ID, Selectors: sel}, nil
	case "remove-function-permission":
		if o.StatementID == "" {
			return nil, fmt.Errorf("remove-function-permission %s: no statement id given (--statement-id ID)", t.ID)
		}
		return &RemovePermission{Region: t.Region, Function: t.ID, StatementID: o.StatementID}, nil
	case "block-ip", "unblock-ip":
		ips := make([]string, 0, len(t.IDs))
		for _, s := range t.IDs {
			c, err := ParseBlockIP(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			ips = append(ips, c)
		}
		return &BlockIPs{IPs: ips, Principals: slices.Clone(o.Principals), Networks: slices.Clone(o.Networks),
			Responder: slices.Clone(o.Responder), Lift: name == "unblock-ip"}, nil
	case "sso-user":
		return &ContainSSOUser{User: t.ID, Region: t.Region}, nil
	case "restore-sso-user":
		return &RestoreSSOUser{User: t.ID, Region: t.Region}, nil
	case "account-scp":
		return &AccountSCP{Account: t.ID}, nil
	case "remove-account-scp":
		return &RemoveAccountSCP{Account: t.ID}, nil
	case "add-function-permission":
		if _, err := permissionParams(o.Statement); err != nil {
			return nil, fmt.Errorf("add-function-permission %s: %w (--statement FILE|-)", t.ID, err)
		}
		return &AddPermission{Region: t.Region, Function: t.ID, Statement: o.Statement}, nil
	}
	return nil, fmt.Errorf("unknown action %q", name)
}

// ParseIngressRule reads an ingress rule as written on the command line:
// PROTO:PORT:CIDR or PROTO:FROM-TO:CIDR ("tcp:22:0.0.0.0/0",
// "udp:500-4500:10.0.0.0/8", "tcp:22:::/0"); all traffic is
// "all::CIDR" (or "-1::CIDR").
func ParseIngressRule(s string) (IngressRule, error) {
	parts := strings.SplitN(strings.TrimSpace(s), ":", 3)
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return IngressRule{}, fmt.Errorf("ingress rule %q: want PROTO:PORT[-PORT]:CIDR (\"tcp:22:0.0.0.0/0\")", s)
	}
	r := IngressRule{Protocol: normProtocol(parts[0]), CIDR: parts[2]}
	if r.Protocol != "-1" {
		from, to, isRange := strings.Cut(parts[1], "-")
		if !isRange {
			to = from
		}
		f, err1 := strconv.ParseInt(from, 10, 32)
		t, err2 := strconv.ParseInt(to, 10, 32)
		if err1 != nil || err2 != nil || f > t {
			return IngressRule{}, fmt.Errorf("ingress rule %q: %q is not a port or port range", s, parts[1])
		}
		r.FromPort, r.ToPort = int32(f), int32(t)
	}
	if err := checkRules([]IngressRule{r}); err != nil {
		return IngressRule{}, err
	}
	return r, nil
}

// principalArg reads user/NAME, group/NAME, role/NAME or an IAM ARN (a
// role session's names its role); a bare name is of kind bare.
func principalArg(arg string, bare Kind) Target {
	for _, k := range []Kind{KindUser, KindGroup, KindRole} {
		if name, ok := strings.CutPrefix(arg, string(k)+"/"); ok {
			return Target{Kind: k, ID: name}
		}
	}
	if strings.HasPrefix(arg, "arn:") {
		p, ok := state.ParsePrincipal(arg)
		switch {
		case ok && p.Kind == state.PrincipalRoot:
			return Target{Kind: KindRoot, ID: "root"}
		case ok && p.Role(): // a role session is its role's
			return Target{Kind: KindRole, ID: p.Name}
		case ok && p.Kind == state.PrincipalGroup:
			return Target{Kind: KindGroup, ID: p.Name}
		}
		return Target{Kind: KindUser, ID: arg[strings.LastIndexByte(arg, '/')+1:]}
	}
	return Target{Kind: bare, ID: arg}
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
	case KindUser, KindRole:
		return principalArg(arg, info.Kinds[0]), nil
	case KindSourceIPs:
		t := Target{Kind: KindSourceIPs}
		for _, s := range strings.FieldsFunc(strings.TrimPrefix(arg, "ips/"), func(r rune) bool { return r == ',' || r == ' ' }) {
			c, err := ParseBlockIP(s)
			if err != nil {
				return Target{}, fmt.Errorf("%s: %w", action, err)
			}
			t.IDs = append(t.IDs, c)
		}
		return t, nil
	case KindSecurityGroup:
		id := strings.TrimPrefix(arg, "security-group/")
		if !strings.HasPrefix(id, "sg-") {
			return Target{}, fmt.Errorf("%s: %q is not a security group id (sg-…)", action, id)
		}
		return Target{Kind: KindSecurityGroup, ID: id, Region: region}, nil
	case KindTrail:
		if !strings.HasPrefix(arg, "arn:") {
			arg = strings.TrimPrefix(arg, "trail/")
		}
		return Target{Kind: KindTrail, ID: arg, Region: region}, nil
	case KindFunction:
		return Target{Kind: KindFunction, ID: strings.TrimPrefix(arg, "function/"), Region: region}, nil
	case KindSSOUser:
		return Target{Kind: KindSSOUser, ID: strings.TrimPrefix(arg, "sso-user/"), Region: region}, nil
	case KindAccount:
		id := strings.TrimPrefix(arg, "account/")
		if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
			return Target{}, fmt.Errorf("%s: %q is not an account id (twelve digits)", action, id)
		}
		return Target{Kind: KindAccount, ID: id}, nil
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
	if len(info.Kinds) > 1 {
		for _, k := range info.Kinds {
			if strings.HasPrefix(target, string(k)+"/") {
				return k
			}
		}
	}
	return info.Kinds[0]
}

// FromIntent rebuilds the action an intent was journaled for, so that an
// action whose outcome is unknown can be verified.
func FromIntent(in state.ActionIntent) (Action, error) {
	if a, ok, err := blockFromIntent(in); ok {
		return a, err
	}
	if a, ok, err := footholdFromIntent(in); ok {
		return a, err
	}
	if a, ok, err := netTrailFromIntent(in); ok {
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

// netTrailFromIntent rebuilds the actions of net_trail.go from a journaled
// intent: the target names the security group, trail or function, the
// intent's Region where it was acted on, the planned call the rest. An
// intent without the call (its plan found the action in effect) does not
// say what it was given, and cannot be rebuilt. ok is false for other
// actions.
func netTrailFromIntent(in state.ActionIntent) (a Action, ok bool, err error) {
	param := func(k string) string {
		for _, c := range in.Plan {
			if v := c.Params[k]; v != "" {
				return v
			}
		}
		return ""
	}
	target := func(k Kind) (string, error) {
		t, err := ParseTarget(k, in.Target, in.Region)
		if err != nil {
			return "", fmt.Errorf("intent %s: %w", in.ActionID, err)
		}
		return t.ID, nil
	}
	noCall := func(what string) error {
		return fmt.Errorf("intent %s: %s %s: the intent holds no call, so not %s", in.ActionID, in.Action, in.Target, what)
	}
	switch in.Action {
	case "revoke-ingress", "authorize-ingress":
		id, err := target(KindSecurityGroup)
		if err != nil {
			return nil, true, err
		}
		raw := param("IpPermissions")
		if raw == "" {
			return nil, true, noCall("which rules it was given")
		}
		var rules []IngressRule
		if err := json.Unmarshal([]byte(raw), &rules); err != nil || checkRules(rules) != nil {
			return nil, true, fmt.Errorf("intent %s: IpPermissions %q are not ingress rules", in.ActionID, raw)
		}
		if in.Action == "revoke-ingress" {
			return &RevokeIngress{Region: in.Region, GroupID: id, Rules: rules, revoked: slices.Clone(rules)}, true, nil
		}
		return &AuthorizeIngress{Region: in.Region, GroupID: id, Rules: rules}, true, nil
	case "start-logging", "stop-logging":
		name, err := target(KindTrail)
		if err != nil {
			return nil, true, err
		}
		if in.Action == "start-logging" {
			return &StartLogging{Region: in.Region, Trail: name}, true, nil
		}
		return &StopLogging{Region: in.Region, Trail: name}, true, nil
	case "restore-event-selectors":
		name, err := target(KindTrail)
		if err != nil {
			return nil, true, err
		}
		sel := param("EventSelectors")
		if sel == "" {
			return nil, true, noCall("which selectors it was given")
		}
		return &RestoreEventSelectors{Region: in.Region, Trail: name, Selectors: sel}, true, nil
	case "remove-function-permission":
		fn, err := target(KindFunction)
		if err != nil {
			return nil, true, err
		}
		sid := param("StatementId")
		if sid == "" {
			return nil, true, noCall("which statement it was given")
		}
		return &RemovePermission{Region: in.Region, Function: fn, StatementID: sid}, true, nil
	case "add-function-permission":
		fn, err := target(KindFunction)
		if err != nil {
			return nil, true, err
		}
		sid := param("StatementId")
		if sid == "" {
			return nil, true, noCall("which statement it was given")
		}
		// The statement, as far as the verification and the undo need it.
		st := map[string]any{"Sid": sid, "Action": param("Action"), "Principal": param("Principal")}
		cond := map[string]map[string]string{}
		if v := param("SourceArn"); v != "" {
			cond["ArnLike"] = map[string]string{"AWS:SourceArn": v}
		}
		if v := param("SourceAccount"); v != "" {
			cond["StringEquals"] = map[string]string{"AWS:SourceAccount": v}
		}
		if len(cond) > 0 {
			st["Condition"] = cond
		}
		b, _ := json.Marshal(st)
		return &AddPermission{Region: in.Region, Function: fn, Statement: string(b)}, true, nil
	}
	return nil, false, nil
}

// FromAction rebuilds a journaled action as FromIntent does and, when its
// result kept what the action replaced or removed (Prior), gives the
// rebuilt action that state, so that its Undo puts it back: the trust
// policy restore-trust replaced, the inline policy detach-policy deleted,
// the selectors restore-event-selectors replaced, the statement
// remove-function-permission removed, the rules revoke-ingress revoked.
func FromAction(a *state.Action) (Action, error) {
	act, err := FromIntent(a.Intent)
	if err != nil || a.Result == nil || len(a.Result.Prior) == 0 {
		return act, err
	}
	prior := a.Result.Prior
	bad := func(err error) error {
		return fmt.Errorf("action %s: the prior state in its result: %w", a.Intent.ActionID, err)
	}
	switch v := act.(type) {
	case *RestoreTrust:
		var p TrustPrior
		if err := json.Unmarshal(prior, &p); err != nil {
			return act, bad(err)
		}
		v.prior = p.Document
	case *DetachPolicy:
		var p PolicyPrior
		if err := json.Unmarshal(prior, &p); err != nil {
			return act, bad(err)
		}
		v.prior = p.Document
	case *RestoreEventSelectors:
		if _, _, err := canonicalSelectors(string(prior)); err != nil {
			return act, bad(err)
		}
		v.prior = string(prior)
	case *RemovePermission:
		if _, err := permissionParams(string(prior)); err != nil {
			return act, bad(err)
		}
		v.prior = slices.Clone(prior)
	case *ContainSSOUser:
		var b SSOBackup
		if err := json.Unmarshal(prior, &b); err != nil {
			return act, bad(err)
		}
		v.backup = &b
	case *RevokeIngress:
		var rules []IngressRule
		if err := json.Unmarshal(prior, &rules); err != nil {
			return act, bad(err)
		}
		v.revoked = rules
	}
	return act, nil
}
