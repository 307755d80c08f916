package tui

import (
	"strings"

	"github.com/warroom-ir/warroom/state"
)

// IAM Identity Center in the principals pane: a row for the account's
// Identity Center (its Region and users, "not enabled", or "not readable"
// with AWS's reason), and under it a row per user with the permission sets
// reaching it in the account and the AWSReservedSSO_ role sessions
// CloudTrail shows of it (the access portal names a session after the
// user). C on a user's row plans sso-user (again, once contained:
// restore-sso-user).

// addIdentityCenter adds the Identity Center rows from the store's latest
// read.
func (p *principalsPane) addIdentityCenter(v *viewCtx, add func(prow), acts map[string]*state.Action) {
	d := v.store.IdentityCenter
	if d == nil {
		return
	}
	ic := d.V
	head := prow{kind: "idc", label: "Identity Center", sel: selection{kind: selRegion, region: ic.Region}}
	switch ic.Status {
	case state.IdentityCenterOK:
		head.status = ic.Region
		head.info = state.Plural(len(ic.Users), "user") + " · " + ic.InstanceARN
	case state.IdentityCenterNotEnabled:
		head.status = "not enabled"
		head.info = "IAM Identity Center is not enabled in " + ic.Region
	default:
		head.status = ic.Reason
		head.info = "Identity Center not readable: " + ic.Reason + " · " + ic.Error
	}
	add(head)
	if ic.Status != state.IdentityCenterOK {
		return
	}
	sessions := v.store.SSOSessions(ic)
	for _, u := range ic.Users {
		var info []string
		ss := sessions[u.UserName]
		arn := ""
		if len(ss) > 0 {
			calls := 0
			for _, s := range ss {
				calls += s.Calls
			}
			info = append(info, state.Plural(len(ss), "session")+" · "+state.Plural(calls, "call"))
			arn = ss[0].ARN
		}
		if len(u.Access) > 0 {
			info = append(info, strings.Join(u.Access, ", "))
		} else {
			info = append(info, "no access here")
		}
		if u.DisplayName != "" && u.DisplayName != u.UserName {
			info = append(info, u.DisplayName)
		}
		r := prow{sel: selection{kind: selSSOUser, name: u.UserName, arn: arn, region: ic.Region},
			depth: 1, kind: "sso", label: u.UserName, info: strings.Join(info, " · "), act: acts["sso-user:"+u.UserName]}
		if len(ss) > 0 {
			r.status = "sessions"
		}
		_, r.actMark = p.keyStatus(v, "", r.act)
		add(r)
	}
}

// ssoUser is the detail view of an Identity Center user.
func (d *detailView) ssoUser(v *viewCtx, s selection) {
	add := func(label, value string) {
		if value != "" {
			d.lines = append(d.lines, fit(clean(label), 12)+" "+clean(value))
		}
	}
	d.title = "Identity Center user " + clean(s.name)
	ic := v.store.IdentityCenter
	if ic == nil {
		return
	}
	for _, u := range ic.V.Users {
		if u.UserName != s.name {
			continue
		}
		add("user", u.UserName)
		add("id", u.ID)
		add("name", u.DisplayName)
		add("e-mail", strings.Join(u.Emails, ", "))
		add("store", ic.V.StoreID+" ("+ic.V.Region+")")
		if len(u.Access) == 0 {
			add("access", "no permission set reaches the user in this account")
		}
		for _, a := range u.Access {
			add("access", a)
		}
		for _, ss := range v.store.SSOSessions(ic.V)[u.UserName] {
			add("session", ss.ARN+" · "+state.Plural(ss.Calls, "call"))
		}
		add("read", clock(ic.At, true)+" UTC")
		add("contain", "C: sso-user (deny on its permission sets, its own assignments deleted; C again: undo)")
	}
}
