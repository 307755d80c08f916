package tui

import (
	"slices"

	"github.com/warroom-ir/warroom/state"
)

// orgMode reports whether the store holds member accounts: the panes then
// show an account column, and the Region map is accounts × Regions. With
// none, every screen is the single account's, as before.
func orgMode(s *state.Store) bool {
	home := s.Home()
	for a := range s.Accounts {
		if a != home {
			return true
		}
	}
	return false
}

// accessWhy explains an account.access status: what warroom met when it
// assumed the role, and what the responder can do.
var accessWhy = map[string]string{
	state.AccessOK:          "warroom is in: the role was assumed and the account answered",
	state.AccessDenied:      "sts:AssumeRole was refused: the role's trust does not allow warroom's principal (AWS answers the same when the role does not exist)",
	state.AccessMissingRole: "the role does not exist in this account: create it, or give another with --role-name",
	state.AccessSCP:         "a service control policy denies warroom's calls in this account",
	state.AccessSuspended:   "the account is suspended or closing in Organizations: it refuses every call",
	state.AccessError:       "the role could not be tried (network, throttling, expired credentials)",
}

// accessGlyph marks an access status beside its word: ✓ in, ✗ refused,
// ! not known.
func accessGlyph(status string) string {
	switch status {
	case state.AccessOK:
		return "✓"
	case state.AccessError, "":
		return "!"
	}
	return "✗"
}

// accessText is an account's access as a row shows it: "✓ ok", "✗ scp-blocked",
// "home" for the incident's own account; clean.
func accessText(s *state.Store, acct string) string {
	if acct == s.Home() {
		return "home"
	}
	af, ok := s.Account(acct)
	if !ok || af.Access == nil {
		return "! not tried"
	}
	return accessGlyph(af.Access.V.Status) + " " + clean(af.Access.V.Status)
}

// accountName is the account's name in Organizations, as its access fact
// carries it ("" when none); attacker- or account-provided, so clean it
// before drawing.
func accountName(s *state.Store, acct string) string {
	if af, ok := s.Account(acct); ok && af.Access != nil {
		return af.Access.V.Name
	}
	return ""
}

// touched reports whether the suspect families acted in acct.
func touched(fam []string, acct string) bool { return slices.Contains(fam, acct) }
