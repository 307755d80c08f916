package sim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The CloudTrail record shape, field for field as CloudTrail writes it.

type ctRecord struct {
	EventVersion        string          `json:"eventVersion"`
	UserIdentity        ctIdentity      `json:"userIdentity"`
	EventTime           string          `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode,omitempty"`
	ErrorMessage        string          `json:"errorMessage,omitempty"`
	RequestParameters   any             `json:"requestParameters"`
	ResponseElements    any             `json:"responseElements"`
	AdditionalEventData any             `json:"additionalEventData,omitempty"`
	RequestID           string          `json:"requestID"`
	EventID             string          `json:"eventID"`
	ReadOnly            bool            `json:"readOnly"`
	Resources           []EventResource `json:"resources,omitempty"`
	EventType           string          `json:"eventType"`
	ManagementEvent     bool            `json:"managementEvent"`
	RecipientAccountID  string          `json:"recipientAccountId"`
	SharedEventID       string          `json:"sharedEventID,omitempty"`
	EventCategory       string          `json:"eventCategory"`
	TLSDetails          *ctTLS          `json:"tlsDetails,omitempty"`
}

type ctIdentity struct {
	Type           string     `json:"type"`
	PrincipalID    string     `json:"principalId"`
	ARN            string     `json:"arn,omitempty"`
	AccountID      string     `json:"accountId"`
	AccessKeyID    string     `json:"accessKeyId,omitempty"`
	UserName       string     `json:"userName,omitempty"`
	SessionContext *ctSession `json:"sessionContext,omitempty"`
}

type ctSession struct {
	SessionIssuer *ctIssuer   `json:"sessionIssuer,omitempty"`
	Attributes    ctSessAttrs `json:"attributes"`
}

type ctIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

type ctSessAttrs struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

type ctTLS struct {
	TLSVersion               string `json:"tlsVersion"`
	CipherSuite              string `json:"cipherSuite"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader"`
}

// identityOf resolves a credential to the identity CloudTrail shows.
func (s *Sim) identityOf(c *credential) *Identity {
	id := &Identity{AccountID: s.acct.ID, AccessKeyID: c.ID, cred: c, MFA: c.MFA}
	if c.Account != "" {
		id.AccountID = c.Account
	}
	if c.Kind != credLongTerm {
		id.SessionIssued = c.Created
	}
	switch c.Kind {
	case credLongTerm, credSession:
		id.Type, id.PrincipalID, id.ARN, id.UserName = "IAMUser", c.User.ID, c.User.ARN, c.User.Name
	case credFederation:
		id.Type = "FederatedUser"
		id.PrincipalID = s.acct.ID + ":" + c.Session
		id.ARN = fmt.Sprintf("arn:aws:sts::%s:federated-user/%s", s.acct.ID, c.Session)
		id.UserName = c.User.Name
	case credRole:
		id.Type = "AssumedRole"
		id.PrincipalID = c.Role.ID + ":" + c.Session
		id.ARN = fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", s.acct.ID, c.Role.Name, c.Session)
		id.RoleName = c.Role.Name
	}
	return id
}

// ctUserIdentity builds userIdentity for id.
func (s *Sim) ctUserIdentity(id *Identity) ctIdentity {
	out := ctIdentity{Type: id.Type, PrincipalID: id.PrincipalID, ARN: id.ARN, AccountID: id.AccountID, AccessKeyID: id.AccessKeyID}
	c := id.cred
	if c != nil && c.Account != "" {
		// Another account's principal, as the role's account records
		// a cross-account AssumeRole: the account and principal id only.
		return ctIdentity{Type: "AWSAccount", PrincipalID: id.PrincipalID, AccountID: id.AccountID}
	}
	if id.Type == "IAMUser" {
		out.UserName = id.UserName
	}
	if c == nil || c.Kind == credLongTerm {
		return out
	}
	sc := &ctSession{Attributes: ctSessAttrs{CreationDate: isoTime(c.Created), MFAAuthenticated: fmt.Sprint(c.MFA)}}
	switch c.Kind {
	case credFederation:
		sc.SessionIssuer = &ctIssuer{Type: "IAMUser", PrincipalID: c.User.ID, ARN: c.User.ARN, AccountID: s.acct.ID, UserName: c.User.Name}
	case credRole:
		sc.SessionIssuer = &ctIssuer{Type: "Role", PrincipalID: c.Role.ID, ARN: c.Role.ARN, AccountID: s.acct.ID, UserName: c.Role.Name}
	}
	out.SessionContext = sc
	return out
}

// awsHost is the host name the call would have reached at AWS.
func awsHost(svc *Service, region string) string {
	switch {
	case svc.Global:
		return svc.Name + ".amazonaws.com"
	case svc.Name == "sts" && region == HomeRegion:
		return "sts.amazonaws.com"
	case svc.Name == "s3":
		return "s3." + region + ".amazonaws.com"
	}
	return svc.Name + "." + region + ".amazonaws.com"
}

// eventRegion is the Region a call's record belongs to.
func eventRegion(req *Request) string {
	if req.Service.Global {
		return HomeRegion
	}
	return req.Region
}

// recordLocked writes the CloudTrail record of a served call.
func (s *Sim) recordLocked(req *Request, op Op, e *Error) {
	if req.Caller == nil {
		return
	}
	rec := ctRecord{
		EventVersion:        "1.09",
		UserIdentity:        s.ctUserIdentity(req.Caller),
		EventTime:           isoTime(req.Now),
		EventSource:         req.Service.EventSource,
		EventName:           req.Op,
		AWSRegion:           eventRegion(req),
		SourceIPAddress:     req.SourceIP,
		UserAgent:           req.UserAgent,
		RequestParameters:   req.RequestParameters,
		ResponseElements:    req.ResponseElements,
		AdditionalEventData: req.AdditionalEventData,
		RequestID:           req.RequestID,
		EventID:             s.ids.uuid(),
		ReadOnly:            op.ReadOnly,
		Resources:           req.Resources,
		EventType:           "AwsApiCall",
		ManagementEvent:     true,
		RecipientAccountID:  s.acct.ID,
		SharedEventID:       req.sharedEventID,
		EventCategory:       "Management",
		TLSDetails: &ctTLS{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256",
			ClientProvidedHostHeader: awsHost(req.Service, req.Region)},
	}
	var object string // a data event's object ARN
	if op.DataEvent {
		rec.ManagementEvent, rec.EventCategory = false, "Data"
		for _, r := range req.Resources {
			if r.Type == "AWS::S3::Object" {
				object = r.ARN
			}
		}
		if object == "" || !s.trail.selectsData(object, op.ReadOnly) {
			return
		}
	}
	if e != nil {
		rec.ErrorCode, rec.ErrorMessage = e.Code, e.Message
		if req.Service.Protocol == ProtoEC2 {
			// EC2 records its codes with the fault side in front.
			side := "Client."
			if e.Status >= 500 {
				side = "Server."
			}
			rec.ErrorCode = side + e.Code
		}
		rec.ResponseElements = nil
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		// Handler-supplied parameters that cannot be marshalled: keep the
		// record, without them.
		rec.RequestParameters, rec.ResponseElements, rec.AdditionalEventData = nil, nil, nil
		raw, _ = json.Marshal(rec)
	}
	ev := &event{
		account:   s.acct.ID,
		seq:       len(s.trail.events),
		raw:       raw,
		time:      req.Now.Truncate(time.Second),
		visibleAt: req.Now.Add(s.scaled(s.opts.DeliveryDelay)),
		region:    rec.AWSRegion,
		id:        rec.EventID,
		name:      rec.EventName,
		source:    rec.EventSource,
		keyID:     req.Caller.AccessKeyID,
		readOnly:  op.ReadOnly,
		resources: req.Resources,
		object:    object,
	}
	ev.user = req.Caller.UserName
	if req.Caller.Type == "AssumedRole" {
		ev.user = req.Caller.cred.Session
	}
	if req.Caller.Type == "FederatedUser" {
		ev.user = req.Caller.cred.Session
	}
	if req.Caller.cred != nil && req.Caller.cred.Account != "" {
		// The record names no key and no user of this account.
		ev.keyID, ev.user = "", ""
	}
	s.addEventLocked(ev, req.RequestID)
	if req.peer != nil && e == nil {
		req.peer.recordPeerLocked(req, rec)
	}
}

// addEventLocked puts a recorded event in the account's event history and
// trails, and in its organisation's trail.
func (s *Sim) addEventLocked(ev *event, requestID string) {
	s.trail.add(ev, requestID)
	if s.org != nil && s != s.org.mgmt {
		s.org.orgTrailAddLocked(ev)
	}
}

// recordPeerLocked records in s (the role's account) the other account's
// side of a cross-account call the caller's account recorded as rec: the
// caller shown as an AWSAccount (its account and principal id), the
// record's own event id, the same requestID and sharedEventID.
func (s *Sim) recordPeerLocked(req *Request, rec ctRecord) {
	rec.UserIdentity = ctIdentity{Type: "AWSAccount", PrincipalID: req.Caller.PrincipalID, AccountID: req.Caller.AccountID}
	rec.EventID = s.ids.uuid()
	rec.RecipientAccountID = s.acct.ID
	raw, err := json.Marshal(rec)
	if err != nil {
		return
	}
	ev := &event{account: s.acct.ID, seq: len(s.trail.events), raw: raw, time: req.Now.Truncate(time.Second),
		visibleAt: req.Now.Add(s.scaled(s.opts.DeliveryDelay)), region: rec.AWSRegion, id: rec.EventID, name: rec.EventName,
		source: rec.EventSource, readOnly: rec.ReadOnly, resources: rec.Resources}
	s.addEventLocked(ev, "")
}

// Record is one CloudTrail record the sim wrote, for tests and tools.
type Record struct {
	EventID   string
	EventTime time.Time
	Region    string
	EventName string
	// JSON is the record as CloudTrail would deliver it.
	JSON []byte
}

// Records returns every CloudTrail record written so far, delivered or
// not, in the order they were written.
func (s *Sim) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, len(s.trail.events))
	for i, ev := range s.trail.events {
		out[i] = Record{EventID: ev.id, EventTime: ev.time, Region: ev.region, EventName: ev.name, JSON: ev.raw}
	}
	return out
}

// ctExpiration formats a credential expiry as CloudTrail's
// responseElements do ("Aug 1, 2024, 11:45:22 AM").
func ctExpiration(t time.Time) string { return t.UTC().Format("Jan 2, 2006, 3:04:05 PM") }

// secretParam reports whether a form field carries a secret that must
// never reach a record.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	return strings.Contains(n, "password") || strings.Contains(n, "secret") || strings.Contains(n, "token") ||
		strings.Contains(n, "authenticationcode")
}
