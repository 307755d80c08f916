package sim

import (
	"encoding/json"
	"regexp"
	"time"
)

// The trails of the drill account: DescribeTrails, GetTrailStatus,
// Start/StopLogging, CreateTrail, DeleteTrail and the event selectors.
// A trail delivers to S3 only while it logs, only what its selectors take,
// and not at all once deleted; LookupEvents (event history) goes on
// regardless, as at AWS.

type trailDesc struct {
	Name                       string
	S3BucketName               string
	S3KeyPrefix                string `json:",omitempty"`
	IncludeGlobalServiceEvents bool
	IsMultiRegionTrail         bool
	HomeRegion                 string
	TrailARN                   string
	LogFileValidationEnabled   bool
	HasCustomEventSelectors    bool
	HasInsightSelectors        bool
	IsOrganizationTrail        bool
}

func (t *trail) desc() trailDesc {
	return trailDesc{Name: t.name, S3BucketName: t.bucket, S3KeyPrefix: t.prefix, IncludeGlobalServiceEvents: t.globalEvents,
		IsMultiRegionTrail: t.multiRegion, HomeRegion: t.homeRegion, TrailARN: t.arn, LogFileValidationEnabled: t.validation,
		HasCustomEventSelectors: t.custom, IsOrganizationTrail: t.orgID != ""}
}

// visibleIn reports whether the trail shows in region: in its home
// Region, and as a shadow in every Region when multi-Region.
func (t *trail) visibleIn(region string, shadows bool) bool {
	return t.homeRegion == region || shadows && t.multiRegion
}

func (s *Sim) ctDescribeTrails(r *Request) (any, error) {
	var in struct {
		TrailNameList       []string `json:"trailNameList"`
		IncludeShadowTrails *bool    `json:"includeShadowTrails"`
	}
	_ = json.Unmarshal(r.Body, &in)
	if len(in.TrailNameList) > 0 || in.IncludeShadowTrails != nil {
		p := map[string]any{}
		if len(in.TrailNameList) > 0 {
			p["trailNameList"] = in.TrailNameList
		}
		if in.IncludeShadowTrails != nil {
			p["includeShadowTrails"] = *in.IncludeShadowTrails
		}
		r.RequestParameters = p
	}
	shadow := in.IncludeShadowTrails == nil || *in.IncludeShadowTrails
	list := []trailDesc{}
	trails := s.trail.sortedTrails()
	if ot := s.memberOrgTrailLocked(); ot != nil && (shadow || len(in.TrailNameList) > 0) {
		// A member account sees its organisation's trail as a shadow
		// trail: listed unless shadows are left out, named by its ARN.
		trails = append(trails, ot)
	}
	for _, t := range trails {
		if len(in.TrailNameList) == 0 {
			if t.visibleIn(r.Region, shadow) {
				list = append(list, t.desc())
			}
			continue
		}
		for _, n := range in.TrailNameList {
			if n == t.arn || n == t.name && t.visibleIn(r.Region, true) {
				list = append(list, t.desc())
				break
			}
		}
	}
	return map[string]any{"trailList": list}, nil
}

// findTrail finds a trail by name or ARN as seen from region, or answers
// TrailNotFoundException. A name finds a trail of the Region or a
// multi-Region trail's shadow; an ARN finds the trail anywhere.
func (s *Sim) findTrail(name, region string) (*trail, error) {
	for _, t := range s.trail.trails {
		if name == t.arn || name == t.name && t.visibleIn(region, true) {
			return t, nil
		}
	}
	if ot := s.memberOrgTrailLocked(); ot != nil && name == ot.arn {
		return ot, nil
	}
	return nil, Errorf(400, "TrailNotFoundException", "Unknown trail: %s for the user: %s", name, s.acct.ID)
}

// trailByName reads {"Name": …} and finds that trail.
func (s *Sim) trailByName(r *Request) (*trail, error) {
	var in struct{ Name string }
	if err := json.Unmarshal(r.Body, &in); err != nil || in.Name == "" {
		return nil, Errorf(400, "InvalidTrailNameException", "Trail name must be specified.")
	}
	r.RequestParameters = map[string]any{"name": in.Name}
	t, err := s.findTrail(in.Name, r.Region)
	if err != nil {
		return nil, err
	}
	r.Resources = []EventResource{{ARN: t.arn, AccountID: s.acct.ID, Type: "AWS::CloudTrail::Trail"}}
	return t, nil
}

// homeOnly answers InvalidHomeRegionException outside the trail's home
// Region, for the calls AWS accepts only there.
func homeOnly(r *Request, t *trail) error {
	if t.orgID != "" && r.Sim != nil && r.Sim.org != nil && r.Sim != r.Sim.org.mgmt {
		// A member account sees its organisation's trail and cannot change it.
		return Errorf(400, "NotOrganizationManagementAccountException",
			"This operation can be performed only by the organization's management account.")
	}
	if r.Region != t.homeRegion {
		return Errorf(400, "InvalidHomeRegionException", "This operation must be called from the trail's home region: %s.", t.homeRegion)
	}
	return nil
}

func (s *Sim) ctGetTrailStatus(r *Request) (any, error) {
	t, err := s.trailByName(r)
	if err != nil {
		return nil, err
	}
	r.Resources = nil
	s.deliverLocked(r.Now)
	if t.orgID != "" && s.org != nil {
		s.org.mgmt.deliverLocked(r.Now)
	}
	out := map[string]any{"IsLogging": t.logging}
	if !t.startedAt.IsZero() {
		out["StartLoggingTime"] = float64(t.startedAt.Unix())
	}
	if !t.stoppedAt.IsZero() {
		out["StopLoggingTime"] = float64(t.stoppedAt.Unix())
	}
	if !t.lastDelivery.IsZero() {
		out["LatestDeliveryTime"] = float64(t.lastDelivery.Unix())
		out["LatestDeliveryAttemptTime"] = isoTime(t.lastDelivery)
		out["LatestDeliveryAttemptSucceeded"] = isoTime(t.lastDelivery)
	}
	return out, nil
}

func (s *Sim) ctSetLogging(on bool) func(*Request) (any, error) {
	return func(r *Request) (any, error) {
		t, err := s.trailByName(r)
		if err != nil {
			return nil, err
		}
		if err := homeOnly(r, t); err != nil {
			return nil, err
		}
		// What was due before now is written first: a stop ends the
		// digest chain after the window it falls in.
		s.deliverLocked(r.Now)
		if on && t.digest.start.IsZero() && t.orgID == "" {
			// (The organisation trail writes no digests: see org.go.)
			s.startChain(t, r.Now)
		}
		if t.logging != on {
			// What was recorded before now and is still queued goes out
			// with the trail's next file either way.
			t.logging = on
			if on {
				t.startedAt = r.Now.Truncate(time.Second)
				t.stoppedBy = ""
			} else {
				t.stoppedAt = r.Now.Truncate(time.Second)
				t.stoppedBy = r.RequestID
			}
		}
		return struct{}{}, nil
	}
}

var trailNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$`)

func (s *Sim) ctCreateTrail(r *Request) (any, error) {
	var in struct {
		Name                       string
		S3BucketName               string
		S3KeyPrefix                string
		IsMultiRegionTrail         *bool
		IncludeGlobalServiceEvents *bool
		EnableLogFileValidation    *bool
		IsOrganizationTrail        *bool
	}
	if err := json.Unmarshal(r.Body, &in); err != nil {
		return nil, Errorf(400, "SerializationException", "Cannot parse the request body")
	}
	params := map[string]any{"name": in.Name, "s3BucketName": in.S3BucketName}
	if in.S3KeyPrefix != "" {
		params["s3KeyPrefix"] = in.S3KeyPrefix
	}
	if in.IsMultiRegionTrail != nil {
		params["isMultiRegionTrail"] = *in.IsMultiRegionTrail
	}
	if in.IncludeGlobalServiceEvents != nil {
		params["includeGlobalServiceEvents"] = *in.IncludeGlobalServiceEvents
	}
	if in.EnableLogFileValidation != nil {
		params["enableLogFileValidation"] = *in.EnableLogFileValidation
	}
	r.RequestParameters = params
	switch {
	case !trailNameRE.MatchString(in.Name):
		return nil, Errorf(400, "InvalidTrailNameException",
			"Trail name must starts with a letter or number, end with a letter or number, be between 3 and 128 characters, and contain only letters, numbers, periods, underscores and dashes.")
	case in.S3BucketName == "":
		return nil, Errorf(400, "InvalidS3BucketNameException", "S3 bucket name must be specified.")
	case in.IsOrganizationTrail != nil && *in.IsOrganizationTrail:
		return nil, Errorf(400, "OrganizationsNotInUseException", "This account is not a member of an organization.")
	}
	for _, t := range s.trail.trails {
		if t.name == in.Name {
			return nil, Errorf(400, "TrailAlreadyExistsException", "Trail %s already exists for customer: %s", in.Name, s.acct.ID)
		}
	}
	// The drill account has one bucket, the one its trail was made for.
	if in.S3BucketName != s.trail.bucket {
		return nil, Errorf(400, "S3BucketDoesNotExistException", "S3 bucket %s does not exist.", in.S3BucketName)
	}
	multi := in.IsMultiRegionTrail != nil && *in.IsMultiRegionTrail
	t := s.newTrail(in.Name, in.S3BucketName, in.S3KeyPrefix, r.Region, multi)
	if in.IncludeGlobalServiceEvents != nil {
		t.globalEvents = *in.IncludeGlobalServiceEvents
	}
	t.validation = in.EnableLogFileValidation != nil && *in.EnableLogFileValidation
	s.trail.trails[t.name] = t
	r.Resources = []EventResource{{ARN: t.arn, AccountID: s.acct.ID, Type: "AWS::CloudTrail::Trail"}}
	resp := map[string]any{"name": t.name, "s3BucketName": t.bucket, "includeGlobalServiceEvents": t.globalEvents,
		"isMultiRegionTrail": t.multiRegion, "trailARN": t.arn, "logFileValidationEnabled": t.validation, "isOrganizationTrail": false}
	if t.prefix != "" {
		resp["s3KeyPrefix"] = t.prefix
	}
	r.ResponseElements = resp
	out := map[string]any{"Name": t.name, "S3BucketName": t.bucket, "IncludeGlobalServiceEvents": t.globalEvents,
		"IsMultiRegionTrail": t.multiRegion, "TrailARN": t.arn, "LogFileValidationEnabled": t.validation, "IsOrganizationTrail": false}
	if t.prefix != "" {
		out["S3KeyPrefix"] = t.prefix
	}
	return out, nil
}

func (s *Sim) ctDeleteTrail(r *Request) (any, error) {
	t, err := s.trailByName(r)
	if err != nil {
		return nil, err
	}
	if err := homeOnly(r, t); err != nil {
		return nil, err
	}
	// What the trail had not delivered yet is lost with it, and its
	// digest chains end without a last digest.
	s.deliverLocked(r.Now)
	delete(s.trail.trails, t.name)
	return struct{}{}, nil
}

// selectorsParam is eventSelectors as CloudTrail records them.
func selectorsParam(sels []eventSelector) []any {
	out := make([]any, 0, len(sels))
	for _, sel := range sels {
		drs := make([]any, 0, len(sel.DataResources))
		for _, d := range sel.DataResources {
			drs = append(drs, map[string]any{"type": d.Type, "values": d.Values})
		}
		out = append(out, map[string]any{"readWriteType": sel.ReadWriteType, "includeManagementEvents": sel.IncludeManagementEvents,
			"dataResources": drs, "excludeManagementEventSources": sel.ExcludeManagementEventSources})
	}
	return out
}

func (s *Sim) ctPutEventSelectors(r *Request) (any, error) {
	var in struct {
		TrailName      string
		EventSelectors []struct {
			ReadWriteType                 string
			IncludeManagementEvents       *bool
			DataResources                 []dataResource
			ExcludeManagementEventSources []string
		}
		AdvancedEventSelectors json.RawMessage
	}
	if err := json.Unmarshal(r.Body, &in); err != nil {
		return nil, Errorf(400, "SerializationException", "Cannot parse the request body")
	}
	var sels []eventSelector
	for _, e := range in.EventSelectors {
		sel := eventSelector{ReadWriteType: e.ReadWriteType, IncludeManagementEvents: true, DataResources: e.DataResources,
			ExcludeManagementEventSources: e.ExcludeManagementEventSources}
		if sel.ReadWriteType == "" {
			sel.ReadWriteType = "All"
		}
		if e.IncludeManagementEvents != nil {
			sel.IncludeManagementEvents = *e.IncludeManagementEvents
		}
		if sel.DataResources == nil {
			sel.DataResources = []dataResource{}
		}
		if sel.ExcludeManagementEventSources == nil {
			sel.ExcludeManagementEventSources = []string{}
		}
		sels = append(sels, sel)
	}
	r.RequestParameters = map[string]any{"trailName": in.TrailName, "eventSelectors": selectorsParam(sels)}
	if in.TrailName == "" {
		return nil, Errorf(400, "InvalidTrailNameException", "Trail name must be specified.")
	}
	if len(in.AdvancedEventSelectors) > 0 && string(in.AdvancedEventSelectors) != "null" {
		// The drill models basic event selectors only.
		return nil, Errorf(400, "UnsupportedOperationException", "The drill account supports basic event selectors only.")
	}
	if len(sels) == 0 || len(sels) > 5 {
		return nil, Errorf(400, "InvalidEventSelectorsException", "You can specify from 1 to 5 event selectors.")
	}
	for _, sel := range sels {
		switch sel.ReadWriteType {
		case "All", "ReadOnly", "WriteOnly":
		default:
			return nil, Errorf(400, "InvalidEventSelectorsException", "Invalid ReadWriteType %s.", sel.ReadWriteType)
		}
	}
	t, err := s.findTrail(in.TrailName, r.Region)
	if err != nil {
		return nil, err
	}
	if err := homeOnly(r, t); err != nil {
		return nil, err
	}
	t.selectors, t.custom = sels, true
	r.Resources = []EventResource{{ARN: t.arn, AccountID: s.acct.ID, Type: "AWS::CloudTrail::Trail"}}
	r.ResponseElements = map[string]any{"trailARN": t.arn, "eventSelectors": selectorsParam(sels)}
	return map[string]any{"TrailARN": t.arn, "EventSelectors": sels}, nil
}

func (s *Sim) ctGetEventSelectors(r *Request) (any, error) {
	var in struct{ TrailName string }
	_ = json.Unmarshal(r.Body, &in)
	r.RequestParameters = map[string]any{"trailName": in.TrailName}
	if in.TrailName == "" {
		return nil, Errorf(400, "InvalidTrailNameException", "Trail name must be specified.")
	}
	t, err := s.findTrail(in.TrailName, r.Region)
	if err != nil {
		return nil, err
	}
	sels := t.selectors
	if sels == nil {
		sels = defaultSelectors()
	}
	return map[string]any{"TrailARN": t.arn, "EventSelectors": sels}, nil
}
