// Package findings reads Amazon GuardDuty's findings from every Region's
// detector (ListDetectors, ListFindings page by page, GetFindings fifty
// ids at a time) into a state.GuardDuty fact: per Region whether GuardDuty
// is enabled, not enabled (no detector), denied, throttled or failed, and
// the findings of the Regions that answered. A Region that fails is said
// where it happened; the others are read on.
package findings

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	gdtypes "github.com/aws/aws-sdk-go-v2/service/guardduty/types"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// API is the part of the GuardDuty client a read uses.
type API interface {
	guardduty.ListDetectorsAPIClient
	guardduty.ListFindingsAPIClient
	GetFindings(ctx context.Context, in *guardduty.GetFindingsInput, opts ...func(*guardduty.Options)) (*guardduty.GetFindingsOutput, error)
}

// Options tune a read.
type Options struct {
	// Regions are read (the enabled Regions of the account).
	Regions []string
	// Since, when set, asks only for findings updated since (the
	// incident's window).
	Since time.Time
	// AccountID is the account read; empty is the home account.
	AccountID string
	// Concurrency is how many Regions are read at once; 4 when zero.
	Concurrency int
	// Now tells the time of the read; time.Now when nil.
	Now func() time.Time
}

// getBatch is GetFindings' limit on ids per call.
const getBatch = 50

// Read reads GuardDuty in every Region of opts through client (a
// session's GuardDuty getter), Regions in the order given.
func Read(ctx context.Context, client func(region string) API, opts Options) state.GuardDuty {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	out := state.GuardDuty{ReadAt: now().UTC(), Since: opts.Since, AccountID: opts.AccountID,
		Regions: make([]state.GuardDutyRegion, len(opts.Regions))}
	conc := opts.Concurrency
	if conc <= 0 {
		conc = 4
	}
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i, r := range opts.Regions {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out.Regions[i] = ReadRegion(ctx, client(r), r, opts.Since)
		}()
	}
	wg.Wait()
	return out
}

// ReadRegion reads one Region's detectors and their findings.
func ReadRegion(ctx context.Context, api API, region string, since time.Time) state.GuardDutyRegion {
	res := state.GuardDutyRegion{Region: region}
	fail := func(call string, err error) state.GuardDutyRegion {
		err = session.Wrap(call, region, err)
		switch session.Classify(err) {
		case session.ClassDenied:
			res.Status = state.GuardDutyDenied
		case session.ClassThrottled:
			res.Status = state.GuardDutyThrottled
		default:
			res.Status = state.GuardDutyFailed
		}
		res.Error, res.Findings = err.Error(), nil
		return res
	}
	dp := guardduty.NewListDetectorsPaginator(api, &guardduty.ListDetectorsInput{})
	for dp.HasMorePages() {
		page, err := dp.NextPage(ctx)
		if err != nil {
			return fail("guardduty:ListDetectors", err)
		}
		res.Detectors = append(res.Detectors, page.DetectorIds...)
	}
	if len(res.Detectors) == 0 {
		res.Status = state.GuardDutyNotEnabled
		return res
	}
	res.Status = state.GuardDutyEnabled
	for _, det := range res.Detectors {
		in := &guardduty.ListFindingsInput{DetectorId: aws.String(det), MaxResults: aws.Int32(getBatch)}
		if !since.IsZero() {
			in.FindingCriteria = &gdtypes.FindingCriteria{Criterion: map[string]gdtypes.Condition{
				"updatedAt": {GreaterThanOrEqual: aws.Int64(since.UnixMilli())}}}
		}
		var ids []string
		lp := guardduty.NewListFindingsPaginator(api, in)
		for lp.HasMorePages() {
			page, err := lp.NextPage(ctx)
			if err != nil {
				return fail("guardduty:ListFindings", err)
			}
			ids = append(ids, page.FindingIds...)
		}
		for i := 0; i < len(ids); i += getBatch {
			got, err := api.GetFindings(ctx, &guardduty.GetFindingsInput{DetectorId: aws.String(det), FindingIds: ids[i:min(i+getBatch, len(ids))]})
			if err != nil {
				return fail("guardduty:GetFindings", err)
			}
			for _, f := range got.Findings {
				res.Findings = append(res.Findings, convert(f, det, region))
			}
		}
	}
	return res
}

// convert turns an SDK finding into the fact's.
func convert(f gdtypes.Finding, det, region string) state.GuardDutyFinding {
	out := state.GuardDutyFinding{ID: aws.ToString(f.Id), DetectorID: det, Region: aws.ToString(f.Region),
		AccountID: aws.ToString(f.AccountId), Type: aws.ToString(f.Type), Severity: aws.ToFloat64(f.Severity),
		Title: aws.ToString(f.Title), Desc: aws.ToString(f.Description),
		CreatedAt: parseTime(f.CreatedAt), UpdatedAt: parseTime(f.UpdatedAt)}
	if out.Region == "" {
		out.Region = region
	}
	if r := f.Resource; r != nil {
		out.ResourceType = aws.ToString(r.ResourceType)
		if k := r.AccessKeyDetails; k != nil {
			out.AccessKeyID, out.PrincipalID = aws.ToString(k.AccessKeyId), aws.ToString(k.PrincipalId)
			out.UserName, out.UserType = aws.ToString(k.UserName), aws.ToString(k.UserType)
		}
		if in := r.InstanceDetails; in != nil {
			out.InstanceID = aws.ToString(in.InstanceId)
		}
	}
	if s := f.Service; s != nil {
		out.Count = int(aws.ToInt32(s.Count))
		out.Archived = aws.ToBool(s.Archived)
		out.FirstSeen, out.LastSeen = parseTime(s.EventFirstSeen), parseTime(s.EventLastSeen)
		if a := s.Action; a != nil {
			if c := a.AwsApiCallAction; c != nil {
				out.API, out.ServiceName = aws.ToString(c.Api), aws.ToString(c.ServiceName)
				if ip := c.RemoteIpDetails; ip != nil {
					out.RemoteIP = aws.ToString(ip.IpAddressV4)
				}
			}
			if n := a.NetworkConnectionAction; n != nil && n.RemoteIpDetails != nil && out.RemoteIP == "" {
				out.RemoteIP = aws.ToString(n.RemoteIpDetails.IpAddressV4)
			}
			if d := a.DnsRequestAction; d != nil {
				out.Domain = aws.ToString(d.Domain)
			}
		}
	}
	return out
}

// parseTime reads GuardDuty's times (RFC 3339 with milliseconds); zero
// when absent or unreadable.
func parseTime(p *string) time.Time {
	s := aws.ToString(p)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC()
	}
	return time.Time{}
}

// SessionClient is client for Read over a session.
func SessionClient(s *session.Session) func(region string) API {
	return func(region string) API { return s.GuardDuty(region) }
}
