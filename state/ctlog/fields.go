package ctlog

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
		switch string(k) {
		case "eventID":
			return fEventID, ctxNone
		case "eventTime":
			return fEventTime, ctxNone
		case "@timestamp":
			return fTimestamp, ctxNone
		case "eventName":
			return fEventName, ctxNone
		case "eventSource":
			return fEventSource, ctxNone
		case "eventType":
			return fEventType, ctxNone
		case "awsRegion":
			return fRegion, ctxNone
		case "sourceIPAddress":
			return fSourceIP, ctxNone
		case "userAgent":
			return fUserAgent, ctxNone
		case "errorCode":
			return fErrorCode, ctxNone
		case "errorMessage":
			return fErrorMessage, ctxNone
		case "readOnly":
			return fReadOnly, ctxNone
		case "requestID":
			return fRequestID, ctxNone
		case "recipientAccountId":
			return fRecipient, ctxNone
		case "userIdentity":
			return fNone, ctxIdentity
		case "requestParameters":
			return fNone, ctxRequest
		case "responseElements":
			return fNone, ctxResponse
		case "addendum":
			return fAddendum, ctxAddendum
		case "CloudTrailEvent":
			return fCloudTrailEvent, ctxNone
		case "EventTime":
			return fLookupTime, ctxNone
		case "EventId":
			return fLookupID, ctxNone
		case "Records":
			return fRecords, ctxNone
		case "Events":
			return fEvents, ctxNone
		}
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
