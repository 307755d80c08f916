package sim

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Security groups in the drill account: each Region's default VPC has its
// default group, and callers create, open, close and delete more. A group
// holds its rules one by one (one CIDR or group per rule, each with its
// sgr- id), as EC2 does since security group rule ids; DescribeSecurityGroups
// folds them back into IpPermissions.

// secGroup is a security group.
type secGroup struct {
	ID, Name, Description string
	VpcID                 string
	Tags                  []Tag
	Rules                 []*sgRule
	Creator               string
	seq                   int
}

// sgRule is one security group rule.
type sgRule struct {
	ID       string
	Egress   bool
	Protocol string // tcp, udp, icmp, icmpv6, -1 or an IP protocol number
	From, To int32  // -1 when the protocol has no ports
	CIDR     string // IPv4 peer
	CIDRv6   string // IPv6 peer
	Group    string // a referenced security group id
	Desc     string
}

func (g *secGroup) addRule(r *sgRule) { g.Rules = append(g.Rules, r) }

// newSecGroupLocked creates a group in rg's default VPC.
func (s *Sim) newSecGroupLocked(rg *ec2Region, name, desc, creator string) *secGroup {
	g := &secGroup{ID: s.ids.hexID("sg", 17), Name: name, Description: desc, VpcID: rg.vpcID, Creator: creator, seq: len(rg.groups)}
	for _, o := range rg.groups {
		if o.seq >= g.seq {
			g.seq = o.seq + 1
		}
	}
	rg.groups[g.ID] = g
	return g
}

// sortedGroups returns rg's groups in creation order.
func (rg *ec2Region) sortedGroups() []*secGroup {
	out := make([]*secGroup, 0, len(rg.groups))
	for _, g := range rg.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *secGroup) int { return a.seq - b.seq })
	return out
}

// groupByName finds a group of the default VPC by name.
func (rg *ec2Region) groupByName(name string) *secGroup {
	for _, g := range rg.groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

func (s *Sim) sgARN(region, id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", region, s.acct.ID, id)
}

func (s *Sim) sgResource(region, id string) EventResource {
	return EventResource{ARN: s.sgARN(region, id), AccountID: s.acct.ID, Type: "AWS::EC2::SecurityGroup"}
}

// sgProtocol normalises an IpProtocol as EC2 stores it.
func sgProtocol(p string) (string, bool) {
	switch strings.ToLower(p) {
	case "-1", "all":
		return "-1", true
	case "tcp", "6":
		return "tcp", true
	case "udp", "17":
		return "udp", true
	case "icmp", "1":
		return "icmp", true
	case "icmpv6", "58":
		return "icmpv6", true
	}
	n, err := strconv.Atoi(p)
	return p, err == nil && n >= 0 && n <= 255
}

// sgPermission is one IpPermission of a request.
type sgPermission struct {
	Protocol   string
	From, To   *int32
	CIDRs      []sgPeer
	CIDRv6s    []sgPeer
	Groups     []sgPeer
	PrefixList []string
}

type sgPeer struct{ Value, Desc string }

func formInt32(form url.Values, key string) *int32 {
	v, ok := form[key]
	if !ok || len(v) == 0 {
		return nil
	}
	n, err := strconv.ParseInt(v[0], 10, 32)
	if err != nil {
		return nil
	}
	i := int32(n)
	return &i
}

// sgPermissions reads IpPermissions.N (and the older top-level
// IpProtocol/FromPort/ToPort/CidrIp form the CLI's --cidr sends).
func sgPermissions(form url.Values) []sgPermission {
	var out []sgPermission
	for i := 1; ; i++ {
		p := "IpPermissions." + strconv.Itoa(i) + "."
		if _, ok := form[p+"IpProtocol"]; !ok {
			break
		}
		perm := sgPermission{Protocol: form.Get(p + "IpProtocol"), From: formInt32(form, p+"FromPort"), To: formInt32(form, p+"ToPort")}
		for j := 1; ; j++ {
			q := p + "IpRanges." + strconv.Itoa(j) + "."
			if _, ok := form[q+"CidrIp"]; !ok {
				break
			}
			perm.CIDRs = append(perm.CIDRs, sgPeer{form.Get(q + "CidrIp"), form.Get(q + "Description")})
		}
		for j := 1; ; j++ {
			q := p + "Ipv6Ranges." + strconv.Itoa(j) + "."
			if _, ok := form[q+"CidrIpv6"]; !ok {
				break
			}
			perm.CIDRv6s = append(perm.CIDRv6s, sgPeer{form.Get(q + "CidrIpv6"), form.Get(q + "Description")})
		}
		for j := 1; ; j++ {
			q := p + "Groups." + strconv.Itoa(j) + "."
			if _, ok := form[q+"GroupId"]; !ok {
				break
			}
			perm.Groups = append(perm.Groups, sgPeer{form.Get(q + "GroupId"), form.Get(q + "Description")})
		}
		for j := 1; ; j++ {
			q := p + "PrefixListIds." + strconv.Itoa(j) + ".PrefixListId"
			if _, ok := form[q]; !ok {
				break
			}
			perm.PrefixList = append(perm.PrefixList, form.Get(q))
		}
		out = append(out, perm)
	}
	if proto := form.Get("IpProtocol"); proto != "" && len(out) == 0 {
		perm := sgPermission{Protocol: proto, From: formInt32(form, "FromPort"), To: formInt32(form, "ToPort")}
		if c := form.Get("CidrIp"); c != "" {
			perm.CIDRs = []sgPeer{{Value: c}}
		}
		out = append(out, perm)
	}
	return out
}

// ctPermissions is ipPermissions as CloudTrail records a request's.
func ctPermissions(perms []sgPermission) map[string]any {
	items := make([]any, 0, len(perms))
	for _, p := range perms {
		m := map[string]any{"ipProtocol": p.Protocol, "groups": map[string]any{}, "ipRanges": map[string]any{},
			"ipv6Ranges": map[string]any{}, "prefixListIds": map[string]any{}}
		if p.From != nil {
			m["fromPort"] = *p.From
		}
		if p.To != nil {
			m["toPort"] = *p.To
		}
		peers := func(key, field string, list []sgPeer) {
			if len(list) == 0 {
				return
			}
			var its []any
			for _, x := range list {
				it := map[string]any{field: x.Value}
				if x.Desc != "" {
					it["description"] = x.Desc
				}
				its = append(its, it)
			}
			m[key] = map[string]any{"items": its}
		}
		peers("ipRanges", "cidrIp", p.CIDRs)
		peers("ipv6Ranges", "cidrIpv6", p.CIDRv6s)
		peers("groups", "groupId", p.Groups)
		items = append(items, m)
	}
	return map[string]any{"items": items}
}

// rulesOf turns request permissions into rules (without ids), checking
// them as EC2 does.
func (s *Sim) rulesOf(rg *ec2Region, perms []sgPermission, egress bool) ([]*sgRule, error) {
	if len(perms) == 0 {
		return nil, Errorf(400, "MissingParameter", "No ip permissions were specified.")
	}
	var out []*sgRule
	for _, p := range perms {
		proto, ok := sgProtocol(p.Protocol)
		if !ok {
			return nil, Errorf(400, "InvalidParameterValue", "Invalid value '%s' for IP protocol. Unknown protocol.", p.Protocol)
		}
		from, to := int32(-1), int32(-1)
		switch proto {
		case "-1":
		case "tcp", "udp":
			if p.From == nil || p.To == nil {
				return nil, Errorf(400, "InvalidParameterValue", "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.")
			}
			from, to = *p.From, *p.To
			if from < 0 || to > 65535 || from > to {
				return nil, Errorf(400, "InvalidParameterValue", "Invalid value '%d-%d' for portRange.", from, to)
			}
		default:
			if p.From != nil {
				from = *p.From
			}
			if p.To != nil {
				to = *p.To
			}
		}
		if len(p.CIDRs)+len(p.CIDRv6s)+len(p.Groups) == 0 {
			return nil, Errorf(400, "InvalidParameterValue", "Invalid value 'No source specified' for ipPermissions.")
		}
		if len(p.PrefixList) > 0 {
			return nil, Errorf(400, "InvalidPrefixListId.NotFound", "The prefix list '%s' does not exist.", p.PrefixList[0])
		}
		base := sgRule{Egress: egress, Protocol: proto, From: from, To: to}
		for _, c := range p.CIDRs {
			ip, _, err := net.ParseCIDR(c.Value)
			if err != nil || ip.To4() == nil {
				return nil, Errorf(400, "InvalidParameterValue", "CIDR block %s is malformed", c.Value)
			}
			r := base
			r.CIDR, r.Desc = c.Value, c.Desc
			out = append(out, &r)
		}
		for _, c := range p.CIDRv6s {
			ip, _, err := net.ParseCIDR(c.Value)
			if err != nil || ip.To4() != nil {
				return nil, Errorf(400, "InvalidParameterValue", "CIDR block %s is malformed", c.Value)
			}
			r := base
			r.CIDRv6, r.Desc = c.Value, c.Desc
			out = append(out, &r)
		}
		for _, g := range p.Groups {
			if rg.groups[g.Value] == nil {
				return nil, Errorf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", g.Value)
			}
			r := base
			r.Group, r.Desc = g.Value, g.Desc
			out = append(out, &r)
		}
	}
	return out, nil
}

// same reports whether two rules allow the same traffic from the same peer.
func (r *sgRule) same(o *sgRule) bool {
	return r.Egress == o.Egress && r.Protocol == o.Protocol && r.From == o.From && r.To == o.To &&
		r.CIDR == o.CIDR && r.CIDRv6 == o.CIDRv6 && r.Group == o.Group
}

// describe is the rule as EC2's duplicate and not-found messages show it.
func (r *sgRule) describe() string {
	peer := r.CIDR + r.CIDRv6 + r.Group
	proto := strings.ToUpper(r.Protocol)
	if r.Protocol == "-1" {
		proto = "ALL"
	}
	return fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", peer, proto, r.From, r.To)
}

// ctRule is a rule as securityGroupRuleSet items show it in CloudTrail.
func (s *Sim) ctRule(g *secGroup, r *sgRule) map[string]any {
	m := map[string]any{"groupOwnerId": s.acct.ID, "groupId": g.ID, "securityGroupRuleId": r.ID, "isEgress": r.Egress,
		"ipProtocol": r.Protocol, "fromPort": r.From, "toPort": r.To}
	switch {
	case r.CIDR != "":
		m["cidrIpv4"] = r.CIDR
	case r.CIDRv6 != "":
		m["cidrIpv6"] = r.CIDRv6
	case r.Group != "":
		m["referencedGroupInfo"] = map[string]any{"groupId": r.Group, "userId": s.acct.ID}
	}
	if r.Desc != "" {
		m["description"] = r.Desc
	}
	return m
}

// ---- answers ----

type ec2IPRange struct {
	CidrIP      string `xml:"cidrIp"`
	Description string `xml:"description,omitempty"`
}

type ec2IPv6Range struct {
	CidrIPv6    string `xml:"cidrIpv6"`
	Description string `xml:"description,omitempty"`
}

type ec2GroupPair struct {
	UserID      string `xml:"userId"`
	GroupID     string `xml:"groupId"`
	Description string `xml:"description,omitempty"`
}

type ec2Permission struct {
	IPProtocol string         `xml:"ipProtocol"`
	FromPort   *int32         `xml:"fromPort,omitempty"`
	ToPort     *int32         `xml:"toPort,omitempty"`
	Groups     []ec2GroupPair `xml:"groups>item"`
	IPRanges   []ec2IPRange   `xml:"ipRanges>item"`
	IPv6Ranges []ec2IPv6Range `xml:"ipv6Ranges>item"`
}

type ec2SecurityGroup struct {
	OwnerID             string          `xml:"ownerId"`
	GroupID             string          `xml:"groupId"`
	GroupName           string          `xml:"groupName"`
	GroupDescription    string          `xml:"groupDescription"`
	VpcID               string          `xml:"vpcId"`
	SecurityGroupARN    string          `xml:"securityGroupArn"`
	IPPermissions       []ec2Permission `xml:"ipPermissions>item"`
	IPPermissionsEgress []ec2Permission `xml:"ipPermissionsEgress>item"`
	TagSet              []ec2Tag        `xml:"tagSet>item"`
}

type describeSecurityGroupsResult struct {
	Groups    []ec2SecurityGroup `xml:"securityGroupInfo>item"`
	NextToken string             `xml:"nextToken,omitempty"`
}

// permissions folds a group's rules into IpPermissions, one per
// protocol and port range, in the order the rules were added.
func (s *Sim) permissions(g *secGroup, egress bool) []ec2Permission {
	out := []ec2Permission{}
	idx := map[[3]string]int{}
	for _, r := range g.Rules {
		if r.Egress != egress {
			continue
		}
		k := [3]string{r.Protocol, strconv.Itoa(int(r.From)), strconv.Itoa(int(r.To))}
		i, ok := idx[k]
		if !ok {
			p := ec2Permission{IPProtocol: r.Protocol}
			if r.Protocol != "-1" {
				from, to := r.From, r.To
				p.FromPort, p.ToPort = &from, &to
			}
			out = append(out, p)
			i = len(out) - 1
			idx[k] = i
		}
		p := &out[i]
		switch {
		case r.CIDR != "":
			p.IPRanges = append(p.IPRanges, ec2IPRange{r.CIDR, r.Desc})
		case r.CIDRv6 != "":
			p.IPv6Ranges = append(p.IPv6Ranges, ec2IPv6Range{r.CIDRv6, r.Desc})
		case r.Group != "":
			p.Groups = append(p.Groups, ec2GroupPair{UserID: s.acct.ID, GroupID: r.Group, Description: r.Desc})
		}
	}
	return out
}

func (s *Sim) groupView(region string, g *secGroup) ec2SecurityGroup {
	return ec2SecurityGroup{OwnerID: s.acct.ID, GroupID: g.ID, GroupName: g.Name, GroupDescription: g.Description,
		VpcID: g.VpcID, SecurityGroupARN: s.sgARN(region, g.ID), IPPermissions: s.permissions(g, false),
		IPPermissionsEgress: s.permissions(g, true), TagSet: ec2Tags(g.Tags)}
}

// groupMatches applies DescribeSecurityGroups' filters.
func groupMatches(g *secGroup, filters []ec2Filter) (bool, error) {
	for _, f := range filters {
		if m, ok := ec2TagFilter(f, g.Tags); ok {
			if !m {
				return false, nil
			}
			continue
		}
		var have []string
		switch f.Name {
		case "group-name":
			have = []string{g.Name}
		case "group-id":
			have = []string{g.ID}
		case "vpc-id":
			have = []string{g.VpcID}
		case "description":
			have = []string{g.Description}
		case "ip-permission.cidr":
			for _, r := range g.Rules {
				if !r.Egress && r.CIDR != "" {
					have = append(have, r.CIDR)
				}
			}
		case "ip-permission.ipv6-cidr":
			for _, r := range g.Rules {
				if !r.Egress && r.CIDRv6 != "" {
					have = append(have, r.CIDRv6)
				}
			}
		default:
			return false, Errorf(400, "InvalidParameterValue", "The filter '%s' is invalid", f.Name)
		}
		if !slices.ContainsFunc(have, func(h string) bool { return slices.Contains(f.Values, h) }) {
			return false, nil
		}
	}
	return true, nil
}

func (s *Sim) ec2DescribeSecurityGroups(r *Request) (any, error) {
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	names, ids := ec2List(r.Form, "GroupName"), ec2List(r.Form, "GroupId")
	for _, n := range names {
		if rg.groupByName(n) == nil {
			return nil, Errorf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", n, rg.vpcID)
		}
	}
	for _, id := range ids {
		if rg.groups[id] == nil {
			return nil, Errorf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", id)
		}
	}
	max, err := ec2MaxResults(r.Form)
	if err != nil {
		return nil, err
	}
	off, err := parseEC2Token("sg", r.Param("NextToken"))
	if err != nil {
		return nil, err
	}
	filters := ec2Filters(r.Form)
	var hits []*secGroup
	for _, g := range rg.sortedGroups() {
		if len(names) > 0 && !slices.Contains(names, g.Name) || len(ids) > 0 && !slices.Contains(ids, g.ID) {
			continue
		}
		ok, err := groupMatches(g, filters)
		if err != nil {
			return nil, err
		}
		if ok {
			hits = append(hits, g)
		}
	}
	page, next := ec2Page(hits, off, max)
	out := describeSecurityGroupsResult{Groups: []ec2SecurityGroup{}}
	for _, g := range page {
		out.Groups = append(out.Groups, s.groupView(r.Region, g))
	}
	if next >= 0 {
		out.NextToken = ec2Token("sg", next)
	}
	return out, nil
}

type ec2ReferencedGroup struct {
	GroupID string `xml:"groupId"`
	UserID  string `xml:"userId"`
}

type ec2SecurityGroupRule struct {
	SecurityGroupRuleID  string              `xml:"securityGroupRuleId"`
	GroupID              string              `xml:"groupId"`
	GroupOwnerID         string              `xml:"groupOwnerId"`
	IsEgress             bool                `xml:"isEgress"`
	IPProtocol           string              `xml:"ipProtocol"`
	FromPort             int32               `xml:"fromPort"`
	ToPort               int32               `xml:"toPort"`
	CidrIPv4             string              `xml:"cidrIpv4,omitempty"`
	CidrIPv6             string              `xml:"cidrIpv6,omitempty"`
	ReferencedGroupInfo  *ec2ReferencedGroup `xml:"referencedGroupInfo,omitempty"`
	Description          string              `xml:"description,omitempty"`
	SecurityGroupRuleARN string              `xml:"securityGroupRuleArn"`
	TagSet               []ec2Tag            `xml:"tagSet>item"`
}

func (s *Sim) ruleView(region string, g *secGroup, r *sgRule) ec2SecurityGroupRule {
	v := ec2SecurityGroupRule{SecurityGroupRuleID: r.ID, GroupID: g.ID, GroupOwnerID: s.acct.ID, IsEgress: r.Egress,
		IPProtocol: r.Protocol, FromPort: r.From, ToPort: r.To, CidrIPv4: r.CIDR, CidrIPv6: r.CIDRv6, Description: r.Desc,
		SecurityGroupRuleARN: fmt.Sprintf("arn:aws:ec2:%s:%s:security-group-rule/%s", region, s.acct.ID, r.ID), TagSet: []ec2Tag{}}
	if r.Group != "" {
		v.ReferencedGroupInfo = &ec2ReferencedGroup{GroupID: r.Group, UserID: s.acct.ID}
	}
	return v
}

type describeSecurityGroupRulesResult struct {
	Rules     []ec2SecurityGroupRule `xml:"securityGroupRuleSet>item"`
	NextToken string                 `xml:"nextToken,omitempty"`
}

func (s *Sim) ec2DescribeSecurityGroupRules(r *Request) (any, error) {
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	ruleIDs := ec2List(r.Form, "SecurityGroupRuleId")
	max, err := ec2MaxResults(r.Form)
	if err != nil {
		return nil, err
	}
	off, err := parseEC2Token("sgr", r.Param("NextToken"))
	if err != nil {
		return nil, err
	}
	type pair struct {
		g *secGroup
		r *sgRule
	}
	var all []pair
	for _, g := range rg.sortedGroups() {
		for _, rule := range g.Rules {
			all = append(all, pair{g, rule})
		}
	}
	for _, id := range ruleIDs {
		if !slices.ContainsFunc(all, func(p pair) bool { return p.r.ID == id }) {
			return nil, Errorf(400, "InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
		}
	}
	var hits []pair
	for _, p := range all {
		if len(ruleIDs) > 0 && !slices.Contains(ruleIDs, p.r.ID) {
			continue
		}
		keep := true
		for _, f := range ec2Filters(r.Form) {
			switch f.Name {
			case "group-id":
				keep = keep && slices.Contains(f.Values, p.g.ID)
			case "security-group-rule-id":
				keep = keep && slices.Contains(f.Values, p.r.ID)
			default:
				return nil, Errorf(400, "InvalidParameterValue", "The filter '%s' is invalid", f.Name)
			}
		}
		if keep {
			hits = append(hits, p)
		}
	}
	page, next := ec2Page(hits, off, max)
	out := describeSecurityGroupRulesResult{Rules: []ec2SecurityGroupRule{}}
	for _, p := range page {
		out.Rules = append(out.Rules, s.ruleView(r.Region, p.g, p.r))
	}
	if next >= 0 {
		out.NextToken = ec2Token("sgr", next)
	}
	return out, nil
}

type createSecurityGroupResult struct {
	Return           bool     `xml:"return"`
	GroupID          string   `xml:"groupId"`
	SecurityGroupARN string   `xml:"securityGroupArn"`
	TagSet           []ec2Tag `xml:"tagSet>item,omitempty"`
}

func (s *Sim) ec2CreateSecurityGroup(r *Request) (any, error) {
	name, desc, vpc := r.Param("GroupName"), r.Param("GroupDescription"), r.Param("VpcId")
	params := map[string]any{"groupName": name, "groupDescription": desc}
	if vpc != "" {
		params["vpcId"] = vpc
	}
	tags := ec2TagSpecs(r.Form, "security-group")
	if len(tags) > 0 {
		params["tagSpecificationSet"] = map[string]any{"items": []any{map[string]any{"resourceType": "security-group",
			"tags": ec2CtTags(ec2Tags(tags))}}}
	}
	r.RequestParameters = params
	switch {
	case name == "":
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter groupName")
	case desc == "":
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter groupDescription")
	case len(name) > 255 || strings.HasPrefix(strings.ToLower(name), "sg-"):
		return nil, Errorf(400, "InvalidParameterValue", "Invalid value '%s' for groupName.", name)
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	if vpc != "" && vpc != rg.vpcID {
		return nil, Errorf(400, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", vpc)
	}
	if rg.groupByName(name) != nil {
		return nil, Errorf(400, "InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, rg.vpcID)
	}
	g := s.newSecGroupLocked(rg, name, desc, r.Caller.ARN)
	g.Tags = tags
	// A new group allows all outbound traffic, as at AWS.
	g.addRule(&sgRule{ID: s.ids.hexID("sgr", 17), Egress: true, Protocol: "-1", From: -1, To: -1, CIDR: "0.0.0.0/0"})
	arn := s.sgARN(r.Region, g.ID)
	r.Resources = []EventResource{s.sgResource(r.Region, g.ID)}
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "_return": true, "groupId": g.ID, "securityGroupArn": arn}
	return createSecurityGroupResult{Return: true, GroupID: g.ID, SecurityGroupARN: arn, TagSet: ec2Tags(tags)}, nil
}

type deleteSecurityGroupResult struct {
	Return  bool   `xml:"return"`
	GroupID string `xml:"groupId"`
}

// sgTarget finds the group a call names by GroupId or GroupName.
func sgTarget(r *Request, rg *ec2Region) (*secGroup, error) {
	id, name := r.Param("GroupId"), r.Param("GroupName")
	switch {
	case id != "":
		if g := rg.groups[id]; g != nil {
			return g, nil
		}
		return nil, Errorf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist", id)
	case name != "":
		if g := rg.groupByName(name); g != nil {
			return g, nil
		}
		return nil, Errorf(400, "InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", name, rg.vpcID)
	}
	return nil, Errorf(400, "MissingParameter", "The request must contain the parameter groupName or groupId")
}

func (s *Sim) ec2DeleteSecurityGroup(r *Request) (any, error) {
	params := map[string]any{}
	if v := r.Param("GroupId"); v != "" {
		params["groupId"] = v
	}
	if v := r.Param("GroupName"); v != "" {
		params["groupName"] = v
	}
	r.RequestParameters = params
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	g, err := sgTarget(r, rg)
	if err != nil {
		return nil, err
	}
	if g == rg.sg {
		return nil, Errorf(400, "CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", g.ID)
	}
	for _, o := range rg.groups {
		if o != g && slices.ContainsFunc(o.Rules, func(x *sgRule) bool { return x.Group == g.ID }) {
			return nil, Errorf(400, "DependencyViolation", "resource %s has a dependent object", g.ID)
		}
	}
	delete(rg.groups, g.ID)
	r.Resources = []EventResource{s.sgResource(r.Region, g.ID)}
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "_return": true, "groupId": g.ID}
	return deleteSecurityGroupResult{Return: true, GroupID: g.ID}, nil
}

type authorizeIngressResult struct {
	Return bool                   `xml:"return"`
	Rules  []ec2SecurityGroupRule `xml:"securityGroupRuleSet>item"`
}

func (s *Sim) ec2AuthorizeIngress(r *Request) (any, error) {
	perms := sgPermissions(r.Form)
	params := map[string]any{"ipPermissions": ctPermissions(perms)}
	if v := r.Param("GroupId"); v != "" {
		params["groupId"] = v
	}
	if v := r.Param("GroupName"); v != "" {
		params["groupName"] = v
	}
	r.RequestParameters = params
	rg := s.ec2region(r.Region)
	g, err := sgTarget(r, rg)
	if err != nil {
		return nil, err
	}
	rules, err := s.rulesOf(rg, perms, false)
	if err != nil {
		return nil, err
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	for i, nr := range rules {
		if slices.ContainsFunc(g.Rules, nr.same) || slices.ContainsFunc(rules[:i], nr.same) {
			return nil, Errorf(400, "InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", nr.describe())
		}
	}
	out := authorizeIngressResult{Return: true}
	var ct []any
	for _, nr := range rules {
		nr.ID = s.ids.hexID("sgr", 17)
		g.addRule(nr)
		out.Rules = append(out.Rules, s.ruleView(r.Region, g, nr))
		ct = append(ct, s.ctRule(g, nr))
	}
	r.Resources = []EventResource{s.sgResource(r.Region, g.ID)}
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "_return": true,
		"securityGroupRuleSet": map[string]any{"items": ct}}
	return out, nil
}

type revokedRule struct {
	SecurityGroupRuleID string `xml:"securityGroupRuleId"`
	GroupID             string `xml:"groupId"`
	IsEgress            bool   `xml:"isEgress"`
	IPProtocol          string `xml:"ipProtocol"`
	FromPort            int32  `xml:"fromPort"`
	ToPort              int32  `xml:"toPort"`
	CidrIPv4            string `xml:"cidrIpv4,omitempty"`
	CidrIPv6            string `xml:"cidrIpv6,omitempty"`
	ReferencedGroupID   string `xml:"referencedGroupId,omitempty"`
	Description         string `xml:"description,omitempty"`
}

type revokeIngressResult struct {
	Return  bool            `xml:"return"`
	Revoked []revokedRule   `xml:"revokedSecurityGroupRuleSet>item"`
	Unknown []ec2Permission `xml:"unknownIpPermissionSet>item,omitempty"`
}

func (s *Sim) ec2RevokeIngress(r *Request) (any, error) {
	perms := sgPermissions(r.Form)
	ruleIDs := ec2List(r.Form, "SecurityGroupRuleId")
	params := map[string]any{}
	if v := r.Param("GroupId"); v != "" {
		params["groupId"] = v
	}
	if v := r.Param("GroupName"); v != "" {
		params["groupName"] = v
	}
	if len(perms) > 0 {
		params["ipPermissions"] = ctPermissions(perms)
	}
	if len(ruleIDs) > 0 {
		var items []any
		for _, id := range ruleIDs {
			items = append(items, map[string]any{"securityGroupRuleId": id})
		}
		params["securityGroupRuleIds"] = map[string]any{"items": items}
	}
	r.RequestParameters = params
	rg := s.ec2region(r.Region)
	g, err := sgTarget(r, rg)
	if err != nil {
		return nil, err
	}
	if len(perms) > 0 && len(ruleIDs) > 0 {
		return nil, Errorf(400, "InvalidParameterCombination", "You may specify either security group rule IDs or IP permissions, but not both.")
	}
	var gone []*sgRule
	out := revokeIngressResult{Return: true}
	if len(ruleIDs) > 0 {
		for _, id := range ruleIDs {
			i := slices.IndexFunc(g.Rules, func(x *sgRule) bool { return x.ID == id && !x.Egress })
			if i < 0 {
				return nil, Errorf(400, "InvalidSecurityGroupRuleId.NotFound", "The security group rule ID '%s' does not exist", id)
			}
			gone = append(gone, g.Rules[i])
		}
	} else {
		want, err := s.rulesOf(rg, perms, false)
		if err != nil {
			return nil, err
		}
		for _, w := range want {
			i := slices.IndexFunc(g.Rules, w.same)
			if i < 0 {
				p := ec2Permission{IPProtocol: w.Protocol}
				if w.Protocol != "-1" {
					from, to := w.From, w.To
					p.FromPort, p.ToPort = &from, &to
				}
				switch {
				case w.CIDR != "":
					p.IPRanges = []ec2IPRange{{CidrIP: w.CIDR}}
				case w.CIDRv6 != "":
					p.IPv6Ranges = []ec2IPv6Range{{CidrIPv6: w.CIDRv6}}
				default:
					p.Groups = []ec2GroupPair{{UserID: s.acct.ID, GroupID: w.Group}}
				}
				out.Unknown = append(out.Unknown, p)
				continue
			}
			gone = append(gone, g.Rules[i])
		}
		if len(gone) == 0 {
			return nil, Errorf(400, "InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
		}
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	g.Rules = slices.DeleteFunc(g.Rules, func(x *sgRule) bool { return slices.Contains(gone, x) })
	for _, x := range gone {
		out.Revoked = append(out.Revoked, revokedRule{SecurityGroupRuleID: x.ID, GroupID: g.ID, IsEgress: x.Egress,
			IPProtocol: x.Protocol, FromPort: x.From, ToPort: x.To, CidrIPv4: x.CIDR, CidrIPv6: x.CIDRv6,
			ReferencedGroupID: x.Group, Description: x.Desc})
	}
	r.Resources = []EventResource{s.sgResource(r.Region, g.ID)}
	resp := map[string]any{"requestId": r.RequestID, "_return": true}
	if len(out.Unknown) > 0 {
		var unknown []sgPermission
		for _, u := range out.Unknown {
			sp := sgPermission{Protocol: u.IPProtocol, From: u.FromPort, To: u.ToPort}
			for _, x := range u.IPRanges {
				sp.CIDRs = append(sp.CIDRs, sgPeer{Value: x.CidrIP})
			}
			for _, x := range u.IPv6Ranges {
				sp.CIDRv6s = append(sp.CIDRv6s, sgPeer{Value: x.CidrIPv6})
			}
			for _, x := range u.Groups {
				sp.Groups = append(sp.Groups, sgPeer{Value: x.GroupID})
			}
			unknown = append(unknown, sp)
		}
		resp["unknownIpPermissionSet"] = ctPermissions(unknown)
	}
	r.ResponseElements = resp
	return out, nil
}
