package report

import (
	"slices"
	"strings"
	"time"
)

// BlockedIP is one source address or CIDR block a block-ip action acted
// on, as the journal's newest action on it leaves it.
type BlockedIP struct {
	CIDR string `json:"cidr"`
	// State is "blocked" (the newest block-ip on it verified), "lifted"
	// (unblock-ip), or the newest action's outcome otherwise.
	State    string    `json:"state"`
	ActionID string    `json:"action_id"`
	At       time.Time `json:"at"`
	// Principals are the users and roles the deny policy went on (user/N,
	// role/N); NetworkACLs the ACLs given a deny entry (REGION/acl-…).
	Principals  []string `json:"principals,omitempty"`
	NetworkACLs []string `json:"network_acls,omitempty"`
	Detail      string   `json:"detail,omitempty"` // the newest verification
}

// blockedIPs folds the block-ip and unblock-ip actions into the
// addresses they leave blocked or lifted, in the order first acted on.
func (r *Report) blockedIPs() {
	byCIDR := map[string]int{}
	for _, a := range r.Actions {
		if a.Action != "block-ip" && a.Action != "unblock-ip" {
			continue
		}
		var principals, acls []string
		for _, c := range a.Plan {
			switch {
			case c.Params["UserName"] != "":
				principals = append(principals, "user/"+c.Params["UserName"])
			case c.Params["RoleName"] != "":
				principals = append(principals, "role/"+c.Params["RoleName"])
			case c.Params["NetworkAclId"] != "":
				if acl := c.Region + "/" + c.Params["NetworkAclId"]; !slices.Contains(acls, acl) {
					acls = append(acls, acl)
				}
			}
		}
		state := a.Outcome
		if a.Outcome == "verified" || a.Outcome == "already in effect" {
			state = map[string]string{"block-ip": "blocked", "unblock-ip": "lifted"}[a.Action]
		}
		detail := ""
		if n := len(a.Verified); n > 0 {
			detail = a.Verified[n-1].Detail
		}
		for _, cidr := range strings.Split(strings.TrimPrefix(a.Target, "ips/"), ",") {
			if cidr == "" {
				continue
			}
			b := BlockedIP{CIDR: cidr, State: state, ActionID: a.ID, At: a.IntentAt, Principals: principals, NetworkACLs: acls, Detail: detail}
			if i, ok := byCIDR[cidr]; ok {
				r.BlockedIPs[i] = b
				continue
			}
			byCIDR[cidr] = len(r.BlockedIPs)
			r.BlockedIPs = append(r.BlockedIPs, b)
		}
	}
}

// renderBlockedIPs writes the blocked source addresses, when any action
// acted on one.
func renderBlockedIPs(sb *strings.Builder, r *Report, st style) {
	if len(r.BlockedIPs) == 0 {
		return
	}
	e := st.esc
	sb.WriteString(st.heading(2, "Blocked source IPs"))
	sb.WriteString(st.para("Addresses denied by block-ip: an aws:SourceIp deny policy (warroom-deny-ips) on users and roles, " +
		"and network ACL deny entries where the attacker opened network access. Each as the newest action on it left it."))
	rows := [][]string{}
	for _, b := range r.BlockedIPs {
		rows = append(rows, []string{e(b.CIDR), e(b.State), ts(b.At), e(b.ActionID), e(strings.Join(b.Principals, ", ")),
			e(strings.Join(b.NetworkACLs, ", ")), e(b.Detail)})
	}
	sb.WriteString(st.table([]string{"address", "state", "at", "action", "principals", "network ACLs", "read back"}, rows))
}
