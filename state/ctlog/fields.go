package ctlog

import "encoding/binary"

// ctx names where in a record the scanner is, so that a member name can be
// looked up among the few that matter there. ctxNone is everywhere else:
// values there are validated, compacted and redacted, but not captured.
type ctx uint8

// Contexts.
const (
	ctxNone ctx = iota
	ctxTop
	ctxIdentity
	ctxSessionContext
	ctxAttributes
	ctxIssuer
	ctxRequest
	ctxResponse
	ctxCredentials
	ctxAddendum
	numCtx
)

// field names a captured member.
type field uint8

// Captured members. The members of each context are contiguous, so that
// entering a context (or meeting its name again: the last duplicate wins,
// as in encoding/json) clears exactly its fields.
const (
	fNone field = iota

	// The record's top level.
	fEventID
	fEventTime
	fTimestamp // @timestamp, added by log pipelines
	fEventName
	fEventSource
	fEventType
	fRegion
	fSourceIP
	fUserAgent
	fErrorCode
	fErrorMessage
	fReadOnly
	fRequestID
	fRecipient
	fAddendum // the addendum object itself

	// A LookupEvents element: the record is a JSON string.
	fCloudTrailEvent
	fLookupTime
	fLookupID

	// A wrapper whose first member was not Records or Events.
	fRecords
	fEvents

	// userIdentity, with sessionContext nested inside.
	fIdType
	fIdARN
	fIdPrincipal
	fIdAccount
	fIdUser
	fIdKey
	fIdInvokedBy
	fMFA      // sessionContext.attributes.mfaAuthenticated
	fCreation // sessionContext.attributes.creationDate
	fIssuerARN
	fIssuerUser

	// requestParameters.
	fRoleARN
	fRoleSession
	fName

	// responseElements.credentials.
	fCredKey
	fCredExp

	// addendum.
	fAddReason
	fAddFields
	fAddRequestID
	fAddEventID

	numFields
)

// ctxFields is the half-open range of fields under each context.
var ctxFields = [numCtx][2]field{
	ctxIdentity:       {fIdType, fIssuerUser + 1},
	ctxSessionContext: {fMFA, fIssuerUser + 1},
	ctxAttributes:     {fMFA, fCreation + 1},
	ctxIssuer:         {fIssuerARN, fIssuerUser + 1},
	ctxRequest:        {fRoleARN, fName + 1},
	ctxResponse:       {fCredKey, fCredExp + 1},
	ctxCredentials:    {fCredKey, fCredExp + 1},
	ctxAddendum:       {fAddReason, fAddEventID + 1},
}

// lookupKey maps a member name in context c to the field it fills and the
// context its value opens (when the value is an object). Names are matched
// exactly: CloudTrail's names are fixed, and a case-folded match would let a
// crafted member shadow a real one.
func lookupKey(c ctx, k []byte) (field, ctx) {
	switch c {
	case ctxTop:
		return lookupTop(k)
	case ctxIdentity:
		switch string(k) {
		case "type":
			return fIdType, ctxNone
		case "arn":
			return fIdARN, ctxNone
		case "principalId":
			return fIdPrincipal, ctxNone
		case "accountId":
			return fIdAccount, ctxNone
		case "userName":
			return fIdUser, ctxNone
		case "accessKeyId":
			return fIdKey, ctxNone
		case "invokedBy":
			return fIdInvokedBy, ctxNone
		case "sessionContext":
			return fNone, ctxSessionContext
		}
	case ctxSessionContext:
		switch string(k) {
		case "attributes":
			return fNone, ctxAttributes
		case "sessionIssuer":
			return fNone, ctxIssuer
		}
	case ctxAttributes:
		switch string(k) {
		case "mfaAuthenticated":
			return fMFA, ctxNone
		case "creationDate":
			return fCreation, ctxNone
		}
	case ctxIssuer:
		switch string(k) {
		case "arn":
			return fIssuerARN, ctxNone
		case "userName":
			return fIssuerUser, ctxNone
		}
	case ctxRequest:
		switch string(k) {
		case "roleArn":
			return fRoleARN, ctxNone
		case "roleSessionName":
			return fRoleSession, ctxNone
		case "name":
			return fName, ctxNone
		}
	case ctxResponse:
		if string(k) == "credentials" {
			return fNone, ctxCredentials
		}
	case ctxCredentials:
		switch string(k) {
		case "accessKeyId":
			return fCredKey, ctxNone
		case "expiration":
			return fCredExp, ctxNone
		}
	case ctxAddendum:
		switch string(k) {
		case "reason":
			return fAddReason, ctxNone
		case "updatedFields":
			return fAddFields, ctxNone
		case "originalRequestID":
			return fAddRequestID, ctxNone
		case "originalEventID":
			return fAddEventID, ctxNone
		}
	}
	return fNone, ctxNone
}

// lookupTop is lookupKey at a record's top level, where most names are
// looked up: it dispatches on the name's length, then compares with
// constants, which the compiler turns into a few word comparisons.
func lookupTop(k []byte) (field, ctx) {
	switch len(k) {
	case 6:
		if string(k) == "Events" {
			return fEvents, ctxNone
		}
	case 7:
		switch {
		case string(k) == "eventID":
			return fEventID, ctxNone
		case string(k) == "Records":
			return fRecords, ctxNone
		case string(k) == "EventId":
			return fLookupID, ctxNone
		}
	case 8:
		switch {
		case string(k) == "readOnly":
			return fReadOnly, ctxNone
		case string(k) == "addendum":
			return fAddendum, ctxAddendum
		}
	case 9:
		switch {
		case string(k) == "eventTime":
			return fEventTime, ctxNone
		case string(k) == "eventName":
			return fEventName, ctxNone
		case string(k) == "eventType":
			return fEventType, ctxNone
		case string(k) == "awsRegion":
			return fRegion, ctxNone
		case string(k) == "userAgent":
			return fUserAgent, ctxNone
		case string(k) == "requestID":
			return fRequestID, ctxNone
		case string(k) == "errorCode":
			return fErrorCode, ctxNone
		case string(k) == "EventTime":
			return fLookupTime, ctxNone
		}
	case 10:
		if string(k) == "@timestamp" {
			return fTimestamp, ctxNone
		}
	case 11:
		if string(k) == "eventSource" {
			return fEventSource, ctxNone
		}
	case 12:
		switch {
		case string(k) == "userIdentity":
			return fNone, ctxIdentity
		case string(k) == "errorMessage":
			return fErrorMessage, ctxNone
		}
	case 15:
		switch {
		case string(k) == "sourceIPAddress":
			return fSourceIP, ctxNone
		case string(k) == "CloudTrailEvent":
			return fCloudTrailEvent, ctxNone
		}
	case 16:
		if string(k) == "responseElements" {
			return fNone, ctxResponse
		}
	case 17:
		if string(k) == "requestParameters" {
			return fNone, ctxRequest
		}
	case 18:
		if string(k) == "recipientAccountId" {
			return fRecipient, ctxNone
		}
	}
	return fNone, ctxNone
}

// memberOrder lists, for each context, its members in the order CloudTrail
// writes them. The scanner starts from this order to predict each member
// name from the one before, and confirms a prediction with a few word
// comparisons instead of scanning the name and looking it up. It learns
// from what it meets (files whose members are sorted, optional members),
// per scanner. Prediction only saves work: a name that does not match goes
// the slow way, and a matched name gives exactly lookupKey's answer.
var memberOrder = [numCtx][]string{
	ctxTop: {"eventVersion", "userIdentity", "eventTime", "eventSource",
		"eventName", "awsRegion", "sourceIPAddress", "userAgent",
		"requestParameters", "responseElements", "requestID", "eventID",
		"readOnly", "eventType", "managementEvent", "recipientAccountId",
		"eventCategory", "tlsDetails"},
	ctxIdentity:       {"type", "principalId", "arn", "accountId", "accessKeyId", "userName"},
	ctxSessionContext: {"sessionIssuer", "webIdFederationData", "attributes"},
	ctxAttributes:     {"creationDate", "mfaAuthenticated"},
	ctxIssuer:         {"type", "principalId", "arn", "accountId", "userName"},
	ctxRequest:        {"roleArn", "roleSessionName"},
	ctxResponse:       {"assumedRoleUser", "credentials"},
	ctxCredentials:    {"accessKeyId", "expiration"},
	ctxAddendum:       {"reason", "updatedFields", "originalRequestID", "originalEventID"},
}

// memberExtra lists members that are known (so that the scanner can learn
// what follows them) but left out of the starting order: optional ones.
var memberExtra = [numCtx][]string{
	ctxTop: {"errorCode", "errorMessage", "additionalEventData", "resources",
		"apiVersion", "sharedEventID", "vpcEndpointId", "serviceEventDetails",
		"addendum", "insightDetails",
		"edgeDeviceDetails", "eventRegion", "@timestamp"},
	ctxIdentity:       {"sessionContext", "invokedBy", "credentialId", "identityProvider", "onBehalfOf"},
	ctxSessionContext: {"ec2RoleDelivery", "sourceIdentity", "assumedRoot"},
	ctxRequest:        {"name", "durationSeconds"},
}

// maxPredicted is the longest quoted name a prediction compares: three
// words. The input must hold that many bytes from the name on.
const maxPredicted = 24

// member is one predictable member name of a context, with lookupKey's
// answer for it and its quoted form ("name", with the quotes) as three
// words to compare the input with, bytes past the name masked off.
type member struct {
	w     [3]uint64
	mask  [3]uint64
	n     int // length of the quoted name
	f     field
	child ctx
	name  string
}

// Member tables, built once from memberOrder and memberExtra. Index 0 is
// no member.
var (
	members     [256]member
	numMembers  = 1
	ctxMembers  [numCtx][]uint8 // the members of each context
	firstMember [numCtx]uint8   // predicted first member of each context
	succMember  [256]uint8      // predicted successor of each member
)

func init() {
	add := func(c ctx, name string) uint8 {
		q := `"` + name + `"`
		if len(q) > maxPredicted || memberIndex(c, []byte(name)) != 0 || isSecretKey([]byte(name)) || numMembers == len(members) {
			panic("ctlog: member " + name + " cannot be predicted")
		}
		var buf, mask [maxPredicted]byte
		copy(buf[:], q)
		for i := range q {
			mask[i] = 0xff
		}
		m := member{n: len(q), name: name}
		m.f, m.child = lookupKey(c, []byte(name))
		for i := range m.w {
			m.w[i] = binary.LittleEndian.Uint64(buf[8*i:])
			m.mask[i] = binary.LittleEndian.Uint64(mask[8*i:])
		}
		j := uint8(numMembers)
		members[j] = m
		numMembers++
		ctxMembers[c] = append(ctxMembers[c], j)
		return j
	}
	for c := range numCtx {
		prev := uint8(0)
		for _, name := range memberOrder[c] {
			j := add(c, name)
			if prev == 0 {
				firstMember[c] = j
			} else {
				succMember[prev] = j
			}
			prev = j
		}
		for _, name := range memberExtra[c] {
			add(c, name)
		}
	}
}

// memberIndex returns the member of context c named k, or 0.
func memberIndex(c ctx, k []byte) uint8 {
	for _, j := range ctxMembers[c] {
		if members[j].name == string(k) {
			return j
		}
	}
	return 0
}
