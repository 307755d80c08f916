package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// anchorCheck is what verify --cloudtrail found: the heads anchored in
// CloudTrail for the journal's incident, and the CloudTrail records of
// anchor calls by request id.
type anchorCheck struct {
	path     string
	pins     []journal.Pin
	byReq    map[string]string // request id -> the anchored value CloudTrail holds
	records  int
	warnings []string
}

// loadAnchors reads CloudTrail files (any shape ctlog reads) and keeps
// every cloudtrail:LookupEvents record whose lookup attribute is a warroom
// anchor of this journal's incident.
func loadAnchors(ctx context.Context, path string, trails []string) (*anchorCheck, error) {
	first, err := journal.ReadAt(path, 0)
	if err != nil {
		return nil, err
	}
	var opened struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(first.Data, &opened); err != nil || opened.ID == "" {
		return nil, fmt.Errorf("%s: line 1 has no incident id", path)
	}
	ac := &anchorCheck{path: path, byReq: map[string]string{}}
	_, _, err = ctlog.ParsePaths(trails, ctlog.Options{}, func(r ctlog.Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.EventName != "LookupEvents" || r.EventSource != "cloudtrail.amazonaws.com" || r.ErrorCode != "" {
			return nil
		}
		var rec struct {
			RequestParameters struct {
				LookupAttributes []struct {
					AttributeValue string `json:"attributeValue"`
				} `json:"lookupAttributes"`
			} `json:"requestParameters"`
		}
		if json.Unmarshal(r.Raw, &rec) != nil {
			return nil
		}
		for _, a := range rec.RequestParameters.LookupAttributes {
			id, seq, head, ok := journal.ParseAnchorValue(a.AttributeValue)
			if !ok || id != opened.ID {
				continue
			}
			ac.records++
			ac.byReq[r.RequestID] = a.AttributeValue
			ac.pins = append(ac.pins, journal.Pin{Seq: seq, Hash: head,
				Source: fmt.Sprintf("the CloudTrail anchor (event %s, request %s, %s, %s, by %s)", r.EventID, r.RequestID, r.EventTime.UTC().Format("2006-01-02T15:04:05Z"), r.Region, r.PrincipalARN)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("--cloudtrail: %w", err)
	}
	return ac, nil
}

// problems checks the journal's own anchor facts against CloudTrail: one
// whose request CloudTrail recorded with another value is a forgery; one
// CloudTrail does not hold may only be outside the files given, and is a
// warning.
func (ac *anchorCheck) problems(rep journal.Report) []string {
	var bad []string
	_, _ = journal.Read(ac.path, func(e journal.Entry) error {
		if e.Kind != string(state.KindAnchor) {
			return nil
		}
		var a state.Anchor
		if json.Unmarshal(e.Data, &a) != nil {
			bad = append(bad, fmt.Sprintf("line %d: a %s fact that does not decode", e.Seq, e.Kind))
			return nil
		}
		v, ok := ac.byReq[a.RequestID]
		switch {
		case !ok:
			ac.warnings = append(ac.warnings, fmt.Sprintf("line %d: anchor request %s is not in the CloudTrail given (outside its time, or not yet delivered)", e.Seq, a.RequestID))
		case v != a.Value:
			bad = append(bad, fmt.Sprintf("line %d: anchor request %s carried %q in CloudTrail, but the journal says %q: the fact was forged or altered", e.Seq, a.RequestID, v, a.Value))
		}
		return nil
	})
	if len(ac.pins) == 0 {
		ac.warnings = append(ac.warnings, "no anchor of this incident in the CloudTrail given")
	}
	return bad
}

func (ac *anchorCheck) summary() string {
	s := fmt.Sprintf("%d anchor record(s) for this incident in the CloudTrail given", ac.records)
	if len(ac.warnings) > 0 {
		s += "; " + strings.Join(ac.warnings, "; ")
	}
	return s
}
