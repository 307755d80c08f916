package sim

import (
	"net/netip"
	"slices"
	"strconv"
)

// Network ACLs in the drill account: each Region's default VPC has its
// default network ACL (rule 100 allows everything in and out, the
// unnumbered "*" rule, 32767, denies the rest), associated with the
// default subnet. Entries are stored and served; the drill has no packets
// for them to filter. Errors are EC2's: InvalidNetworkAclID.NotFound,
// NetworkAclEntryAlreadyExists, InvalidNetworkAclEntry.NotFound.

// naclState is every Region's network ACLs.
type naclState struct {
	regions map[string]*naclRegion
}

type naclRegion struct {
	acls  map[string]*networkACL
	order []*networkACL
}

// networkACL is one network ACL.
type networkACL struct {
	ID, VpcID, SubnetID, AssocID string
	Default                      bool
	Entries                      []*naclEntry
}

// naclEntry is one numbered rule of a network ACL.
type naclEntry struct {
	Rule     int32
	Egress   bool
	Protocol string // "-1", or a protocol number
	Action   string // allow or deny
	CIDR     string
	CIDRv6   string
	From, To *int32 // port range, for TCP and UDP
}

// naclMaxRule is the "*" rule every ACL ends with; entries take 1..32766.
const naclMaxRule = 32767

// naclRegionLocked returns region's network ACLs, creating the default
// VPC's default ACL on first use.
func (s *Sim) naclRegionLocked(region string) *naclRegion {
	st := s.State("ec2-nacl", func() any { return &naclState{regions: map[string]*naclRegion{}} }).(*naclState)
	nr := st.regions[region]
	if nr == nil {
		rg := s.ec2region(region)
		nr = &naclRegion{acls: map[string]*networkACL{}}
		acl := &networkACL{ID: s.ids.hexID("acl", 17), VpcID: rg.vpcID, SubnetID: rg.subnetID, AssocID: s.ids.hexID("aclassoc", 17), Default: true}
		for _, eg := range []bool{false, true} {
			acl.Entries = append(acl.Entries,
				&naclEntry{Rule: 100, Egress: eg, Protocol: "-1", Action: "allow", CIDR: "0.0.0.0/0"},
				&naclEntry{Rule: naclMaxRule, Egress: eg, Protocol: "-1", Action: "deny", CIDR: "0.0.0.0/0"})
		}
		nr.acls[acl.ID] = acl
		nr.order = append(nr.order, acl)
		st.regions[region] = nr
	}
	return nr
}

func (a *networkACL) entry(rule int32, egress bool) int {
	return slices.IndexFunc(a.Entries, func(e *naclEntry) bool { return e.Rule == rule && e.Egress == egress })
}

// ---- wire shapes ----

type ec2NaclEntry struct {
	RuleNumber    int32         `xml:"ruleNumber"`
	Protocol      string        `xml:"protocol"`
	RuleAction    string        `xml:"ruleAction"`
	Egress        bool          `xml:"egress"`
	CidrBlock     string        `xml:"cidrBlock,omitempty"`
	Ipv6CidrBlock string        `xml:"ipv6CidrBlock,omitempty"`
	PortRange     *ec2PortRange `xml:"portRange,omitempty"`
}

type ec2PortRange struct {
	From int32 `xml:"from"`
	To   int32 `xml:"to"`
}

type ec2NaclAssoc struct {
	NetworkAclAssociationID string `xml:"networkAclAssociationId"`
	NetworkAclID            string `xml:"networkAclId"`
	SubnetID                string `xml:"subnetId"`
}

type ec2NetworkACL struct {
	NetworkAclID string         `xml:"networkAclId"`
	VpcID        string         `xml:"vpcId"`
	Default      bool           `xml:"default"`
	EntrySet     []ec2NaclEntry `xml:"entrySet>item"`
	Associations []ec2NaclAssoc `xml:"associationSet>item"`
	TagSet       []ec2Tag       `xml:"tagSet>item"`
	OwnerID      string         `xml:"ownerId"`
}

type describeNetworkAclsResult struct {
	NetworkACLs []ec2NetworkACL `xml:"networkAclSet>item"`
}

type naclReturn struct {
	Return bool `xml:"return"`
}

// ---- handlers ----

// naclTarget finds the ACL a call names.
func (s *Sim) naclTarget(r *Request) (*networkACL, error) {
	id := r.Param("NetworkAclId")
	if id == "" {
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter networkAclId")
	}
	acl := s.naclRegionLocked(r.Region).acls[id]
	if acl == nil {
		return nil, Errorf(400, "InvalidNetworkAclID.NotFound", "The networkAcl ID '%s' does not exist", id)
	}
	return acl, nil
}

// naclRule reads RuleNumber: 1..32766.
func naclRule(r *Request) (int32, error) {
	v := r.Param("RuleNumber")
	if v == "" {
		return 0, Errorf(400, "MissingParameter", "The request must contain the parameter ruleNumber")
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 1 || n >= naclMaxRule {
		return 0, Errorf(400, "InvalidParameterValue", "Invalid value '%s' for ruleNumber. Rule number must be between 1 and 32766", v)
	}
	return int32(n), nil
}

func (s *Sim) ec2CreateNetworkAclEntry(r *Request) (any, error) {
	egress := ec2Bool(r.Form, "Egress")
	params := map[string]any{"networkAclId": r.Param("NetworkAclId"), "egress": egress, "ruleAction": r.Param("RuleAction"),
		"aclProtocol": r.Param("Protocol"), "icmpTypeCode": map[string]any{}, "portRange": map[string]any{}}
	if n, err := strconv.Atoi(r.Param("RuleNumber")); err == nil {
		params["ruleNumber"] = n
	}
	if v := r.Param("CidrBlock"); v != "" {
		params["cidrBlock"] = v
	}
	if v := r.Param("Ipv6CidrBlock"); v != "" {
		params["ipv6CidrBlock"] = v
	}
	e := &naclEntry{Egress: egress, Protocol: r.Param("Protocol"), Action: r.Param("RuleAction"), CIDR: r.Param("CidrBlock"), CIDRv6: r.Param("Ipv6CidrBlock")}
	if f, t := r.Param("PortRange.From"), r.Param("PortRange.To"); f != "" || t != "" {
		fi, err1 := strconv.ParseInt(f, 10, 32)
		ti, err2 := strconv.ParseInt(t, 10, 32)
		if err1 != nil || err2 != nil {
			return nil, Errorf(400, "InvalidParameterValue", "Invalid port range %s-%s", f, t)
		}
		from, to := int32(fi), int32(ti)
		e.From, e.To = &from, &to
		params["portRange"] = map[string]any{"from": from, "to": to}
	}
	r.RequestParameters = params
	acl, err := s.naclTarget(r)
	if err != nil {
		return nil, err
	}
	if e.Rule, err = naclRule(r); err != nil {
		return nil, err
	}
	switch {
	case e.Protocol == "":
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter protocol")
	case e.Action != "allow" && e.Action != "deny":
		return nil, Errorf(400, "InvalidParameterValue", "Value (%s) for parameter ruleAction is invalid. Valid values are allow, deny.", e.Action)
	case (e.CIDR == "") == (e.CIDRv6 == ""):
		return nil, Errorf(400, "MissingParameter", "Either 'cidrBlock' or 'ipv6CidrBlock' should be provided.")
	}
	for _, c := range []string{e.CIDR, e.CIDRv6} {
		if c == "" {
			continue
		}
		if p, perr := netip.ParsePrefix(c); perr != nil || (p.Addr().Is4() != (c == e.CIDR)) {
			return nil, Errorf(400, "InvalidParameterValue", "Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", c)
		}
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	if acl.entry(e.Rule, e.Egress) >= 0 {
		return nil, Errorf(400, "NetworkAclEntryAlreadyExists", "The network acl entry identified by %d already exists.", e.Rule)
	}
	acl.Entries = append(acl.Entries, e)
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "_return": true}
	return naclReturn{Return: true}, nil
}

func (s *Sim) ec2DeleteNetworkAclEntry(r *Request) (any, error) {
	egress := ec2Bool(r.Form, "Egress")
	params := map[string]any{"networkAclId": r.Param("NetworkAclId"), "egress": egress}
	if n, err := strconv.Atoi(r.Param("RuleNumber")); err == nil {
		params["ruleNumber"] = n
	}
	r.RequestParameters = params
	acl, err := s.naclTarget(r)
	if err != nil {
		return nil, err
	}
	rule, err := naclRule(r)
	if err != nil {
		return nil, err
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	i := acl.entry(rule, egress)
	if i < 0 {
		return nil, Errorf(400, "InvalidNetworkAclEntry.NotFound", "The network acl entry identified by %d does not exist.", rule)
	}
	acl.Entries = slices.Delete(acl.Entries, i, i+1)
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "_return": true}
	return naclReturn{Return: true}, nil
}

func (s *Sim) ec2DescribeNetworkAcls(r *Request) (any, error) {
	ids := ec2List(r.Form, "NetworkAclId")
	filters := ec2Filters(r.Form)
	params := map[string]any{"networkAclIdSet": map[string]any{}, "filterSet": map[string]any{}}
	if len(ids) > 0 {
		var items []any
		for _, id := range ids {
			items = append(items, map[string]any{"networkAclId": id})
		}
		params["networkAclIdSet"] = map[string]any{"items": items}
	}
	if len(filters) > 0 {
		var items []any
		for _, f := range filters {
			var vals []any
			for _, v := range f.Values {
				vals = append(vals, map[string]any{"value": v})
			}
			items = append(items, map[string]any{"name": f.Name, "valueSet": map[string]any{"items": vals}})
		}
		params["filterSet"] = map[string]any{"items": items}
	}
	r.RequestParameters = params
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	nr := s.naclRegionLocked(r.Region)
	for _, id := range ids {
		if nr.acls[id] == nil {
			return nil, Errorf(400, "InvalidNetworkAclID.NotFound", "The networkAcl ID '%s' does not exist", id)
		}
	}
	out := describeNetworkAclsResult{NetworkACLs: []ec2NetworkACL{}}
	for _, a := range nr.order {
		if len(ids) > 0 && !slices.Contains(ids, a.ID) || !naclMatches(a, filters) {
			continue
		}
		w := ec2NetworkACL{NetworkAclID: a.ID, VpcID: a.VpcID, Default: a.Default, OwnerID: s.acct.ID, TagSet: []ec2Tag{},
			Associations: []ec2NaclAssoc{{NetworkAclAssociationID: a.AssocID, NetworkAclID: a.ID, SubnetID: a.SubnetID}}}
		entries := slices.Clone(a.Entries)
		// EC2 lists egress entries first, each direction by rule number.
		slices.SortStableFunc(entries, func(x, y *naclEntry) int {
			if x.Egress != y.Egress {
				if x.Egress {
					return -1
				}
				return 1
			}
			return int(x.Rule) - int(y.Rule)
		})
		for _, e := range entries {
			we := ec2NaclEntry{RuleNumber: e.Rule, Protocol: e.Protocol, RuleAction: e.Action, Egress: e.Egress, CidrBlock: e.CIDR, Ipv6CidrBlock: e.CIDRv6}
			if e.From != nil {
				we.PortRange = &ec2PortRange{From: *e.From, To: *e.To}
			}
			w.EntrySet = append(w.EntrySet, we)
		}
		out.NetworkACLs = append(out.NetworkACLs, w)
	}
	return out, nil
}

// naclMatches applies DescribeNetworkAcls' filters the sim knows (vpc-id,
// network-acl-id, default, association.subnet-id); an unknown filter
// matches nothing, as a filter on a value no ACL has.
func naclMatches(a *networkACL, filters []ec2Filter) bool {
	for _, f := range filters {
		var have string
		switch f.Name {
		case "vpc-id":
			have = a.VpcID
		case "network-acl-id":
			have = a.ID
		case "default":
			have = strconv.FormatBool(a.Default)
		case "association.subnet-id":
			have = a.SubnetID
		default:
			return false
		}
		if !slices.Contains(f.Values, have) {
			return false
		}
	}
	return true
}
