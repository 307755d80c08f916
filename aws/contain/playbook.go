package contain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// Family is what a suspect key and the keys it minted did, as the journal
// tells it: the principals to act on and what they created. Every string
// comes from CloudTrail.
type Family struct {
	Key string
	// Keys: the key, every key it minted, recursively, and every key it
	// (or they) created, with their own children.
	Keys []string
	// Owner is the IAM user owning Key ("" when unknown).
	Owner string
	// Roles are the roles the family assumed, by name.
	Roles []string
	// NewestMint is when the newest temporary credential of the family
	// was issued.
	NewestMint time.Time
	// Users the family created; Keys it created (id → user); users whose
	// console password it set; MFA devices it enabled (user → serials).
	Users      []string
	CreatedKey map[string]string
	Logins     []string
	MFA        map[string][]string
	// Per Region: instances launched, spot requests made, key pairs
	// imported and functions created.
	Instances map[string][]string
	Spot      map[string][]string
	KeyPairs  map[string][]string
	Functions map[string][]string
	// Problems lists records that could not be read.
	Problems []string
}

// familyEvents are the calls whose records name what the family created.
var familyEvents = []string{"CreateUser", "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile", "EnableMFADevice",
	"RunInstances", "RequestSpotInstances", "ImportKeyPair", "CreateKeyPair", "CreateFunction", "CreateFunction20150331"}

// familyRecord is the part of a record FindFamily reads.
type familyRecord struct {
	RequestParameters struct {
		UserName     string `json:"userName"`
		SerialNumber string `json:"serialNumber"`
		KeyName      string `json:"keyName"`
		FunctionName string `json:"functionName"`
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
	// The family grows to a fixpoint: keys minted from it, keys it
	// created (a backdoor user's key, a second key) and what those minted
	// and created in turn.
	var lineage []state.Lineage
	var keys []string
	grow := func(k string) bool {
		grown := false
		fam := s.Events.Family(k)
		if len(fam) == 0 {
			fam = []state.Lineage{{Key: k}}
		}
		for _, lg := range fam {
			if !slices.Contains(keys, lg.Key) {
				keys, lineage, grown = append(keys, lg.Key), append(lineage, lg), true
			}
		}
		return grown
	}
	grow(key)
	for {
		f := scanFamily(s, raw, key, keys)
		grown := false
		for _, k := range sortedKeys(f.CreatedKey) {
			grown = grow(k) || grown
		}
		if grown {
			continue
		}
		for _, lg := range lineage {
			if lg.RoleARN != "" {
				if n := lg.RoleARN[strings.LastIndexByte(lg.RoleARN, '/')+1:]; !slices.Contains(f.Roles, n) {
					f.Roles = append(f.Roles, n)
				}
			}
			if lg.Minted && lg.MintedAt.After(f.NewestMint) {
				f.NewestMint = lg.MintedAt
			}
		}
		return f
	}
}

// scanFamily reads what the given keys created.
func scanFamily(s *state.Store, raw func(state.EventRef) ([]byte, error), key string, keys []string) *Family {
	f := &Family{Key: key, Keys: keys, CreatedKey: map[string]string{}, MFA: map[string][]string{}, Instances: map[string][]string{},
		Spot: map[string][]string{}, KeyPairs: map[string][]string{}, Functions: map[string][]string{}}
	if u := state.KeyOwner(s.Inventory, key); u != nil {
		f.Owner = u.Name
	}
	add := func(m map[string][]string, k, v string) {
		if v != "" && !slices.Contains(m[k], v) {
			m[k] = append(m[k], v)
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
		re := r.ResponseElements
		switch ev.Name {
		case "CreateUser":
			if n := r.RequestParameters.UserName; n != "" && !slices.Contains(f.Users, n) {
				f.Users = append(f.Users, n)
			}
		case "CreateAccessKey":
			if re != nil && re.AccessKey != nil && re.AccessKey.AccessKeyID != "" {
				f.CreatedKey[re.AccessKey.AccessKeyID] = re.AccessKey.UserName
			}
		case "CreateLoginProfile", "UpdateLoginProfile":
			n := r.RequestParameters.UserName
			if n == "" {
				n = ev.User
			}
			if n != "" && !slices.Contains(f.Logins, n) {
				f.Logins = append(f.Logins, n)
			}
		case "EnableMFADevice":
			add(f.MFA, r.RequestParameters.UserName, r.RequestParameters.SerialNumber)
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
			n := r.RequestParameters.KeyName
			if re != nil && re.KeyName != "" {
				n = re.KeyName
			}
			add(f.KeyPairs, ev.Region, n)
		default: // CreateFunction*
			n := r.RequestParameters.FunctionName
			if re != nil && re.FunctionName != "" {
				n = re.FunctionName
			}
			add(f.Functions, ev.Region, n)
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

// Step is one action of a playbook, with its plan as read when the
// playbook was planned.
type Step struct {
	Action Action
	// Why this step is in the playbook.
	Why  string
	Plan *Plan
	// Err is set when planning the step failed: the step is shown with
	// it and skipped; the others go on.
	Err error
}

// Playbook is one plan of several actions, confirmed once.
type Playbook struct {
	ID     string
	Title  string
	Family *Family
	Steps  []*Step
	// Notes say what was found and what the playbook leaves alone.
	Notes []string
}

// Irreversible reports whether any step cannot be undone: the playbook
// then needs the suspect key typed to confirm.
func (pb *Playbook) Irreversible() bool {
	return slices.ContainsFunc(pb.Steps, func(s *Step) bool { return s.Plan != nil && s.Plan.HasIrreversible() })
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
}

// PlanCredential builds the playbook "contain this credential" for a
// suspect key: deactivate it; deactivate the keys its family created;
// quarantine the users it created (and deactivate their keys); revoke the
// owner's older sessions and those of every role the family assumed;
// delete the console passwords it set and the MFA devices it enabled;
// cancel its spot requests (then terminate their instances) and stop (or
// terminate) its instances in every Region; tag what was touched. The
// order matters: every long-term key first, so no new session can be
// minted after a revoke's cutoff.
func PlanCredential(ctx context.Context, env *Env, s *state.Store, raw func(state.EventRef) ([]byte, error), key string, o CredentialOptions) (*Playbook, error) {
	if key == "" {
		return nil, errors.New("playbook: no key")
	}
	f := FindFamily(s, raw, key)
	pb := &Playbook{ID: "pb-" + NewActionID(env.now())[4:], Title: "Contain credential " + key, Family: f}
	if f.Owner == "" && strings.HasPrefix(key, "AKIA") {
		lu, err := env.Sess.IAM().GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(key)})
		if err == nil {
			f.Owner = aws.ToString(lu.UserName)
		} else {
			pb.Notes = append(pb.Notes, "owner of "+key+" unknown: "+session.Wrap("iam:GetAccessKeyLastUsed", "", err).Error())
		}
	}
	if len(f.Keys) == 1 && len(s.Events.Family(key)) == 0 {
		pb.Notes = append(pb.Notes, "the journal holds no event of "+key+": only the key itself and its owner are contained")
	}
	for _, p := range f.Problems {
		pb.Notes = append(pb.Notes, "unreadable record: "+p)
	}
	add := func(a Action, why string) { pb.Steps = append(pb.Steps, &Step{Action: a, Why: why}) }
	if o.RolesOnly {
		pb.Title = "Revoke the sessions of every role " + key + " and its family assumed"
		for _, r := range f.Roles {
			add(&RevokeSessions{Kind: KindRole, Principal: r, NotBefore: f.NewestMint}, "a role the family assumed")
		}
		if len(f.Roles) == 0 {
			pb.Notes = append(pb.Notes, "the journal shows no role assumed by "+key+" or its family")
		}
		for _, st := range pb.Steps {
			st.Plan, st.Err = st.Action.Plan(ctx, env)
		}
		return pb, nil
	}
	if strings.HasPrefix(key, "AKIA") {
		add(&SetKeyStatus{Key: key, User: f.Owner}, "the suspect key")
	}
	keys := make([]string, 0, len(f.CreatedKey))
	for k := range f.CreatedKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != key {
			add(&SetKeyStatus{Key: k, User: f.CreatedKey[k]}, "a key the family created")
		}
	}
	for _, u := range f.Users {
		add(&Quarantine{Kind: KindUser, Principal: u}, "a user the family created (backdoor)")
		if ks, err := env.Sess.IAM().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(u)}); err == nil {
			for _, k := range ks.AccessKeyMetadata {
				id := aws.ToString(k.AccessKeyId)
				if _, ok := f.CreatedKey[id]; !ok {
					add(&SetKeyStatus{Key: id, User: u}, "a key of a user the family created")
				}
			}
		}
	}
	if f.Owner != "" {
		add(&RevokeSessions{Kind: KindUser, Principal: f.Owner, NotBefore: f.NewestMint}, "the owner's session and federation tokens")
	}
	for _, r := range f.Roles {
		add(&RevokeSessions{Kind: KindRole, Principal: r, NotBefore: f.NewestMint}, "a role the family assumed")
	}
	for _, u := range f.Logins {
		add(&DeleteLoginProfile{User: u}, "a console password the family set")
	}
	for _, u := range sortedKeys(f.MFA) {
		add(&RemoveMFA{User: u, Serials: f.MFA[u]}, "MFA devices the family enabled")
	}
	tags := map[string][]string{}
	for _, region := range sortedKeys(f.Spot) {
		add(&CancelSpot{Region: region, IDs: f.Spot[region]}, "spot requests the family made")
		tags[region] = append(tags[region], f.Spot[region]...)
	}
	for _, region := range sortedKeys(f.Instances) {
		add(&StopInstances{Region: region, IDs: f.Instances[region], Terminate: o.Terminate, Snapshot: o.Snapshot}, "instances the family launched")
		tags[region] = append(tags[region], f.Instances[region]...)
	}
	for _, u := range f.Users {
		tags[""] = append(tags[""], "user/"+u)
	}
	if env.Incident != "" {
		for _, region := range sortedKeys(tags) {
			add(&Tag{Region: region, IDs: tags[region]}, "mark what was touched with the incident id")
		}
	}
	for region, kps := range f.KeyPairs {
		pb.Notes = append(pb.Notes, fmt.Sprintf("left alone: key pairs %v in %s (delete-key-pair)", kps, region))
	}
	for region, fns := range f.Functions {
		pb.Notes = append(pb.Notes, fmt.Sprintf("left alone: functions %v in %s (delete-function)", fns, region))
	}
	for _, st := range pb.Steps {
		st.Plan, st.Err = st.Action.Plan(ctx, env)
	}
	return pb, nil
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
	// Skipped says why the step was not run ("already verified …").
	Skipped string
	Err     error
}

// RunPlaybook runs the steps in order, reporting each through progress
// (when set). A step that fails is reported and the others go on. A step
// whose action (same action and target) is already verified in the
// journal — a playbook resumed after a crash — is skipped. Every step is
// planned afresh just before it runs, so a step already in effect says so,
// and a step that now needs an irreversible call the confirmed playbook
// did not show fails with ErrPlanChanged.
func (r *Runner) RunPlaybook(ctx context.Context, pb *Playbook, opts RunOptions, progress func(StepOutcome)) []StepOutcome {
	opts.PlaybookID = pb.ID
	opts.Confirmed = nil
	var done *Ledger
	if r.Path != "" {
		done, _ = ReadLedger(r.Path)
	}
	out := make([]StepOutcome, 0, len(pb.Steps))
	for i, st := range pb.Steps {
		so := StepOutcome{Index: i, Step: st}
		switch {
		case ctx.Err() != nil:
			so.Err = ctx.Err()
		case done != nil && verifiedBefore(done, st.Action):
			so.Skipped = "already verified in the journal"
		default:
			// The responder confirmed the plan as shown: an irreversible
			// call the step did not show then is refused (ErrPlanChanged).
			o := opts
			o.Confirmed = st.Plan
			so.Outcome, so.Err = r.Run(ctx, st.Action, o)
		}
		out = append(out, so)
		if progress != nil {
			progress(so)
		}
	}
	return out
}

// verifiedBefore reports whether the journal holds a verified run of the
// same action on the same target.
func verifiedBefore(l *Ledger, a Action) bool {
	if _, ok := a.(*RevokeSessions); ok {
		// A revoke verified before may predate credentials minted since:
		// its plan (NotBefore) decides.
		return false
	}
	t := a.Target()
	for _, x := range l.Actions {
		if x.Intent.Action == a.Name() && x.Intent.Target == t.String() && x.Intent.Region == t.Region {
			if o := x.Outcome(); o == state.OutcomeVerified {
				return true
			}
		}
	}
	return false
}
