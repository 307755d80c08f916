package contain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/regions"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// Family is what a suspect key and the keys of its family did, as
// CloudTrail tells it (the journal's events, which Refresh tops up from
// CloudTrail's event history), and what a fresh sweep found they made:
// the principals to act on and every foothold. Every string comes from
// CloudTrail or AWS and may be attacker-chosen.
type Family struct {
	// Key is the family's root: the suspect key, or the long-term key
	// that minted it when the suspect key is a temporary one.
	Key string
	// Suspect is the key the responder named.
	Suspect string
	// Keys: the family as state defines it (EventTable.Family): the key,
	// every key it minted, every key it created and every key created for
	// a user it created, recursively.
	Keys []string
	// Owner is the IAM user owning Key ("" when unknown).
	Owner string
	// Roles are the roles the family assumed, by name.
	Roles []string
	// NewestMint is when the newest temporary credential of the family
	// was issued.
	NewestMint time.Time
	// First is the family's first event in the journal (zero: none).
	First time.Time
	// Users the family created; Keys it created (id → user); users whose
	// console password it set; MFA devices it enabled (user → serials).
	Users      []string
	CreatedKey map[string]string
	Logins     []string
	MFA        map[string][]string
	// CreatedRoles are roles the family created; Trusts the roles whose
	// trust policy it changed (role → the document it put); Policies the
	// policies it attached or put; Groups the group memberships it added.
	CreatedRoles []string
	Trusts       map[string]string
	TrustChanges []TrustChange
	Policies     []PolicyGrant
	Groups       []GroupAdd
	// Per Region: instances launched, spot requests made, key pairs
	// imported, functions created, function permissions added, ingress
	// opened, trails stopped, deleted or re-pointed.
	Instances   map[string][]string
	Spot        map[string][]string
	KeyPairs    map[string][]string
	Functions   map[string][]string
	Permissions []FunctionGrant
	Ingress     []IngressGrant
	Trails      []TrailChange
	// Problems lists records that could not be read.
	Problems []string

	// Account is the account these footholds are in: the root key's
	// ("" when CloudTrail has not named it: the account the Env acts in).
	Account string
	// KeyAccount is the account each key of Keys acts in, when it is not
	// Account: a session minted on another account's role, and the keys
	// created there.
	KeyAccount map[string]string
	// Members are the family's footholds in the other accounts its keys
	// reached (sessions minted on a role there, and what they made), by
	// account id; each lists only the keys acting there, and the roles of
	// that account the family assumed.
	Members map[string]*Family
}

// Summary says in a few words what the family holds in its account.
func (f *Family) Summary() string {
	var parts []string
	count := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d", what, n))
		}
	}
	count(len(f.Keys), "keys")
	count(len(f.Roles), "roles assumed")
	count(len(f.Users), "users created")
	count(len(f.CreatedKey), "keys created")
	n := 0
	for _, ids := range f.Instances {
		n += len(ids)
	}
	count(n, "instances launched")
	if len(parts) == 0 {
		return "nothing known yet"
	}
	return strings.Join(parts, ", ")
}

// Accounts lists the accounts the family holds footholds in: Account,
// then the members in order.
func (f *Family) Accounts() []string {
	out := []string{f.Account}
	return append(out, sortedKeys(f.Members)...)
}

// PolicyGrant is a policy the family attached (PolicyARN) or put (Inline,
// the policy name) on a user, group or role.
type PolicyGrant struct {
	Kind      Kind // KindUser, KindGroup, KindRole
	Principal string
	PolicyARN string
	Inline    string
}

// TrustChange is one UpdateAssumeRolePolicy of the family.
type TrustChange struct {
	Role string
	Time time.Time
	// Account is where the role is (the event's recipientAccountId);
	// empty when the record does not say.
	Account string
}

// GroupAdd is a user the family added to a group.
type GroupAdd struct{ User, Group string }

// FunctionGrant is a Lambda permission the family added.
type FunctionGrant struct{ Region, Function, StatementID string }

// IngressGrant is security-group ingress the family opened.
type IngressGrant struct {
	Region, GroupID string
	Rules           []IngressRule
}

// TrailChange is what the family did to a trail: StopLogging, DeleteTrail
// or PutEventSelectors (with the selectors it put).
type TrailChange struct {
	Region, Trail, Event string
	EventID              string
	Time                 time.Time
}

// familyEvents are the calls whose records name what the family created
// or changed.
var familyEvents = []string{"CreateUser", "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile", "EnableMFADevice",
	"RunInstances", "RequestSpotInstances", "ImportKeyPair", "CreateKeyPair", "CreateFunction", "CreateFunction20150331",
	"CreateRole", "UpdateAssumeRolePolicy", "AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy",
	"PutUserPolicy", "PutGroupPolicy", "PutRolePolicy", "AddUserToGroup", "AuthorizeSecurityGroupIngress",
	"AddPermission", "AddPermission20150331", "AddPermission20150331v2", "StopLogging", "DeleteTrail", "PutEventSelectors"}

// familyRecord is the part of a record FindFamily reads.
type familyRecord struct {
	RequestParameters struct {
		UserName       string          `json:"userName"`
		RoleName       string          `json:"roleName"`
		GroupName      string          `json:"groupName"`
		PolicyArn      string          `json:"policyArn"`
		PolicyName     string          `json:"policyName"`
		PolicyDocument string          `json:"policyDocument"`
		RoleArn        string          `json:"roleArn"`
		SerialNumber   string          `json:"serialNumber"`
		KeyName        string          `json:"keyName"`
		FunctionName   string          `json:"functionName"`
		StatementID    string          `json:"statementId"`
		Name           string          `json:"name"`
		TrailName      string          `json:"trailName"`
		GroupID        string          `json:"groupId"`
		IPPermissions  json.RawMessage `json:"ipPermissions"`
	} `json:"requestParameters"`
	ResponseElements *struct {
		AccessKey *struct {
			UserName    string `json:"userName"`
			AccessKeyID string `json:"accessKeyId"`
		} `json:"accessKey"`
		InstancesSet struct {
			Items []struct {
				InstanceID string `json:"instanceId"`
			} `json:"items"`
		} `json:"instancesSet"`
		SpotSet struct {
			Items []struct {
				ID string `json:"spotInstanceRequestId"`
			} `json:"items"`
		} `json:"spotInstanceRequestSet"`
		KeyName      string `json:"keyName"`
		FunctionName string `json:"functionName"`
		RuleSet      struct {
			Items []struct {
				GroupID string `json:"groupId"`
			} `json:"items"`
		} `json:"securityGroupRuleSet"`
		Credentials *struct {
			AccessKeyID string `json:"accessKeyId"`
		} `json:"credentials"`
	} `json:"responseElements"`
	UserIdentity struct {
		UserName string `json:"userName"`
	} `json:"userIdentity"`
}

// FindFamily reads what the key's family did from the store's events
// (raw reads each record from the journal). The swept resources of the
// store whose creator (state.FindCreators) is in the family are added
// too: instances a spot request launched carry the request's creator.
func FindFamily(s *state.Store, raw func(state.EventRef) ([]byte, error), key string) *Family {
	return findFamily(s, raw, key, "")
}

// findFamily is FindFamily; account is the account the root key belongs
// to when the journal does not say (sts:GetAccessKeyInfo's answer).
func findFamily(s *state.Store, raw func(state.EventRef) ([]byte, error), key, account string) *Family {
	// A temporary key is contained with the credential it came from: the
	// family is its root's (the long-term key that minted it, through
	// every link of role chaining).
	suspect := key
	key = rootOf(s, key)
	lineage := s.Events.Family(key)
	if len(lineage) == 0 {
		lineage = []state.Lineage{{Key: key}}
	}
	keys := make([]string, 0, len(lineage))
	for _, lg := range lineage {
		if !slices.Contains(keys, lg.Key) {
			keys = append(keys, lg.Key)
		}
	}
	f := scanFamily(s, raw, key, keys)
	// A role whose trust the family opened to someone else: the sessions
	// minted on it after the change, by principals signing with no key
	// of this account (another account's), are the family's too, and so
	// is what they made.
	if outside := backdoorSessions(s, raw, f); len(outside) > 0 {
		for _, k := range outside {
			for _, lg := range s.Events.Family(k) {
				if !slices.Contains(keys, lg.Key) {
					keys = append(keys, lg.Key)
					lineage = append(lineage, lg)
				}
			}
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
				lineage = append(lineage, state.Lineage{Key: k})
			}
		}
		trusts, owner := f.Trusts, f.Owner
		f = scanFamily(s, raw, key, keys)
		for r, d := range trusts {
			if _, ok := f.Trusts[r]; !ok {
				f.Trusts[r] = d
			}
		}
		if f.Owner == "" {
			f.Owner = owner
		}
	}
	// Each key acts in one account: a session in its role's, a created key
	// in its creator's, a user's key in its user's. The keys of another
	// account than the root's are that account's footholds.
	home := keyAccount(s, key, map[string]bool{})
	if home == "" {
		home = account
	}
	byAcct := map[string][]string{}
	for _, k := range keys {
		if a := keyAccount(s, k, map[string]bool{}); a != "" && a != home {
			byAcct[a] = append(byAcct[a], k)
		}
	}
	if len(byAcct) > 0 {
		var homeKeys []string
		for _, k := range keys {
			if !slices.ContainsFunc(sortedKeys(byAcct), func(a string) bool { return slices.Contains(byAcct[a], k) }) {
				homeKeys = append(homeKeys, k)
			}
		}
		trusts, owner := f.Trusts, f.Owner
		f = scanFamily(s, raw, key, homeKeys)
		f.Trusts = trusts
		if f.Owner == "" {
			f.Owner = owner
		}
		f.Keys = keys
		f.KeyAccount = map[string]string{}
		f.Members = map[string]*Family{}
		for a, ks := range byAcct {
			m := scanFamily(s, raw, "", ks)
			m.Account, m.Suspect, m.Key = a, suspect, ""
			f.Members[a] = m
			for _, k := range ks {
				f.KeyAccount[k] = a
			}
		}
	}
	f.Account = home
	f.Suspect = suspect
	for _, lg := range lineage {
		in := f
		if a, ok := f.KeyAccount[lg.Key]; ok {
			in = f.Members[a]
		}
		if lg.Created {
			in.CreatedKey[lg.Key] = lg.User
		}
		if lg.RoleARN != "" {
			// The role is in its own account: a session minted on another
			// account's role is revoked there.
			if p, ok := state.ParsePrincipal(lg.RoleARN); ok && p.Role() {
				at := f
				if m := f.Members[p.ARN.Account]; m != nil && p.ARN.Account != home {
					at = m
				}
				if !slices.Contains(at.Roles, p.Name) {
					at.Roles = append(at.Roles, p.Name)
				}
			}
		}
		if lg.Minted && !lg.Created && lg.MintedAt.After(f.NewestMint) {
			f.NewestMint = lg.MintedAt
		}
	}
	for _, m := range f.Members {
		m.NewestMint = f.NewestMint
	}
	return f
}

// keyAccount returns the account key acts in, as the journal tells it: a
// minted session's role's account, a created key's creator's, else the
// account of the principal of its first event; "" when none says.
func keyAccount(s *state.Store, key string, seen map[string]bool) string {
	if seen[key] {
		return ""
	}
	seen[key] = true
	if fam := s.Events.Family(key); len(fam) > 0 {
		lg := fam[0]
		if p, ok := state.ParsePrincipal(lg.RoleARN); ok && p.Role() && p.ARN.Account != "" {
			return p.ARN.Account
		}
		if lg.Created && lg.Issuer != "" {
			if a := keyAccount(s, lg.Issuer, seen); a != "" {
				return a
			}
		}
	}
	flt, err := state.ParseFilter("key:" + key)
	if err != nil {
		return ""
	}
	res := s.Events.Query(flt)
	for i := range min(res.Len(), 8) {
		if a, ok := state.ParseARN(s.Events.Event(res.At(i)).Principal); ok && len(a.Account) == 12 {
			return a.Account
		}
	}
	return ""
}

// scanFamily reads what the given keys created or changed.
func scanFamily(s *state.Store, raw func(state.EventRef) ([]byte, error), key string, keys []string) *Family {
	f := &Family{Key: key, Keys: keys, CreatedKey: map[string]string{}, MFA: map[string][]string{}, Instances: map[string][]string{},
		Spot: map[string][]string{}, KeyPairs: map[string][]string{}, Functions: map[string][]string{}, Trusts: map[string]string{}}
	if u := state.KeyOwner(s.Inventory, key); u != nil {
		f.Owner = u.Name
	}
	add := func(m map[string][]string, k, v string) {
		if v != "" && !slices.Contains(m[k], v) {
			m[k] = append(m[k], v)
		}
	}
	if first, err := state.ParseFilter("key:" + strings.Join(f.Keys, ",")); err == nil {
		if res := s.Events.Query(first); res.Len() > 0 {
			f.First = s.Events.Event(res.At(0)).Time
		}
	}
	flt, err := state.ParseFilter("key:" + strings.Join(f.Keys, ",") + " event:" + strings.Join(familyEvents, ",") + " -failed")
	if err != nil {
		f.Problems = append(f.Problems, err.Error())
		return f
	}
	res := s.Events.Query(flt)
	for i := 0; i < res.Len(); i++ {
		ev := s.Events.Event(res.At(i))
		b, err := raw(ev.Ref)
		if err != nil {
			f.Problems = append(f.Problems, fmt.Sprintf("event %s: %v", ev.EventID, err))
			continue
		}
		var r familyRecord
		if err := json.Unmarshal(b, &r); err != nil {
			f.Problems = append(f.Problems, fmt.Sprintf("event %s: %v", ev.EventID, err))
			continue
		}
		if f.Owner == "" && ev.AccessKeyID == key && ev.IdentityType == "IAMUser" {
			f.Owner = r.UserIdentity.UserName
		}
		rp, re := r.RequestParameters, r.ResponseElements
		switch ev.Name {
		case "CreateUser":
			if n := rp.UserName; n != "" && !slices.Contains(f.Users, n) {
				f.Users = append(f.Users, n)
			}
		case "CreateAccessKey":
			if re != nil && re.AccessKey != nil && re.AccessKey.AccessKeyID != "" {
				f.CreatedKey[re.AccessKey.AccessKeyID] = re.AccessKey.UserName
			}
		case "CreateLoginProfile", "UpdateLoginProfile":
			n := rp.UserName
			if n == "" {
				n = ev.User
			}
			if n != "" && !slices.Contains(f.Logins, n) {
				f.Logins = append(f.Logins, n)
			}
		case "EnableMFADevice":
			add(f.MFA, rp.UserName, rp.SerialNumber)
		case "RunInstances":
			if re != nil {
				for _, it := range re.InstancesSet.Items {
					add(f.Instances, ev.Region, it.InstanceID)
				}
			}
		case "RequestSpotInstances":
			if re != nil {
				for _, it := range re.SpotSet.Items {
					add(f.Spot, ev.Region, it.ID)
				}
			}
		case "ImportKeyPair", "CreateKeyPair":
			n := rp.KeyName
			if re != nil && re.KeyName != "" {
				n = re.KeyName
			}
			add(f.KeyPairs, ev.Region, n)
		case "CreateFunction", "CreateFunction20150331":
			n := rp.FunctionName
			if re != nil && re.FunctionName != "" {
				n = re.FunctionName
			}
			add(f.Functions, ev.Region, n)
		case "CreateRole":
			if n := rp.RoleName; n != "" && !slices.Contains(f.CreatedRoles, n) {
				f.CreatedRoles = append(f.CreatedRoles, n)
			}
		case "UpdateAssumeRolePolicy":
			if rp.RoleName != "" {
				f.Trusts[rp.RoleName] = rp.PolicyDocument
				f.TrustChanges = append(f.TrustChanges, TrustChange{Role: rp.RoleName, Time: ev.Time, Account: ev.Account})
			}
		case "AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy", "PutUserPolicy", "PutGroupPolicy", "PutRolePolicy":
			g := PolicyGrant{Kind: KindUser, Principal: rp.UserName}
			switch {
			case strings.Contains(ev.Name, "Group"):
				g.Kind, g.Principal = KindGroup, rp.GroupName
			case strings.Contains(ev.Name, "Role"):
				g.Kind, g.Principal = KindRole, rp.RoleName
			}
			if strings.HasPrefix(ev.Name, "Attach") {
				g.PolicyARN = rp.PolicyArn
			} else {
				g.Inline = rp.PolicyName
			}
			if g.Principal != "" && (g.PolicyARN != "" || g.Inline != "") && !slices.Contains(f.Policies, g) {
				f.Policies = append(f.Policies, g)
			}
		case "AddUserToGroup":
			if g := (GroupAdd{User: rp.UserName, Group: rp.GroupName}); g.User != "" && g.Group != "" && !slices.Contains(f.Groups, g) {
				f.Groups = append(f.Groups, g)
			}
		case "AuthorizeSecurityGroupIngress":
			rules, err := parseIPPermissions(rp.IPPermissions)
			if err != nil {
				f.Problems = append(f.Problems, fmt.Sprintf("event %s: ipPermissions: %v", ev.EventID, err))
			}
			gid := rp.GroupID
			if gid == "" && re != nil && len(re.RuleSet.Items) > 0 {
				gid = re.RuleSet.Items[0].GroupID // the call named the group by name
			}
			if gid != "" && len(rules) > 0 {
				f.addIngress(IngressGrant{Region: ev.Region, GroupID: gid, Rules: rules})
			}
		case "AddPermission", "AddPermission20150331", "AddPermission20150331v2":
			if rp.FunctionName != "" && rp.StatementID != "" {
				f.Permissions = append(f.Permissions, FunctionGrant{Region: ev.Region, Function: rp.FunctionName, StatementID: rp.StatementID})
			}
		case "StopLogging", "DeleteTrail", "PutEventSelectors":
			n := rp.Name
			if n == "" {
				n = rp.TrailName
			}
			if a, ok := state.ParseARN(n); ok && a.Type() == "trail" {
				n = a.Name() // an ARN names the same trail
			}
			if n != "" {
				f.Trails = append(f.Trails, TrailChange{Region: ev.Region, Trail: n, Event: ev.Name, EventID: ev.EventID, Time: ev.Time})
			}
		}
	}
	// Swept resources whose creator is in the family, in every Region.
	if len(s.Sweeps) > 0 {
		cr, problems := state.FindCreators(s.Events, raw)
		for _, p := range problems {
			f.Problems = append(f.Problems, p.Error())
		}
		for _, sw := range s.SweepList() {
			for _, r := range sw.V.Resources {
				c, ok := cr.Of(sw.V.Region, r)
				if !ok || !slices.Contains(f.Keys, c.AccessKeyID) {
					continue
				}
				switch sw.V.Kind {
				case "ec2:instance":
					if r.Attrs["spot_request"] == "" {
						add(f.Instances, sw.V.Region, r.ID)
					}
				case "ec2:spot-request":
					add(f.Spot, sw.V.Region, r.ID)
				case "ec2:key-pair":
					add(f.KeyPairs, sw.V.Region, r.Name)
				case "lambda:function":
					add(f.Functions, sw.V.Region, r.Name)
				}
			}
		}
	}
	return f
}

// parseIPPermissions reads CloudTrail's rendering of EC2 ip permissions:
// {"items":[{"ipProtocol","fromPort","toPort","ipRanges":{"items":[{"cidrIp"}]},"ipv6Ranges":{"items":[{"cidrIpv6"}]}}]}.
func parseIPPermissions(b json.RawMessage) ([]IngressRule, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	var v struct {
		Items []struct {
			Protocol string `json:"ipProtocol"`
			From     *int32 `json:"fromPort"`
			To       *int32 `json:"toPort"`
			V4       struct {
				Items []struct {
					CIDR string `json:"cidrIp"`
				} `json:"items"`
			} `json:"ipRanges"`
			V6 struct {
				Items []struct {
					CIDR string `json:"cidrIpv6"`
				} `json:"items"`
			} `json:"ipv6Ranges"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	var out []IngressRule
	for _, it := range v.Items {
		r := IngressRule{Protocol: it.Protocol}
		if it.From != nil {
			r.FromPort = *it.From
		}
		if it.To != nil {
			r.ToPort = *it.To
		}
		for _, c := range it.V4.Items {
			r.CIDR = c.CIDR
			out = append(out, r)
		}
		for _, c := range it.V6.Items {
			r.CIDR = c.CIDR
			out = append(out, r)
		}
	}
	return out, nil
}

// Step is one action of a playbook, with its plan as read when the
// playbook was planned.
type Step struct {
	Action Action
	// Why this step is in the playbook: the foothold it neutralises.
	Why  string
	Plan *Plan
	// Err is set when planning the step failed: the step is shown with
	// it and skipped; the others go on.
	Err error
	// Foothold is what the step neutralises, as the verdict names it.
	Foothold state.OpenFoothold
	// Env is the account the step acts in, through the role assumed
	// there (Env.ForAccount); nil: the playbook's own Env.
	Env *Env
}

// In returns the Env the step acts in: its own, else env.
func (st *Step) In(env *Env) *Env {
	if st.Env != nil {
		return st.Env
	}
	return env
}

// Playbook is one plan of several actions, confirmed once.
type Playbook struct {
	ID     string
	Title  string
	Family *Family
	Steps  []*Step
	// Notes say what was found.
	Notes []string
	// LeftAlone lists footholds the playbook does not act on, each with
	// why: they stay open in the verdict.
	LeftAlone []state.OpenFoothold
	// Unsure lists what was made after the leak by someone CloudTrail
	// has not named yet: not acted on, and the verdict is not
	// "contained" while any is left.
	Unsure []state.OpenFoothold
	// AWSQuarantine lists AWS's own quarantine policies found on the
	// family's users, each with what it already denies of the calls that
	// plant or restore the playbook's footholds and what it does not. It
	// changes no step: a quarantine is not containment.
	AWSQuarantine []QuarantineNote
}

// QuarantineNote is one AWS quarantine policy on a user of the family.
type QuarantineNote struct {
	Sighting state.QuarantineSighting
	Coverage state.QuarantineCoverage
}

// Irreversible reports whether any step cannot be undone: the playbook
// then needs the suspect key typed to confirm.
func (pb *Playbook) Irreversible() bool {
	// A step read back as held makes no call: its irreversible plan (a
	// login profile already deleted) is not what the responder confirms.
	return slices.ContainsFunc(pb.Steps, func(s *Step) bool { return s.Plan != nil && len(s.Plan.Calls) > 0 && s.Plan.HasIrreversible() })
}

// Calls returns every call of every step, in order.
func (pb *Playbook) Calls() []state.Call {
	var out []state.Call
	for _, s := range pb.Steps {
		if s.Plan != nil {
			out = append(out, s.Plan.Calls...)
		}
	}
	return out
}

// CredentialOptions tune the credential playbook.
type CredentialOptions struct {
	// Terminate instances instead of stopping them.
	Terminate bool
	// Snapshot EBS volumes before terminating.
	Snapshot bool
	// RolesOnly plans only the revokes on the roles the family assumed
	// (the action "revoke-roles").
	RolesOnly bool
	// RevokeAfter: sessions issued before it are revoked whatever the
	// journal knows of them. Contain sets it to the cut of a round in
	// which a step had been undone: something the family held was still
	// alive, and a session it minted meanwhile (through a trust it
	// re-opened) may not be in CloudTrail yet.
	RevokeAfter time.Time
}

// PlanCredential builds the playbook "contain this credential" for a
// suspect key from the fold (the journal's events, topped up by Refresh
// with CloudTrail's event history, a fresh inventory and a fresh sweep):
// every long-term key of the family is deactivated first, so no new
// session can be minted after a revoke's cutoff; then the users and roles
// it created are quarantined, trust policies it changed restored, policies
// it attached or put detached, group memberships it added removed; the
// sessions of every user whose key is in the family and of every role it
// assumed revoked; console passwords it set deleted, MFA devices it
// enabled removed; logging it stopped started again and event selectors
// it changed restored; its spot requests cancelled and instances stopped
// (or terminated) in every Region, ingress it opened revoked, function
// permissions it added removed, functions and key pairs it made deleted;
// what was touched tagged. What it leaves alone, and what was made after
// the leak by someone CloudTrail has not named yet, is listed with why.
func PlanCredential(ctx context.Context, env *Env, s *state.Store, raw func(state.EventRef) ([]byte, error), key string, o CredentialOptions) (*Playbook, error) {
	if key == "" {
		return nil, errors.New("playbook: no key")
	}
	return planFromView(ctx, env, readPlan(s, raw, key, env.keyAccount(ctx, key)), key, o)
}

// PlanCredentialFold is PlanCredential from a Fold: what the plan needs of
// the store is read while the fold holds still, the AWS reads made after.
func PlanCredentialFold(ctx context.Context, env *Env, fold Fold, key string, o CredentialOptions) (*Playbook, error) {
	if key == "" {
		return nil, errors.New("playbook: no key")
	}
	var fv *planView
	acct := env.keyAccount(ctx, key)
	if err := fold(func(s *state.Store, raw Raw) error {
		fv = readPlan(s, raw, key, acct)
		return nil
	}); err != nil {
		return nil, err
	}
	return planFromView(ctx, env, fv, key, o)
}

// planView is what a credential's plan reads of the fold: the family,
// whether CloudTrail holds an event of its key, the trust policies to
// restore, and what was made after the leak with no creator named.
type planView struct {
	family    *Family
	noEvents  bool
	goodTrust map[string]string // by role: the document to restore
	goodWhen  map[string]time.Time
	unsure    []state.OpenFoothold
	// quarantine: AWS's quarantine policies seen on any user (CloudTrail
	// first, then the latest inventory).
	quarantine []state.QuarantineSighting
}

// readPlan reads from s (and the raw records) all that planCredential
// needs of it; it calls no AWS API.
func readPlan(s *state.Store, raw Raw, key, account string) *planView {
	f := findFamily(s, raw, key, account)
	fv := &planView{family: f, noEvents: len(s.Events.Family(f.Key)) == 0,
		goodTrust: map[string]string{}, goodWhen: map[string]time.Time{}}
	for r, bad := range f.Trusts {
		if good, when := knownGoodTrust(s, r, bad); good != "" {
			fv.goodTrust[r], fv.goodWhen[r] = good, when
		}
	}
	fv.unsure = unattributed(s, raw, f)
	fv.quarantine, _ = state.FindQuarantines(s.Events, raw)
	fv.quarantine = append(fv.quarantine, s.InventoryQuarantines()...)
	// The other accounts the family reached, from their own inventory and
	// sweep (Refresh journals them with the account).
	for _, acct := range sortedKeys(f.Members) {
		af, ok := s.Account(acct)
		if !ok || s.Home() == "" {
			continue
		}
		m := *f.Members[acct]
		m.First = f.First // made after the leak, wherever
		for _, o := range unattributedIn(s, raw, &m, sortedSweeps(af.Sweeps), af.Inventory) {
			o.Account = acct
			fv.unsure = append(fv.unsure, o)
		}
	}
	return fv
}

// sortedSweeps lists an account's sweeps by Region and kind.
func sortedSweeps(m map[state.SweepKey]state.Dated[state.Sweep]) []state.Dated[state.Sweep] {
	out := make([]state.Dated[state.Sweep], 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b state.Dated[state.Sweep]) int {
		if c := strings.Compare(a.V.Region, b.V.Region); c != 0 {
			return c
		}
		return strings.Compare(a.V.Kind, b.V.Kind)
	})
	return out
}

// planFromView plans from what readPlan read.
func planFromView(ctx context.Context, env *Env, fv *planView, key string, o CredentialOptions) (*Playbook, error) {
	f := fv.family
	if o.RevokeAfter.After(f.NewestMint) {
		f.NewestMint = o.RevokeAfter
		for _, m := range f.Members {
			m.NewestMint = o.RevokeAfter
		}
	}
	pb := &Playbook{ID: "pb-" + NewActionID(env.now())[4:], Title: "Contain credential " + key, Family: f}
	if f.Key != key {
		pb.Notes = append(pb.Notes, key+" is a temporary key minted from "+f.Key+": the whole credential it came from is contained")
		key = f.Key
	}
	if o.RolesOnly {
		pb.Title = "Revoke the sessions of every role " + key + " and its family assumed"
	}
	// Each account the family reached is contained through its own
	// session: the role assumed there. One that cannot be reached makes
	// the verdict unsure, naming it.
	roles := 0
	for _, acct := range f.Accounts() {
		fam := f
		if acct != f.Account {
			fam = f.Members[acct]
		}
		aenv, err := env.ForAccount(ctx, acct)
		if err != nil {
			pb.Unsure = append(pb.Unsure, state.OpenFoothold{Kind: "account", ID: acct, Account: acct,
				Detail: "the family holds footholds in account " + acct + " (" + fam.Summary() + ") that cannot be read back or contained: " + err.Error()})
			continue
		}
		if aenv != env {
			pb.Notes = append(pb.Notes, "account "+acct+": "+fam.Summary()+"; contained there through "+aenv.Role)
		}
		roles += len(fam.Roles)
		k := ""
		if fam == f {
			k = key
		}
		planAccount(ctx, env, aenv, pb, fam, fv, k, o)
	}
	if o.RolesOnly && roles == 0 {
		pb.Notes = append(pb.Notes, "the journal shows no role assumed by "+key+" or its family")
	}
	pb.Unsure = append(pb.Unsure, fv.unsure...)
	planSteps(ctx, env, pb.Steps)
	noteQuarantine(pb, fv.quarantine)
	return pb, nil
}

// noteQuarantine adds to pb AWS's quarantine policies on the family's users
// (the key's owner and the users it created), each judged against the
// calls that plant or restore the footholds of pb's steps.
func noteQuarantine(pb *Playbook, seen []state.QuarantineSighting) {
	f := pb.Family
	users := map[string]bool{f.Owner: f.Owner != ""}
	for _, u := range f.Users {
		users[u] = true
	}
	var kinds []string
	for _, st := range pb.Steps {
		if !slices.Contains(kinds, st.Foothold.Kind) {
			kinds = append(kinds, st.Foothold.Kind)
		}
	}
	actions := state.FootholdActions(kinds...)
	if len(kinds) == 0 {
		actions = state.FootholdActions()
	}
	done := map[string]bool{}
	for _, sg := range seen {
		if !users[sg.User] || done[sg.User+" "+sg.ARN] {
			continue
		}
		done[sg.User+" "+sg.ARN] = true
		n := QuarantineNote{Sighting: sg, Coverage: state.CoverActions(sg.ARN, actions)}
		pb.AWSQuarantine = append(pb.AWSQuarantine, n)
		by := ""
		if sg.ByAWS {
			by = ", attached by AWS"
		}
		pb.Notes = append(pb.Notes, fmt.Sprintf("▲ AWS's quarantine %s is on %s%s: it is not containment, every step still runs; %s",
			sg.Policy, sg.User, by, n.Coverage))
	}
}

// planAccount adds the steps that contain the family's footholds in one
// account, acting through aenv (env itself for the account env acts in).
// key is the root key when f is the root's account's, else "".
func planAccount(ctx context.Context, env, aenv *Env, pb *Playbook, f *Family, fv *planView, key string, o CredentialOptions) {
	home := aenv == env
	if f.Owner == "" && strings.HasPrefix(key, "AKIA") {
		lu, err := aenv.Sess.IAM().GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(key)})
		if err == nil {
			f.Owner = aws.ToString(lu.UserName)
		} else {
			pb.Notes = append(pb.Notes, "owner of "+key+" unknown: "+session.Wrap("iam:GetAccessKeyLastUsed", "", err).Error())
		}
	}
	if key != "" && len(f.Keys) == 1 && fv.noEvents {
		pb.Notes = append(pb.Notes, "CloudTrail holds no event of "+key+" yet: only the key itself and its owner are contained")
	}
	for _, p := range f.Problems {
		pb.Notes = append(pb.Notes, "unreadable record: "+p)
	}
	add := func(a Action, why string, fh state.OpenFoothold) {
		if fh.Detail == "" {
			fh.Detail = why
		}
		fh.Account = aenv.Account
		st := &Step{Action: a, Why: why, Foothold: fh}
		if !home {
			st.Env = aenv
		}
		pb.Steps = append(pb.Steps, st)
	}
	if o.RolesOnly {
		for _, r := range f.Roles {
			add(&RevokeSessions{Kind: KindRole, Principal: r, NotBefore: f.NewestMint}, "a role the family assumed", state.OpenFoothold{Kind: "session", ID: "role/" + r})
		}
		return
	}
	created := func(u string) bool { return slices.Contains(f.Users, u) }
	createdRole := func(r string) bool { return slices.Contains(f.CreatedRoles, r) }
	if strings.HasPrefix(key, "AKIA") {
		add(&SetKeyStatus{Key: key, User: f.Owner}, "the suspect key", state.OpenFoothold{Kind: "key", ID: key})
	}
	keyUsers := map[string]bool{}
	if f.Owner != "" {
		keyUsers[f.Owner] = true
	}
	for _, k := range sortedKeys(f.CreatedKey) {
		if k != key {
			add(&SetKeyStatus{Key: k, User: f.CreatedKey[k]}, "a key the family created", state.OpenFoothold{Kind: "key", ID: k, Detail: "created by the family for user " + f.CreatedKey[k]})
			if u := f.CreatedKey[k]; u != "" && !created(u) {
				keyUsers[u] = true
			}
		}
	}
	for _, u := range f.Users {
		add(&Quarantine{Kind: KindUser, Principal: u}, "a user the family created (backdoor)", state.OpenFoothold{Kind: "user", ID: u})
		if ks, err := aenv.Sess.IAM().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(u)}); err == nil {
			for _, k := range ks.AccessKeyMetadata {
				id := aws.ToString(k.AccessKeyId)
				if _, ok := f.CreatedKey[id]; !ok && id != key {
					add(&SetKeyStatus{Key: id, User: u}, "a key of a user the family created", state.OpenFoothold{Kind: "key", ID: id, Detail: "a key of backdoor user " + u})
				}
			}
		} else if session.Classify(err) != session.ClassNotFound {
			pb.Unsure = append(pb.Unsure, state.OpenFoothold{Kind: "user", ID: u, Detail: "its keys could not be read: " + session.Wrap("iam:ListAccessKeys", "", err).Error()})
		}
	}
	for _, r := range f.CreatedRoles {
		add(&Quarantine{Kind: KindRole, Principal: r}, "a role the family created", state.OpenFoothold{Kind: "role", ID: r})
	}
	for _, r := range sortedKeys(f.Trusts) {
		if createdRole(r) {
			continue
		}
		if good, when := fv.goodTrust[r], fv.goodWhen[r]; good != "" && home {
			add(&RestoreTrust{Role: r, Document: good}, "a trust policy the family changed (restored to the one the inventory saw at "+when.UTC().Format(time.RFC3339)+")",
				state.OpenFoothold{Kind: "trust", ID: "role/" + r})
			continue
		}
		if cleaned, ok := outsideStatementsRemoved(f.Trusts[r], aenv.Self.AccountID); ok && aenv.Self.AccountID != "" {
			add(&RestoreTrust{Role: r, Document: cleaned}, "a trust policy the family changed: the journal holds no earlier one, so the principals outside this account it trusts are taken out (undo puts the family's document back)",
				state.OpenFoothold{Kind: "trust", ID: "role/" + r})
			continue
		}
		pb.LeftAlone = append(pb.LeftAlone, state.OpenFoothold{Kind: "trust", ID: "role/" + r,
			Detail: "the family changed its trust policy and the journal holds no earlier one to restore: read it with `aws iam get-role --role-name " + r + "` and fix it by hand"})
	}
	for _, g := range f.Policies {
		if g.Kind == KindUser && created(g.Principal) || g.Kind == KindRole && createdRole(g.Principal) {
			continue // quarantined: its deny-all outweighs what it was given
		}
		what := g.PolicyARN
		if what == "" {
			what = "inline " + g.Inline
		}
		add(&DetachPolicy{Kind: g.Kind, Principal: g.Principal, PolicyARN: g.PolicyARN, Inline: g.Inline}, "a policy the family attached or put",
			state.OpenFoothold{Kind: "policy", ID: string(g.Kind) + "/" + g.Principal + ":" + what})
	}
	for _, g := range f.Groups {
		if created(g.User) {
			continue
		}
		add(&RemoveFromGroup{User: g.User, Group: g.Group}, "a group membership the family added", state.OpenFoothold{Kind: "group", ID: g.User + "@" + g.Group})
	}
	for _, u := range sortedKeys(keyUsers) {
		add(&RevokeSessions{Kind: KindUser, Principal: u, NotBefore: f.NewestMint}, "the session and federation tokens of a user whose key is in the family",
			state.OpenFoothold{Kind: "session", ID: "user/" + u})
	}
	revoked := map[string]bool{}
	for _, r := range f.Roles {
		if createdRole(r) {
			continue
		}
		revoked[r] = true
		add(&RevokeSessions{Kind: KindRole, Principal: r, NotBefore: f.NewestMint}, "a role the family assumed", state.OpenFoothold{Kind: "session", ID: "role/" + r})
	}
	for _, r := range sortedKeys(f.Trusts) {
		if createdRole(r) || revoked[r] {
			continue
		}
		// Its trust was open to the family: sessions someone minted on
		// it meanwhile (another account's) are cut after the restore.
		add(&RevokeSessions{Kind: KindRole, Principal: r, NotBefore: f.NewestMint}, "a role whose trust the family changed", state.OpenFoothold{Kind: "session", ID: "role/" + r})
	}
	for _, u := range f.Logins {
		add(&DeleteLoginProfile{User: u}, "a console password the family set", state.OpenFoothold{Kind: "login", ID: u})
	}
	for _, u := range sortedKeys(f.MFA) {
		add(&RemoveMFA{User: u, Serials: f.MFA[u]}, "MFA devices the family enabled", state.OpenFoothold{Kind: "mfa", ID: u})
	}
	planTrails(pb, f, add)
	tags := map[string][]string{}
	for _, region := range sortedKeys(f.Spot) {
		add(&CancelSpot{Region: region, IDs: f.Spot[region]}, "spot requests the family made",
			state.OpenFoothold{Kind: "spot", ID: strings.Join(f.Spot[region], ","), Region: region})
		tags[region] = append(tags[region], f.Spot[region]...)
	}
	for _, region := range sortedKeys(f.Instances) {
		add(&StopInstances{Region: region, IDs: f.Instances[region], Terminate: o.Terminate, Snapshot: o.Snapshot}, "instances the family launched",
			state.OpenFoothold{Kind: "instance", ID: strings.Join(f.Instances[region], ","), Region: region})
		tags[region] = append(tags[region], f.Instances[region]...)
	}
	for _, g := range f.Ingress {
		add(&RevokeIngress{Region: g.Region, GroupID: g.GroupID, Rules: g.Rules}, "security-group ingress the family opened",
			state.OpenFoothold{Kind: "ingress", ID: g.GroupID, Region: g.Region})
	}
	for _, g := range f.Permissions {
		if slices.Contains(f.Functions[g.Region], g.Function) {
			continue // the function goes with its permissions
		}
		add(&RemovePermission{Region: g.Region, Function: g.Function, StatementID: g.StatementID}, "a function permission the family added",
			state.OpenFoothold{Kind: "permission", ID: g.Function + ":" + g.StatementID, Region: g.Region})
	}
	for _, region := range sortedKeys(f.Functions) {
		for _, fn := range f.Functions[region] {
			add(&DeleteFunction{Region: region, Function: fn, Pinned: true}, "a function the family created", state.OpenFoothold{Kind: "function", ID: fn, Region: region})
		}
	}
	for _, region := range sortedKeys(f.KeyPairs) {
		for _, kp := range f.KeyPairs[region] {
			add(&DeleteKeyPair{Region: region, KeyName: kp, Pinned: true}, "a key pair the family imported", state.OpenFoothold{Kind: "key-pair", ID: kp, Region: region})
		}
	}
	for _, u := range f.Users {
		tags[""] = append(tags[""], "user/"+u)
	}
	if env.Incident != "" {
		for _, region := range sortedKeys(tags) {
			st := &Step{Action: &Tag{Region: region, IDs: tags[region]}, Why: "mark what was touched with the incident id"}
			if !home {
				st.Env = aenv
			}
			pb.Steps = append(pb.Steps, st)
		}
	}
}

// readers is how many steps plan or read back at once: their reads are
// independent, and a family's steps span Regions and services.
const readers = 8

// planSteps plans every step (reads only), several at once.
func planSteps(ctx context.Context, env *Env, steps []*Step) {
	each(len(steps), readers, func(i int) {
		steps[i].Plan, steps[i].Err = steps[i].Action.Plan(ctx, steps[i].In(env))
	})
}

// each calls f(0..n-1), at most limit at a time, and waits for all.
func each(n, limit int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(limit, 1))
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}

// planTrails adds the trail steps: logging the family stopped is started
// again, event selectors it changed are restored; a trail it deleted is
// left alone as the top finding, with the command that recreates it.
func planTrails(pb *Playbook, f *Family, add func(Action, string, state.OpenFoothold)) {
	type tk struct{ region, trail string }
	last := map[tk]TrailChange{}
	var order []tk
	for _, c := range f.Trails {
		k := tk{c.Region, c.Trail}
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
		if c.Event == "PutEventSelectors" {
			add(&RestoreEventSelectors{Region: c.Region, Trail: c.Trail, Selectors: DefaultEventSelectors}, "event selectors the family changed (restored to every management event, read and write)",
				state.OpenFoothold{Kind: "trail", ID: c.Trail + ":selectors", Region: c.Region})
			continue
		}
		if p, ok := last[k]; !ok || c.Time.After(p.Time) || p.Event == "PutEventSelectors" {
			last[k] = c
		}
	}
	for _, k := range order {
		c, ok := last[k]
		if !ok {
			continue
		}
		switch c.Event {
		case "StopLogging":
			add(&StartLogging{Region: c.Region, Trail: c.Trail}, "logging the family stopped", state.OpenFoothold{Kind: "trail", ID: c.Trail, Region: c.Region})
		case "DeleteTrail":
			pb.LeftAlone = append([]state.OpenFoothold{{Kind: "trail", ID: c.Trail, Region: c.Region,
				Detail: "the family DELETED this trail (event " + c.EventID + "): nothing is being logged to its bucket; recreate it: " +
					RecreateTrailCommand(c.Trail, "BUCKET", c.Region, true)}}, pb.LeftAlone...)
		}
	}
}

// DefaultEventSelectors is what restore-event-selectors puts back when the
// journal holds no earlier selectors: every management event, read and
// write (CloudTrail's default for a new trail).
const DefaultEventSelectors = `[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[]}]`

// knownGoodTrust returns the newest trust policy of role the inventories
// saw before the family changed it (and that is not the family's
// document), with when it was seen; "" when the journal holds none.
func knownGoodTrust(s *state.Store, role, bad string) (string, time.Time) {
	hist := s.Trusts[role]
	for i := len(hist) - 1; i >= 0; i-- {
		if !sameJSON(hist[i].V, bad) {
			return hist[i].V, hist[i].At
		}
	}
	return "", time.Time{}
}

// sameJSON compares two JSON documents by value (IAM returns policies
// URL-encoded and re-spaced).
func sameJSON(a, b string) bool {
	if a == b {
		return true
	}
	norm := func(s string) any {
		if u, err := url.QueryUnescape(s); err == nil && strings.HasPrefix(strings.TrimSpace(u), "{") {
			s = u
		}
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return s
		}
		return v
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// unattributed lists what was made after the family's first event (or the
// incident's start) that no CloudTrail record in the journal names a
// creator for: resources of the latest sweep, users, roles and keys of the
// latest inventory. The stream and the event history run minutes behind,
// so these may be the family's: the verdict stays "unsure" until
// CloudTrail names who made them.
func unattributed(s *state.Store, raw func(state.EventRef) ([]byte, error), f *Family) []state.OpenFoothold {
	return unattributedIn(s, raw, f, s.SweepList(), s.Inventory)
}

// unattributedIn is unattributed over one account's sweeps and inventory.
func unattributedIn(s *state.Store, raw func(state.EventRef) ([]byte, error), f *Family, sweeps []state.Dated[state.Sweep], inv *state.Inventory) []state.OpenFoothold {
	since := f.First
	if since.IsZero() || !s.Incident.Began.IsZero() && s.Incident.Began.Before(since) && !s.Incident.Began.IsZero() {
		if !s.Incident.Began.IsZero() {
			since = s.Incident.Began
		}
	}
	if since.IsZero() {
		return nil
	}
	var out []state.OpenFoothold
	cr, _ := state.FindCreators(s.Events, raw)
	for _, sw := range sweeps {
		if sw.V.Kind == "ec2:security-group" {
			continue // groups carry no creation time
		}
		for _, r := range sw.V.Resources {
			if r.Created.IsZero() || !r.Created.After(since) {
				continue
			}
			if _, ok := cr.Of(sw.V.Region, r); ok {
				continue
			}
			if r.State == "terminated" || r.State == "shutting-down" || r.State == "cancelled" || r.State == "closed" {
				continue
			}
			id := r.ID
			if id == "" {
				id = r.Name
			}
			out = append(out, state.OpenFoothold{Kind: sw.V.Kind, ID: id, Region: sw.V.Region, At: r.Created,
				Detail: "made " + r.Created.UTC().Format(time.RFC3339) + " after the leak; CloudTrail names no creator yet"})
		}
	}
	if inv == nil {
		return out
	}
	keys, users, roles := iamCreators(s, raw)
	fam := map[string]bool{}
	for _, k := range f.Keys {
		fam[k] = true
	}
	for _, u := range inv.Users {
		if u.Created.After(since) && !users[u.Name] && !slices.Contains(f.Users, u.Name) {
			out = append(out, state.OpenFoothold{Kind: "user", ID: u.Name, At: u.Created, Detail: "created " + u.Created.UTC().Format(time.RFC3339) + " after the leak; CloudTrail names no creator yet"})
		}
		for _, k := range u.Keys {
			if k.Created.After(since) && !keys[k.ID] && !fam[k.ID] && k.Status == "Active" {
				out = append(out, state.OpenFoothold{Kind: "key", ID: k.ID, At: k.Created, Detail: "created " + k.Created.UTC().Format(time.RFC3339) + " for user " + u.Name + " after the leak; CloudTrail names no creator yet"})
			}
		}
	}
	for _, r := range inv.Roles {
		if r.Created.After(since) && !roles[r.Name] && !slices.Contains(f.CreatedRoles, r.Name) && !r.ServiceLinked {
			out = append(out, state.OpenFoothold{Kind: "role", ID: r.Name, At: r.Created, Detail: "created " + r.Created.UTC().Format(time.RFC3339) + " after the leak; CloudTrail names no creator yet"})
		}
	}
	return out
}

// iamCreators returns the keys, users and roles that a successful
// CreateAccessKey, CreateUser or CreateRole in the journal names.
func iamCreators(s *state.Store, raw func(state.EventRef) ([]byte, error)) (keys, users, roles map[string]bool) {
	keys, users, roles = map[string]bool{}, map[string]bool{}, map[string]bool{}
	flt, err := state.ParseFilter("event:CreateAccessKey,CreateUser,CreateRole -failed")
	if err != nil {
		return
	}
	res := s.Events.Query(flt)
	for i := range res.Len() {
		ev := s.Events.Event(res.At(i))
		b, err := raw(ev.Ref)
		if err != nil {
			continue
		}
		var r familyRecord
		if json.Unmarshal(b, &r) != nil {
			continue
		}
		switch ev.Name {
		case "CreateAccessKey":
			if r.ResponseElements != nil && r.ResponseElements.AccessKey != nil {
				keys[r.ResponseElements.AccessKey.AccessKeyID] = true
			}
		case "CreateUser":
			users[r.RequestParameters.UserName] = true
		case "CreateRole":
			roles[r.RequestParameters.RoleName] = true
		}
	}
	return
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// StepOutcome is one step of a playbook run.
type StepOutcome struct {
	Index   int
	Step    *Step
	Outcome *Outcome
	// Held says the step was read back as in effect before anything was
	// sent, and the journal already holds its verified run: nothing was
	// done or journaled ("holds (read back now)").
	Held string
	// Reverted is set when the journal holds a verified run of the step
	// that AWS no longer shows in effect (someone undid it): the step was
	// run again, and the old action journaled as reverted.
	Reverted string
	Err      error
}

// Acted reports whether the step sent a call that changed something.
func (so StepOutcome) Acted() bool {
	return so.Outcome != nil && !so.Outcome.Result.Already && len(so.Outcome.Result.Calls) > 0
}

// Holds reports whether the step is in effect, read back from AWS.
func (so StepOutcome) Holds() bool {
	return so.Held != "" || so.Err == nil && so.Outcome != nil && so.Outcome.Result.OK && so.Outcome.Verify != nil && so.Outcome.Verify.Holds
}

// RunPlaybook runs the steps in order, reporting each through progress
// (when set). A step that fails is reported and the others go on. Every
// step is first read back from AWS (never taken from the journal's
// memory): one that holds and was verified before is left as it is; one
// the journal has verified that no longer holds (the attacker, or a
// teammate, undid it) is journaled as reverted and run again. Every step
// is planned afresh just before it runs, so a step already in effect says
// so, and a step that now needs an irreversible call the confirmed
// playbook did not show fails with ErrPlanChanged.
func (r *Runner) RunPlaybook(ctx context.Context, pb *Playbook, opts RunOptions, progress func(StepOutcome)) []StepOutcome {
	opts.PlaybookID = pb.ID
	opts.Confirmed = nil
	var done *Ledger
	if r.Path != "" {
		done, _ = ReadLedger(r.Path)
	}
	out := make([]StepOutcome, len(pb.Steps))
	// opened is set once a step found undone, or a trust put back, in
	// this run: whatever the family still held was alive until then, and
	// may have minted sessions the journal does not know yet. The revokes
	// after it (the playbook orders them after every key and trust) then
	// cut from now.
	var (
		mu     sync.Mutex // opened, progress
		opened bool
	)
	step := func(i int, st *Step) {
		r := r.In(st.Env) // the account the step acts in
		mu.Lock()
		if rs, ok := st.Action.(*RevokeSessions); ok && opened {
			if now := r.Env.now(); rs.NotBefore.Before(now) {
				rs.NotBefore = now
				st.Plan, st.Err = rs.Plan(ctx, r.Env)
			}
		}
		mu.Unlock()
		so := StepOutcome{Index: i, Step: st}
		var before *state.Action
		if done != nil {
			before = verifiedBefore(done, st.Action, r.Env.Account)
		}
		switch {
		case ctx.Err() != nil:
			so.Err = ctx.Err()
		case st.Err != nil && st.Plan == nil:
			// Planned again: the target may have appeared since.
			o := opts
			so.Outcome, so.Err = r.Run(ctx, st.Action, o)
		default:
			if before != nil {
				v, err := st.Action.Verify(ctx, r.Env)
				if err == nil && v.Holds {
					so.Held = "holds (read back now: " + v.Detail + ")"
					break
				}
				detail := v.Detail
				if err != nil {
					detail = err.Error()
				}
				so.Reverted = "verified by action " + before.Intent.ActionID + " but no longer holds: " + detail
				if _, jerr := r.Journal.Record(state.KindActionVerify, state.ActionVerify{ActionID: before.Intent.ActionID, Holds: false,
					Detail: "reverted: " + detail, Account: r.Env.Account, Role: r.Env.Role}); jerr != nil {
					so.Err = fmt.Errorf("journal reverted: %w", jerr)
					break
				}
			}
			// The responder confirmed the plan as shown: an irreversible
			// call the step did not show then is refused (ErrPlanChanged).
			o := opts
			o.Confirmed = st.Plan
			so.Outcome, so.Err = r.Run(ctx, st.Action, o)
		}
		if so.Err != nil && errors.Is(so.Err, ErrNotFound) && deletes(st.Action) {
			// What this step deletes is gone from every Region the
			// action looked in: it holds.
			so.Held, so.Err = "gone: "+so.Err.Error(), nil
		}
		out[i] = so
		mu.Lock()
		defer mu.Unlock()
		if _, trust := st.Action.(*RestoreTrust); so.Reverted != "" || trust && so.Acted() {
			opened = true
		}
		if progress != nil {
			progress(so)
		}
	}
	// IAM's steps run one after another, in the playbook's order (keys,
	// then trusts, then the revokes that cut from them). A run of steps
	// in Regions runs each Region's steps in order (a spot request is
	// cancelled before its instances go) and the Regions side by side.
	for i := 0; i < len(pb.Steps); {
		region := pb.Steps[i].Action.Target().Region
		if region == "" {
			step(i, pb.Steps[i])
			i++
			continue
		}
		j := i
		byRegion := map[string][]int{}
		var order []string
		for ; j < len(pb.Steps) && pb.Steps[j].Action.Target().Region != ""; j++ {
			rg := pb.Steps[j].Action.Target().Region
			if byRegion[rg] == nil {
				order = append(order, rg)
			}
			byRegion[rg] = append(byRegion[rg], j)
		}
		each(len(order), len(order), func(k int) {
			for _, x := range byRegion[order[k]] {
				step(x, pb.Steps[x])
			}
		})
		i = j
	}
	return out
}

// verifiedBefore returns the journal's newest verified run of the same
// action on the same target in the same account, or nil.
func verifiedBefore(l *Ledger, a Action, account string) *state.Action {
	t := a.Target()
	var found *state.Action
	for _, x := range l.Actions {
		if x.Intent.Action == a.Name() && x.Intent.Target == t.String() && x.Intent.Region == t.Region && x.Intent.Account == account {
			if o := x.Outcome(); o == state.OutcomeVerified {
				found = x
			}
		}
	}
	return found
}

// Assess is the one verdict: it reads back from AWS, now, every foothold
// the playbook found (each step's Verify), and adds what the playbook
// leaves alone (open) and what it could not attribute (unsure). The CLI's
// exit code, the console's status line and debrief, and the report's
// "still open" all come from it (the report from the verdict it
// journals), so they cannot disagree.
func Assess(ctx context.Context, env *Env, pb *Playbook) state.Verdict {
	v := state.Verdict{Key: pb.Family.Suspect, CheckedAt: env.now().UTC(), PlaybookID: pb.ID}
	if v.Key == "" {
		v.Key = pb.Family.Key
	}
	type read struct {
		res Verification
		err error
	}
	reads := make([]read, len(pb.Steps))
	each(len(pb.Steps), readers, func(i int) {
		if pb.Steps[i].Foothold.Kind != "" {
			reads[i].res, reads[i].err = pb.Steps[i].Action.Verify(ctx, pb.Steps[i].In(env))
		}
	})
	for i, st := range pb.Steps {
		if st.Foothold.Kind == "" {
			continue // tagging is bookkeeping, not a foothold
		}
		v.Footholds++
		fh := st.Foothold
		res, err := reads[i].res, reads[i].err
		switch {
		case err != nil && session.Classify(err) == session.ClassNotFound && st.Foothold.Region == "":
			// IAM is global: NoSuchEntity is authoritative.
			v.Held++
		case err != nil:
			fh.Detail += ": could not read back: " + err.Error()
			v.Unsure = append(v.Unsure, fh)
		case res.Holds:
			v.Held++
		default:
			fh.Detail += ": " + res.Detail
			v.Open = append(v.Open, fh)
		}
	}
	v.Open = append(v.Open, pb.LeftAlone...)
	v.Footholds += len(pb.LeftAlone)
	v.Unsure = append(v.Unsure, pb.Unsure...)
	v.Contained = len(v.Open) == 0 && len(v.Unsure) == 0
	return v
}

// ContainOptions tune Contain.
type ContainOptions struct {
	Credential CredentialOptions
	Refresh    RefreshOptions
	Run        RunOptions
	// Wait is how long Contain keeps going after the first round, for
	// CloudTrail to deliver and the attacker to show what it still holds
	// (zero: one round and a verdict).
	Wait time.Duration
	// Poll is the pause between rounds (default 5 s).
	Poll time.Duration
	// First is the playbook the responder confirmed, planned from a
	// Refresh just before: the first round runs it as it is. Nil: the
	// first round refreshes and plans.
	First *Playbook
	// Confirm is asked before the first round runs, with the plan; false
	// stops before anything is done. Nil: confirmed.
	Confirm func(pb *Playbook) bool
	// Plan, when set, is told every round's playbook before it runs.
	Plan func(round int, pb *Playbook)
	// Progress, when set, is told every step's outcome.
	Progress func(round int, so StepOutcome)
}

// ErrNotConfirmed: the responder did not confirm the playbook.
var ErrNotConfirmed = errors.New("playbook not confirmed: nothing was done")

// Contain is the credential playbook run to a verdict read back from AWS.
// Each round reads the account afresh (Refresh: CloudTrail's event
// history for the family, a fresh inventory and sweep, all journaled),
// plans from the fold, runs every step that does not hold, and assesses.
// It stops when a round that began after CloudTrail had delivered past the
// previous round's changes (every enabled Region shows the console's own
// calls made after them) found nothing to do and every foothold reads back
// as neutralised: "contained". Otherwise it keeps going until Wait is
// over, and the verdict says what is open or unsure. The verdict is
// journaled.
func (r *Runner) Contain(ctx context.Context, fold Fold, key string, o ContainOptions) (state.Verdict, *Playbook, error) {
	if fold == nil {
		return state.Verdict{}, nil, errNoFold
	}
	poll := o.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	deadline := time.Now().Add(o.Wait) // wall time: the account's clock may be a drill's
	if len(o.Refresh.Regions) == 0 {
		list, err := regions.List(ctx, r.Env.Sess.EC2(sweepHome), sweepHome)
		if err != nil {
			return state.Verdict{}, nil, fmt.Errorf("playbook: %w", err)
		}
		o.Refresh.Regions = regions.Enabled(list)
	}
	var (
		cut  time.Time
		v    state.Verdict
		pb   *Playbook
		regs = o.Refresh.Regions
	)
	for round := 0; ; round++ {
		caughtUp := false
		var behind []string
		if !cut.IsZero() && r.Env.Self.KeyID != "" {
			var problems []string
			behind, problems = Delivered(ctx, r.Env, o.Refresh.Lookup, regs, r.Env.Self.KeyID, cut)
			if pb != nil {
				behind = append(behind, pb.deliveredInAccounts(ctx, r.Env, regs, cut)...)
			}
			caughtUp = len(behind) == 0
			_ = problems
		}
		ref := &Refreshed{}
		if round == 0 && o.First != nil {
			pb = o.First
		} else {
			ro := o.Refresh
			ro.Regions = regs
			var err error
			if ref, err = Refresh(ctx, r.Env, r.Journal, fold, key, ro); err != nil {
				return v, pb, err
			}
			regs = ref.Regions
			if pb, err = r.planFresh(ctx, fold, key, o); err != nil {
				return v, pb, err
			}
			for _, p := range ref.Problems {
				pb.Notes = append(pb.Notes, "read failed: "+p)
			}
		}
		if o.Plan != nil {
			o.Plan(round, pb)
		}
		if round == 0 && o.First == nil && o.Confirm != nil && !o.Confirm(pb) {
			return v, pb, ErrNotConfirmed
		}
		acted, reverted := false, false
		var redone []state.OpenFoothold // what this round found open and acted on
		r.RunPlaybook(ctx, pb, o.Run, func(so StepOutcome) {
			if so.Acted() || so.Reverted != "" {
				acted = true
				if fh := so.Step.Foothold; fh.Kind != "" {
					fh.Detail = "found open and acted on in the last round (" + so.Step.Action.Name() + "); not yet seen to stay shut"
					redone = append(redone, fh)
				}
			}
			if so.Reverted != "" {
				reverted = true // something still alive undid a step
			}
			if o.Progress != nil {
				o.Progress(round, so)
			}
		})
		if acted || cut.IsZero() {
			cut = r.Env.serverNow(ctx)
		}
		if reverted {
			o.Credential.RevokeAfter = cut
		}
		v = Assess(ctx, r.Env, pb)
		for _, p := range ref.Problems {
			v.Unsure = append(v.Unsure, state.OpenFoothold{Kind: "read", ID: "refresh", Detail: p})
		}
		switch {
		case r.Env.Self.KeyID == "":
			v.Unsure = append(v.Unsure, state.OpenFoothold{Kind: "cloudtrail", ID: "delivery",
				Detail: "the console's own key id is unknown, so CloudTrail's delivery past containment cannot be checked"})
		case !caughtUp && (acted || len(behind) > 0 || round == 0):
			what := "every Region"
			if len(behind) > 0 {
				what = strings.Join(behind, ", ")
			}
			v.Unsure = append(v.Unsure, state.OpenFoothold{Kind: "cloudtrail", ID: "delivery",
				Detail: "CloudTrail has not yet delivered past containment (" + cut.UTC().Format(time.RFC3339) + ") in " + what + ": a foothold made just before may not be known yet"})
		}
		if caughtUp {
			v.Unsure = afterCut(v.Open, v.Unsure, cut)
		}
		if acted {
			// Held when read back just now, but something (the attacker,
			// with what it still holds) opened them since the round
			// before: a verdict that ends here says which.
			v.Unsure = append(v.Unsure, redone...)
		}
		v.Contained = len(v.Open) == 0 && len(v.Unsure) == 0 && !acted && caughtUp
		if v.Contained || !time.Now().Before(deadline) || ctx.Err() != nil {
			if _, err := r.Journal.Record(state.KindVerdict, v); err != nil {
				return v, pb, fmt.Errorf("journal verdict: %w", err)
			}
			return v, pb, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(poll):
		}
	}
}

// Check reads the verdict on a suspect key without changing anything:
// the account is read afresh (Refresh), the playbook planned from the
// fold and every foothold read back (Assess), and CloudTrail's delivery
// checked past the journal's last containment action. The verdict is
// journaled. It is what :debrief, the status line and `contain credential
// --plan` show.
func (r *Runner) Check(ctx context.Context, fold Fold, key string, o ContainOptions) (state.Verdict, *Playbook, error) {
	if fold == nil {
		return state.Verdict{}, nil, errNoFold
	}
	ref, err := Refresh(ctx, r.Env, r.Journal, fold, key, o.Refresh)
	if err != nil {
		return state.Verdict{}, nil, err
	}
	pb, err := r.planFresh(ctx, fold, key, o)
	if err != nil {
		return state.Verdict{}, nil, err
	}
	var cut time.Time
	if err := fold(func(s *state.Store, _ Raw) error {
		for _, a := range s.Actions {
			if a.ResultAt.After(cut) {
				cut = a.ResultAt
			}
		}
		return nil
	}); err != nil {
		return state.Verdict{}, nil, err
	}
	v := Assess(ctx, r.Env, pb)
	for _, p := range ref.Problems {
		v.Unsure = append(v.Unsure, state.OpenFoothold{Kind: "read", ID: "refresh", Detail: p})
	}
	if !cut.IsZero() {
		// The journal's times are this machine's; CloudTrail's are the
		// account's: move the cut by the difference.
		cut = cut.Add(time.Until(r.Env.serverNow(ctx)))
	}
	switch {
	case cut.IsZero():
		// Nothing was done: nothing to wait for.
	case r.Env.Self.KeyID == "":
		v.Unsure = append(v.Unsure, state.OpenFoothold{Kind: "cloudtrail", ID: "delivery",
			Detail: "the console's own key id is unknown, so CloudTrail's delivery past containment cannot be checked"})
	default:
		behind, _ := Delivered(ctx, r.Env, o.Refresh.Lookup, ref.Regions, r.Env.Self.KeyID, cut)
		if behind = append(behind, pb.deliveredInAccounts(ctx, r.Env, ref.Regions, cut)...); len(behind) == 0 {
			v.Unsure = afterCut(v.Open, v.Unsure, cut)
		} else {
			v.Unsure = append(v.Unsure, state.OpenFoothold{Kind: "cloudtrail", ID: "delivery",
				Detail: "CloudTrail has not yet delivered past the last containment action (" + cut.UTC().Format(time.RFC3339) + ") in " + strings.Join(behind, ", ") + ": a foothold made just before may not be known yet"})
		}
	}
	v.Contained = len(v.Open) == 0 && len(v.Unsure) == 0
	if err := ctx.Err(); err != nil {
		// Reads cut short by the caller's deadline read back nothing: a
		// verdict made of them would put "unsure" over the last one read
		// back in full (played: the drill's :debrief on a loaded machine
		// journaled 26 "context deadline exceeded" over "contained").
		return v, pb, fmt.Errorf("the read-back did not finish (%w): no verdict journaled", err)
	}
	if _, err := r.Journal.Record(state.KindVerdict, v); err != nil {
		return v, pb, fmt.Errorf("journal verdict: %w", err)
	}
	return v, pb, nil
}

// accountEnvs returns the Envs of the accounts other than env's that the
// playbook's steps act in.
func (pb *Playbook) accountEnvs(env *Env) []*Env {
	var out []*Env
	for _, st := range pb.Steps {
		if e := st.In(env); e != env && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// deliveredInAccounts is Delivered in every other account the playbook
// acts in, with warroom's own key there (the role session's): the Regions
// not caught up, each named "account ID REGION".
func (pb *Playbook) deliveredInAccounts(ctx context.Context, env *Env, regs []string, cut time.Time) []string {
	var behind []string
	for _, e := range pb.accountEnvs(env) {
		if e.Self.KeyID == "" {
			behind = append(behind, "account "+e.Account+" (warroom's key there is unknown)")
			continue
		}
		b, _ := Delivered(ctx, e, nil, regs, e.Self.KeyID, cut)
		for _, r := range b {
			behind = append(behind, "account "+e.Account+" "+r)
		}
	}
	return behind
}

// afterCut drops the unattributed things made after cut. CloudTrail has
// delivered past cut (the caller checked), so every credential the family
// had made or minted before it is known; when nothing is open, every one of
// them read back dead at cut, and what was made after it is someone else's
// (the company's own deploys, which never stop in a live account). While
// something is open (a key the attacker turned back on), the family may
// have made it: it stays unsure.
func afterCut(open, unsure []state.OpenFoothold, cut time.Time) []state.OpenFoothold {
	if len(open) > 0 {
		return unsure
	}
	out := unsure[:0:0]
	for _, o := range unsure {
		if !o.At.IsZero() && o.At.After(cut) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// deletes reports whether an action's end state is that its target no
// longer exists, so that not finding it anywhere means it holds.
func deletes(a Action) bool {
	switch a.(type) {
	case *DeleteFunction, *DeleteKeyPair:
		return true
	}
	return false
}

// backdoorSessions returns the keys minted by AssumeRole on a role whose
// trust the family changed, after the change, for a caller that signed
// with no key (a principal of another account: CloudTrail names no access
// key for it).
func backdoorSessions(s *state.Store, raw func(state.EventRef) ([]byte, error), f *Family) []string {
	if len(f.Trusts) == 0 {
		return nil
	}
	// A role is its account's: the same name in another account of the
	// organisation (every member's OrganizationAccountAccessRole) is
	// another role.
	type roleAt struct{ account, name string }
	changed := map[roleAt]time.Time{}
	for _, c := range f.TrustChanges {
		k := roleAt{c.Account, c.Role}
		if t, ok := changed[k]; !ok || c.Time.Before(t) {
			changed[k] = c.Time
		}
	}
	flt, err := state.ParseFilter("event:AssumeRole -failed")
	if err != nil {
		return nil
	}
	var out []string
	res := s.Events.Query(flt)
	for i := range res.Len() {
		ev := s.Events.Event(res.At(i))
		if slices.Contains(f.Keys, ev.AccessKeyID) {
			continue // the family's own: already in its lineage
		}
		b, err := raw(ev.Ref)
		if err != nil {
			continue
		}
		var r familyRecord
		if json.Unmarshal(b, &r) != nil || r.ResponseElements == nil || r.ResponseElements.Credentials == nil {
			continue
		}
		rp, _ := state.ParsePrincipal(r.RequestParameters.RoleArn)
		at, ok := changed[roleAt{rp.ARN.Account, rp.Name}]
		if !ok {
			at, ok = changed[roleAt{"", rp.Name}] // a change whose record named no account
		}
		if !ok || ev.Time.Before(at) || ev.AccessKeyID != "" {
			continue
		}
		k := r.ResponseElements.Credentials.AccessKeyID
		if s.Events.OurKey(k) {
			// warroom's own role session (the organisation's responder
			// reading or containing through the role): never the
			// family's, or the playbook undoes its own steps.
			continue
		}
		if k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// outsideStatementsRemoved returns doc without the principals of other
// accounts (and "*") in its Allow statements, and whether it changed: the
// trust to put back when the journal holds no earlier one.
func outsideStatementsRemoved(doc, account string) (string, bool) {
	if u, err := url.QueryUnescape(doc); err == nil && strings.HasPrefix(strings.TrimSpace(u), "{") {
		doc = u
	}
	var d map[string]any
	if json.Unmarshal([]byte(doc), &d) != nil {
		return "", false
	}
	var stmts []any
	switch v := d["Statement"].(type) {
	case []any:
		stmts = v
	case map[string]any:
		stmts = []any{v}
	}
	outside := func(p string) bool {
		if p == "*" {
			return true
		}
		if a, ok := state.ParseARN(p); ok {
			return a.Account != account
		}
		return len(p) == 12 && p != account // a bare account id
	}
	changed := false
	var kept []any
	for _, st := range stmts {
		m, ok := st.(map[string]any)
		if !ok || m["Effect"] != "Allow" {
			kept = append(kept, st)
			continue
		}
		switch pr := m["Principal"].(type) {
		case string:
			if outside(pr) {
				changed = true
				continue
			}
		case map[string]any:
			var aws []string
			switch a := pr["AWS"].(type) {
			case string:
				aws = []string{a}
			case []any:
				for _, x := range a {
					if xs, ok := x.(string); ok {
						aws = append(aws, xs)
					}
				}
			}
			var left []any
			for _, a := range aws {
				if outside(a) {
					changed = true
					continue
				}
				left = append(left, a)
			}
			if len(aws) > 0 {
				if len(left) == 0 {
					delete(pr, "AWS")
				} else {
					pr["AWS"] = left
				}
			}
			if len(pr) == 0 {
				continue
			}
		}
		kept = append(kept, st)
	}
	if !changed || len(kept) == 0 {
		return "", false
	}
	d["Statement"] = kept
	b, err := json.Marshal(d)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// addIngress adds the rules of g the family does not hold yet in that
// group (an attacker re-opens the same rule after it is revoked).
func (f *Family) addIngress(g IngressGrant) {
	for i := range f.Ingress {
		h := &f.Ingress[i]
		if h.Region == g.Region && h.GroupID == g.GroupID {
			for _, r := range g.Rules {
				if !slices.Contains(h.Rules, r) {
					h.Rules = append(h.Rules, r)
				}
			}
			return
		}
	}
	f.Ingress = append(f.Ingress, g)
}

// rootOf walks a key's minting links up to the key that started them.
func rootOf(s *state.Store, key string) string {
	seen := map[string]bool{}
	for !seen[key] {
		seen[key] = true
		fam := s.Events.Family(key)
		if len(fam) == 0 || fam[0].Issuer == "" || fam[0].Created {
			return key
		}
		key = fam[0].Issuer
	}
	return key
}

// planFresh plans the playbook from the fold as it stands; when it holds
// things made after the leak with no creator, it asks CloudTrail who made
// them (attribute) and plans again from the fold that now holds the answer.
func (r *Runner) planFresh(ctx context.Context, fold Fold, key string, o ContainOptions) (*Playbook, error) {
	pb, err := PlanCredentialFold(ctx, r.Env, fold, key, o.Credential)
	if err != nil || len(pb.Unsure) == 0 || attribute(ctx, r.Env, r.Journal, pb.Unsure, o.Refresh) == 0 {
		return pb, err
	}
	return PlanCredentialFold(ctx, r.Env, fold, key, o.Credential)
}
