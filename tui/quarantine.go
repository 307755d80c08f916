package tui

import (
	"strings"

	"github.com/warroom-ir/warroom/state"
)

// AWS's own quarantine, the console's top alert: when AWS finds a key in
// public it attaches AWSCompromisedKeyQuarantineV2/V3 to the key's user.
// That is often how an incident starts, and it is not containment: the
// policy denies a fixed list of actions, the attacker keeps the rest.

// quarantinePart is the status line's alert: the users the inventory shows
// under AWS's quarantine, else the AttachUserPolicy calls CloudTrail shows
// AWS made ("AWS Internal") before an inventory names the user. Empty when
// neither.
func quarantinePart(s *state.Store) string {
	seen, fromAWS := s.AWSQuarantineSeen()
	if len(seen) == 0 && fromAWS == 0 {
		return ""
	}
	if len(seen) == 0 {
		return "▲ AWS attached a policy (AWS Internal): its quarantine? (:detail, warroom quarantine)"
	}
	var users []string
	for _, sg := range seen {
		u := clean(sg.User) + " (" + strings.TrimPrefix(sg.Policy, "AWSCompromisedKeyQuarantine") + ")"
		if !contains(users, u) {
			users = append(users, u)
		}
	}
	return "▲ AWS QUARANTINED " + strings.Join(users, ", ") + ": not containment"
}

// quarantinedUsers maps each user under AWS's quarantine to its policy.
func quarantinedUsers(s *state.Store) map[string]state.QuarantineSighting {
	out := map[string]state.QuarantineSighting{}
	for _, sg := range s.InventoryQuarantines() {
		out[sg.User] = sg
	}
	return out
}

// quarantineLines are the detail view's lines for a user under AWS's
// quarantine: the policy, and what it denies and does not of the calls
// that plant or restore footholds.
func quarantineLines(sg state.QuarantineSighting) []string {
	c := state.CoverActions(sg.ARN, state.FootholdActions())
	lines := []string{"▲ AWS quarantine: " + sg.Policy + " attached (seen in the inventory of " + clock(sg.At, true) + " UTC)",
		"  it denies a fixed list of actions, not everything: contain the credential too (C)"}
	if c.Known {
		lines = append(lines, "  already denied: "+strings.Join(c.Denied, ", "), "  NOT denied: "+strings.Join(c.NotDenied, ", "))
	} else {
		lines = append(lines, "  its deny list is not in warroom's catalogue: count nothing as denied")
	}
	return lines
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// PasswordsFilter is the stream's preset for :passwords: every console
// password created or changed (state.FindPasswordChanges reads the same
// events), failed attempts left out.
const PasswordsFilter = "event:CreateLoginProfile,UpdateLoginProfile,ChangePassword,PasswordUpdated,PasswordRecoveryCompleted -failed"
