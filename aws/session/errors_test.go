package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestClassify(t *testing.T) {
	api := func(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"iam denied", api("AccessDenied", "User is not authorized"), ClassDenied},
		{"cloudtrail denied", api("AccessDeniedException", ""), ClassDenied},
		{"ec2 denied", api("UnauthorizedOperation", ""), ClassDenied},
		{"throttled", api("ThrottlingException", "Rate exceeded"), ClassThrottled},
		{"ec2 throttled", api("RequestLimitExceeded", ""), ClassThrottled},
		{"opt-in", api("OptInRequired", "You are not subscribed"), ClassRegionDisabled},
		{"disabled region sts", api("InvalidClientTokenId", "STS is not activated in this region; not enabled"), ClassRegionDisabled},
		{"invalid key", api("InvalidClientTokenId", "The security token included in the request is invalid."), ClassInvalidKey},
		{"expired", api("ExpiredToken", ""), ClassExpired},
		{"iam not found", api("NoSuchEntity", ""), ClassNotFound},
		{"ec2 not found", api("InvalidInstanceID.NotFound", ""), ClassNotFound},
		{"lambda not found", api("ResourceNotFoundException", ""), ClassNotFound},
		{"5xx", api("InternalError", ""), ClassUnavailable},
		{"canceled", fmt.Errorf("call: %w", context.Canceled), ClassCanceled},
		{"other", errors.New("boom"), ClassOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify = %q, want %q", got, tt.want)
			}
			w := Wrap("iam:ListUsers", "eu-west-1", tt.err)
			if Classify(w) != tt.want {
				t.Errorf("Classify(Wrap) = %q, want %q", Classify(w), tt.want)
			}
			if !strings.Contains(w.Error(), "iam:ListUsers in eu-west-1") {
				t.Errorf("wrapped error does not say which call and Region: %q", w)
			}
			if !errors.Is(w, tt.err) {
				t.Error("wrapped error does not unwrap to the cause")
			}
		})
	}
	if Wrap("x", "y", nil) != nil {
		t.Error("Wrap(nil) != nil")
	}
}

func TestIsReadOperation(t *testing.T) {
	tests := []struct {
		op   string
		want bool
	}{
		{"ListUsers", true}, {"GetAccessKeyLastUsed", true}, {"DescribeInstances", true},
		{"LookupEvents", true}, {"GetCallerIdentity", true}, {"GenerateCredentialReport", false},
		{"GetSessionToken", false}, {"GetFederationToken", false}, {"UpdateAccessKey", false},
		{"PutUserPolicy", false}, {"TerminateInstances", false}, {"AssumeRole", false},
		{"CreateTags", false}, {"StopLogging", false}, {"DeleteUser", false},
	}
	for _, tt := range tests {
		if got := IsReadOperation(tt.op); got != tt.want {
			t.Errorf("IsReadOperation(%s) = %v, want %v", tt.op, got, tt.want)
		}
	}
}
