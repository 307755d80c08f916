package state

import (
	"encoding/json"
	"fmt"
	"time"
)

// PasswordChange is a console password created or changed, as CloudTrail
// recorded it: iam CreateLoginProfile and UpdateLoginProfile (someone set a
// user's password), iam ChangePassword (a user changed their own), and
// signin PasswordUpdated (the root user's password, changed at the sign-in
// page; userIdentity.type Root) or PasswordRecoveryCompleted (root's
// "forgot password" flow finished). Strings are from CloudTrail and may be
// attacker-chosen; no password is ever in a record.
type PasswordChange struct {
	// User is whose password it is ("root" for the root user).
	User   string    `json:"user"`
	Event  string    `json:"event"`
	Source string    `json:"source"` // eventSource
	Time   time.Time `json:"time"`
	// By is who did it: the caller's ARN.
	By            string `json:"by"`
	ByType        string `json:"by_type,omitempty"` // userIdentity.type
	AccessKeyID   string `json:"access_key_id,omitempty"`
	SourceIP      string `json:"source_ip,omitempty"`
	EventID       string `json:"event_id,omitempty"`
	Root          bool   `json:"root,omitempty"`
	ResetRequired *bool  `json:"reset_required,omitempty"`
	Ours          bool   `json:"ours,omitempty"`
}

// passwordEvents are the events that create or change a console password.
var passwordEvents = map[string]string{
	"CreateLoginProfile":        "iam.amazonaws.com",
	"UpdateLoginProfile":        "iam.amazonaws.com",
	"ChangePassword":            "iam.amazonaws.com",
	"PasswordUpdated":           "signin.amazonaws.com",
	"PasswordRecoveryCompleted": "signin.amazonaws.com",
}

// passwordRecord is what a password event's record says beyond the table.
type passwordRecord struct {
	RequestParameters *struct {
		UserName              string `json:"userName"`
		PasswordResetRequired *bool  `json:"passwordResetRequired"`
	} `json:"requestParameters"`
	ResponseElements json.RawMessage `json:"responseElements"`
}

// FindPasswordChanges lists the successful password creations and changes
// CloudTrail recorded in t between since and until (either zero: open),
// oldest first. An UpdateLoginProfile that only set PasswordResetRequired
// is listed too (it changes what the next sign-in must do); warroom's own
// resets are marked Ours. raw reads a record; one that cannot be read is
// reported and the rest are read.
func FindPasswordChanges(t *EventTable, since, until time.Time, raw func(EventRef) ([]byte, error)) (out []PasswordChange, problems []error) {
	f, err := ParseFilter("event:CreateLoginProfile,UpdateLoginProfile,ChangePassword,PasswordUpdated,PasswordRecoveryCompleted -failed")
	if err != nil {
		return nil, []error{err}
	}
	res := t.Query(f)
	for i := 0; i < res.Len(); i++ {
		ev := t.Event(res.At(i))
		if want := passwordEvents[ev.Name]; ev.Source != "" && ev.Source != want {
			continue
		}
		if !since.IsZero() && ev.Time.Before(since) || !until.IsZero() && ev.Time.After(until) {
			continue
		}
		pc := PasswordChange{Event: ev.Name, Source: ev.Source, Time: ev.Time, By: ev.Principal, ByType: ev.IdentityType,
			AccessKeyID: ev.AccessKeyID, SourceIP: ev.SourceIP, EventID: ev.EventID, Ours: ev.Ours}
		switch ev.Name {
		case "ChangePassword":
			// The caller changes their own password.
			pc.User = ev.User
		case "PasswordUpdated", "PasswordRecoveryCompleted":
			pc.User = ev.User
			if ev.IdentityType == "Root" {
				pc.User, pc.Root = "root", true
			}
		default:
			b, err := raw(ev.Ref)
			if err != nil {
				problems = append(problems, fmt.Errorf("event %s: %w", ev.EventID, err))
				continue
			}
			var r passwordRecord
			if err := json.Unmarshal(b, &r); err != nil {
				problems = append(problems, fmt.Errorf("event %s (%s): %w", ev.EventID, ev.Name, err))
				continue
			}
			if r.RequestParameters != nil {
				pc.User = r.RequestParameters.UserName
				pc.ResetRequired = r.RequestParameters.PasswordResetRequired
			}
			if pc.User == "" {
				// UpdateLoginProfile without a user name acts on the caller.
				pc.User = ev.User
			}
		}
		out = append(out, pc)
	}
	return out, problems
}
