package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// event is one recorded call, indexed for LookupEvents and queued for S3.
type event struct {
	// account is the account that recorded it (an organisation trail
	// delivers every account's under its own prefix).
	account   string
	seq       int
	raw       []byte
	time      time.Time // eventTime
	visibleAt time.Time // when delivery makes it visible
	region    string
	id        string
	name      string
	source    string
	user      string
	keyID     string
	readOnly  bool
	resources []EventResource
	// object is a data event's S3 object ARN; empty for management
	// events. Data events reach only the trails that select them, never
	// the event history (LookupEvents).
	object string
}

// s3Object is one object in the trail bucket.
type s3Object struct {
	Key      string
	Body     []byte
	Modified time.Time
	ETag     string
	// ContentType is the object's Content-Type ("application/json" for
	// what CloudTrail writes); Meta its user metadata, names lowercased
	// without "x-amz-meta-".
	ContentType string
	Meta        map[string]string
}

// trailState is the account's CloudTrail: the event history every call
// is recorded in (LookupEvents reads it whatever the trails do), the
// trails, and the S3 bucket they deliver to. At the start there is one
// trail, a multi-Region trail in us-east-1 named management-events.
type trailState struct {
	bucket  string
	created time.Time // the bucket's creation time

	events  []*event
	objects map[string]*s3Object
	trails  map[string]*trail // by name
	// signer is the drill's digest-signing key (digest.go), made on first use.
	signer *digestKey
}

// trail is one trail's configuration and its delivery queue.
type trail struct {
	name, arn, bucket, prefix string
	homeRegion                string
	multiRegion, globalEvents bool
	validation                bool
	logging                   bool
	startedAt                 time.Time
	stoppedAt                 time.Time
	lastDelivery              time.Time
	// selectors are the trail's event selectors (nil: the default, every
	// management event); custom is set once PutEventSelectors was called.
	selectors []eventSelector
	custom    bool
	// stoppedBy is the request id of the StopLogging call that stopped
	// the trail: CloudTrail delivers that call's own record.
	stoppedBy string
	pending   []*event // waiting for S3 delivery
	// digest is the trail's digest schedule and chains (digest.go).
	digest digestChain
	// orgID is the organisation's id when the trail is its organisation
	// trail (IsOrganizationTrail): it logs every member account too.
	orgID string
}

// eventSelector is one of a trail's event selectors.
type eventSelector struct {
	ReadWriteType                 string         `json:"ReadWriteType"`
	IncludeManagementEvents       bool           `json:"IncludeManagementEvents"`
	DataResources                 []dataResource `json:"DataResources"`
	ExcludeManagementEventSources []string       `json:"ExcludeManagementEventSources"`
}

type dataResource struct {
	Type   string   `json:"Type"`
	Values []string `json:"Values"`
}

// defaultSelectors is what a trail logs when nobody set its selectors.
func defaultSelectors() []eventSelector {
	return []eventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, DataResources: []dataResource{},
		ExcludeManagementEventSources: []string{}}}
}

// delivers reports whether the trail logs ev: it covers the event's
// Region and one of its selectors takes the event.
func (t *trail) delivers(ev *event) bool {
	if !t.multiRegion && ev.region != t.homeRegion {
		return false
	}
	if ev.object != "" {
		return t.selectsData(ev.object, ev.readOnly)
	}
	sels := t.selectors
	if sels == nil {
		sels = defaultSelectors()
	}
	for _, sel := range sels {
		if !sel.IncludeManagementEvents || slices.Contains(sel.ExcludeManagementEventSources, ev.source) {
			continue
		}
		switch sel.ReadWriteType {
		case "ReadOnly":
			if ev.readOnly {
				return true
			}
		case "WriteOnly":
			if !ev.readOnly {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// selectsData reports whether one of t's selectors takes the data event
// on S3 object arn ("arn:aws:s3:::bucket/key"): a data resource of type
// AWS::S3::Object whose value is "arn:aws:s3" (every bucket) or a prefix
// of the ARN, with a matching ReadWriteType.
func (t *trail) selectsData(arn string, readOnly bool) bool {
	for _, sel := range t.selectors {
		if sel.ReadWriteType == "ReadOnly" && !readOnly || sel.ReadWriteType == "WriteOnly" && readOnly {
			continue
		}
		for _, dr := range sel.DataResources {
			if dr.Type != "AWS::S3::Object" {
				continue
			}
			for _, v := range dr.Values {
				if v == "arn:aws:s3" || v == "arn:aws:s3:::" || strings.HasPrefix(arn, v) {
					return true
				}
			}
		}
	}
	return false
}

// selectsData reports whether a trail that logs now selects the data event.
func (st *trailState) selectsData(arn string, readOnly bool) bool {
	for _, t := range st.trails {
		if t.logging && t.selectsData(arn, readOnly) {
			return true
		}
	}
	return false
}

func newTrailState(s *Sim) *trailState {
	st := &trailState{objects: map[string]*s3Object{}, trails: map[string]*trail{}}
	st.bucket = fmt.Sprintf("aws-cloudtrail-logs-%s-%s", s.acct.ID, s.ids.str("0123456789abcdef", 8))
	st.created = s.clock.Now().Add(-400 * 24 * time.Hour).UTC().Truncate(time.Second)
	t := s.newTrail("management-events", st.bucket, "", HomeRegion, true)
	t.logging, t.validation, t.startedAt = true, true, st.created
	// Its digests start with the drill: nothing before it is digested.
	s.startChain(t, s.bornSim)
	st.trails[t.name] = t
	return st
}

// newTrail builds a trail (not logging yet).
func (s *Sim) newTrail(name, bucket, prefix, region string, multiRegion bool) *trail {
	return &trail{name: name, bucket: bucket, prefix: prefix, homeRegion: region, multiRegion: multiRegion, globalEvents: true,
		arn: fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, s.acct.ID, name)}
}

// sortedTrails returns the trails by name.
func (st *trailState) sortedTrails() []*trail {
	out := make([]*trail, 0, len(st.trails))
	for _, t := range st.trails {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// add puts ev in the event history and in the delivery queue of every
// trail that is logging and takes it, and of the trail whose StopLogging
// call ev records.
func (st *trailState) add(ev *event, requestID string) {
	st.events = append(st.events, ev)
	for _, t := range st.sortedTrails() {
		if (t.logging || requestID != "" && t.stoppedBy == requestID) && t.delivers(ev) {
			t.pending = append(t.pending, ev)
		}
	}
}

// TrailBucket is the name of the S3 bucket the trails deliver to.
func (s *Sim) TrailBucket() string { return s.trail.bucket }

// deliverLocked writes S3 log files for every delivery window that has
// closed by now. A record belongs to the window its visibility time falls
// in; the file is named for the window's end (the delivery time).
// Digest files are written as their hours close (digest.go).
func (s *Sim) deliverLocked(now time.Time) {
	for _, t := range s.trail.sortedTrails() {
		s.writeDigestsLocked(t, now)
		s.deliverTrailLocked(t, now)
	}
}

// deliverTrailLocked writes one trail's closed delivery windows.
func (s *Sim) deliverTrailLocked(t *trail, now time.Time) {
	interval := s.scaled(s.opts.DeliveryInterval)
	if interval <= 0 {
		interval = time.Millisecond
	}
	type fileKey struct {
		account, region string
		end             time.Time
	}
	files := map[fileKey][]*event{}
	var keep []*event
	for _, ev := range t.pending {
		end := ev.visibleAt.Truncate(interval).Add(interval)
		if now.Before(end) {
			keep = append(keep, ev)
			continue
		}
		k := fileKey{ev.account, ev.region, end}
		files[k] = append(files[k], ev)
	}
	t.pending = keep
	keys := make([]fileKey, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].end.Equal(keys[j].end) {
			return keys[i].end.Before(keys[j].end)
		}
		if keys[i].account != keys[j].account {
			return keys[i].account < keys[j].account
		}
		return keys[i].region < keys[j].region
	})
	for _, k := range keys {
		evs := files[k]
		var buf bytes.Buffer
		buf.WriteString(`{"Records":[`)
		for i, ev := range evs {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(ev.raw)
		}
		buf.WriteString("]}")
		gz := gzipped(buf.Bytes())
		end := k.end.UTC()
		acct, logs := s.acct.ID, "AWSLogs/"
		if t.orgID != "" {
			// An organisation trail: every account under the organisation's id.
			acct, logs = k.account, "AWSLogs/"+t.orgID+"/"
		}
		key := fmt.Sprintf("%s%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%s.json.gz", logs, acct, k.region, end.Format("2006/01/02"),
			acct, k.region, end.Format("20060102T1504Z"), s.ids.str(alnum, 16))
		if t.prefix != "" {
			key = t.prefix + "/" + key
		}
		s.trail.objects[key] = &s3Object{Key: key, Body: gz, Modified: end, ETag: etagOf(gz), ContentType: "application/json"}
		t.noteLog(k.region, key, buf.Bytes(), evs)
		if end.After(t.lastDelivery) {
			t.lastDelivery = end
		}
	}
}

func cloudtrailService(s *Sim) *Service {
	return &Service{
		Name:        "cloudtrail",
		EventSource: "cloudtrail.amazonaws.com",
		Protocol:    ProtoJSON,
		Ops: map[string]Op{
			"LookupEvents":      {Handle: s.ctLookupEvents, ReadOnly: true},
			"DescribeTrails":    {Handle: s.ctDescribeTrails, ReadOnly: true},
			"GetTrailStatus":    {Handle: s.ctGetTrailStatus, ReadOnly: true},
			"StopLogging":       {Handle: s.ctSetLogging(false)},
			"StartLogging":      {Handle: s.ctSetLogging(true)},
			"CreateTrail":       {Handle: s.ctCreateTrail},
			"DeleteTrail":       {Handle: s.ctDeleteTrail},
			"PutEventSelectors": {Handle: s.ctPutEventSelectors},
			"GetEventSelectors": {Handle: s.ctGetEventSelectors, ReadOnly: true},
			"ListPublicKeys":    {Handle: s.ctListPublicKeys, ReadOnly: true},
		},
	}
}

// epochTime is a JSON timestamp: epoch seconds (what the SDKs send), or an
// ISO 8601 string.
type epochTime struct{ time.Time }

// UnmarshalJSON accepts a number or a string.
func (e *epochTime) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			e.Time = epochToTime(f)
			return nil
		}
		t, err := time.Parse(time.RFC3339, s)
		e.Time = t
		return err
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	e.Time = epochToTime(f)
	return nil
}

func epochToTime(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

type lookupAttr struct {
	AttributeKey   string
	AttributeValue string
}

type lookupInput struct {
	LookupAttributes []lookupAttr
	StartTime        *epochTime
	EndTime          *epochTime
	MaxResults       *int
	NextToken        string
	EventCategory    string
}

type lookupResource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}

type lookupEvent struct {
	EventID         string           `json:"EventId"`
	EventName       string           `json:"EventName"`
	ReadOnly        string           `json:"ReadOnly"`
	AccessKeyID     string           `json:"AccessKeyId,omitempty"`
	EventTime       float64          `json:"EventTime"`
	EventSource     string           `json:"EventSource"`
	Username        string           `json:"Username,omitempty"`
	Resources       []lookupResource `json:"Resources"`
	CloudTrailEvent string           `json:"CloudTrailEvent"`
}

type lookupOutput struct {
	Events    []lookupEvent `json:"Events"`
	NextToken string        `json:"NextToken,omitempty"`
}

// lookupToken is a page cursor bound to the parameters it was issued for.
type lookupToken struct {
	Bind string `json:"b"` // hash of the parameters
	Time int64  `json:"t"` // the last returned event's time (unix nanoseconds)
	Seq  int    `json:"s"` // and its sequence number
}

func resourceName(arn string) string {
	if i := strings.LastIndexAny(arn, "/:"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func (s *Sim) ctLookupEvents(r *Request) (any, error) {
	var in lookupInput
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &in); err != nil {
			return nil, Errorf(400, "SerializationException", "Cannot parse the request body")
		}
	}
	r.RequestParameters = lookupParams(in)
	lim := s.limiters[r.Region]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(s.opts.LookupRate), int(math.Max(1, s.opts.LookupRate)))
		s.limiters[r.Region] = lim
	}
	if !lim.AllowN(s.budgetTime(r.Now), 1) {
		return nil, Errorf(400, "ThrottlingException", "Rate exceeded")
	}
	if len(in.LookupAttributes) > 1 {
		return nil, Errorf(400, "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
	}
	max := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, Errorf(400, "InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
		}
		max = *in.MaxResults
	}
	if in.EventCategory != "" && in.EventCategory != "insight" {
		return nil, Errorf(400, "InvalidEventCategoryException", "Event category must be insight.")
	}
	var start, end time.Time
	if in.StartTime != nil {
		start = in.StartTime.Time
	}
	if in.EndTime != nil {
		end = in.EndTime.Time
	}
	if !start.IsZero() && !end.IsZero() && start.After(end) {
		return nil, Errorf(400, "InvalidTimeRangeException", "Start time must be before end time.")
	}
	var attr lookupAttr
	if len(in.LookupAttributes) == 1 {
		attr = in.LookupAttributes[0]
		switch attr.AttributeKey {
		case "AccessKeyId", "EventId", "EventName", "EventSource", "ReadOnly", "ResourceName", "ResourceType", "Username":
		default:
			return nil, Errorf(400, "InvalidLookupAttributesException", "Lookup attribute key %q is not valid.", attr.AttributeKey)
		}
	}
	bind := sha256.Sum256(fmt.Appendf(nil, "%s|%s|%s|%d|%d|%s", r.Region, attr.AttributeKey, attr.AttributeValue,
		start.UnixNano(), end.UnixNano(), in.EventCategory))
	bindHex := hex.EncodeToString(bind[:8])
	var cursor *lookupToken
	if in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		var tok lookupToken
		if err == nil {
			err = json.Unmarshal(raw, &tok)
		}
		if err != nil || tok.Bind != bindHex {
			return nil, Errorf(400, "InvalidNextTokenException", "Invalid NextToken.")
		}
		cursor = &tok
	}
	if in.EventCategory == "insight" {
		return lookupOutput{Events: []lookupEvent{}}, nil
	}

	var hits []*event
	for _, ev := range s.trail.events {
		if ev.object != "" || ev.region != r.Region || r.Now.Before(ev.visibleAt) {
			continue
		}
		if !start.IsZero() && ev.time.Before(start) || !end.IsZero() && ev.time.After(end) {
			continue
		}
		if !attrMatch(ev, attr) {
			continue
		}
		hits = append(hits, ev)
	}
	sort.Slice(hits, func(i, j int) bool { return newer(hits[i], hits[j]) })
	if cursor != nil {
		at := sort.Search(len(hits), func(i int) bool {
			h := hits[i]
			return h.time.UnixNano() < cursor.Time || (h.time.UnixNano() == cursor.Time && h.seq < cursor.Seq)
		})
		hits = hits[at:]
	}
	out := lookupOutput{Events: []lookupEvent{}}
	for i, ev := range hits {
		if i == max {
			last := hits[i-1]
			b, _ := json.Marshal(lookupToken{Bind: bindHex, Time: last.time.UnixNano(), Seq: last.seq})
			out.NextToken = base64.RawURLEncoding.EncodeToString(b)
			break
		}
		le := lookupEvent{EventID: ev.id, EventName: ev.name, ReadOnly: strconv.FormatBool(ev.readOnly), AccessKeyID: ev.keyID,
			EventTime: float64(ev.time.Unix()), EventSource: ev.source, Username: ev.user, CloudTrailEvent: string(ev.raw),
			Resources: []lookupResource{}}
		for _, res := range ev.resources {
			le.Resources = append(le.Resources, lookupResource{ResourceType: res.Type, ResourceName: resourceName(res.ARN)})
		}
		out.Events = append(out.Events, le)
	}
	return out, nil
}

// newer orders events newest first, later-written first among equals.
func newer(a, b *event) bool {
	if !a.time.Equal(b.time) {
		return a.time.After(b.time)
	}
	return a.seq > b.seq
}

func attrMatch(ev *event, a lookupAttr) bool {
	v := a.AttributeValue
	switch a.AttributeKey {
	case "":
		return true
	case "AccessKeyId":
		return ev.keyID == v
	case "EventId":
		return ev.id == v
	case "EventName":
		return ev.name == v
	case "EventSource":
		return ev.source == v
	case "ReadOnly":
		return strconv.FormatBool(ev.readOnly) == v
	case "Username":
		return ev.user == v
	case "ResourceName":
		for _, r := range ev.resources {
			if resourceName(r.ARN) == v || r.ARN == v {
				return true
			}
		}
	case "ResourceType":
		for _, r := range ev.resources {
			if r.Type == v {
				return true
			}
		}
	}
	return false
}

// lookupParams is LookupEvents' requestParameters as CloudTrail records it.
func lookupParams(in lookupInput) any {
	p := map[string]any{}
	if len(in.LookupAttributes) > 0 {
		var attrs []map[string]string
		for _, a := range in.LookupAttributes {
			attrs = append(attrs, map[string]string{"attributeKey": a.AttributeKey, "attributeValue": a.AttributeValue})
		}
		p["lookupAttributes"] = attrs
	}
	if in.StartTime != nil {
		p["startTime"] = ctExpiration(in.StartTime.Time)
	}
	if in.EndTime != nil {
		p["endTime"] = ctExpiration(in.EndTime.Time)
	}
	if in.MaxResults != nil {
		p["maxResults"] = *in.MaxResults
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// budgetTime is the time a rate budget runs on. A client meets the budget
// in real seconds whatever the drill's clock says, so it runs on the wall
// clock; a test's manual clock (which may stand still, or leap) adds how
// far it was moved on, so a test that moves it sees the budget refill.
func (s *Sim) budgetTime(now time.Time) time.Time {
	t := time.Now()
	if _, manual := s.clock.(*ManualClock); manual {
		t = t.Add(max(0, now.Sub(s.bornSim)))
	}
	return t
}
