package sim

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AWS Config (JSON 1.1, X-Amz-Target StarlingDoveService.*, signing name
// "config"): a configuration recorder in the home Region only (the other
// Regions have none, as an account that set Config up in one Region), which
// records a configuration item for every resource the drill holds there —
// IAM users and roles (global resources, recorded in the home Region),
// EC2 instances and security groups — each time a call changes it:
// ResourceDiscovered when first seen, OK on a change, ResourceDeleted when
// it is gone. configNoteLocked runs after every successful write call
// (server.go) and before every history read.

const configRecorder = "default"

// configTypes are the resource types the drill's recorder records.
var configTypes = []string{"AWS::EC2::Instance", "AWS::EC2::SecurityGroup", "AWS::IAM::Role", "AWS::IAM::User"}

// configState is the Config service's state.
type configState struct {
	// recording says which Regions have a recorder that records.
	recording map[string]bool
	started   time.Time
	// items are every resource's items, oldest first, by type|id.
	items map[string][]*configItem
	// last is the configuration JSON of each resource's last item, fp
	// the fingerprint it was made from (configSnap.fp).
	last, fp map[string]string
}

// configItem is one configuration item.
type configItem struct {
	Version                      string            `json:"version"`
	AccountID                    string            `json:"accountId"`
	ConfigurationItemCaptureTime float64           `json:"configurationItemCaptureTime"`
	ConfigurationItemStatus      string            `json:"configurationItemStatus"`
	ConfigurationStateID         string            `json:"configurationStateId"`
	ConfigurationItemMD5Hash     string            `json:"configurationItemMD5Hash"`
	ARN                          string            `json:"arn"`
	ResourceType                 string            `json:"resourceType"`
	ResourceID                   string            `json:"resourceId"`
	ResourceName                 string            `json:"resourceName,omitempty"`
	AwsRegion                    string            `json:"awsRegion"`
	AvailabilityZone             string            `json:"availabilityZone,omitempty"`
	ResourceCreationTime         *float64          `json:"resourceCreationTime,omitempty"`
	Tags                         map[string]string `json:"tags"`
	RelatedEvents                []string          `json:"relatedEvents"`
	Relationships                []any             `json:"relationships"`
	Configuration                string            `json:"configuration,omitempty"`
	SupplementaryConfiguration   map[string]string `json:"supplementaryConfiguration"`
}

func configService(s *Sim) *Service {
	return &Service{Name: "config", EventSource: "config.amazonaws.com", Protocol: ProtoJSON,
		Ops: map[string]Op{
			"DescribeConfigurationRecorderStatus": {Handle: s.configRecorderStatus, ReadOnly: true},
			"DescribeConfigurationRecorders":      {Handle: s.configRecorders, ReadOnly: true},
			"GetResourceConfigHistory":            {Handle: s.configHistory, ReadOnly: true},
		}}
}

func (s *Sim) configstate() *configState {
	return s.State("config", func() any {
		return &configState{recording: map[string]bool{HomeRegion: true}, started: s.bornSim.UTC(),
			items: map[string][]*configItem{}, last: map[string]string{}, fp: map[string]string{}}
	}).(*configState)
}

// SetConfigRecording turns the recorder of a Region on (one is made if
// there was none) or off (the recorder stays, recording=false).
func (s *Sim) SetConfigRecording(region string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.configstate().recording[region] = on
}

// ConfigItems returns the statuses of a resource's configuration items,
// oldest first: the ground truth a test compares with.
func (s *Sim) ConfigItems(resourceType, id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.configNoteAllLocked(s.clock.Now().UTC())
	var out []string
	for _, it := range s.configstate().items[resourceType+"|"+id] {
		out = append(out, it.ConfigurationItemStatus)
	}
	return out
}

// configInput is every field the operations read.
type configInput struct {
	ConfigurationRecorderNames []string `json:"ConfigurationRecorderNames"`
	ResourceType               string   `json:"resourceType"`
	ResourceID                 string   `json:"resourceId"`
	LaterTime                  *float64 `json:"laterTime"`
	EarlierTime                *float64 `json:"earlierTime"`
	ChronologicalOrder         string   `json:"chronologicalOrder"`
	Limit                      *int     `json:"limit"`
	NextToken                  string   `json:"nextToken"`
}

func readConfigInput(r *Request) (configInput, *Error) {
	var in configInput
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &in); err != nil {
			return in, Errorf(400, "SerializationException", "Cannot parse the request body")
		}
		var raw map[string]any
		if json.Unmarshal(r.Body, &raw) == nil && len(raw) > 0 {
			r.RequestParameters = raw
		}
	}
	return in, nil
}

// recordersIn returns the names of a Region's recorders (none, or one).
func (st *configState) recordersIn(region string) []string {
	if _, ok := st.recording[region]; ok {
		return []string{configRecorder}
	}
	return nil
}

// configNamed reads the request and returns the recorders of its Region
// it names (all when it names none).
func (s *Sim) configNamed(r *Request) ([]string, *Error) {
	in, e := readConfigInput(r)
	if e != nil {
		return nil, e
	}
	have := s.configstate().recordersIn(r.Region)
	for _, n := range in.ConfigurationRecorderNames {
		if !slices.Contains(have, n) {
			return nil, Errorf(400, "NoSuchConfigurationRecorderException", "Cannot find configuration recorder with the specified name '%s'.", n)
		}
	}
	return have, nil
}

func (s *Sim) configRecorderStatus(r *Request) (any, error) {
	names, e := s.configNamed(r)
	if e != nil {
		return nil, e
	}
	st := s.configstate()
	list := []map[string]any{}
	for _, n := range names {
		on := st.recording[r.Region]
		m := map[string]any{"name": n, "recording": on, "lastStartTime": epoch(st.started),
			"lastStatusChangeTime": epoch(r.Now), "lastStatus": "SUCCESS"}
		if !on {
			m["lastStopTime"] = epoch(st.started)
			m["lastStatus"] = "PENDING"
		}
		list = append(list, m)
	}
	return map[string]any{"ConfigurationRecordersStatus": list}, nil
}

func (s *Sim) configRecorders(r *Request) (any, error) {
	names, e := s.configNamed(r)
	if e != nil {
		return nil, e
	}
	list := []map[string]any{}
	for _, n := range names {
		list = append(list, map[string]any{"name": n,
			"roleARN":        fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig", s.acct.ID),
			"recordingGroup": map[string]any{"allSupported": true, "includeGlobalResourceTypes": r.Region == HomeRegion}})
	}
	return map[string]any{"ConfigurationRecorders": list}, nil
}

func (s *Sim) configHistory(r *Request) (any, error) {
	in, e := readConfigInput(r)
	if e != nil {
		return nil, e
	}
	if !slices.Contains(configTypes, in.ResourceType) && !strings.HasPrefix(in.ResourceType, "AWS::") {
		return nil, Errorf(400, "ValidationException", "1 validation error detected: Value '%s' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set", in.ResourceType)
	}
	if in.ResourceID == "" {
		return nil, Errorf(400, "ValidationException", "1 validation error detected: Value null at 'resourceId' failed to satisfy constraint: Member must not be null")
	}
	limit := 10
	if in.Limit != nil {
		if *in.Limit < 0 || *in.Limit > 100 {
			return nil, Errorf(400, "InvalidLimitException", "Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100", *in.Limit)
		}
		if *in.Limit > 0 {
			limit = *in.Limit
		}
	}
	if in.EarlierTime != nil && in.LaterTime != nil && *in.EarlierTime > *in.LaterTime {
		return nil, Errorf(400, "InvalidTimeRangeException", "The earlier time can not be later than the later time.")
	}
	if in.ChronologicalOrder != "" && in.ChronologicalOrder != "Reverse" && in.ChronologicalOrder != "Forward" {
		return nil, Errorf(400, "ValidationException", "1 validation error detected: Value '%s' at 'chronologicalOrder' failed to satisfy constraint: Member must satisfy enum value set: [Reverse, Forward]", in.ChronologicalOrder)
	}
	st := s.configstate()
	s.configNoteAllLocked(r.Now)
	all := st.items[in.ResourceType+"|"+in.ResourceID]
	var items []*configItem
	for _, it := range all {
		if s.configItemRegion(it) != r.Region {
			continue
		}
		if in.EarlierTime != nil && it.ConfigurationItemCaptureTime < *in.EarlierTime {
			continue
		}
		if in.LaterTime != nil && it.ConfigurationItemCaptureTime > *in.LaterTime {
			continue
		}
		items = append(items, it)
	}
	if len(items) == 0 && !slices.ContainsFunc(all, func(it *configItem) bool { return s.configItemRegion(it) == r.Region }) {
		return nil, Errorf(400, "ResourceNotDiscoveredException", "Resource %s of resourceType:%s is unknown or has not been discovered", in.ResourceID, in.ResourceType)
	}
	if in.ChronologicalOrder != "Forward" {
		items = slices.Clone(items)
		slices.Reverse(items)
	}
	from := 0
	bind := configBind(in)
	if in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		b, off, ok := strings.Cut(string(raw), ":")
		n, aerr := strconv.Atoi(off)
		if err != nil || !ok || aerr != nil || b != bind || n < 0 || n > len(items) {
			return nil, Errorf(400, "InvalidNextTokenException", "The nextToken provided is invalid")
		}
		from = n
	}
	end := min(from+limit, len(items))
	out := map[string]any{"configurationItems": nonNil(items[from:end])}
	if end < len(items) {
		out["nextToken"] = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s:%d", bind, end))
	}
	return out, nil
}

// configBind ties a nextToken to the request it pages.
func configBind(in configInput) string {
	in.NextToken, in.Limit = "", nil
	b, _ := json.Marshal(in)
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:6])
}

// configItemRegion is the Region an item is served in: IAM's global items
// in the home Region.
func (s *Sim) configItemRegion(it *configItem) string {
	if it.AwsRegion == "global" {
		return HomeRegion
	}
	return it.AwsRegion
}

// configNoteLocked records what a write call may have changed: IAM's
// resources after an IAM call, the Region's EC2 resources after an EC2
// call.
func (s *Sim) configNoteLocked(req *Request) {
	switch req.Service.Name {
	case "iam":
		s.configNoteIAMLocked(req.Now)
	case "ec2":
		s.configNoteEC2Locked(req.Region, req.Now)
	}
}

// configNoteAllLocked records every recorded resource's current state.
func (s *Sim) configNoteAllLocked(now time.Time) {
	s.configNoteIAMLocked(now)
	for r := range s.configstate().recording {
		s.configNoteEC2Locked(r, now)
	}
}

// configSnap is one resource's configuration as the recorder sees it.
type configSnap struct {
	typ, id, name, arn, region, az string
	created                        time.Time
	tags                           []Tag
	// fp is a cheap fingerprint of what conf shows: an item is made only
	// when it changes (and then only when the JSON differs too).
	fp   string
	conf func() any
}

// fingerprint joins parts with a separator no part holds.
func fingerprint(parts ...string) string { return strings.Join(parts, "\x00") }

func tagsFP(ts []Tag) string {
	var sb strings.Builder
	for _, t := range ts {
		sb.WriteString(t.Key + "\x01" + t.Value + "\x01")
	}
	return sb.String()
}

func inlineFP(ps []namedPolicy) string {
	var sb strings.Builder
	for _, p := range ps {
		sb.WriteString(p.Name + "\x01" + p.Document + "\x01")
	}
	return sb.String()
}

func (s *Sim) configNoteIAMLocked(now time.Time) {
	if !s.configstate().recording[HomeRegion] {
		return
	}
	var snaps []configSnap
	for _, u := range s.acct.sortedUsers() {
		if u.Deleted {
			continue
		}
		fp := fingerprint(u.Path, u.Name, u.ID, inlineFP(u.Inline), strings.Join(u.Groups, "\x01"), strings.Join(u.Attached, "\x01"), tagsFP(u.Tags))
		snaps = append(snaps, configSnap{typ: "AWS::IAM::User", id: u.ID, name: u.Name, arn: u.ARN, region: "global", created: u.Created, tags: u.Tags, fp: fp,
			conf: func() any {
				return map[string]any{"path": u.Path, "userName": u.Name, "userId": u.ID, "arn": u.ARN, "createDate": isoTime(u.Created),
					"userPolicyList": configInline(u.Inline), "groupList": nonNil(u.Groups), "attachedManagedPolicies": s.configAttached(u.Attached),
					"tags": configTagList(u.Tags)}
			}})
	}
	for _, ro := range s.acct.sortedRoles() {
		fp := fingerprint(ro.Path, ro.Name, ro.ID, ro.Trust, inlineFP(ro.Inline), strings.Join(ro.Attached, "\x01"), tagsFP(ro.Tags))
		snaps = append(snaps, configSnap{typ: "AWS::IAM::Role", id: ro.ID, name: ro.Name, arn: ro.ARN, region: "global", created: ro.Created, tags: ro.Tags, fp: fp,
			conf: func() any {
				return map[string]any{"path": ro.Path, "roleName": ro.Name, "roleId": ro.ID, "arn": ro.ARN, "createDate": isoTime(ro.Created),
					"assumeRolePolicyDocument": encodeDoc(ro.Trust), "rolePolicyList": configInline(ro.Inline), "attachedManagedPolicies": s.configAttached(ro.Attached),
					"instanceProfileList": []any{}, "tags": configTagList(ro.Tags)}
			}})
	}
	s.configApplyLocked("AWS::IAM::", "global", snaps, now)
}

// configInline is the policy list of an IAM item (documents URL-encoded,
// as Config shows them).
func configInline(ps []namedPolicy) []map[string]string {
	out := []map[string]string{}
	for _, p := range ps {
		out = append(out, map[string]string{"policyName": p.Name, "policyDocument": encodeDoc(p.Document)})
	}
	return out
}

func (s *Sim) configAttached(arns []string) []map[string]string {
	out := []map[string]string{}
	for _, a := range arns {
		out = append(out, map[string]string{"policyArn": a, "policyName": a[strings.LastIndexByte(a, '/')+1:]})
	}
	return out
}

func configTagList(ts []Tag) []map[string]string {
	out := []map[string]string{}
	for _, t := range ts {
		out = append(out, map[string]string{"key": t.Key, "value": t.Value})
	}
	return out
}

func (s *Sim) configNoteEC2Locked(region string, now time.Time) {
	if !s.configstate().recording[region] {
		return
	}
	rg := s.ec2state().regions[region]
	if rg == nil {
		return
	}
	s.settleLocked(rg, now)
	var snaps []configSnap
	for _, in := range rg.order {
		if in.State == "terminated" {
			continue // Config records a terminated instance as deleted
		}
		fp := fingerprint(in.ID, in.ImageID, in.Type, in.KeyName, in.State, in.PrivateIP, in.AZ, in.SpotRequestID,
			strconv.FormatBool(in.DisableTermination), tagsFP(in.Tags))
		snaps = append(snaps, configSnap{typ: "AWS::EC2::Instance", id: in.ID, region: region, az: in.AZ, created: in.Launched, tags: in.Tags, fp: fp,
			arn: "arn:aws:ec2:" + region + ":" + s.acct.ID + ":instance/" + in.ID,
			conf: func() any {
				return map[string]any{"instanceId": in.ID, "imageId": in.ImageID, "instanceType": in.Type, "keyName": in.KeyName,
					"launchTime": isoTime(in.Launched), "privateIpAddress": in.PrivateIP, "state": map[string]string{"name": in.State},
					"placement": map[string]string{"availabilityZone": in.AZ}, "spotInstanceRequestId": in.SpotRequestID,
					"disableApiTermination": in.DisableTermination, "tags": configTagList(in.Tags)}
			}})
	}
	for _, g := range rg.sortedGroups() {
		snaps = append(snaps, configSnap{typ: "AWS::EC2::SecurityGroup", id: g.ID, name: g.Name, region: region, tags: g.Tags, fp: sgFP(g),
			arn:  "arn:aws:ec2:" + region + ":" + s.acct.ID + ":security-group/" + g.ID,
			conf: func() any { return s.sgConfig(g) }})
	}
	s.configApplyLocked("AWS::EC2::", region, snaps, now)
}

// sgFP is a security group's fingerprint.
func sgFP(g *secGroup) string {
	var sb strings.Builder
	sb.WriteString(fingerprint(g.ID, g.Name, g.Description, g.VpcID, tagsFP(g.Tags)))
	for _, r := range g.Rules {
		fmt.Fprintf(&sb, "\x00%t|%s|%d|%d|%s|%s|%s", r.Egress, r.Protocol, r.From, r.To, r.CIDR, r.CIDRv6, r.Group)
	}
	return sb.String()
}

// sgConfig is a security group's configuration, as Config shows it.
func (s *Sim) sgConfig(g *secGroup) map[string]any {
	var ingress, egress []map[string]any
	for _, ru := range g.Rules {
		p := map[string]any{"ipProtocol": ru.Protocol, "fromPort": ru.From, "toPort": ru.To, "ipv4Ranges": []any{}, "ipv6Ranges": []any{}}
		if ru.CIDR != "" {
			p["ipv4Ranges"] = []map[string]string{{"cidrIp": ru.CIDR}}
		}
		if ru.CIDRv6 != "" {
			p["ipv6Ranges"] = []map[string]string{{"cidrIpv6": ru.CIDRv6}}
		}
		if ru.Group != "" {
			p["userIdGroupPairs"] = []map[string]string{{"groupId": ru.Group}}
		}
		if ru.Egress {
			egress = append(egress, p)
		} else {
			ingress = append(ingress, p)
		}
	}
	return map[string]any{"groupId": g.ID, "groupName": g.Name, "description": g.Description, "vpcId": g.VpcID,
		"ipPermissions": nonNil(ingress), "ipPermissionsEgress": nonNil(egress), "ownerId": s.acct.ID, "tags": configTagList(g.Tags)}
}

// configApplyLocked appends an item for each resource of snaps whose
// configuration changed, and a ResourceDeleted item for each resource of
// the types under prefix in region that is gone.
func (s *Sim) configApplyLocked(prefix, region string, snaps []configSnap, now time.Time) {
	st := s.configstate()
	seen := map[string]bool{}
	for _, sn := range snaps {
		key := sn.typ + "|" + sn.id
		seen[key] = true
		prev := st.items[key]
		live := len(prev) > 0 && prev[len(prev)-1].ConfigurationItemStatus != "ResourceDeleted"
		if live && st.fp[key] == sn.fp {
			continue
		}
		st.fp[key] = sn.fp
		b, _ := json.Marshal(sn.conf())
		conf := string(b)
		if live && st.last[key] == conf {
			continue
		}
		status := "OK"
		if len(prev) == 0 || prev[len(prev)-1].ConfigurationItemStatus == "ResourceDeleted" {
			status = "ResourceDiscovered"
		}
		sum := md5.Sum(b)
		created := epoch(sn.created)
		tags := map[string]string{}
		for _, t := range sn.tags {
			tags[t.Key] = t.Value
		}
		st.items[key] = append(prev, &configItem{Version: "1.3", AccountID: s.acct.ID, ConfigurationItemCaptureTime: epoch(now),
			ConfigurationItemStatus: status, ConfigurationStateID: strconv.FormatInt(now.UnixMilli(), 10) + strconv.Itoa(len(prev)),
			ConfigurationItemMD5Hash: hex.EncodeToString(sum[:]), ARN: sn.arn, ResourceType: sn.typ, ResourceID: sn.id, ResourceName: sn.name,
			AwsRegion: region, AvailabilityZone: sn.az, ResourceCreationTime: &created, Tags: tags, RelatedEvents: []string{},
			Relationships: []any{}, Configuration: conf, SupplementaryConfiguration: map[string]string{}})
		st.last[key] = conf
	}
	for key, items := range st.items {
		last := items[len(items)-1]
		if !strings.HasPrefix(key, prefix) || last.AwsRegion != region || seen[key] || last.ConfigurationItemStatus == "ResourceDeleted" {
			continue
		}
		del := *last
		del.ConfigurationItemStatus, del.ConfigurationItemCaptureTime = "ResourceDeleted", epoch(now)
		del.Configuration, del.ConfigurationItemMD5Hash = "", ""
		del.ConfigurationStateID = strconv.FormatInt(now.UnixMilli(), 10) + strconv.Itoa(len(items))
		st.items[key] = append(items, &del)
	}
}
