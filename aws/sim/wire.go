package sim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Protocol is an AWS wire protocol.
type Protocol int

// The wire protocols the sim speaks.
const (
	// ProtoQuery is awsquery (IAM, STS): form-encoded requests, XML
	// <OpResponse><OpResult> answers, <ErrorResponse><Error> errors.
	ProtoQuery Protocol = iota + 1
	// ProtoEC2 is ec2query: form-encoded requests, XML <OpResponse> answers
	// with a requestId element, <Response><Errors><Error> errors.
	ProtoEC2
	// ProtoJSON is awsJson1_1 (CloudTrail): X-Amz-Target names the
	// operation, JSON in and out, {"__type","message"} errors.
	ProtoJSON
	// ProtoRESTJSON is restJson1 (Lambda): the method and path name the
	// operation, X-Amzn-ErrorType names an error.
	ProtoRESTJSON
	// ProtoRESTXML is restXml (S3): the method and path name the
	// operation, <Error><Code> errors.
	ProtoRESTXML
)

// Error is an AWS error answer: an HTTP status, a code and a message.
// Handlers return it (or use the helpers below); the server writes it in the
// service's protocol and the recorder records its code and message.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an Error with the given status and code.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Reply is a handler's answer when it needs a status other than 200, extra
// headers, or a raw body. A Body of type []byte is written as is; any other
// Body is marshalled in the service's protocol.
type Reply struct {
	Status int
	Header http.Header
	Body   any
}

// Namespaces of the query protocols.
const (
	xmlnsIAM = "https://iam.amazonaws.com/doc/2010-05-08/"
	xmlnsSTS = "https://sts.amazonaws.com/doc/2011-06-15/"
	// XMLNSEC2 is the namespace of ec2query answers.
	XMLNSEC2 = "http://ec2.amazonaws.com/doc/2016-11-15/"
	xmlnsS3  = "http://s3.amazonaws.com/doc/2006-03-01/"
)

// innerXML marshals v and returns the bytes inside its outer element, so
// that the caller can wrap them in the element the protocol wants.
func innerXML(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	if err := enc.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: "x"}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	// The encoder writes <x> or <x/>-free forms: strip "<x>" and "</x>".
	if bytes.HasPrefix(b, []byte("<x>")) && bytes.HasSuffix(b, []byte("</x>")) {
		return b[3 : len(b)-4], nil
	}
	return nil, fmt.Errorf("sim: cannot marshal %T as an XML element body", v)
}

// writeSuccess writes a handler's answer in svc's protocol.
func writeSuccess(w http.ResponseWriter, svc *Service, op, requestID string, out any) error {
	status := http.StatusOK
	if rep, ok := out.(*Reply); ok {
		// Copied as spelled: S3 writes user metadata names in lower
		// case (x-amz-meta-signature), and botocore keeps the case it is
		// sent, so the names must not be canonicalized.
		for k, vs := range rep.Header {
			w.Header()[k] = append(w.Header()[k], vs...)
		}
		if rep.Status != 0 {
			status = rep.Status
		}
		out = rep.Body
	}
	if raw, ok := out.([]byte); ok {
		w.WriteHeader(status)
		_, err := w.Write(raw)
		return err
	}
	var body []byte
	switch svc.Protocol {
	case ProtoQuery:
		inner, err := innerXML(out)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, op, svc.XMLNS)
		if out != nil {
			fmt.Fprintf(&b, "<%sResult>", op)
			b.Write(inner)
			fmt.Fprintf(&b, "</%sResult>", op)
		}
		fmt.Fprintf(&b, "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>", requestID, op)
		body = b.Bytes()
		w.Header().Set("Content-Type", "text/xml")
	case ProtoEC2:
		inner, err := innerXML(out)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		b.WriteString(xml.Header)
		fmt.Fprintf(&b, `<%sResponse xmlns="%s"><requestId>%s</requestId>`, op, XMLNSEC2, requestID)
		b.Write(inner)
		fmt.Fprintf(&b, "</%sResponse>", op)
		body = b.Bytes()
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	case ProtoJSON, ProtoRESTJSON:
		if out == nil {
			out = struct{}{}
		}
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		body = b
		if svc.Protocol == ProtoJSON {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		if status == http.StatusNoContent {
			body = nil
		}
	case ProtoRESTXML:
		if out != nil {
			b, err := xml.Marshal(out)
			if err != nil {
				return err
			}
			body = append([]byte(xml.Header), b...)
			w.Header().Set("Content-Type", "application/xml")
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if len(body) > loopbackRaceBytes {
		// Over loopback the answer can arrive before the SDK's transport
		// has finished its request write; the SDK then closes the request
		// body, the transport's write fails, and it closes the connection
		// while the deserializer is still reading a large body ("use of
		// closed network connection"). Answers that fit the client's read
		// buffer are safe; for larger ones a pause, far shorter than any
		// real AWS round trip, lets the write finish. warroom's own clients
		// do not need it (session.BodyCopier, aws/aws-sdk-go-v2#2737); it is
		// for any other Go SDK client pointed at the drill account.
		time.Sleep(loopbackRacePause)
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// loopbackRaceBytes and loopbackRacePause: see writeSuccess.
const (
	loopbackRaceBytes = 4096
	loopbackRacePause = 2 * time.Millisecond
)

// writeError writes e in svc's protocol.
func writeError(w http.ResponseWriter, svc *Service, requestID string, e *Error) {
	var body []byte
	switch svc.Protocol {
	case ProtoQuery:
		kind := "Sender"
		if e.Status >= 500 {
			kind = "Receiver"
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>`, svc.XMLNS, kind, e.Code)
		_ = xml.EscapeText(&b, []byte(e.Message))
		fmt.Fprintf(&b, "</Message></Error><RequestId>%s</RequestId></ErrorResponse>", requestID)
		body = b.Bytes()
		w.Header().Set("Content-Type", "text/xml")
	case ProtoEC2:
		var b bytes.Buffer
		b.WriteString(xml.Header)
		fmt.Fprintf(&b, "<Response><Errors><Error><Code>%s</Code><Message>", e.Code)
		_ = xml.EscapeText(&b, []byte(e.Message))
		fmt.Fprintf(&b, "</Message></Error></Errors><RequestID>%s</RequestID></Response>", requestID)
		body = b.Bytes()
		w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	case ProtoJSON:
		body, _ = json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	case ProtoRESTJSON:
		kind := "User"
		if e.Status >= 500 {
			kind = "Service"
		}
		body, _ = json.Marshal(map[string]string{"Type": kind, "message": e.Message})
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		w.Header().Set("Content-Type", "application/json")
	case ProtoRESTXML:
		var b bytes.Buffer
		b.WriteString(xml.Header)
		fmt.Fprintf(&b, "<Error><Code>%s</Code><Message>", e.Code)
		_ = xml.EscapeText(&b, []byte(e.Message))
		fmt.Fprintf(&b, "</Message><RequestId>%s</RequestId><HostId>%s</HostId></Error>", requestID, requestID)
		body = b.Bytes()
		w.Header().Set("Content-Type", "application/xml")
	}
	if e.Code == "SlowDown" || e.Code == "RequestLimitExceeded" || e.Code == "ThrottlingException" {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// Error codes that depend on the protocol. AWS names the same failure
// differently per service family; handlers and the server use these so
// the console sees the code it would see from AWS.

// errUnknownKey is the answer to a key AWS does not know (or that is
// inactive or deleted).
func errUnknownKey(p Protocol) *Error {
	switch p {
	case ProtoEC2:
		return Errorf(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
	case ProtoJSON, ProtoRESTJSON:
		return Errorf(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
	case ProtoRESTXML:
		return Errorf(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	}
	return Errorf(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
}

// errBadSignature is the answer to a signature that does not verify.
func errBadSignature(p Protocol) *Error {
	const msg = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	switch p {
	case ProtoEC2:
		return Errorf(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
	case ProtoJSON, ProtoRESTJSON:
		return Errorf(403, "InvalidSignatureException", "%s", msg)
	}
	return Errorf(403, "SignatureDoesNotMatch", "%s", msg)
}

// errExpired is the answer to an expired temporary credential.
func errExpired(p Protocol) *Error {
	switch p {
	case ProtoEC2:
		return Errorf(400, "RequestExpired", "Request has expired.")
	case ProtoJSON, ProtoRESTJSON:
		return Errorf(400, "ExpiredTokenException", "The security token included in the request is expired")
	case ProtoRESTXML:
		return Errorf(400, "ExpiredToken", "The provided token has expired.")
	}
	return Errorf(403, "ExpiredToken", "The security token included in the request is expired")
}

// errMissingAuth is the answer to an unsigned request.
func errMissingAuth(p Protocol) *Error {
	switch p {
	case ProtoEC2:
		return Errorf(401, "AuthFailure", "AWS was not able to validate the provided access credentials")
	case ProtoJSON, ProtoRESTJSON:
		return Errorf(400, "MissingAuthenticationTokenException", "Missing Authentication Token")
	case ProtoRESTXML:
		return Errorf(403, "AccessDenied", "Access Denied")
	}
	return Errorf(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
}

// AccessDenied returns the protocol's access-denied error for a caller
// that may not perform action ("iam:CreateUser") on resource.
func AccessDenied(p Protocol, callerARN, action, resource, why string) *Error {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", callerARN, action, resource, why)
	switch p {
	case ProtoEC2:
		return Errorf(403, "UnauthorizedOperation", "You are not authorized to perform this operation. %s", msg)
	case ProtoJSON:
		return Errorf(400, "AccessDeniedException", "%s", msg)
	case ProtoRESTJSON:
		return Errorf(403, "AccessDeniedException", "%s", msg)
	}
	return Errorf(403, "AccessDenied", "%s", msg)
}

// errThrottled is the protocol's rate-exceeded error.
func errThrottled(p Protocol) *Error {
	switch p {
	case ProtoEC2:
		return Errorf(503, "RequestLimitExceeded", "Request limit exceeded.")
	case ProtoJSON:
		return Errorf(400, "ThrottlingException", "Rate exceeded")
	case ProtoRESTJSON:
		return Errorf(429, "TooManyRequestsException", "Rate exceeded")
	case ProtoRESTXML:
		return Errorf(503, "SlowDown", "Please reduce your request rate.")
	}
	return Errorf(400, "Throttling", "Rate exceeded")
}

// errInternal is the protocol's 5xx error.
func errInternal(p Protocol) *Error {
	switch p {
	case ProtoEC2:
		return Errorf(500, "InternalError", "An internal error has occurred")
	case ProtoJSON:
		return Errorf(500, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure.")
	case ProtoRESTJSON:
		return Errorf(500, "ServiceException", "An internal error has occurred")
	case ProtoRESTXML:
		return Errorf(500, "InternalError", "We encountered an internal error. Please try again.")
	}
	return Errorf(500, "ServiceFailure", "An internal error has occurred")
}

// isoTime formats t as AWS's XML and JSON answers do.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
