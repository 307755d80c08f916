package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Amazon GuardDuty in the drill account: a detector in the Regions where
// the drill enables it (EnableGuardDuty), its findings (ReportFinding,
// which the scenario calls as the attacker acts, as GuardDuty's analysis
// of CloudTrail would), served in restJson1 on GuardDuty's own paths:
// GET /detector, POST /detector/{id}/findings, POST
// /detector/{id}/findings/get. A Region without a detector answers
// ListDetectors with an empty list, as AWS does where GuardDuty is off.

func guarddutyService(s *Sim) *Service {
	return &Service{Name: "guardduty", EventSource: "guardduty.amazonaws.com", Protocol: ProtoRESTJSON, Route: guarddutyRoute,
		Ops: map[string]Op{
			"ListDetectors": {Handle: s.gdListDetectors, ReadOnly: true},
			"ListFindings":  {Handle: s.gdListFindings, ReadOnly: true},
			"GetFindings":   {Handle: s.gdGetFindings, ReadOnly: true},
		}}
}

// guarddutyRoute names the operation and puts the detector id in
// Path["DetectorId"].
func guarddutyRoute(r *Request) (string, *Error) {
	p := strings.Trim(r.HTTP.URL.Path, "/")
	parts := strings.Split(p, "/")
	if parts[0] != "detector" {
		return "", errUnknownOp(ProtoRESTJSON, r.HTTP.URL.Path)
	}
	if len(parts) > 1 {
		id, err := url.PathUnescape(parts[1])
		if err != nil {
			id = parts[1]
		}
		r.Path["DetectorId"] = id
	}
	switch {
	case len(parts) == 1 && r.HTTP.Method == http.MethodGet:
		return "ListDetectors", nil
	case len(parts) == 3 && parts[2] == "findings" && r.HTTP.Method == http.MethodPost:
		return "ListFindings", nil
	case len(parts) == 4 && parts[2] == "findings" && parts[3] == "get" && r.HTTP.Method == http.MethodPost:
		return "GetFindings", nil
	}
	return "", errUnknownOp(ProtoRESTJSON, r.HTTP.URL.Path)
}

// GuardDutyFinding is what the drill says GuardDuty found: the finding's
// type, severity and text, and what it names. ReportFinding fills in the
// ids, times and counts.
type GuardDutyFinding struct {
	Type        string  // "Recon:IAMUser/MaliciousIPCaller"
	Severity    float64 // 1–3.9 low, 4–6.9 medium, 7–8.9 high, 9–10 critical
	Title       string
	Description string
	// ResourceType is "AccessKey" or "Instance".
	ResourceType string
	// The access key the activity used (AccessKey findings).
	AccessKeyID, PrincipalID, UserName, UserType string
	// The instance (Instance findings) and its Availability Zone.
	InstanceID, InstanceType, AvailabilityZone string
	// What was seen: an API call (API, ServiceName, RemoteIP, UserAgent)
	// or a DNS query (Domain).
	API, ServiceName, RemoteIP, UserAgent, Domain string
	// At is when the activity was seen; the sim's clock when zero.
	At time.Time
}

// gdFinding is one finding a detector holds.
type gdFinding struct {
	GuardDutyFinding
	ID                                string
	Count                             int
	FirstSeen, LastSeen, Created, Upd time.Time
	Archived                          bool
	region, detector                  string
}

// gdDetector is one Region's detector.
type gdDetector struct {
	ID       string
	Created  time.Time
	findings []*gdFinding
	// byWhat aggregates repeated activity into one finding, as GuardDuty
	// does (its count grows, lastSeen moves).
	byWhat map[string]*gdFinding
}

// gdState holds the detectors by Region, and the per-Region faults.
type gdState struct {
	regions map[string]*gdDetector
	faults  map[string]string
}

func (s *Sim) gdState() *gdState {
	return s.State("guardduty", func() any {
		return &gdState{regions: map[string]*gdDetector{}, faults: map[string]string{}}
	}).(*gdState)
}

// EnableGuardDuty makes a detector in region (once: a second call returns
// the same id) and returns its id.
func (s *Sim) EnableGuardDuty(region string) (string, error) {
	if !regionKnown(region) {
		return "", fmt.Errorf("sim: unknown Region %q", region)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.gdState()
	if d := st.regions[region]; d != nil {
		return d.ID, nil
	}
	d := &gdDetector{ID: gdID(s.acct.ID, region), Created: s.clock.Now().UTC(), byWhat: map[string]*gdFinding{}}
	st.regions[region] = d
	return d.ID, nil
}

// GuardDutyRegions lists the Regions with a detector, sorted.
func (s *Sim) GuardDutyRegions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for r := range s.gdState().regions {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// GuardDuty faults for SetGuardDutyFault.
const (
	GuardDutyDenied    = "denied"    // AccessDeniedException, as an SCP denying guardduty:* would answer
	GuardDutyThrottled = "throttled" // TooManyRequestsException
)

// SetGuardDutyFault makes every GuardDuty call in region fail with fault
// (GuardDutyDenied, GuardDutyThrottled), or clears it ("").
func (s *Sim) SetGuardDutyFault(region, fault string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fault == "" {
		delete(s.gdState().faults, region)
		return
	}
	s.gdState().faults[region] = fault
}

// ReportFinding records what GuardDuty found in region: a new finding, or
// the finding of the same type about the same key, instance and address
// seen again (its count grows, its lastSeen and updatedAt move). It
// returns the finding's id, or false when GuardDuty is not enabled there
// (no detector, no finding — as at AWS).
func (s *Sim) ReportFinding(region string, f GuardDutyFinding) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.gdState().regions[region]
	if d == nil {
		return "", false
	}
	now := s.clock.Now().UTC()
	at := f.At
	if at.IsZero() {
		at = now
	}
	what := strings.Join([]string{f.Type, f.AccessKeyID, f.InstanceID, f.RemoteIP, f.Domain}, "|")
	if g := d.byWhat[what]; g != nil {
		g.Count++
		g.LastSeen = maxTime(g.LastSeen, at)
		g.Upd = now
		if f.API != "" {
			g.API = f.API
		}
		return g.ID, true
	}
	g := &gdFinding{GuardDutyFinding: f, ID: gdID(d.ID, what, strconv.Itoa(len(d.findings))), Count: 1, FirstSeen: at, LastSeen: at,
		Created: now, Upd: now, region: region, detector: d.ID}
	d.findings = append(d.findings, g)
	d.byWhat[what] = g
	return g.ID, true
}

// gdID is a GuardDuty id (32 lower-case hex digits) derived from parts:
// drawing it from the sim's seeded generator would shift every id drawn
// after it, and what a seed makes would depend on GuardDuty.
func gdID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func gdBadRequest(format string, args ...any) *Error {
	return Errorf(400, "BadRequestException", format, args...)
}

// gdFault answers the Region's fault, if one is set.
func (s *Sim) gdFault(r *Request) *Error {
	switch s.gdState().faults[r.Region] {
	case GuardDutyDenied:
		return r.AccessDenied(actionOf(r.Service, r.Op, Op{}), "*")
	case GuardDutyThrottled:
		return errThrottled(ProtoRESTJSON)
	}
	return nil
}

// gdDetectorOf returns the Region's detector named by the path.
func (s *Sim) gdDetectorOf(r *Request) (*gdDetector, *Error) {
	id := r.Path["DetectorId"]
	d := s.gdState().regions[r.Region]
	if d == nil || d.ID != id {
		return nil, gdBadRequest("The request is rejected because the input detectorId is not owned by the current account.")
	}
	return d, nil
}

type listDetectorsOutput struct {
	DetectorIDs []string `json:"detectorIds"`
	NextToken   *string  `json:"nextToken,omitempty"`
}

func (s *Sim) gdListDetectors(r *Request) (any, error) {
	q := r.HTTP.URL.Query()
	params := map[string]any{}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 50 {
			return nil, gdBadRequest("1 validation error detected: Value '%s' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50", v)
		}
		params["maxResults"] = n
	}
	if v := q.Get("nextToken"); v != "" {
		params["nextToken"] = v
	}
	if len(params) > 0 {
		r.RequestParameters = params
	}
	if e := s.gdFault(r); e != nil {
		return nil, e
	}
	out := listDetectorsOutput{DetectorIDs: []string{}}
	if d := s.gdState().regions[r.Region]; d != nil {
		out.DetectorIDs = append(out.DetectorIDs, d.ID)
	}
	return out, nil
}

// gdCondition is a FindingCriteria condition.
type gdCondition struct {
	Eq                 []string `json:"eq,omitempty"`
	Neq                []string `json:"neq,omitempty"`
	Equals             []string `json:"equals,omitempty"`
	NotEquals          []string `json:"notEquals,omitempty"`
	Gt                 *int64   `json:"gt,omitempty"`
	Gte                *int64   `json:"gte,omitempty"`
	Lt                 *int64   `json:"lt,omitempty"`
	Lte                *int64   `json:"lte,omitempty"`
	GreaterThan        *int64   `json:"greaterThan,omitempty"`
	GreaterThanOrEqual *int64   `json:"greaterThanOrEqual,omitempty"`
	LessThan           *int64   `json:"lessThan,omitempty"`
	LessThanOrEqual    *int64   `json:"lessThanOrEqual,omitempty"`
}

// gdFields are the criterion fields the drill filters on, with a
// finding's value: a number (times in epoch milliseconds) or a string.
var gdFields = map[string]func(f *gdFinding) (num int64, str string){
	"updatedAt":                             func(f *gdFinding) (int64, string) { return f.Upd.UnixMilli(), "" },
	"createdAt":                             func(f *gdFinding) (int64, string) { return f.Created.UnixMilli(), "" },
	"severity":                              func(f *gdFinding) (int64, string) { return int64(f.Severity), "" },
	"type":                                  func(f *gdFinding) (int64, string) { return 0, f.Type },
	"id":                                    func(f *gdFinding) (int64, string) { return 0, f.ID },
	"service.archived":                      func(f *gdFinding) (int64, string) { return 0, strconv.FormatBool(f.Archived) },
	"resource.accessKeyDetails.accessKeyId": func(f *gdFinding) (int64, string) { return 0, f.AccessKeyID },
	"resource.instanceDetails.instanceId":   func(f *gdFinding) (int64, string) { return 0, f.InstanceID },
}

// matches reports whether f meets c on field.
func (c gdCondition) matches(field string, f *gdFinding) bool {
	num, str := gdFields[field](f)
	in := func(vs []string) bool {
		return slices.Contains(vs, str) || slices.Contains(vs, strconv.FormatInt(num, 10)) && str == ""
	}
	cmp := func(p *int64, ok func(a, b int64) bool) bool { return p == nil || ok(num, *p) }
	gt := func(a, b int64) bool { return a > b }
	ge := func(a, b int64) bool { return a >= b }
	lt := func(a, b int64) bool { return a < b }
	le := func(a, b int64) bool { return a <= b }
	eq := append(slices.Clone(c.Eq), c.Equals...)
	neq := append(slices.Clone(c.Neq), c.NotEquals...)
	return (len(eq) == 0 || in(eq)) && (len(neq) == 0 || !in(neq)) &&
		cmp(c.Gt, gt) && cmp(c.GreaterThan, gt) && cmp(c.Gte, ge) && cmp(c.GreaterThanOrEqual, ge) &&
		cmp(c.Lt, lt) && cmp(c.LessThan, lt) && cmp(c.Lte, le) && cmp(c.LessThanOrEqual, le)
}

type listFindingsInput struct {
	FindingCriteria *struct {
		Criterion map[string]gdCondition `json:"criterion"`
	} `json:"findingCriteria,omitempty"`
	SortCriteria *struct {
		AttributeName string `json:"attributeName"`
		OrderBy       string `json:"orderBy"`
	} `json:"sortCriteria,omitempty"`
	MaxResults *int   `json:"maxResults,omitempty"`
	NextToken  string `json:"nextToken,omitempty"`
}

type listFindingsOutput struct {
	FindingIDs []string `json:"findingIds"`
	NextToken  string   `json:"nextToken"`
}

func (s *Sim) gdListFindings(r *Request) (any, error) {
	var in listFindingsInput
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &in); err != nil {
			return nil, gdBadRequest("The request is rejected because the JSON could not be processed.")
		}
	}
	params := map[string]any{"detectorId": r.Path["DetectorId"]}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(r.Body, &raw)
	for _, k := range []string{"findingCriteria", "sortCriteria", "maxResults", "nextToken"} {
		if v, ok := raw[k]; ok {
			params[k] = v
		}
	}
	r.RequestParameters = params
	if e := s.gdFault(r); e != nil {
		return nil, e
	}
	d, e := s.gdDetectorOf(r)
	if e != nil {
		return nil, e
	}
	max := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, gdBadRequest("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50", *in.MaxResults)
		}
		max = *in.MaxResults
	}
	var crit map[string]gdCondition
	if in.FindingCriteria != nil {
		crit = in.FindingCriteria.Criterion
	}
	for field := range crit {
		if gdFields[field] == nil {
			return nil, gdBadRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: criterion %s.", field)
		}
	}
	var hits []*gdFinding
	for _, f := range d.findings {
		ok := true
		for field, c := range crit {
			ok = ok && c.matches(field, f)
		}
		if ok {
			hits = append(hits, f)
		}
	}
	if sc := in.SortCriteria; sc != nil && sc.AttributeName != "" {
		get := gdFields[sc.AttributeName]
		if get == nil {
			return nil, gdBadRequest("The request is rejected because an invalid or out-of-range value is specified as an input parameter: sortCriteria %s.", sc.AttributeName)
		}
		desc := strings.EqualFold(sc.OrderBy, "DESC")
		sort.SliceStable(hits, func(i, j int) bool {
			ni, si := get(hits[i])
			nj, sj := get(hits[j])
			if desc {
				ni, nj, si, sj = nj, ni, sj, si
			}
			if ni != nj {
				return ni < nj
			}
			return si < sj
		})
	}
	off, perr := parseEC2Token("findings", in.NextToken)
	if perr != nil {
		return nil, gdBadRequest("The request is rejected because the nextToken is invalid.")
	}
	page, next := ec2Page(hits, off, max)
	out := listFindingsOutput{FindingIDs: []string{}}
	for _, f := range page {
		out.FindingIDs = append(out.FindingIDs, f.ID)
	}
	if next >= 0 {
		out.NextToken = ec2Token("findings", next)
	}
	return out, nil
}

// The finding as GetFindings answers it (camelCase, GuardDuty's schema).
type (
	gdFindingView struct {
		AccountID     string         `json:"accountId"`
		Arn           string         `json:"arn"`
		CreatedAt     string         `json:"createdAt"`
		Description   string         `json:"description"`
		ID            string         `json:"id"`
		Partition     string         `json:"partition"`
		Region        string         `json:"region"`
		Resource      gdResourceView `json:"resource"`
		SchemaVersion string         `json:"schemaVersion"`
		Service       gdServiceView  `json:"service"`
		Severity      float64        `json:"severity"`
		Title         string         `json:"title"`
		Type          string         `json:"type"`
		UpdatedAt     string         `json:"updatedAt"`
	}
	gdResourceView struct {
		ResourceType     string           `json:"resourceType"`
		AccessKeyDetails *gdAccessKeyView `json:"accessKeyDetails,omitempty"`
		InstanceDetails  *gdInstanceView  `json:"instanceDetails,omitempty"`
	}
	gdAccessKeyView struct {
		AccessKeyID string `json:"accessKeyId"`
		PrincipalID string `json:"principalId"`
		UserName    string `json:"userName"`
		UserType    string `json:"userType"`
	}
	gdInstanceView struct {
		InstanceID       string `json:"instanceId"`
		InstanceType     string `json:"instanceType,omitempty"`
		AvailabilityZone string `json:"availabilityZone,omitempty"`
		InstanceState    string `json:"instanceState"`
	}
	gdServiceView struct {
		Action         gdActionView `json:"action"`
		Archived       bool         `json:"archived"`
		Count          int          `json:"count"`
		DetectorID     string       `json:"detectorId"`
		EventFirstSeen string       `json:"eventFirstSeen"`
		EventLastSeen  string       `json:"eventLastSeen"`
		ResourceRole   string       `json:"resourceRole"`
		ServiceName    string       `json:"serviceName"`
	}
	gdActionView struct {
		ActionType       string            `json:"actionType"`
		AwsAPICallAction *gdAPICallView    `json:"awsApiCallAction,omitempty"`
		DNSRequestAction *gdDNSRequestView `json:"dnsRequestAction,omitempty"`
	}
	gdAPICallView struct {
		API             string        `json:"api"`
		CallerType      string        `json:"callerType"`
		ServiceName     string        `json:"serviceName"`
		UserAgent       string        `json:"userAgent,omitempty"`
		RemoteIPDetails *gdRemoteView `json:"remoteIpDetails,omitempty"`
	}
	gdRemoteView struct {
		IPAddressV4  string         `json:"ipAddressV4"`
		Organization map[string]any `json:"organization"`
		Country      map[string]any `json:"country"`
	}
	gdDNSRequestView struct {
		Domain   string `json:"domain"`
		Protocol string `json:"protocol"`
		Blocked  bool   `json:"blocked"`
	}
)

// gdTime formats a time as GuardDuty does (milliseconds, Z).
func gdTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (s *Sim) gdView(f *gdFinding) gdFindingView {
	v := gdFindingView{AccountID: s.acct.ID, Arn: fmt.Sprintf("arn:aws:guardduty:%s:%s:detector/%s/finding/%s", f.region, s.acct.ID, f.detector, f.ID),
		CreatedAt: gdTime(f.Created), Description: f.Description, ID: f.ID, Partition: "aws", Region: f.region,
		SchemaVersion: "2.0", Severity: f.Severity, Title: f.Title, Type: f.Type, UpdatedAt: gdTime(f.Upd),
		Resource: gdResourceView{ResourceType: f.ResourceType},
		Service: gdServiceView{Archived: f.Archived, Count: f.Count, DetectorID: f.detector, EventFirstSeen: gdTime(f.FirstSeen),
			EventLastSeen: gdTime(f.LastSeen), ResourceRole: "TARGET", ServiceName: "guardduty"}}
	if f.AccessKeyID != "" || f.UserName != "" {
		v.Resource.AccessKeyDetails = &gdAccessKeyView{AccessKeyID: f.AccessKeyID, PrincipalID: f.PrincipalID, UserName: f.UserName, UserType: f.UserType}
	}
	if f.InstanceID != "" {
		v.Resource.InstanceDetails = &gdInstanceView{InstanceID: f.InstanceID, InstanceType: f.InstanceType, AvailabilityZone: f.AvailabilityZone, InstanceState: "running"}
	}
	switch {
	case f.Domain != "":
		v.Service.Action = gdActionView{ActionType: "DNS_REQUEST", DNSRequestAction: &gdDNSRequestView{Domain: f.Domain, Protocol: "UDP"}}
	default:
		call := &gdAPICallView{API: f.API, CallerType: "Remote IP", ServiceName: f.ServiceName, UserAgent: f.UserAgent}
		if f.RemoteIP != "" {
			call.RemoteIPDetails = &gdRemoteView{IPAddressV4: f.RemoteIP,
				Organization: map[string]any{"asn": "0", "asnOrg": "Unknown", "isp": "Unknown", "org": "Unknown"},
				Country:      map[string]any{"countryName": "Unknown"}}
		}
		v.Service.Action = gdActionView{ActionType: "AWS_API_CALL", AwsAPICallAction: call}
	}
	return v
}

type getFindingsOutput struct {
	Findings []gdFindingView `json:"findings"`
}

func (s *Sim) gdGetFindings(r *Request) (any, error) {
	var in struct {
		FindingIDs []string `json:"findingIds"`
	}
	if err := json.Unmarshal(r.Body, &in); err != nil {
		return nil, gdBadRequest("The request is rejected because the JSON could not be processed.")
	}
	r.RequestParameters = map[string]any{"detectorId": r.Path["DetectorId"], "findingIds": in.FindingIDs}
	if e := s.gdFault(r); e != nil {
		return nil, e
	}
	d, e := s.gdDetectorOf(r)
	if e != nil {
		return nil, e
	}
	if len(in.FindingIDs) == 0 || len(in.FindingIDs) > 50 {
		return nil, gdBadRequest("1 validation error detected: Value at 'findingIds' failed to satisfy constraint: Member must have length less than or equal to 50 and greater than or equal to 1")
	}
	out := getFindingsOutput{Findings: []gdFindingView{}}
	for _, id := range in.FindingIDs {
		// Ids the detector does not hold are left out, as GuardDuty does.
		for _, f := range d.findings {
			if f.ID == id {
				out.Findings = append(out.Findings, s.gdView(f))
				break
			}
		}
	}
	return out, nil
}
