package sim

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Service is one AWS service the sim serves.
type Service struct {
	// Name is the SigV4 signing name ("iam", "sts", "ec2", "cloudtrail",
	// "lambda", "s3"); requests are routed by the credential scope's service.
	Name string
	// EventSource is CloudTrail's eventSource ("iam.amazonaws.com").
	EventSource string
	// Protocol is the wire protocol.
	Protocol Protocol
	// XMLNS is the namespace of awsquery answers.
	XMLNS string
	// Global services (IAM) record every event in us-east-1 and ignore
	// Region faults.
	Global bool
	// Route names the operation of a REST request and may fill
	// Request.Path. Query and JSON services leave it nil: the Action form
	// field or the X-Amz-Target header names the operation.
	Route func(r *Request) (op string, err *Error)
	// Ops are the operations by name ("ListUsers").
	Ops map[string]Op
}

// Op is one operation.
type Op struct {
	// Handle serves the call. It runs with the sim's lock held: it may
	// read and change the account freely and must not block. It returns
	// the answer (a struct marshalled in the protocol, or a *Reply) or an
	// error (an *Error; any other error becomes a 500).
	Handle func(r *Request) (any, error)
	// ReadOnly is CloudTrail's readOnly for the operation.
	ReadOnly bool
	// Action is the IAM action policies name; "<service>:<Op>" when empty.
	Action string
	// NoAuthz marks operations that policies cannot deny
	// (sts:GetCallerIdentity, sts:GetSessionToken).
	NoAuthz bool
	// DataEvent marks operations CloudTrail does not record as management
	// events (S3 object reads): they appear in Calls only.
	DataEvent bool
}

// Identity is the caller of a request, resolved from its signature.
type Identity struct {
	// Type is userIdentity.type: IAMUser, AssumedRole or FederatedUser.
	Type        string
	PrincipalID string
	ARN         string
	AccountID   string
	AccessKeyID string
	// UserName is the IAM user's name (IAMUser; the federating user's name
	// for FederatedUser).
	UserName string
	// RoleName is set for AssumedRole.
	RoleName string
	// SessionIssued is the temporary credential's issue time (zero for
	// long-term keys); MFA whether it was issued with MFA.
	SessionIssued time.Time
	MFA           bool

	cred *credential
}

// Temporary reports whether the caller signs with temporary credentials.
func (id *Identity) Temporary() bool {
	return id != nil && id.cred != nil && id.cred.Kind != credLongTerm
}

// Request is one call being served, as a handler sees it.
type Request struct {
	HTTP      *http.Request
	Body      []byte
	Form      url.Values        // query protocols: the form fields and URL query
	Path      map[string]string // REST: path parameters set by Route
	Service   *Service
	Op        string
	Region    string // from the credential scope
	RequestID string
	SourceIP  string
	UserAgent string
	Caller    *Identity
	Now       time.Time
	Sim       *Sim

	// RequestParameters and ResponseElements are what the CloudTrail
	// record shows. Handlers set them; for query protocols
	// RequestParameters defaults to the form fields in lowerCamelCase.
	RequestParameters any
	ResponseElements  any
	// Resources is the record's resources list, when the operation has one.
	Resources []EventResource
	// AdditionalEventData is the record's additionalEventData, if any.
	AdditionalEventData any

	// sharedEventID and peer: a cross-account call (sts:AssumeRole of
	// another account's role) is recorded in peer too, both records
	// carrying sharedEventID.
	sharedEventID string
	peer          *Sim
}

// EventResource is an entry of a CloudTrail record's resources.
type EventResource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type"`
}

// Param returns a form field (query protocols).
func (r *Request) Param(name string) string { return r.Form.Get(name) }

// AccessDenied returns this service's access-denied error for the caller
// and action.
func (r *Request) AccessDenied(action, resource string) *Error {
	arn := ""
	if r.Caller != nil {
		arn = r.Caller.ARN
	}
	return AccessDenied(r.Service.Protocol, arn, action, resource, "with an explicit deny in an identity-based policy")
}

const maxBody = 16 << 20

// ServeHTTP serves one AWS API call.
func (s *Sim) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	req := &Request{HTTP: hr, Sim: s, RequestID: s.ids.uuid(), UserAgent: hr.Header.Get("User-Agent"), Path: map[string]string{}}
	req.SourceIP, _, _ = net.SplitHostPort(hr.RemoteAddr)
	if req.SourceIP == "" {
		req.SourceIP = hr.RemoteAddr
	}
	body, err := io.ReadAll(io.LimitReader(hr.Body, maxBody))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	req.Body = body

	auth, authErr := parseAuth(hr.Header.Get("Authorization"))
	s.svcMu.RLock()
	svc := s.services[auth.Service]
	s.svcMu.RUnlock()
	if authErr != nil || svc == nil {
		s.reject(w, req, guessService(hr), errMissingAuth(guessService(hr).Protocol))
		return
	}
	req.Service, req.Region = svc, auth.Region
	if svc.Protocol == ProtoQuery || svc.Protocol == ProtoEC2 {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			s.reject(w, req, svc, Errorf(400, "MalformedQueryString", "The query string is malformed."))
			return
		}
		for k, v := range hr.URL.Query() {
			form[k] = append(form[k], v...)
		}
		req.Form = form
	}
	var routeErr *Error
	switch svc.Protocol {
	case ProtoQuery, ProtoEC2:
		req.Op = req.Form.Get("Action")
	case ProtoJSON:
		t := hr.Header.Get("X-Amz-Target")
		req.Op = t[strings.LastIndexByte(t, '.')+1:]
	default:
		if svc.Route != nil {
			req.Op, routeErr = svc.Route(req)
		}
	}
	op, known := svc.Ops[req.Op]
	if routeErr == nil && !known {
		routeErr = errUnknownOp(svc.Protocol, req.Op)
	}
	if routeErr != nil {
		s.reject(w, req, svc, routeErr)
		return
	}

	if lat := time.Duration(s.latency.Load()); lat > 0 {
		t := time.NewTimer(lat)
		select {
		case <-t.C:
		case <-hr.Context().Done():
			t.Stop()
			return
		}
	}

	s.mu.Lock()
	req.Now = s.clock.Now().UTC()
	out, callErr, record := s.serveLocked(req, svc, op, auth, body)
	var apiErr *Error
	if callErr != nil && !errors.As(callErr, &apiErr) {
		apiErr = errInternal(svc.Protocol)
	}
	if record {
		s.recordLocked(req, op, apiErr)
	}
	if apiErr == nil && !op.ReadOnly {
		s.configNoteLocked(req) // AWS Config's items for what the call changed (config.go)
	}
	s.noteCallLocked(req, apiErr)
	s.mu.Unlock()
	// The account's own clock, as AWS's Date header is: a client that
	// times itself against the account (containment's cut) reads it.
	w.Header().Set("Date", req.Now.UTC().Format(http.TimeFormat))

	if apiErr != nil {
		writeError(w, svc, req.RequestID, apiErr)
		return
	}
	setRequestIDHeaders(w, svc, req.RequestID)
	if err := writeSuccess(w, svc, req.Op, req.RequestID, out); err != nil {
		// Too late for a clean error; the client will see a short body.
		return
	}
}

// serveLocked authenticates, injects faults, authorises and runs the
// handler. record says whether the call is to be recorded in CloudTrail.
func (s *Sim) serveLocked(req *Request, svc *Service, op Op, auth authHeader, body []byte) (out any, err error, record bool) {
	p := svc.Protocol
	if !svc.Global && (!regionKnown(req.Region) || !s.regionEnabled(req.Region)) {
		// A Region that is not enabled does not know the account's keys.
		return nil, errUnknownKey(p), false
	}
	c := s.acct.keys[auth.KeyID]
	if c == nil {
		return nil, errUnknownKey(p), false
	}
	req.Caller = s.identityOf(c)
	if c.Deleted || (c.Kind == credLongTerm && c.Status != "Active") || (c.User != nil && c.User.Deleted) {
		return nil, errUnknownKey(p), true
	}
	if c.Token != "" && req.HTTP.Header.Get("X-Amz-Security-Token") != c.Token {
		return nil, errUnknownKey(p), true
	}
	if !verifySig(req.HTTP, body, auth, c.Secret) {
		return nil, errBadSignature(p), true
	}
	if !c.Expires.IsZero() && !req.Now.Before(c.Expires) {
		return nil, errExpired(p), true
	}
	s.noteAccessLocked(c, svc, actionOf(svc, req.Op, op), req.Region, req.Now) // Access Advisor (advisor.go)
	if c.Kind == credLongTerm {
		c.LastUsed, c.LastService, c.LastRegion = req.Now, svc.Name, req.Region
		if svc.Global {
			c.LastRegion = HomeRegion
		}
	}
	if c.Kind == credRole && c.Role != nil {
		c.Role.LastUsed, c.Role.LastRegion = req.Now, req.Region
	}
	// Data events are recorded only for the trails that select them
	// (recordLocked decides).
	record = true
	if c.Account != "" {
		// An outside key: only the role's account side of AssumeRole is
		// the drill's to record, and only STS is served.
		record = record && req.Op == "AssumeRole"
		if svc.Name != "sts" || (req.Op != "AssumeRole" && req.Op != "GetCallerIdentity") {
			return nil, AccessDenied(p, req.Caller.ARN, actionOf(svc, req.Op, op), "*",
				"because the drill serves only its own account"), record
		}
	}
	if !svc.Global && slices.Contains(s.opts.DeniedRegions, req.Region) {
		return nil, AccessDenied(p, req.Caller.ARN, actionOf(svc, req.Op, op), "*",
			"with an explicit deny in a service control policy"), record
	}
	if s.opts.ThrottleRate > 0 && s.ids.float() < s.opts.ThrottleRate || s.throttleOpLocked(req.Op) || s.throttledOp(req.Op) || slices.Contains(s.throttled, req.Op) {
		if svc.Name == "athena" {
			return nil, athenaThrottled(), record
		}
		return nil, errThrottled(p), record
	}
	if s.opts.ErrorRate > 0 && s.ids.float() < s.opts.ErrorRate {
		return nil, errInternal(p), record
	}
	if svc.Protocol == ProtoQuery || svc.Protocol == ProtoEC2 {
		req.RequestParameters = formParams(req.Form)
	}
	if s.org != nil && !op.NoAuthz {
		// The organisation's service control policies (org.go).
		if e := s.org.scpDeniesLocked(s, req, actionOf(svc, req.Op, op)); e != nil {
			return nil, e, record
		}
	}
	if e := s.authorizeLocked(req, actionOf(svc, req.Op, op), !op.NoAuthz); e != nil {
		return nil, e, record
	}
	out, err = op.Handle(req)
	return out, err, record
}

// actionOf is the IAM action name of an operation.
func actionOf(svc *Service, name string, op Op) string {
	if op.Action != "" {
		return op.Action
	}
	return svc.Name + ":" + name
}

// reject answers a request that never reached authentication.
func (s *Sim) reject(w http.ResponseWriter, req *Request, svc *Service, e *Error) {
	s.mu.Lock()
	req.Now = s.clock.Now().UTC()
	if req.Service == nil {
		req.Service = svc
	}
	s.noteCallLocked(req, e)
	s.mu.Unlock()
	writeError(w, svc, req.RequestID, e)
}

// noteCallLocked appends to Calls.
func (s *Sim) noteCallLocked(req *Request, e *Error) {
	c := Call{Time: req.Now, RequestID: req.RequestID, Operation: req.Op, Region: req.Region,
		SourceIP: req.SourceIP, UserAgent: req.UserAgent, Status: http.StatusOK}
	if req.Service != nil {
		c.Service = req.Service.Name
	}
	if a, err := parseAuth(req.HTTP.Header.Get("Authorization")); err == nil {
		c.AccessKeyID = a.KeyID
	}
	if req.Caller != nil {
		c.PrincipalARN = req.Caller.ARN
	}
	if e != nil {
		c.Status, c.ErrorCode = e.Status, e.Code
	}
	s.calls = append(s.calls, c)
}

// setRequestIDHeaders sets the headers the SDKs read request ids from.
func setRequestIDHeaders(w http.ResponseWriter, svc *Service, id string) {
	if svc.Protocol == ProtoRESTXML {
		w.Header().Set("X-Amz-Request-Id", id)
		w.Header().Set("X-Amz-Id-2", id)
		return
	}
	w.Header().Set("X-Amzn-RequestId", id)
}

// guessService picks a service to answer an unsigned request in its
// protocol.
func guessService(hr *http.Request) *Service {
	switch {
	case hr.Header.Get("X-Amz-Target") != "":
		return &Service{Name: "cloudtrail", Protocol: ProtoJSON}
	case strings.HasPrefix(hr.URL.Path, "/2015-03-31/"):
		return &Service{Name: "lambda", Protocol: ProtoRESTJSON}
	case hr.Method == http.MethodGet && hr.URL.Path != "/":
		return &Service{Name: "s3", Protocol: ProtoRESTXML}
	}
	return &Service{Name: "sts", Protocol: ProtoQuery, XMLNS: xmlnsSTS}
}

// errUnknownOp is the protocol's answer to an operation the sim does not serve.
func errUnknownOp(p Protocol, op string) *Error {
	switch p {
	case ProtoJSON:
		return Errorf(400, "UnknownOperationException", "Unknown operation %s", op)
	case ProtoRESTJSON:
		return Errorf(404, "UnknownOperationException", "Unknown operation")
	case ProtoRESTXML:
		return Errorf(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
	return Errorf(400, "InvalidAction", "Could not find operation %s for version", op)
}

// formParams turns query form fields into CloudTrail requestParameters:
// keys in lowerCamelCase, Action and Version dropped; nil when none remain.
func formParams(form url.Values) any {
	out := map[string]any{}
	for k, vs := range form {
		if k == "Action" || k == "Version" || len(vs) == 0 || secretParam(k) {
			continue
		}
		out[lowerFirst(k)] = vs[0]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// lowerFirst lower-cases the first letter: UserName → userName.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
