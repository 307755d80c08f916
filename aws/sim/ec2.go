package sim

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EC2 in the drill account: per Region, instances (on demand and spot),
// spot requests, key pairs and a default security group, in the ec2query
// protocol. Instances settle at once: RunInstances answers "pending" and
// the next DescribeInstances shows "running"; stop and terminate likewise.

func ec2Service(s *Sim) *Service {
	return &Service{Name: "ec2", EventSource: "ec2.amazonaws.com", Protocol: ProtoEC2,
		Ops: map[string]Op{
			"DescribeRegions":               {Handle: s.ec2DescribeRegions, ReadOnly: true},
			"DescribeInstances":             {Handle: s.ec2DescribeInstances, ReadOnly: true},
			"RunInstances":                  {Handle: s.ec2RunInstances},
			"StopInstances":                 {Handle: s.ec2StopInstances},
			"TerminateInstances":            {Handle: s.ec2TerminateInstances},
			"DescribeInstanceAttribute":     {Handle: s.ec2DescribeInstanceAttribute, ReadOnly: true},
			"ModifyInstanceAttribute":       {Handle: s.ec2ModifyInstanceAttribute},
			"RequestSpotInstances":          {Handle: s.ec2RequestSpotInstances},
			"DescribeSpotInstanceRequests":  {Handle: s.ec2DescribeSpotInstanceRequests, ReadOnly: true},
			"CancelSpotInstanceRequests":    {Handle: s.ec2CancelSpotInstanceRequests},
			"DescribeKeyPairs":              {Handle: s.ec2DescribeKeyPairs, ReadOnly: true},
			"ImportKeyPair":                 {Handle: s.ec2ImportKeyPair},
			"DeleteKeyPair":                 {Handle: s.ec2DeleteKeyPair},
			"DescribeSecurityGroups":        {Handle: s.ec2DescribeSecurityGroups, ReadOnly: true},
			"DescribeSecurityGroupRules":    {Handle: s.ec2DescribeSecurityGroupRules, ReadOnly: true},
			"CreateSecurityGroup":           {Handle: s.ec2CreateSecurityGroup},
			"DeleteSecurityGroup":           {Handle: s.ec2DeleteSecurityGroup},
			"AuthorizeSecurityGroupIngress": {Handle: s.ec2AuthorizeIngress},
			"RevokeSecurityGroupIngress":    {Handle: s.ec2RevokeIngress},
			"CreateTags":                    {Handle: s.ec2CreateTags},
			"CreateSnapshot":                {Handle: s.ec2CreateSnapshot},
			"DescribeNetworkAcls":           {Handle: s.ec2DescribeNetworkAcls, ReadOnly: true},
			"CreateNetworkAclEntry":         {Handle: s.ec2CreateNetworkAclEntry},
			"DeleteNetworkAclEntry":         {Handle: s.ec2DeleteNetworkAclEntry},
		}}
}

// Instance states, with EC2's codes.
const (
	statePending      = "pending"
	stateRunning      = "running"
	stateShuttingDown = "shutting-down"
	stateTerminated   = "terminated"
	stateStopping     = "stopping"
	stateStopped      = "stopped"
)

var ec2StateCodes = map[string]int{statePending: 0, stateRunning: 16, stateShuttingDown: 32, stateTerminated: 48,
	stateStopping: 64, stateStopped: 80}

// terminatedVisible is how long a terminated instance still shows in
// DescribeInstances, as at AWS.
const terminatedVisible = time.Hour

// ec2State is the EC2 state of the whole account, by Region.
type ec2State struct {
	regions map[string]*ec2Region
}

// ec2Region is one Region's EC2 resources.
type ec2Region struct {
	name      string
	vpcID     string
	subnetID  string
	sg        *secGroup            // the default VPC's default group
	groups    map[string]*secGroup // every group, by id
	snapshots map[string]*snapshot
	instances map[string]*instance
	order     []*instance // launch order
	keyPairs  map[string]*keyPair
	spot      map[string]*spotRequest
	spotOrder []*spotRequest
}

// instance is one EC2 instance.
type instance struct {
	ID, ReservationID, ImageID, Type, KeyName, AZ string
	PrivateIP                                     string
	State                                         string
	Launched                                      time.Time
	Terminated                                    time.Time
	Tags                                          []Tag
	DisableTermination, DisableStop               bool
	SpotRequestID                                 string
	Index                                         int
	// Requester is the ARN of the principal that launched it.
	Requester string
}

// keyPair is an imported EC2 key pair. Only its fingerprint is kept.
type keyPair struct {
	Name, ID, Fingerprint, Type string
	Created                     time.Time
	Tags                        []Tag
}

// spotRequest is a spot instance request.
type spotRequest struct {
	ID, Type, State, StatusCode, StatusMessage string
	Price                                      string
	InstanceType, ImageID, KeyName             string
	InstanceID                                 string
	Created, Updated                           time.Time
	Tags                                       []Tag
	Requester                                  string
}

// ec2state returns the EC2 state, creating it on first use.
func (s *Sim) ec2state() *ec2State {
	return s.State("ec2", func() any { return &ec2State{regions: map[string]*ec2Region{}} }).(*ec2State)
}

// ec2region returns the EC2 state of region, creating it (with a default
// VPC and security group) on first use.
func (s *Sim) ec2region(region string) *ec2Region {
	st := s.ec2state()
	rg := st.regions[region]
	if rg == nil {
		rg = &ec2Region{name: region, vpcID: s.ids.hexID("vpc", 17), subnetID: s.ids.hexID("subnet", 17),
			instances: map[string]*instance{}, keyPairs: map[string]*keyPair{}, spot: map[string]*spotRequest{}}
		rg.groups = map[string]*secGroup{}
		rg.sg = s.newSecGroupLocked(rg, "default", "default VPC security group", "")
		rg.sg.addRule(&sgRule{ID: s.ids.hexID("sgr", 17), Protocol: "-1", From: -1, To: -1, Group: rg.sg.ID})
		rg.sg.addRule(&sgRule{ID: s.ids.hexID("sgr", 17), Egress: true, Protocol: "-1", From: -1, To: -1, CIDR: "0.0.0.0/0"})
		st.regions[region] = rg
	}
	return rg
}

// ---- request parsing ----

// ec2List returns the values of a flattened ec2query list: name.1, name.2 …
func ec2List(form url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		k := name + "." + strconv.Itoa(i)
		if _, ok := form[k]; !ok {
			return out
		}
		out = append(out, form.Get(k))
	}
}

// ec2Filter is one Filter.N of a Describe call.
type ec2Filter struct {
	Name   string
	Values []string
}

func ec2Filters(form url.Values) []ec2Filter {
	var out []ec2Filter
	for i := 1; ; i++ {
		p := "Filter." + strconv.Itoa(i)
		if _, ok := form[p+".Name"]; !ok {
			return out
		}
		out = append(out, ec2Filter{Name: form.Get(p + ".Name"), Values: ec2List(form, p+".Value")})
	}
}

// ec2TagsParam reads prefix.Tag.N.Key/Value.
func ec2TagsParam(form url.Values, prefix string) []Tag {
	var out []Tag
	for i := 1; ; i++ {
		p := prefix + "Tag." + strconv.Itoa(i)
		if _, ok := form[p+".Key"]; !ok {
			return out
		}
		out = append(out, Tag{Key: form.Get(p + ".Key"), Value: form.Get(p + ".Value")})
	}
}

// ec2TagSpecs returns the tags that TagSpecification.N gives resourceType.
func ec2TagSpecs(form url.Values, resourceType string) []Tag {
	var out []Tag
	for i := 1; ; i++ {
		p := "TagSpecification." + strconv.Itoa(i) + "."
		rt, ok := form[p+"ResourceType"]
		if !ok {
			return out
		}
		if len(rt) > 0 && rt[0] == resourceType {
			out = append(out, ec2TagsParam(form, p)...)
		}
	}
}

func ec2Bool(form url.Values, name string) bool {
	b, _ := strconv.ParseBool(form.Get(name))
	return b
}

// ec2DryRun answers a DryRun call that authorisation let through.
func ec2DryRun(r *Request) error {
	if ec2Bool(r.Form, "DryRun") {
		return Errorf(412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
	}
	return nil
}

// ec2MaxResults reads MaxResults (5..1000 when given; 0 when absent).
func ec2MaxResults(form url.Values) (int, error) {
	v := form.Get("MaxResults")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 5 || n > 1000 {
		return 0, Errorf(400, "InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", v)
	}
	return n, nil
}

// ec2Token is an opaque NextToken holding an offset, bound to the call
// it was issued for.
func ec2Token(kind string, offset int) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s:%d", kind, offset))
}

func parseEC2Token(kind, tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	bad := Errorf(400, "InvalidPaginationToken", "The pagination token is invalid or has expired.")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, bad
	}
	k, n, ok := strings.Cut(string(raw), ":")
	off, err := strconv.Atoi(n)
	if !ok || k != kind || err != nil || off < 0 {
		return 0, bad
	}
	return off, nil
}

// ec2Page cuts items[off:] to max and says where the next page starts.
func ec2Page[T any](items []T, off, max int) (page []T, next int) {
	if off > len(items) {
		off = len(items)
	}
	items = items[off:]
	if max > 0 && len(items) > max {
		return items[:max], off + max
	}
	return items, -1
}

// ---- answers ----

type ec2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func ec2Tags(tags []Tag) []ec2Tag {
	out := make([]ec2Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, ec2Tag(t))
	}
	return out
}

type ec2InstState struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

func ec2StateOf(name string) ec2InstState { return ec2InstState{Code: ec2StateCodes[name], Name: name} }

type ec2Group struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type ec2Placement struct {
	AvailabilityZone string `xml:"availabilityZone"`
	Tenancy          string `xml:"tenancy"`
}

type ec2Reason struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type ec2Instance struct {
	InstanceID            string           `xml:"instanceId"`
	ImageID               string           `xml:"imageId"`
	InstanceState         ec2InstState     `xml:"instanceState"`
	PrivateDNSName        string           `xml:"privateDnsName"`
	DNSName               string           `xml:"dnsName"`
	Reason                string           `xml:"reason"`
	KeyName               string           `xml:"keyName,omitempty"`
	AmiLaunchIndex        int              `xml:"amiLaunchIndex"`
	InstanceType          string           `xml:"instanceType"`
	LaunchTime            string           `xml:"launchTime"`
	Placement             ec2Placement     `xml:"placement"`
	MonitoringState       string           `xml:"monitoring>state"`
	SubnetID              string           `xml:"subnetId"`
	VpcID                 string           `xml:"vpcId"`
	PrivateIPAddress      string           `xml:"privateIpAddress"`
	SourceDestCheck       bool             `xml:"sourceDestCheck"`
	GroupSet              []ec2Group       `xml:"groupSet>item"`
	StateReason           *ec2Reason       `xml:"stateReason,omitempty"`
	Architecture          string           `xml:"architecture"`
	RootDeviceType        string           `xml:"rootDeviceType"`
	RootDeviceName        string           `xml:"rootDeviceName"`
	InstanceLifecycle     string           `xml:"instanceLifecycle,omitempty"`
	SpotInstanceRequestID string           `xml:"spotInstanceRequestId,omitempty"`
	VirtualizationType    string           `xml:"virtualizationType"`
	Hypervisor            string           `xml:"hypervisor"`
	TagSet                []ec2Tag         `xml:"tagSet>item"`
	BlockDevices          []ec2BlockDevice `xml:"blockDeviceMapping>item"`
}

type ec2Reservation struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	GroupSet      []ec2Group    `xml:"groupSet>item"`
	InstancesSet  []ec2Instance `xml:"instancesSet>item"`
}

type describeInstancesResult struct {
	Reservations []ec2Reservation `xml:"reservationSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

// view renders an instance as EC2 answers it, with state shown as given.
func (rg *ec2Region) view(in *instance, state string) ec2Instance {
	v := ec2Instance{InstanceID: in.ID, ImageID: in.ImageID, InstanceState: ec2StateOf(state),
		PrivateDNSName: "ip-" + strings.ReplaceAll(in.PrivateIP, ".", "-") + "." + rg.name + ".compute.internal",
		KeyName:        in.KeyName, AmiLaunchIndex: in.Index, InstanceType: in.Type, LaunchTime: isoTime(in.Launched),
		Placement: ec2Placement{AvailabilityZone: in.AZ, Tenancy: "default"}, MonitoringState: "disabled",
		SubnetID: rg.subnetID, VpcID: rg.vpcID, PrivateIPAddress: in.PrivateIP, SourceDestCheck: true,
		GroupSet:     []ec2Group{{GroupID: rg.sg.ID, GroupName: rg.sg.Name}},
		Architecture: "x86_64", RootDeviceType: "ebs", RootDeviceName: "/dev/xvda", VirtualizationType: "hvm",
		Hypervisor: "xen", TagSet: ec2Tags(in.Tags), SpotInstanceRequestID: in.SpotRequestID}
	if in.SpotRequestID != "" {
		v.InstanceLifecycle = "spot"
	}
	if state != stateTerminated {
		v.BlockDevices = []ec2BlockDevice{{DeviceName: "/dev/xvda", EBS: ec2EBS{VolumeID: in.rootVolume(), Status: "attached",
			AttachTime: isoTime(in.Launched), DeleteOnTermination: true}}}
	}
	switch state {
	case statePending:
		v.StateReason = &ec2Reason{Code: "pending", Message: "pending"}
	case stateStopped, stateStopping:
		v.Reason = "User initiated (" + in.Launched.UTC().Format("2006-01-02 15:04:05 GMT") + ")"
		v.StateReason = &ec2Reason{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated shutdown"}
	case stateTerminated, stateShuttingDown:
		v.Reason = "User initiated (" + in.Terminated.UTC().Format("2006-01-02 15:04:05 GMT") + ")"
		v.StateReason = &ec2Reason{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated shutdown"}
		v.PrivateDNSName, v.PrivateIPAddress = "", ""
	}
	return v
}

// ctInstance is an instance as RunInstances' responseElements show it.
func ctInstance(v ec2Instance, launched time.Time) map[string]any {
	m := map[string]any{
		"instanceId": v.InstanceID, "imageId": v.ImageID,
		"instanceState":  map[string]any{"code": v.InstanceState.Code, "name": v.InstanceState.Name},
		"privateDnsName": v.PrivateDNSName, "amiLaunchIndex": v.AmiLaunchIndex, "productCodes": map[string]any{},
		"instanceType": v.InstanceType, "launchTime": launched.UnixMilli(),
		"placement":  map[string]any{"availabilityZone": v.Placement.AvailabilityZone, "tenancy": "default"},
		"monitoring": map[string]any{"state": "disabled"}, "subnetId": v.SubnetID, "vpcId": v.VpcID,
		"privateIpAddress": v.PrivateIPAddress, "stateReason": map[string]any{"code": "pending", "message": "pending"},
		"architecture": v.Architecture, "rootDeviceType": "ebs", "rootDeviceName": "/dev/xvda",
		"blockDeviceMapping": map[string]any{}, "virtualizationType": "hvm", "hypervisor": "xen",
		"groupSet":        map[string]any{"items": []any{map[string]any{"groupId": v.GroupSet[0].GroupID, "groupName": v.GroupSet[0].GroupName}}},
		"sourceDestCheck": true, "ebsOptimized": false, "enaSupport": true,
	}
	if v.KeyName != "" {
		m["keyName"] = v.KeyName
	}
	if v.InstanceLifecycle != "" {
		m["instanceLifecycle"] = v.InstanceLifecycle
		m["spotInstanceRequestId"] = v.SpotInstanceRequestID
	}
	if len(v.TagSet) > 0 {
		m["tagSet"] = map[string]any{"items": ec2CtTags(v.TagSet)}
	}
	return m
}

func ec2CtTags(tags []ec2Tag) []any {
	out := make([]any, 0, len(tags))
	for _, t := range tags {
		out = append(out, map[string]any{"key": t.Key, "value": t.Value})
	}
	return out
}

func instanceIDItems(ids []string) map[string]any {
	items := make([]any, 0, len(ids))
	for _, id := range ids {
		items = append(items, map[string]any{"instanceId": id})
	}
	return map[string]any{"items": items}
}

func (s *Sim) instanceResource(region, id string) EventResource {
	return EventResource{ARN: fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, s.acct.ID, id), AccountID: s.acct.ID,
		Type: "AWS::EC2::Instance"}
}

// ---- DescribeRegions ----

type ec2RegionInfo struct {
	RegionName     string `xml:"regionName"`
	RegionEndpoint string `xml:"regionEndpoint"`
	OptInStatus    string `xml:"optInStatus"`
}

type describeRegionsResult struct {
	Regions []ec2RegionInfo `xml:"regionInfo>item"`
}

func (s *Sim) ec2DescribeRegions(r *Request) (any, error) {
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	all := ec2Bool(r.Form, "AllRegions")
	names := ec2List(r.Form, "RegionName")
	for _, n := range names {
		if !regionKnown(n) {
			return nil, Errorf(400, "InvalidParameterValue", "Invalid region: %s", n)
		}
	}
	filters := ec2Filters(r.Form)
	out := describeRegionsResult{Regions: []ec2RegionInfo{}}
	for _, ri := range s.Regions() {
		if !all && ri.OptInStatus == "not-opted-in" {
			continue
		}
		if len(names) > 0 && !slices.Contains(names, ri.Name) {
			continue
		}
		ok := true
		for _, f := range filters {
			switch f.Name {
			case "region-name":
				ok = ok && slices.Contains(f.Values, ri.Name)
			case "opt-in-status":
				ok = ok && slices.Contains(f.Values, ri.OptInStatus)
			case "endpoint":
				ok = ok && slices.Contains(f.Values, "ec2."+ri.Name+".amazonaws.com")
			default:
				return nil, Errorf(400, "InvalidParameterValue", "The filter '%s' is invalid", f.Name)
			}
		}
		if ok {
			out.Regions = append(out.Regions, ec2RegionInfo{RegionName: ri.Name, RegionEndpoint: "ec2." + ri.Name + ".amazonaws.com",
				OptInStatus: ri.OptInStatus})
		}
	}
	return out, nil
}

// ---- instances ----

// settleLocked relaunches the instances of open persistent spot requests
// whose instance was terminated, as the spot service does.
func (s *Sim) settleLocked(rg *ec2Region, now time.Time) {
	for _, sr := range rg.spotOrder {
		if sr.Type != "persistent" || sr.State != "open" {
			continue
		}
		in := s.launchLocked(rg, now, sr.ImageID, sr.InstanceType, sr.KeyName, s.ids.hexID("r", 17), 0, nil, sr.Requester)
		in.SpotRequestID = sr.ID
		sr.InstanceID, sr.State, sr.StatusCode, sr.StatusMessage, sr.Updated = in.ID, "active", "fulfilled",
			"Your spot request is fulfilled.", now
	}
}

// launchLocked creates a running instance.
func (s *Sim) launchLocked(rg *ec2Region, now time.Time, image, typ, key, reservation string, index int, tags []Tag, requester string) *instance {
	in := &instance{ID: s.ids.hexID("i", 17), ReservationID: reservation, ImageID: image, Type: typ, KeyName: key,
		AZ: rg.name + string(rune('a'+index%3)), State: stateRunning, Launched: now.UTC().Truncate(time.Second),
		Tags: slices.Clone(tags), Index: index, Requester: requester,
		PrivateIP: fmt.Sprintf("172.31.%d.%d", 1+int(s.ids.float()*250), 1+int(s.ids.float()*250))}
	rg.instances[in.ID] = in
	rg.order = append(rg.order, in)
	return in
}

// visible reports whether DescribeInstances still shows in at now.
func (in *instance) visible(now time.Time) bool {
	return in.State != stateTerminated || now.Sub(in.Terminated) < terminatedVisible
}

// lookupInstances resolves InstanceId.N, or answers as EC2 does for
// malformed and unknown ids.
func (s *Sim) lookupInstances(rg *ec2Region, ids []string, now time.Time) ([]*instance, error) {
	var out []*instance
	var missing []string
	for _, id := range ids {
		if !ec2ValidID(id, "i") {
			return nil, Errorf(400, "InvalidInstanceID.Malformed", "Invalid id: \"%s\"", id)
		}
		in := rg.instances[id]
		if in == nil || !in.visible(now) {
			missing = append(missing, id)
			continue
		}
		out = append(out, in)
	}
	switch len(missing) {
	case 0:
		return out, nil
	case 1:
		return nil, Errorf(400, "InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", missing[0])
	}
	return nil, Errorf(400, "InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
}

// ec2ValidID reports whether id is prefix- followed by 8 or 17 hex digits.
func ec2ValidID(id, prefix string) bool {
	h, ok := strings.CutPrefix(id, prefix+"-")
	if !ok || (len(h) != 8 && len(h) != 17) {
		return false
	}
	for _, c := range h {
		if !strings.ContainsRune(lowerHex, c) {
			return false
		}
	}
	return true
}

// ec2TagFilter matches "tag:Key" and "tag-key" filters against tags.
func ec2TagFilter(f ec2Filter, tags []Tag) (match, handled bool) {
	if k, ok := strings.CutPrefix(f.Name, "tag:"); ok {
		for _, t := range tags {
			if t.Key == k && slices.ContainsFunc(f.Values, func(v string) bool { return wildcardMatch(v, t.Value) }) {
				return true, true
			}
		}
		return false, true
	}
	if f.Name == "tag-key" {
		for _, t := range tags {
			if slices.Contains(f.Values, t.Key) {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}

func instanceMatches(in *instance, filters []ec2Filter) (bool, error) {
	for _, f := range filters {
		if m, ok := ec2TagFilter(f, in.Tags); ok {
			if !m {
				return false, nil
			}
			continue
		}
		var have string
		switch f.Name {
		case "instance-id":
			have = in.ID
		case "instance-state-name":
			have = in.State
		case "instance-state-code":
			have = strconv.Itoa(ec2StateCodes[in.State])
		case "instance-type":
			have = in.Type
		case "key-name":
			have = in.KeyName
		case "image-id":
			have = in.ImageID
		case "reservation-id":
			have = in.ReservationID
		case "availability-zone":
			have = in.AZ
		case "spot-instance-request-id":
			have = in.SpotRequestID
		case "instance-lifecycle":
			if in.SpotRequestID != "" {
				have = "spot"
			}
		default:
			return false, Errorf(400, "InvalidParameterValue", "The filter '%s' is invalid", f.Name)
		}
		if !slices.ContainsFunc(f.Values, func(v string) bool { return wildcardMatch(v, have) }) {
			return false, nil
		}
	}
	return true, nil
}

func (s *Sim) ec2DescribeInstances(r *Request) (any, error) {
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	s.settleLocked(rg, r.Now)
	ids := ec2List(r.Form, "InstanceId")
	max, err := ec2MaxResults(r.Form)
	if err != nil {
		return nil, err
	}
	if max > 0 && len(ids) > 0 {
		return nil, Errorf(400, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	off, err := parseEC2Token("instances", r.Param("NextToken"))
	if err != nil {
		return nil, err
	}
	filters := ec2Filters(r.Form)
	var list []*instance
	if len(ids) > 0 {
		if list, err = s.lookupInstances(rg, ids, r.Now); err != nil {
			return nil, err
		}
	} else {
		for _, in := range rg.order {
			if in.visible(r.Now) {
				list = append(list, in)
			}
		}
	}
	var hits []*instance
	for _, in := range list {
		ok, err := instanceMatches(in, filters)
		if err != nil {
			return nil, err
		}
		if ok {
			hits = append(hits, in)
		}
	}
	page, next := ec2Page(hits, off, max)
	out := describeInstancesResult{Reservations: []ec2Reservation{}}
	for _, in := range page {
		n := len(out.Reservations)
		if n == 0 || out.Reservations[n-1].ReservationID != in.ReservationID {
			out.Reservations = append(out.Reservations, ec2Reservation{ReservationID: in.ReservationID, OwnerID: s.acct.ID})
			n++
		}
		out.Reservations[n-1].InstancesSet = append(out.Reservations[n-1].InstancesSet, rg.view(in, in.State))
	}
	if next >= 0 {
		out.NextToken = ec2Token("instances", next)
	}
	return out, nil
}

type runInstancesResult struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	GroupSet      []ec2Group    `xml:"groupSet>item"`
	InstancesSet  []ec2Instance `xml:"instancesSet>item"`
}

func (s *Sim) ec2RunInstances(r *Request) (any, error) {
	f := r.Form
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	image, typ, key := f.Get("ImageId"), f.Get("InstanceType"), f.Get("KeyName")
	if typ == "" {
		typ = "m1.small"
	}
	minC, err1 := strconv.Atoi(f.Get("MinCount"))
	maxC, err2 := strconv.Atoi(f.Get("MaxCount"))
	tags := ec2TagSpecs(f, "instance")
	params := map[string]any{
		"instancesSet":          map[string]any{"items": []any{map[string]any{"imageId": image, "minCount": minC, "maxCount": maxC, "keyName": key}}},
		"instanceType":          typ,
		"blockDeviceMapping":    map[string]any{},
		"monitoring":            map[string]any{"enabled": false},
		"disableApiTermination": ec2Bool(f, "DisableApiTermination"),
		"disableApiStop":        ec2Bool(f, "DisableApiStop"),
	}
	if len(tags) > 0 {
		params["tagSpecificationSet"] = map[string]any{"items": []any{map[string]any{"resourceType": "instance", "tags": ec2CtTags(ec2Tags(tags))}}}
	}
	r.RequestParameters = params
	switch {
	case image == "":
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter ImageId")
	case err1 != nil || err2 != nil:
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameters MinCount and MaxCount")
	case minC < 1 || maxC < minC:
		return nil, Errorf(400, "InvalidParameterValue", "Invalid value '%d' for MaxCount. Must be at least MinCount (%d) and at least 1.", maxC, minC)
	case maxC > 100:
		return nil, Errorf(400, "InstanceLimitExceeded", "You have requested more instances (%d) than your current instance limit of 100 allows for the specified instance type.", maxC)
	}
	rg := s.ec2region(r.Region)
	if key != "" && rg.keyPairs[key] == nil {
		return nil, Errorf(400, "InvalidKeyPair.NotFound", "The key pair '%s' does not exist", key)
	}
	res := runInstancesResult{ReservationID: s.ids.hexID("r", 17), OwnerID: s.acct.ID, GroupSet: []ec2Group{}}
	var items []any
	for i := range maxC {
		in := s.launchLocked(rg, r.Now, image, typ, key, res.ReservationID, i, tags, r.Caller.ARN)
		in.DisableTermination, in.DisableStop = ec2Bool(f, "DisableApiTermination"), ec2Bool(f, "DisableApiStop")
		v := rg.view(in, statePending)
		res.InstancesSet = append(res.InstancesSet, v)
		items = append(items, ctInstance(v, in.Launched))
		r.Resources = append(r.Resources, s.instanceResource(r.Region, in.ID))
	}
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "reservationId": res.ReservationID, "ownerId": s.acct.ID,
		"groupSet": map[string]any{}, "instancesSet": map[string]any{"items": items}}
	return res, nil
}

type ec2StateChange struct {
	InstanceID    string       `xml:"instanceId"`
	CurrentState  ec2InstState `xml:"currentState"`
	PreviousState ec2InstState `xml:"previousState"`
}

type ec2StateChangeResult struct {
	Instances []ec2StateChange `xml:"instancesSet>item"`
}

// changeState runs StopInstances and TerminateInstances.
func (s *Sim) changeState(r *Request, terminate bool) (any, error) {
	ids := ec2List(r.Form, "InstanceId")
	r.RequestParameters = map[string]any{"instancesSet": instanceIDItems(ids), "force": ec2Bool(r.Form, "Force")}
	if len(ids) == 0 {
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter InstanceId")
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	list, err := s.lookupInstances(rg, ids, r.Now)
	if err != nil {
		return nil, err
	}
	for _, in := range list {
		r.Resources = append(r.Resources, s.instanceResource(r.Region, in.ID))
	}
	for _, in := range list {
		switch {
		case terminate && in.DisableTermination && in.State != stateTerminated:
			return nil, Errorf(400, "OperationNotPermitted",
				"The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.", in.ID)
		case !terminate && in.DisableStop && in.State == stateRunning:
			return nil, Errorf(400, "OperationNotPermitted",
				"The instance '%s' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.", in.ID)
		case !terminate && in.State == stateTerminated:
			return nil, Errorf(400, "IncorrectInstanceState", "This instance '%s' is not in a state from which it can be stopped.", in.ID)
		case !terminate && in.SpotRequestID != "":
			return nil, Errorf(400, "UnsupportedOperation", "You can't stop the Spot Instance '%s' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.", in.ID)
		}
	}
	out := ec2StateChangeResult{}
	var items []any
	for _, in := range list {
		prev := in.State
		cur := prev
		switch {
		case terminate && prev != stateTerminated:
			cur = stateShuttingDown
			in.State, in.Terminated = stateTerminated, r.Now
			if sr := rg.spot[in.SpotRequestID]; sr != nil && sr.InstanceID == in.ID && sr.State == "active" {
				if sr.Type == "persistent" {
					sr.State, sr.StatusCode = "open", "instance-terminated-by-user"
				} else {
					sr.State, sr.StatusCode = "closed", "instance-terminated-by-user"
				}
				sr.StatusMessage, sr.Updated = "Spot Instance terminated due to user-initiated termination.", r.Now
				sr.InstanceID = ""
			}
		case !terminate && prev == stateRunning:
			cur = stateStopping
			in.State = stateStopped
		}
		sc := ec2StateChange{InstanceID: in.ID, CurrentState: ec2StateOf(cur), PreviousState: ec2StateOf(prev)}
		out.Instances = append(out.Instances, sc)
		items = append(items, map[string]any{"instanceId": in.ID,
			"currentState":  map[string]any{"code": sc.CurrentState.Code, "name": sc.CurrentState.Name},
			"previousState": map[string]any{"code": sc.PreviousState.Code, "name": sc.PreviousState.Name}})
	}
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "instancesSet": map[string]any{"items": items}}
	return out, nil
}

func (s *Sim) ec2StopInstances(r *Request) (any, error)      { return s.changeState(r, false) }
func (s *Sim) ec2TerminateInstances(r *Request) (any, error) { return s.changeState(r, true) }

type ec2BoolValue struct {
	Value bool `xml:"value"`
}

type instanceAttributeResult struct {
	InstanceID            string        `xml:"instanceId"`
	DisableAPITermination *ec2BoolValue `xml:"disableApiTermination,omitempty"`
	DisableAPIStop        *ec2BoolValue `xml:"disableApiStop,omitempty"`
	InstanceType          *struct {
		Value string `xml:"value"`
	} `xml:"instanceType,omitempty"`
}

func (s *Sim) ec2DescribeInstanceAttribute(r *Request) (any, error) {
	id, attr := r.Param("InstanceId"), r.Param("Attribute")
	r.RequestParameters = map[string]any{"instanceId": id, "attribute": attr}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	list, err := s.lookupInstances(s.ec2region(r.Region), []string{id}, r.Now)
	if err != nil {
		return nil, err
	}
	in := list[0]
	r.Resources = []EventResource{s.instanceResource(r.Region, in.ID)}
	out := instanceAttributeResult{InstanceID: in.ID}
	switch attr {
	case "disableApiTermination":
		out.DisableAPITermination = &ec2BoolValue{in.DisableTermination}
	case "disableApiStop":
		out.DisableAPIStop = &ec2BoolValue{in.DisableStop}
	case "instanceType":
		out.InstanceType = &struct {
			Value string `xml:"value"`
		}{in.Type}
	default:
		return nil, Errorf(400, "InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	return out, nil
}

type ec2ReturnResult struct {
	Return bool `xml:"return"`
}

func (s *Sim) ec2ModifyInstanceAttribute(r *Request) (any, error) {
	f := r.Form
	id := f.Get("InstanceId")
	var term, stop *bool
	setter := func(v string) *bool {
		b, _ := strconv.ParseBool(v)
		return &b
	}
	if _, ok := f["DisableApiTermination.Value"]; ok {
		term = setter(f.Get("DisableApiTermination.Value"))
	}
	if _, ok := f["DisableApiStop.Value"]; ok {
		stop = setter(f.Get("DisableApiStop.Value"))
	}
	switch f.Get("Attribute") {
	case "":
	case "disableApiTermination":
		term = setter(f.Get("Value"))
	case "disableApiStop":
		stop = setter(f.Get("Value"))
	default:
		return nil, Errorf(400, "InvalidParameterValue", "Value (%s) for parameter attribute is invalid. Unknown attribute.", f.Get("Attribute"))
	}
	params := map[string]any{"instanceId": id}
	if term != nil {
		params["disableApiTermination"] = map[string]any{"value": *term}
	}
	if stop != nil {
		params["disableApiStop"] = map[string]any{"value": *stop}
	}
	r.RequestParameters = params
	if term == nil && stop == nil {
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter attribute")
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	list, err := s.lookupInstances(s.ec2region(r.Region), []string{id}, r.Now)
	if err != nil {
		return nil, err
	}
	in := list[0]
	r.Resources = []EventResource{s.instanceResource(r.Region, in.ID)}
	if term != nil {
		in.DisableTermination = *term
	}
	if stop != nil {
		in.DisableStop = *stop
	}
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "_return": true}
	return ec2ReturnResult{Return: true}, nil
}

// ---- spot ----

type ec2SpotStatus struct {
	Code       string `xml:"code"`
	Message    string `xml:"message"`
	UpdateTime string `xml:"updateTime"`
}

type ec2LaunchSpec struct {
	ImageID      string     `xml:"imageId"`
	KeyName      string     `xml:"keyName,omitempty"`
	InstanceType string     `xml:"instanceType"`
	GroupSet     []ec2Group `xml:"groupSet>item"`
}

type ec2SpotRequest struct {
	SpotInstanceRequestID    string        `xml:"spotInstanceRequestId"`
	SpotPrice                string        `xml:"spotPrice"`
	Type                     string        `xml:"type"`
	State                    string        `xml:"state"`
	Status                   ec2SpotStatus `xml:"status"`
	LaunchSpecification      ec2LaunchSpec `xml:"launchSpecification"`
	InstanceID               string        `xml:"instanceId,omitempty"`
	CreateTime               string        `xml:"createTime"`
	ProductDescription       string        `xml:"productDescription"`
	InstanceInterruption     string        `xml:"instanceInterruptionBehavior"`
	LaunchedAvailabilityZone string        `xml:"launchedAvailabilityZone,omitempty"`
	TagSet                   []ec2Tag      `xml:"tagSet>item"`
}

type spotRequestsResult struct {
	Requests  []ec2SpotRequest `xml:"spotInstanceRequestSet>item"`
	NextToken string           `xml:"nextToken,omitempty"`
}

func (rg *ec2Region) spotView(sr *spotRequest) ec2SpotRequest {
	v := ec2SpotRequest{SpotInstanceRequestID: sr.ID, SpotPrice: sr.Price, Type: sr.Type, State: sr.State,
		Status:              ec2SpotStatus{Code: sr.StatusCode, Message: sr.StatusMessage, UpdateTime: isoTime(sr.Updated)},
		LaunchSpecification: ec2LaunchSpec{ImageID: sr.ImageID, KeyName: sr.KeyName, InstanceType: sr.InstanceType, GroupSet: []ec2Group{{GroupID: rg.sg.ID, GroupName: rg.sg.Name}}},
		InstanceID:          sr.InstanceID, CreateTime: isoTime(sr.Created), ProductDescription: "Linux/UNIX",
		InstanceInterruption: "terminate", TagSet: ec2Tags(sr.Tags)}
	if sr.InstanceID != "" {
		v.LaunchedAvailabilityZone = rg.name + "a"
	}
	return v
}

func ctSpot(v ec2SpotRequest) map[string]any {
	return map[string]any{"spotInstanceRequestId": v.SpotInstanceRequestID, "spotPrice": v.SpotPrice, "type": v.Type,
		"state": v.State, "status": map[string]any{"code": v.Status.Code, "message": v.Status.Message},
		"launchSpecification": map[string]any{"imageId": v.LaunchSpecification.ImageID, "keyName": v.LaunchSpecification.KeyName,
			"instanceType": v.LaunchSpecification.InstanceType},
		"productDescription": v.ProductDescription}
}

func (s *Sim) ec2RequestSpotInstances(r *Request) (any, error) {
	f := r.Form
	typ := f.Get("Type")
	if typ == "" {
		typ = "one-time"
	}
	count := 1
	if v := f.Get("InstanceCount"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 20 {
			return nil, Errorf(400, "InvalidParameterValue", "Invalid value '%s' for instanceCount.", v)
		}
		count = n
	}
	image, itype, key := f.Get("LaunchSpecification.ImageId"), f.Get("LaunchSpecification.InstanceType"), f.Get("LaunchSpecification.KeyName")
	price := f.Get("SpotPrice")
	if price == "" {
		price = "10.000000"
	}
	r.RequestParameters = map[string]any{"spotPrice": f.Get("SpotPrice"), "instanceCount": count, "type": typ,
		"launchSpecification": map[string]any{"imageId": image, "instanceType": itype, "keyName": key}}
	if typ != "one-time" && typ != "persistent" {
		return nil, Errorf(400, "InvalidParameterValue", "Value (%s) for parameter type is invalid.", typ)
	}
	if image == "" || itype == "" {
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter launchSpecification.imageId and launchSpecification.instanceType")
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	if key != "" && rg.keyPairs[key] == nil {
		return nil, Errorf(400, "InvalidKeyPair.NotFound", "The key pair '%s' does not exist", key)
	}
	tags := ec2TagSpecs(f, "spot-instances-request")
	out := spotRequestsResult{}
	var items []any
	for range count {
		sr := &spotRequest{ID: "sir-" + s.ids.str("abcdefghijklmnopqrstuvwxyz0123456789", 8), Type: typ, State: "open",
			StatusCode: "pending-evaluation", StatusMessage: "Your Spot request has been submitted for review, and is pending evaluation.",
			Price: price, InstanceType: itype, ImageID: image, KeyName: key, Created: r.Now, Updated: r.Now, Tags: tags,
			Requester: r.Caller.ARN}
		rg.spot[sr.ID] = sr
		rg.spotOrder = append(rg.spotOrder, sr)
		v := rg.spotView(sr)
		out.Requests = append(out.Requests, v)
		items = append(items, ctSpot(v))
		// The spot service fulfils the request at once.
		in := s.launchLocked(rg, r.Now, image, itype, key, s.ids.hexID("r", 17), 0, nil, r.Caller.ARN)
		in.SpotRequestID = sr.ID
		sr.InstanceID, sr.State, sr.StatusCode, sr.StatusMessage = in.ID, "active", "fulfilled", "Your spot request is fulfilled."
	}
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "spotInstanceRequestSet": map[string]any{"items": items}}
	return out, nil
}

func (s *Sim) ec2DescribeSpotInstanceRequests(r *Request) (any, error) {
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	s.settleLocked(rg, r.Now)
	max, err := ec2MaxResults(r.Form)
	if err != nil {
		return nil, err
	}
	off, err := parseEC2Token("spot", r.Param("NextToken"))
	if err != nil {
		return nil, err
	}
	ids := ec2List(r.Form, "SpotInstanceRequestId")
	for _, id := range ids {
		if rg.spot[id] == nil {
			return nil, Errorf(400, "InvalidSpotInstanceRequestID.NotFound", "The spot instance request ID '%s' does not exist", id)
		}
	}
	filters := ec2Filters(r.Form)
	var hits []*spotRequest
	for _, sr := range rg.spotOrder {
		if len(ids) > 0 && !slices.Contains(ids, sr.ID) {
			continue
		}
		ok := true
		for _, fl := range filters {
			if m, handled := ec2TagFilter(fl, sr.Tags); handled {
				ok = ok && m
				continue
			}
			var have string
			switch fl.Name {
			case "state":
				have = sr.State
			case "type":
				have = sr.Type
			case "instance-id":
				have = sr.InstanceID
			case "spot-instance-request-id":
				have = sr.ID
			case "status-code":
				have = sr.StatusCode
			default:
				return nil, Errorf(400, "InvalidParameterValue", "The filter '%s' is invalid", fl.Name)
			}
			ok = ok && slices.Contains(fl.Values, have)
		}
		if ok {
			hits = append(hits, sr)
		}
	}
	page, next := ec2Page(hits, off, max)
	out := spotRequestsResult{Requests: []ec2SpotRequest{}}
	for _, sr := range page {
		out.Requests = append(out.Requests, rg.spotView(sr))
	}
	if next >= 0 {
		out.NextToken = ec2Token("spot", next)
	}
	return out, nil
}

type cancelledSpot struct {
	SpotInstanceRequestID string `xml:"spotInstanceRequestId"`
	State                 string `xml:"state"`
}

type cancelSpotResult struct {
	Requests []cancelledSpot `xml:"spotInstanceRequestSet>item"`
}

func (s *Sim) ec2CancelSpotInstanceRequests(r *Request) (any, error) {
	ids := ec2List(r.Form, "SpotInstanceRequestId")
	params := make([]any, 0, len(ids))
	for _, id := range ids {
		params = append(params, map[string]any{"spotInstanceRequestId": id})
	}
	r.RequestParameters = map[string]any{"spotInstanceRequestIdSet": map[string]any{"items": params}}
	if len(ids) == 0 {
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter SpotInstanceRequestId")
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	for _, id := range ids {
		if rg.spot[id] == nil {
			return nil, Errorf(400, "InvalidSpotInstanceRequestID.NotFound", "The spot instance request ID '%s' does not exist", id)
		}
	}
	out := cancelSpotResult{}
	var items []any
	for _, id := range ids {
		sr := rg.spot[id]
		if sr.State == "open" || sr.State == "active" {
			// Cancelling leaves the instance running, as at AWS.
			if in := rg.instances[sr.InstanceID]; in != nil && in.State != stateTerminated {
				sr.StatusCode, sr.StatusMessage = "request-canceled-and-instance-running",
					"Spot Instance request is canceled, but the instance is still running."
			} else {
				sr.StatusCode, sr.StatusMessage = "canceled-before-fulfillment", "You canceled the Spot request before it was fulfilled."
			}
			sr.State, sr.Updated = "cancelled", r.Now
		}
		out.Requests = append(out.Requests, cancelledSpot{SpotInstanceRequestID: sr.ID, State: sr.State})
		items = append(items, map[string]any{"spotInstanceRequestId": sr.ID, "state": sr.State})
	}
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "spotInstanceRequestSet": map[string]any{"items": items}}
	return out, nil
}

// ---- key pairs ----

type ec2KeyPair struct {
	KeyPairID      string   `xml:"keyPairId"`
	KeyName        string   `xml:"keyName"`
	KeyFingerprint string   `xml:"keyFingerprint"`
	KeyType        string   `xml:"keyType"`
	CreateTime     string   `xml:"createTime"`
	TagSet         []ec2Tag `xml:"tagSet>item"`
}

type describeKeyPairsResult struct {
	Keys []ec2KeyPair `xml:"keySet>item"`
}

func (s *Sim) ec2DescribeKeyPairs(r *Request) (any, error) {
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	names, pairIDs := ec2List(r.Form, "KeyName"), ec2List(r.Form, "KeyPairId")
	for _, n := range names {
		if rg.keyPairs[n] == nil {
			return nil, Errorf(400, "InvalidKeyPair.NotFound", "The key pair '%s' does not exist", n)
		}
	}
	var kps []*keyPair
	for _, kp := range rg.keyPairs {
		kps = append(kps, kp)
	}
	sort.Slice(kps, func(i, j int) bool { return kps[i].Name < kps[j].Name })
	for _, id := range pairIDs {
		if !slices.ContainsFunc(kps, func(kp *keyPair) bool { return kp.ID == id }) {
			return nil, Errorf(400, "InvalidKeyPair.NotFound", "The key pair ID '%s' does not exist", id)
		}
	}
	out := describeKeyPairsResult{Keys: []ec2KeyPair{}}
	for _, kp := range kps {
		if len(names) > 0 && !slices.Contains(names, kp.Name) || len(pairIDs) > 0 && !slices.Contains(pairIDs, kp.ID) {
			continue
		}
		out.Keys = append(out.Keys, ec2KeyPair{KeyPairID: kp.ID, KeyName: kp.Name, KeyFingerprint: kp.Fingerprint, KeyType: kp.Type,
			CreateTime: isoTime(kp.Created), TagSet: ec2Tags(kp.Tags)})
	}
	return out, nil
}

type importKeyPairResult struct {
	KeyFingerprint string `xml:"keyFingerprint"`
	KeyName        string `xml:"keyName"`
	KeyPairID      string `xml:"keyPairId"`
}

func (s *Sim) ec2ImportKeyPair(r *Request) (any, error) {
	name := r.Param("KeyName")
	r.RequestParameters = map[string]any{"keyName": name, "publicKeyMaterial": "<sensitiveDataRemoved>"}
	if name == "" {
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter KeyName")
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	material, err := base64.StdEncoding.DecodeString(r.Param("PublicKeyMaterial"))
	fields := strings.Fields(string(material))
	var blob []byte
	if err == nil && len(fields) >= 2 {
		blob, err = base64.StdEncoding.DecodeString(fields[1])
	}
	if err != nil || len(fields) < 2 || !strings.HasPrefix(fields[0], "ssh-") && !strings.HasPrefix(fields[0], "ecdsa-") {
		return nil, Errorf(400, "InvalidKey.Format", "Key is not in valid OpenSSH public key format")
	}
	rg := s.ec2region(r.Region)
	if rg.keyPairs[name] != nil {
		return nil, Errorf(400, "InvalidKeyPair.Duplicate", "The keypair already exists")
	}
	sum := md5.Sum(blob)
	var fp []string
	for _, b := range sum {
		fp = append(fp, fmt.Sprintf("%02x", b))
	}
	typ := "rsa"
	if fields[0] == "ssh-ed25519" {
		typ = "ed25519"
	}
	kp := &keyPair{Name: name, ID: s.ids.hexID("key", 17), Fingerprint: strings.Join(fp, ":"), Type: typ, Created: r.Now,
		Tags: ec2TagSpecs(r.Form, "key-pair")}
	rg.keyPairs[name] = kp
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "keyName": name, "keyFingerprint": kp.Fingerprint, "keyPairId": kp.ID}
	return importKeyPairResult{KeyFingerprint: kp.Fingerprint, KeyName: name, KeyPairID: kp.ID}, nil
}

type deleteKeyPairResult struct {
	Return    bool   `xml:"return"`
	KeyPairID string `xml:"keyPairId,omitempty"`
}

func (s *Sim) ec2DeleteKeyPair(r *Request) (any, error) {
	name, id := r.Param("KeyName"), r.Param("KeyPairId")
	if name == "" && id == "" {
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameter KeyName or KeyPairId")
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	out := deleteKeyPairResult{Return: true}
	for n, kp := range rg.keyPairs {
		if n == name || kp.ID == id {
			out.KeyPairID = kp.ID
			delete(rg.keyPairs, n)
		}
	}
	// Deleting a key pair that does not exist succeeds, as at AWS.
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "_return": true}
	return out, nil
}

// ---- security groups and tags ----

// ec2MergeTags sets tags on a resource's tag list, replacing equal keys.
func ec2MergeTags(have []Tag, add []Tag) []Tag {
	for _, t := range add {
		i := slices.IndexFunc(have, func(h Tag) bool { return h.Key == t.Key })
		if i >= 0 {
			have[i] = t
		} else {
			have = append(have, t)
		}
	}
	return have
}

func (s *Sim) ec2CreateTags(r *Request) (any, error) {
	ids := ec2List(r.Form, "ResourceId")
	tags := ec2TagsParam(r.Form, "")
	resItems := make([]any, 0, len(ids))
	for _, id := range ids {
		resItems = append(resItems, map[string]any{"resourceId": id})
	}
	r.RequestParameters = map[string]any{"resourcesSet": map[string]any{"items": resItems},
		"tagSet": map[string]any{"items": ec2CtTags(ec2Tags(tags))}}
	if len(ids) == 0 || len(tags) == 0 {
		return nil, Errorf(400, "MissingParameter", "The request must contain the parameters ResourceId and Tag")
	}
	if err := ec2DryRun(r); err != nil {
		return nil, err
	}
	rg := s.ec2region(r.Region)
	type target struct{ tags *[]Tag }
	var targets []target
	for _, id := range ids {
		switch {
		case strings.HasPrefix(id, "i-"):
			list, err := s.lookupInstances(rg, []string{id}, r.Now)
			if err != nil {
				return nil, err
			}
			targets = append(targets, target{&list[0].Tags})
			r.Resources = append(r.Resources, s.instanceResource(r.Region, id))
		case strings.HasPrefix(id, "sir-"):
			sr := rg.spot[id]
			if sr == nil {
				return nil, Errorf(400, "InvalidSpotInstanceRequestID.NotFound", "The spot instance request ID '%s' does not exist", id)
			}
			targets = append(targets, target{&sr.Tags})
		case rg.groups[id] != nil:
			targets = append(targets, target{&rg.groups[id].Tags})
		default:
			return nil, Errorf(400, "InvalidID", "The ID '%s' is not valid", id)
		}
	}
	for _, t := range targets {
		*t.tags = ec2MergeTags(*t.tags, tags)
	}
	r.ResponseElements = map[string]any{"requestId": r.RequestID, "_return": true}
	return ec2ReturnResult{Return: true}, nil
}
