package report

import (
	"strings"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// IdentityCenter is the account's IAM Identity Center as last read: its
// users with what reaches them in the account and the AWSReservedSSO_
// sessions CloudTrail shows of each, or why it could not be read.
type IdentityCenter struct {
	Region string               `json:"region"`
	Status string               `json:"status"` // ok, not-enabled, unreadable
	Reason string               `json:"reason,omitempty"`
	ReadAt time.Time            `json:"read_at"`
	Users  []IdentityCenterUser `json:"users,omitempty"`
}

// IdentityCenterUser is one Identity Center user in the report.
type IdentityCenterUser struct {
	UserName string   `json:"user_name"`
	ID       string   `json:"id"`
	Access   []string `json:"access,omitempty"`
	Sessions []string `json:"sessions,omitempty"` // session ARNs seen in CloudTrail
	Calls    int      `json:"calls,omitempty"`
}

func (r *Report) identityCenter(s *state.Store) {
	d := s.IdentityCenter
	if d == nil {
		return
	}
	ic := &IdentityCenter{Region: d.V.Region, Status: d.V.Status, Reason: d.V.Reason, ReadAt: d.At}
	sessions := s.SSOSessions(d.V)
	for _, u := range d.V.Users {
		iu := IdentityCenterUser{UserName: u.UserName, ID: u.ID, Access: u.Access}
		for _, ss := range sessions[u.UserName] {
			iu.Sessions = append(iu.Sessions, ss.ARN)
			iu.Calls += ss.Calls
		}
		ic.Users = append(ic.Users, iu)
	}
	r.IdentityCenter = ic
}

// renderIdentityCenter writes the section "IAM Identity Center", when it
// was read.
func renderIdentityCenter(sb *strings.Builder, r *Report, st style) {
	ic := r.IdentityCenter
	if ic == nil {
		return
	}
	e := st.esc
	sb.WriteString(st.heading(2, "IAM Identity Center"))
	switch ic.Status {
	case state.IdentityCenterNotEnabled:
		sb.WriteString(st.para("IAM Identity Center is not enabled in " + e(ic.Region) + " (read " + ts(ic.ReadAt) + ")."))
		return
	case state.IdentityCenterUnreadable:
		sb.WriteString(st.para("Identity Center not readable: " + e(ic.Reason) + " (" + e(ic.Region) + ", " + ts(ic.ReadAt) + ")."))
		return
	}
	sb.WriteString(st.para("Users of the identity store in " + e(ic.Region) + " (read " + ts(ic.ReadAt) + "), the permission sets reaching each in the account, " +
		"and the AWSReservedSSO_ role sessions CloudTrail shows of them (the access portal names a session after its user)."))
	rows := [][]string{}
	for _, u := range ic.Users {
		var ss []string
		for _, s := range u.Sessions {
			ss = append(ss, e(s))
		}
		rows = append(rows, []string{e(u.UserName), e(strings.Join(u.Access, ", ")), strings.Join(ss, "; "), itoaCalls(u.Calls)})
	}
	sb.WriteString(st.table([]string{"user", "access", "sessions", "calls"}, rows))
}

func itoaCalls(n int) string {
	if n == 0 {
		return ""
	}
	return state.Plural(n, "call")
}
