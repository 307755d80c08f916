// Package advisor reads what a credential could reach and what it used:
// IAM Access Advisor (iam:GenerateServiceLastAccessedDetails, then
// iam:GetServiceLastAccessedDetails polled with backoff until the job is
// final) for a user or role, and a resource's AWS Config history
// (config:DescribeConfigurationRecorderStatus, then
// config:GetResourceConfigHistory page by page) in its Region. Results are
// state facts (state.Reach, state.ConfigHistory) with every failure in
// them, classified, so a caller journals what happened either way.
package advisor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// IAM is the part of the IAM client Access Advisor uses.
type IAM interface {
	GenerateServiceLastAccessedDetails(context.Context, *iam.GenerateServiceLastAccessedDetailsInput, ...func(*iam.Options)) (*iam.GenerateServiceLastAccessedDetailsOutput, error)
	GetServiceLastAccessedDetails(context.Context, *iam.GetServiceLastAccessedDetailsInput, ...func(*iam.Options)) (*iam.GetServiceLastAccessedDetailsOutput, error)
}

// Options tune a report.
type Options struct {
	// ServiceLevel asks for services only; the default is ACTION_LEVEL
	// (the actions of the services AWS tracks actions of, too).
	ServiceLevel bool
	// Poll is the first wait between reads of the job (doubling, at most
	// 5 s); 250 ms when zero.
	Poll time.Duration
	// MaxWait bounds the polling: a job still IN_PROGRESS after it is
	// reported as such. 60 s when zero.
	MaxWait time.Duration
	// Sleep waits (tests); time.After when nil.
	Sleep func(context.Context, time.Duration) error
}

// ErrStillRunning is the error of a job still IN_PROGRESS when the
// reader gave up.
var ErrStillRunning = errors.New("job still IN_PROGRESS")

// Reach generates and reads the Access Advisor report of a user or role
// ARN. The Reach returned is always journalable: a failed call or a job
// that did not finish is in its Error (and returned as err too).
func Reach(ctx context.Context, c IAM, arn string, opt Options) (state.Reach, error) {
	gran := iamtypes.AccessAdvisorUsageGranularityTypeActionLevel
	if opt.ServiceLevel {
		gran = iamtypes.AccessAdvisorUsageGranularityTypeServiceLevel
	}
	r := state.Reach{Principal: arn, Granularity: string(gran), TakenAt: time.Now().UTC()}
	fail := func(call string, err error) (state.Reach, error) {
		err = session.Wrap(call, session.DefaultRegion, err)
		var we *session.Error
		if errors.As(err, &we) {
			ce := we.CallError()
			r.Error = &ce
		} else {
			r.Error = &state.CallError{Call: call, Class: string(session.ClassOther), Error: err.Error()}
		}
		if r.Status == "" {
			r.Status = state.JobFailed
		}
		return r, err
	}
	gen, err := c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn), Granularity: gran})
	if err != nil {
		return fail("iam:GenerateServiceLastAccessedDetails", err)
	}
	r.JobID = aws.ToString(gen.JobId)
	poll, maxWait, sleep := opt.Poll, opt.MaxWait, opt.Sleep
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	if maxWait <= 0 {
		maxWait = time.Minute
	}
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	waited := time.Duration(0)
	var marker *string
	for {
		out, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: gen.JobId, Marker: marker})
		if err != nil {
			return fail("iam:GetServiceLastAccessedDetails", err)
		}
		r.Status = string(out.JobStatus)
		switch out.JobStatus {
		case iamtypes.JobStatusTypeFailed:
			msg := "the job failed"
			if out.Error != nil {
				msg = fmt.Sprintf("the job failed: %s: %s", aws.ToString(out.Error.Code), aws.ToString(out.Error.Message))
			}
			r.Error = &state.CallError{Call: "iam:GetServiceLastAccessedDetails", Target: arn, Class: string(session.ClassOther), Error: msg}
			return r, errors.New(msg)
		case iamtypes.JobStatusTypeCompleted:
			for _, s := range out.ServicesLastAccessed {
				r.Services = append(r.Services, serviceOf(s))
			}
			if !out.IsTruncated {
				return r, nil
			}
			marker = out.Marker
			continue
		}
		if waited >= maxWait {
			err := fmt.Errorf("%w after %s (job %s): try again later", ErrStillRunning, waited, r.JobID)
			r.Error = &state.CallError{Call: "iam:GetServiceLastAccessedDetails", Target: arn, Class: string(session.ClassOther), Error: err.Error()}
			return r, err
		}
		if err := sleep(ctx, poll); err != nil {
			return fail("iam:GetServiceLastAccessedDetails", err)
		}
		waited += poll
		poll = min(poll*2, 5*time.Second)
	}
}

func serviceOf(s iamtypes.ServiceLastAccessed) state.ServiceReach {
	out := state.ServiceReach{Namespace: aws.ToString(s.ServiceNamespace), Name: aws.ToString(s.ServiceName),
		Region: aws.ToString(s.LastAuthenticatedRegion), Entity: aws.ToString(s.LastAuthenticatedEntity)}
	if s.LastAuthenticated != nil {
		out.LastUsed = s.LastAuthenticated.UTC()
	}
	for _, a := range s.TrackedActionsLastAccessed {
		ar := state.ActionReach{Name: aws.ToString(a.ActionName), Region: aws.ToString(a.LastAccessedRegion), Entity: aws.ToString(a.LastAccessedEntity)}
		if a.LastAccessedTime != nil {
			ar.LastUsed = a.LastAccessedTime.UTC()
		}
		out.Actions = append(out.Actions, ar)
	}
	return out
}
