// Package ctlog parses CloudTrail records in every shape they are found in:
// S3 delivery files, bare arrays, NDJSON, and LookupEvents output.
package ctlog

import "time"

// ReadOnly is a tri-state: CloudTrail records may omit readOnly.
type ReadOnly int8

// ReadOnly values.
const (
	ReadOnlyUnknown ReadOnly = iota
	ReadOnlyTrue
	ReadOnlyFalse
)

// Minted describes a temporary credential minted by the call that a record
// describes (AssumeRole, GetSessionToken, GetFederationToken and their
// relatives): responseElements.credentials. The session token itself is
// never kept; only the key id and its expiry.
type Minted struct {
	AccessKeyID string    // ASIA… key id of the new credential
	Expiration  time.Time // zero when the record does not say
	RoleARN     string    // requestParameters.roleArn for AssumeRole*, else empty
	SessionName string    // requestParameters.roleSessionName or name (federation)
}

// Addendum marks a record that replaces an earlier copy of the same event.
type Addendum struct {
	Reason            string // DELIVERY_DELAY, UPDATED_DATA, SERVICE_OUTAGE
	UpdatedFields     string
	OriginalRequestID string
	OriginalEventID   string
}

// Record is one CloudTrail record with the fields warroom filters, indexes
// and classifies on pulled out, and the record's raw JSON kept beside them.
//
// Every string here can be chosen by an attacker: sanitise before drawing.
type Record struct {
	EventID            string
	EventTime          time.Time // eventTime, or @timestamp when a pipeline dropped it
	EventName          string
	EventSource        string // e.g. iam.amazonaws.com
	EventType          string // AwsApiCall, AwsConsoleSignIn, …
	Region             string // awsRegion
	SourceIP           string // kept as text: may be a service name or malformed
	UserAgent          string
	ErrorCode          string
	ErrorMessage       string
	ReadOnly           ReadOnly
	RequestID          string
	RecipientAccountID string

	IdentityType     string // userIdentity.type: IAMUser, AssumedRole, Root, …
	PrincipalARN     string // userIdentity.arn
	PrincipalID      string // userIdentity.principalId
	AccountID        string // userIdentity.accountId
	UserName         string // userIdentity.userName, else sessionIssuer.userName, else last ARN segment
	AccessKeyID      string // userIdentity.accessKeyId (may be empty)
	InvokedBy        string // userIdentity.invokedBy
	SessionIssuedAt  time.Time
	SessionIssuerARN string
	MFAAuthenticated bool

	Minted   *Minted   // nil unless the call minted a temporary credential
	Addendum *Addendum // nil unless this copy replaces an earlier one

	// Raw is the record's JSON as it will be journaled: compact, with any
	// minted session token replaced by a redaction marker. It must not be
	// modified: the parser cuts the string fields above from the same
	// memory, and records parsed one after another share blocks of 32 KiB
	// (see Options.Borrow for records that share nothing and own nothing).
	// Appending to Raw is safe: it never grows into its neighbours. To
	// keep one field for long, clone it, or it keeps its block alive.
	Raw []byte
}
