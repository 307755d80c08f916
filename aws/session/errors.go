package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/warroom-ir/warroom/state"
)

// Class is what kind of failure an AWS error is. Errors are classified once,
// here, and everything above works with the class.
type Class string

// Classes.
const (
	ClassDenied         Class = "denied"
	ClassNotFound       Class = "not-found"
	ClassThrottled      Class = "throttled"
	ClassRegionDisabled Class = "region-disabled"
	ClassExpired        Class = "expired"
	ClassInvalidKey     Class = "invalid-key"
	ClassUnavailable    Class = "unavailable" // 5xx, network
	ClassCanceled       Class = "canceled"
	ClassOther          Class = "other"
)

// Error is a failed AWS call: which call, in which Region, of what class, and
// AWS's own code, message and request id.
type Error struct {
	Call      string // "iam:ListAccessKeys"
	Region    string
	Class     Class
	Code      string
	RequestID string
	Err       error
}

func (e *Error) Error() string {
	msg := e.Err.Error()
	var ae smithy.APIError
	if errors.As(e.Err, &ae) {
		msg = ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" {
			msg += ": " + m
		}
	}
	where := e.Call
	if e.Region != "" {
		where += " in " + e.Region
	}
	return fmt.Sprintf("%s: %s (%s)", where, msg, e.Class)
}

func (e *Error) Unwrap() error { return e.Err }

// CallError is the error as a journal fact field.
func (e *Error) CallError() state.CallError {
	return state.CallError{Call: e.Call, Region: e.Region, Class: string(e.Class), Error: e.Error()}
}

// Wrap classifies err from call in region. A nil err stays nil.
func Wrap(call, region string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{Call: call, Region: region, Err: err, Class: Classify(err)}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e.Code = ae.ErrorCode()
	}
	var re interface{ ServiceRequestID() string }
	if errors.As(err, &re) {
		e.RequestID = re.ServiceRequestID()
	}
	return e
}

// Classify says what kind of failure err is.
func Classify(err error) Class {
	if err == nil {
		return ""
	}
	var we *Error
	if errors.As(err, &we) {
		return we.Class
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ClassCanceled
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch code := ae.ErrorCode(); {
		case code == "AccessDenied", code == "AccessDeniedException", code == "UnauthorizedOperation",
			code == "UnauthorizedAccess", code == "AuthorizationError", code == "Forbidden":
			return ClassDenied
		case code == "OptInRequired", code == "UnrecognizedClientException" && regionDisabledMsg(ae.ErrorMessage()),
			code == "InvalidClientTokenId" && regionDisabledMsg(ae.ErrorMessage()), code == "AuthFailure" && regionDisabledMsg(ae.ErrorMessage()):
			return ClassRegionDisabled
		case code == "ExpiredToken", code == "ExpiredTokenException", code == "RequestExpired", code == "TokenRefreshRequired":
			return ClassExpired
		case code == "InvalidClientTokenId", code == "UnrecognizedClientException", code == "SignatureDoesNotMatch",
			code == "AuthFailure", code == "InvalidAccessKeyId":
			return ClassInvalidKey
		case code == "Throttling", code == "ThrottlingException", code == "RequestLimitExceeded",
			code == "TooManyRequestsException", code == "RequestThrottled", code == "SlowDown",
			code == "RequestThrottledException", code == "ProvisionedThroughputExceededException":
			return ClassThrottled
		case strings.HasPrefix(code, "NoSuch"), strings.HasSuffix(code, "NotFound"),
			strings.HasSuffix(code, "NotFoundException"), strings.HasSuffix(code, ".NotFound"):
			return ClassNotFound
		case code == "InternalError", code == "InternalFailure", code == "ServiceUnavailable",
			code == "ServiceUnavailableException", code == "InternalServerError":
			return ClassUnavailable
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return ClassUnavailable
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return ClassUnavailable
	}
	return ClassOther
}

// regionDisabledMsg recognises AWS's messages for calls into a Region that is
// not enabled for the account.
func regionDisabledMsg(m string) bool {
	m = strings.ToLower(m)
	return strings.Contains(m, "not enabled") || strings.Contains(m, "opt-in") || strings.Contains(m, "opt in") ||
		strings.Contains(m, "not opted in")
}
