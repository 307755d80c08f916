package state

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Creator is the CloudTrail event that created a resource. Every string
// comes from CloudTrail and may be attacker-chosen.
type Creator struct {
	Event       string    // eventName: RunInstances, ImportKeyPair, …
	EventID     string    // CloudTrail eventID
	Time        time.Time // eventTime
	Principal   string    // userIdentity.arn
	AccessKeyID string    // userIdentity.accessKeyId
	SourceIP    string
	Ours        bool // the console's own call
}

// creatingEvents are the calls whose records name the resources they made.
// Lambda's eventName carries the API version (CreateFunction20150331).
var creatingEvents = []string{
	"RunInstances", "RequestSpotInstances", "RequestSpotFleet", "CreateFleet",
	"ImportKeyPair", "CreateKeyPair", "CreateSecurityGroup",
	"CreateFunction", "CreateFunction20150331",
}

// Creators maps resources (by Region and id) to the events that created
// them.
type Creators struct {
	byID map[creatorKey]Creator
}

type creatorKey struct{ region, id string }

// Lookup returns the creator of the resource id in region. Key pairs are
// found by id (key-…) and by name; Lambda functions by name and ARN.
func (c *Creators) Lookup(region, id string) (Creator, bool) {
	if c == nil || id == "" {
		return Creator{}, false
	}
	cr, ok := c.byID[creatorKey{region, id}]
	return cr, ok
}

// Len is the number of resource ids with a known creator.
func (c *Creators) Len() int {
	if c == nil {
		return 0
	}
	return len(c.byID)
}

// Of returns the creator of a swept resource in region: by its id, then
// its name and ARN, and, for a spot instance, the creator of its spot
// request (AWS's spot service launches the instance, the request names who
// asked).
func (c *Creators) Of(region string, r Resource) (Creator, bool) {
	for _, id := range []string{r.ID, r.ARN, r.Name} {
		if cr, ok := c.Lookup(region, id); ok {
			return cr, true
		}
	}
	if sr := r.Attrs["spot_request"]; sr != "" {
		return c.Lookup(region, sr)
	}
	return Creator{}, false
}

// NewSince reports whether the resource was created after began: by its
// creating event when one is known, else by its own creation time. A zero
// began means the incident's start is unknown, and nothing is new.
func NewSince(began time.Time, r Resource, cr Creator, known bool) bool {
	if began.IsZero() {
		return false
	}
	if known && !cr.Time.IsZero() {
		return cr.Time.After(began)
	}
	return !r.Created.IsZero() && r.Created.After(began)
}

// FindCreators reads the creating events in t (successful RunInstances,
// RequestSpotInstances, ImportKeyPair, CreateKeyPair, CreateSecurityGroup,
// CreateFunction …) and maps the resource ids their responses name to the
// event. raw reads an event's record (a RawReader's Raw, or a map in
// tests): the table keeps no response elements, so the ids are read from
// the records themselves. A record that cannot be read or decoded is
// reported in problems and the rest are read.
func FindCreators(t *EventTable, raw func(EventRef) ([]byte, error)) (c *Creators, problems []error) {
	c = &Creators{byID: map[creatorKey]Creator{}}
	f, err := ParseFilter("event:" + strings.Join(creatingEvents, ",") + " -failed")
	if err != nil {
		return c, []error{err}
	}
	res := t.Query(f)
	for i := 0; i < res.Len(); i++ {
		ev := t.Event(res.At(i))
		b, err := raw(ev.Ref)
		if err != nil {
			problems = append(problems, fmt.Errorf("event %s: %w", ev.EventID, err))
			continue
		}
		ids, err := createdIDs(ev.Name, b)
		if err != nil {
			problems = append(problems, fmt.Errorf("event %s (%s): %w", ev.EventID, ev.Name, err))
			continue
		}
		cr := Creator{Event: ev.Name, EventID: ev.EventID, Time: ev.Time, Principal: ev.Principal,
			AccessKeyID: ev.AccessKeyID, SourceIP: ev.SourceIP, Ours: ev.Ours}
		for _, id := range ids {
			k := creatorKey{ev.Region, id}
			// Events are in time order: the first claim is the creation.
			if _, ok := c.byID[k]; !ok {
				c.byID[k] = cr
			}
		}
	}
	return c, problems
}

// creatorRecord is the part of a record that names created resources.
type creatorRecord struct {
	RequestParameters json.RawMessage `json:"requestParameters"`
	ResponseElements  json.RawMessage `json:"responseElements"`
}

// itemSet is CloudTrail's rendering of an EC2 list: {"items":[…]}.
type itemSet[T any] struct {
	Items []T `json:"items"`
}

// createdIDs returns the ids of the resources a creating call made.
func createdIDs(name string, rec []byte) ([]string, error) {
	var r creatorRecord
	if err := json.Unmarshal(rec, &r); err != nil {
		return nil, err
	}
	if len(r.ResponseElements) == 0 || string(r.ResponseElements) == "null" {
		return nil, nil
	}
	var ids []string
	add := func(ss ...string) {
		for _, s := range ss {
			if s != "" {
				ids = append(ids, s)
			}
		}
	}
	switch name {
	case "RunInstances":
		var v struct {
			InstancesSet itemSet[struct {
				InstanceID string `json:"instanceId"`
			}] `json:"instancesSet"`
		}
		if err := json.Unmarshal(r.ResponseElements, &v); err != nil {
			return nil, err
		}
		for _, it := range v.InstancesSet.Items {
			add(it.InstanceID)
		}
	case "RequestSpotInstances":
		var v struct {
			Set itemSet[struct {
				ID string `json:"spotInstanceRequestId"`
			}] `json:"spotInstanceRequestSet"`
		}
		if err := json.Unmarshal(r.ResponseElements, &v); err != nil {
			return nil, err
		}
		for _, it := range v.Set.Items {
			add(it.ID)
		}
	case "RequestSpotFleet":
		var v struct {
			Resp struct {
				ID string `json:"spotFleetRequestId"`
			} `json:"RequestSpotFleetResponse"`
			ID string `json:"spotFleetRequestId"`
		}
		if err := json.Unmarshal(r.ResponseElements, &v); err != nil {
			return nil, err
		}
		add(v.Resp.ID, v.ID)
	case "CreateFleet":
		var v struct {
			Resp struct {
				ID string `json:"fleetId"`
			} `json:"CreateFleetResponse"`
			ID string `json:"fleetId"`
		}
		if err := json.Unmarshal(r.ResponseElements, &v); err != nil {
			return nil, err
		}
		add(v.Resp.ID, v.ID)
	case "ImportKeyPair", "CreateKeyPair":
		var v struct {
			Name string `json:"keyName"`
			ID   string `json:"keyPairId"`
		}
		if err := json.Unmarshal(r.ResponseElements, &v); err != nil {
			return nil, err
		}
		add(v.ID, v.Name)
	case "CreateSecurityGroup":
		var v struct {
			ID string `json:"groupId"`
		}
		if err := json.Unmarshal(r.ResponseElements, &v); err != nil {
			return nil, err
		}
		add(v.ID)
	default: // CreateFunction*
		var v struct {
			Name string `json:"functionName"`
			ARN  string `json:"functionArn"`
		}
		if err := json.Unmarshal(r.ResponseElements, &v); err != nil {
			return nil, err
		}
		add(v.Name, v.ARN)
	}
	return ids, nil
}
