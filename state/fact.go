// Package state holds warroom's facts, the store they fold into, the filter
// language, and replay. It imports neither the AWS SDK nor any UI library:
// everything on screen is a fold over the journal, and this is the fold.
package state

import (
	"encoding/json"
	"time"
)

// Kind names a fact's type. The journal's "kind" field holds it.
type Kind string

// Fact kinds. Each has exactly one payload type below and one case in the
// store's reducer.
const (
	KindIncidentOpened  Kind = "incident.opened"  // IncidentOpened; always line 1
	KindSessionStarted  Kind = "session.started"  // SessionStarted: a console or CLI attached
	KindSessionKey      Kind = "session.key"      // SessionKey: the session signs with a new access key id
	KindSessionEnded    Kind = "session.ended"    // SessionEnded: a console detached (quit, interrupted, failed)
	KindEvents          Kind = "events"           // Events: a batch of CloudTrail records
	KindNote            Kind = "note"             // Note
	KindSuspect         Kind = "suspect"          // Suspect: a key or principal marked (or cleared)
	KindRegions         Kind = "regions"          // Regions: the account's Regions and opt-in status
	KindStreamHealth    Kind = "stream.health"    // StreamHealth: one source's lag and health
	KindInventory       Kind = "inventory"        // Inventory: principals and keys
	KindSweep           Kind = "sweep"            // Sweep: one Region's resources of one kind
	KindActionIntent    Kind = "action.intent"    // ActionIntent: journaled before any call
	KindActionResult    Kind = "action.result"    // ActionResult: journaled after the calls
	KindActionVerify    Kind = "action.verify"    // ActionVerify: state read back
	KindJournalRepaired Kind = "journal.repaired" // JournalRepaired: a torn tail cut, a newline added, stray lines quarantined
	KindKeyInfo         Kind = "key.info"         // KeyInfo: which account owns a key id ("is this key ours?")
	KindVerdict         Kind = "verdict"          // Verdict: is a suspect credential contained, read back from AWS
	KindAnchor          Kind = "journal.anchor"   // Anchor: the head recorded outside the machine (CloudTrail)
	KindTrailIntegrity  Kind = "trail.integrity"  // TrailIntegrity: CloudTrail's digests checked against the log files (trailintegrity.go)
	// KindGuardDuty (guardduty.go): GuardDuty, the findings of every Region read and where GuardDuty is not enabled.
	// KindAccountAccess (accounts.go): AccountAccess, getting into a member account through its role.
	// KindImpact (impact.go): ImpactJudgement, a contained credential judged safe to delete or not.
	// KindIdentityCenter (identitycenter.go): IdentityCenter, the account's IAM Identity Center users and access.
)

// Durable reports whether facts of kind k must reach the disk (fsync) before
// the append returns. Action facts must: a crash may not lose the record that
// a call was about to be made, or was made. Everything else is group-committed.
func Durable(k Kind) bool {
	switch k {
	case KindActionIntent, KindActionResult, KindActionVerify, KindIncidentOpened, KindJournalRepaired:
		return true
	}
	return false
}

// IncidentOpened starts a journal.
type IncidentOpened struct {
	ID       string    `json:"id"`
	Title    string    `json:"title,omitempty"`
	OpenedAt time.Time `json:"opened_at"`
	// Where the console ran.
	Host string `json:"host,omitempty"`
	User string `json:"user,omitempty"`
	// Began is when the responder believes the incident began: resources
	// created after it are "new". Zero means unknown.
	Began time.Time `json:"began,omitzero"`
}

// SessionKey records that the session of the journaling process signs
// with another access key id (its credentials refreshed): calls signed
// with it from now on are the session's own ("ours"). Never the secret.
type SessionKey struct {
	KeyID string `json:"key_id"`
	// CallerARN is the principal when known; empty matches any.
	CallerARN string `json:"caller_arn,omitempty"`
}

// Mode is how a console or command is attached to AWS.
type Mode string

// Modes.
const (
	ModeLive     Mode = "live"      // may read and act
	ModeReadOnly Mode = "read-only" // mutating clients are never built
	ModeOffline  Mode = "offline"   // no AWS at all (ingest of local files, notes)
)

// SessionStarted records who attached to the incident and as whom in AWS.
type SessionStarted struct {
	Command   string `json:"command"` // "console", "ingest", "stream", …
	Mode      Mode   `json:"mode"`
	Version   string `json:"version,omitempty"`
	AccountID string `json:"account_id,omitempty"`
	Alias     string `json:"alias,omitempty"`
	Partition string `json:"partition,omitempty"`
	CallerARN string `json:"caller_arn,omitempty"`
	// CallerKeyID is the access key id the session signs with (never the secret).
	CallerKeyID string `json:"caller_key_id,omitempty"`
	Endpoint    string `json:"endpoint,omitempty"` // AWS_ENDPOINT_URL when set (drill, compatible endpoints)
	Drill       bool   `json:"drill,omitempty"`
}

// Why a session ended (SessionEnded.Reason).
const (
	EndQuit        = "quit"        // the responder quit
	EndInterrupted = "interrupted" // a signal (ctrl+c from outside, SIGTERM) or its caller stopped it
	EndFailed      = "failed"      // the console stopped on an error (Error says which)
)

// SessionEnded records that the session its actor (the entry's "by", which
// names the process) started last has ended: a follower learns that the
// driver left. A process that is killed journals nothing. The window of the
// session's credentials ("ours") still runs to the process's last fact: a
// drill's debrief reads AWS, and journals, after the console quit.
type SessionEnded struct {
	Command string `json:"command"` // as in its session.started
	Reason  string `json:"reason"`  // EndQuit, EndInterrupted, EndFailed
	Error   string `json:"error,omitempty"`
}

// Events is a batch of CloudTrail records. Records are raw JSON as found,
// compacted, with minted session tokens redacted (ctlog does it). The store
// keeps only a reference to each record's place in the journal.
type Events struct {
	// Source says where the records came from: "file:PATH", "lookup:REGION",
	// "s3://bucket/key", "sim", "athena:QUERYID" (a hunt).
	Source  string            `json:"source"`
	Records []json.RawMessage `json:"records"`
	// Skipped lists records that could not be parsed, with why.
	Skipped []Skipped `json:"skipped,omitempty"`
}

// Skipped is one record that was not ingested.
type Skipped struct {
	File   string `json:"file"`
	Index  int    `json:"index"`          // record index within the file (0-based)
	Line   int    `json:"line,omitempty"` // 1-based line, for line-oriented files
	Reason string `json:"reason"`
	// Count, when above 1, says this entry stands for Count records (or
	// files) with the same kind of reason, past the cap on problems
	// listed one by one (see ctlog.Problem.Count); it is the first.
	Count int `json:"count,omitempty"`
}

// Records is how many records (or files) the entry stands for.
func (s Skipped) Records() int { return max(s.Count, 1) }

// Note is free text a responder typed.
type Note struct {
	Text string `json:"text"`
}

// Suspect marks (or, with Clear, unmarks) an access key or principal as
// suspect: the stream, lineage and region map highlight its family.
type Suspect struct {
	AccessKeyID  string `json:"access_key_id,omitempty"`
	PrincipalARN string `json:"principal_arn,omitempty"`
	Reason       string `json:"reason,omitempty"`
	Clear        bool   `json:"clear,omitempty"`
}

// Regions is the account's list of Regions as last read.
type Regions struct {
	Regions []Region `json:"regions"`
	// AccountID is the account read; empty is the home account (Store.Home).
	AccountID string `json:"account_id,omitempty"`
}

// Region is one Region and its opt-in status
// (opt-in-not-required, opted-in, not-opted-in).
type Region struct {
	Name        string `json:"name"`
	OptInStatus string `json:"opt_in_status"`
}

// Enabled reports whether the Region can be called.
func (r Region) Enabled() bool { return r.OptInStatus != "not-opted-in" }

// StreamHealth is the state of one event source (a Region's LookupEvents
// poller, an S3 trail follower).
type StreamHealth struct {
	Source string `json:"source"` // "lookup:eu-west-1", "s3://…"
	Region string `json:"region,omitempty"`
	// Status: "ok", "backfill", "throttled", "denied", "disabled", "error".
	Status string `json:"status"`
	// Lag is how far behind now the newest event seen is, at the time of the fact.
	Lag       Duration  `json:"lag"`
	NewestAt  time.Time `json:"newest_at,omitzero"`
	Error     string    `json:"error,omitempty"`
	Delivered int       `json:"delivered,omitempty"` // events delivered since the last health fact
	// AccountID is the account read; empty is the home account.
	AccountID string `json:"account_id,omitempty"`
}

// Duration is a time.Duration that journals as a Go duration string ("40s").
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Inventory is a snapshot of the account's principals and keys.
// It has no field that could hold a secret: access key ids only.
type Inventory struct {
	TakenAt time.Time `json:"taken_at"`
	// AccountID is the account the snapshot is of.
	AccountID string `json:"account_id,omitempty"`
	// Since is the time after which a principal, key or device counts as
	// created during the incident (New); zero when unknown.
	Since time.Time `json:"since,omitzero"`
	Users []User    `json:"users"`
	Roles []Role    `json:"roles"`
	Root  *Root     `json:"root,omitempty"`
	// Errors lists the calls that failed while taking the snapshot.
	Errors []CallError `json:"errors,omitempty"`
}

// User is an IAM user and everything that lets someone act as it.
type User struct {
	Name             string      `json:"name"`
	ARN              string      `json:"arn"`
	ID               string      `json:"id,omitempty"`
	Created          time.Time   `json:"created"`
	PasswordLastUsed time.Time   `json:"password_last_used,omitzero"`
	ConsolePassword  bool        `json:"console_password"`
	PasswordCreated  time.Time   `json:"password_created,omitzero"`
	Keys             []AccessKey `json:"keys,omitempty"`
	MFA              []MFADevice `json:"mfa,omitempty"`
	Groups           []string    `json:"groups,omitempty"`
	Policies         []Policy    `json:"policies,omitempty"`
	Tags             []Tag       `json:"tags,omitempty"`
	SigningCerts     int         `json:"signing_certs,omitempty"`
	SSHKeys          int         `json:"ssh_keys,omitempty"`
	ServiceCreds     int         `json:"service_creds,omitempty"`
	Boundary         string      `json:"boundary,omitempty"` // permissions boundary ARN
	// Admin is true when any attached, inline or group policy is admin-equivalent.
	Admin bool `json:"admin,omitempty"`
	// New is true when the user was created during the incident (after Inventory.Since).
	New bool `json:"new,omitempty"`
}

// AccessKey is a long-term access key. Never its secret.
type AccessKey struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"` // Active, Inactive
	Created     time.Time `json:"created"`
	LastUsed    time.Time `json:"last_used,omitzero"`
	LastService string    `json:"last_service,omitempty"`
	LastRegion  string    `json:"last_region,omitempty"`
	// New is true when the key was created during the incident.
	New bool `json:"new,omitempty"`
}

// MFADevice is a user's MFA device.
type MFADevice struct {
	Serial  string    `json:"serial"`
	Enabled time.Time `json:"enabled"`
	Virtual bool      `json:"virtual,omitempty"`
	// New is true when the device was enabled during the incident.
	New bool `json:"new,omitempty"`
}

// Policy is a policy in effect on a principal.
type Policy struct {
	Name   string `json:"name"`
	ARN    string `json:"arn,omitempty"`    // managed policies
	Inline bool   `json:"inline,omitempty"` // inline policies
	Group  string `json:"group,omitempty"`  // set when inherited through a group
	// Document is the policy JSON when it was read (inline policies always).
	Document string `json:"document,omitempty"`
	Admin    bool   `json:"admin,omitempty"` // admin-equivalent
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Role is an IAM role.
type Role struct {
	Name        string    `json:"name"`
	ARN         string    `json:"arn"`
	Path        string    `json:"path,omitempty"`
	Created     time.Time `json:"created"`
	LastUsed    time.Time `json:"last_used,omitzero"`
	LastRegion  string    `json:"last_region,omitempty"`
	MaxSession  int32     `json:"max_session,omitempty"` // seconds
	TrustPolicy string    `json:"trust_policy,omitempty"`
	// External lists trusted principals outside the account.
	External []string `json:"external,omitempty"`
	Policies []Policy `json:"policies,omitempty"`
	Admin    bool     `json:"admin,omitempty"`
	// ServiceLinked and IdentityCenter roles cannot take a revoke policy.
	ServiceLinked  bool `json:"service_linked,omitempty"`
	IdentityCenter bool `json:"identity_center,omitempty"`
	// New is true when the role was created during the incident.
	New bool `json:"new,omitempty"`
}

// Root is what can be known about the root user (from the credential report).
type Root struct {
	ARN              string    `json:"arn"`
	MFA              bool      `json:"mfa"`
	AccessKeys       int       `json:"access_keys"` // active root access keys
	PasswordLastUsed time.Time `json:"password_last_used,omitzero"`
	KeyLastUsed      time.Time `json:"key_last_used,omitzero"`
}

// CallError is an AWS call that failed: which call, where, and why.
type CallError struct {
	Call   string `json:"call"` // "iam:ListAccessKeys"
	Region string `json:"region,omitempty"`
	Target string `json:"target,omitempty"`
	Class  string `json:"class"` // denied, not-found, throttled, region-disabled, expired, other
	Error  string `json:"error"`
}

// Sweep is one Region's resources of one kind, as read.
type Sweep struct {
	Region    string     `json:"region"`
	Kind      string     `json:"kind"` // "ec2:instance", "ec2:spot-request", "ec2:key-pair", "ec2:security-group", "lambda:function"
	TakenAt   time.Time  `json:"taken_at"`
	Resources []Resource `json:"resources"`
	// Error is set when the Region or API could not be read; Resources is then empty.
	Error *CallError `json:"error,omitempty"`
	// AccountID is the account swept; empty is the home account.
	AccountID string `json:"account_id,omitempty"`
}

// Resource is one resource found by a sweep.
type Resource struct {
	ID      string            `json:"id"`
	Name    string            `json:"name,omitempty"`
	ARN     string            `json:"arn,omitempty"`
	State   string            `json:"state,omitempty"`
	Created time.Time         `json:"created,omitzero"`
	Attrs   map[string]string `json:"attrs,omitempty"` // type, key pair, protection flags, …
	Tags    []Tag             `json:"tags,omitempty"`
}

// Call is one API call in an action's plan.
type Call struct {
	API    string `json:"api"` // "iam:UpdateAccessKey"
	Region string `json:"region,omitempty"`
	// Params are the call's parameters, policy documents included verbatim.
	Params map[string]string `json:"params,omitempty"`
	// Irreversible calls need the target's name typed to confirm.
	Irreversible bool `json:"irreversible,omitempty"`
}

// ActionIntent is journaled (and fsynced) before an action's first call.
type ActionIntent struct {
	ActionID   string `json:"action_id"`
	PlaybookID string `json:"playbook_id,omitempty"`
	Action     string `json:"action"` // "deactivate-key", "revoke-sessions", …
	Target     string `json:"target"` // key id, user/role ARN, instance id …
	Region     string `json:"region,omitempty"`
	Plan       []Call `json:"plan"`
	Undo       string `json:"undo,omitempty"` // how to undo, or "cannot be undone"
	// Account is the account acted in and Role the role ARN assumed to
	// act there; empty: the session's own account, with its own
	// credentials (every journal before organisations).
	Account string `json:"account,omitempty"`
	Role    string `json:"role,omitempty"`
}

// ActionResult is journaled after an action's calls.
type ActionResult struct {
	ActionID string       `json:"action_id"`
	OK       bool         `json:"ok"`
	Already  bool         `json:"already,omitempty"` // already in effect: nothing changed
	Calls    []CallResult `json:"calls"`
	Error    string       `json:"error,omitempty"`
	// Prior records state that the action destroyed (a deleted user's policies,
	// keys ids, groups …) so the journal is the record of what was.
	Prior json.RawMessage `json:"prior,omitempty"`
	// Account and Role: as in ActionIntent.
	Account string `json:"account,omitempty"`
	Role    string `json:"role,omitempty"`
}

// CallResult is one call made, with AWS's request id.
type CallResult struct {
	API       string `json:"api"`
	Region    string `json:"region,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Error     string `json:"error,omitempty"`
}

// ActionVerify records the state read back after an action.
type ActionVerify struct {
	ActionID string `json:"action_id"`
	Holds    bool   `json:"holds"`
	Detail   string `json:"detail"`
	// Account and Role: where it was read back, as in ActionIntent.
	Account string `json:"account,omitempty"`
	Role    string `json:"role,omitempty"`
}

// JournalRepaired records what a writer found at the end of the journal and
// did before appending (journal.Repair is the same shape): a torn last line
// cut, a missing newline added, or stray lines that do not chain cut and
// kept in a quarantine file.
type JournalRepaired struct {
	Offset     int64  `json:"offset"`                // where the bytes began
	Bytes      int64  `json:"bytes"`                 // how many were cut (or completed)
	Action     string `json:"action,omitempty"`      // journal.RepairTorn ("" in older journals), RepairCompleted, RepairQuarantined
	TornSHA256 string `json:"torn_sha256,omitempty"` // hash of the cut torn bytes, as evidence
	CutSHA256  string `json:"cut_sha256,omitempty"`  // hash of quarantined bytes
	Reason     string `json:"reason,omitempty"`      // why they were not part of the chain
	Lines      int    `json:"lines,omitempty"`       // lines cut
	Quarantine string `json:"quarantine,omitempty"`  // file beside the journal holding the cut bytes
	CutHex     string `json:"cut_hex,omitempty"`     // the cut bytes in hex, when short
}

// KeyInfo answers "is this key ours?" for one access key id:
// sts:GetAccessKeyInfo's owning account and, for the caller's own account,
// iam:GetAccessKeyLastUsed's owning user and last use.
type KeyInfo struct {
	AccessKeyID string    `json:"access_key_id"`
	CheckedAt   time.Time `json:"checked_at"`
	// KeyType is "long-term" (AKIA…), "temporary" (ASIA…) or empty.
	KeyType string `json:"key_type,omitempty"`
	// Account owns the key; empty when GetAccessKeyInfo failed.
	Account string `json:"account,omitempty"`
	// CallerAccount is the account the question was asked from.
	CallerAccount string `json:"caller_account,omitempty"`
	// Ours is true when Account is CallerAccount.
	Ours        bool      `json:"ours"`
	UserName    string    `json:"user_name,omitempty"`
	LastUsed    time.Time `json:"last_used,omitzero"`
	LastService string    `json:"last_service,omitempty"`
	LastRegion  string    `json:"last_region,omitempty"`
	// Errors lists the calls that failed.
	Errors []CallError `json:"errors,omitempty"`
}

// Verdict is whether a suspect credential and everything its family
// holds is contained, as read back from AWS at CheckedAt (never from what
// the journal remembers doing). One function in aws/contain makes it; the
// CLI, the console's status line and debrief and the report all show it.
type Verdict struct {
	// Key is the suspect access key the verdict is about.
	Key       string    `json:"key"`
	CheckedAt time.Time `json:"checked_at"`
	// Contained: every foothold found is neutralised, read back just now,
	// and nothing is unsure.
	Contained bool `json:"contained"`
	// Footholds is how many footholds were found and checked; Held how
	// many of them were read back as neutralised.
	Footholds int `json:"footholds"`
	Held      int `json:"held"`
	// Open lists what the family still holds (not neutralised, or left
	// alone by the playbook, with why).
	Open []OpenFoothold `json:"open,omitempty"`
	// Unsure lists what could not be decided: a read that failed, a
	// resource made after the leak whose creator CloudTrail has not named
	// yet, a Region whose CloudTrail has not delivered past containment.
	Unsure []OpenFoothold `json:"unsure,omitempty"`
	// PlaybookID is the playbook run the verdict closes, when one did.
	PlaybookID string `json:"playbook_id,omitempty"`
}

// OpenFoothold is one thing a verdict reports as open or unsure.
type OpenFoothold struct {
	Kind   string `json:"kind"` // key, session, user, login, mfa, policy, trust, role, group, instance, spot, key-pair, function, permission, ingress, trail, …
	ID     string `json:"id"`
	Region string `json:"region,omitempty"`
	Detail string `json:"detail"`
	// At is when an unattributed resource was made (zero otherwise).
	At time.Time `json:"at,omitzero"`
	// Account is the member account it is in (empty: the session's own).
	Account string `json:"account,omitempty"`
}

// Word is the verdict in one word: "contained", "not contained" or
// "unsure" (nothing known open, but something could not be decided).
func (v Verdict) Word() string {
	switch {
	case v.Contained:
		return "contained"
	case len(v.Open) == 0 && len(v.Unsure) > 0:
		return "unsure"
	}
	return "not contained"
}

// Anchor records that the journal's head was anchored outside the machine:
// a harmless call whose parameters carry the head, which the account's own
// CloudTrail records (see aws/anchor and ARCHITECTURE.md, "Tamper
// evidence"). The line anchored is the one before this fact.
type Anchor struct {
	Seq       int64     `json:"seq"`        // the line anchored
	Head      string    `json:"head"`       // its hash
	Call      string    `json:"call"`       // e.g. cloudtrail:LookupEvents
	Region    string    `json:"region"`     // where the call went (and where CloudTrail records it)
	Value     string    `json:"value"`      // what the call carried (journal.AnchorValue)
	RequestID string    `json:"request_id"` // AWS's request id: the CloudTrail record's requestID
	At        time.Time `json:"at"`         // when the call was made
}
