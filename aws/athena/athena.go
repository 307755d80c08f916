// Package athena runs a hunt's SQL in Amazon Athena: StartQueryExecution
// (with a client request token, a workgroup and an output location),
// GetQueryExecution polled with backoff until the query is final,
// GetQueryResults page by page (the header row skipped), throttling
// retried with backoff and reported when it persists, and
// StopQueryExecution when the caller gives up. It is the only package that
// imports the Athena SDK.
package athena

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/warroom-ir/warroom/aws/session"
)

// API is the part of the Athena client a hunt calls (*athena.Client).
type API interface {
	StartQueryExecution(context.Context, *athena.StartQueryExecutionInput, ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(context.Context, *athena.GetQueryExecutionInput, ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	GetQueryResults(context.Context, *athena.GetQueryResultsInput, ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
	StopQueryExecution(context.Context, *athena.StopQueryExecutionInput, ...func(*athena.Options)) (*athena.StopQueryExecutionOutput, error)
	GetTableMetadata(context.Context, *athena.GetTableMetadataInput, ...func(*athena.Options)) (*athena.GetTableMetadataOutput, error)
}

// Client runs queries in one Region of one account.
type Client struct {
	API            API
	Region         string
	Account        string // named in errors
	Workgroup      string // empty: "primary"
	OutputLocation string // s3://…; empty: the workgroup's
	Catalog        string // empty: AwsDataCatalog

	// Poll is the first wait between GetQueryExecution calls; it doubles
	// up to MaxPoll. Zero: 200 ms and 5 s.
	Poll, MaxPoll time.Duration
	// Throttled is how many times a throttled call is tried (zero: 8),
	// waiting Poll, doubled each time, in between.
	Throttled int
	// PageSize is GetQueryResults' MaxResults (zero: 1,000, Athena's most).
	PageSize int32
	// Sleep waits (tests make it instant); nil: a timer honouring ctx.
	Sleep func(context.Context, time.Duration) error
}

// Stats is what Athena says about a finished query.
type Stats struct {
	QueryID      string
	State        string
	BytesScanned int64
	EngineTime   time.Duration
}

// Cost is the query's price at Athena's $5 per TB scanned, with its 10 MB
// minimum per query.
func (s Stats) Cost() float64 { return CostOf(s.BytesScanned) }

// CostOf is the price of a query that scanned n bytes: $5 per TB (10^12
// bytes), at least 10 MB counted.
func CostOf(n int64) float64 {
	const minBytes = 10 * 1000 * 1000
	return float64(max(n, minBytes)) / 1e12 * 5
}

// Error is a query that ended FAILED or CANCELLED, or a call that failed,
// with the call, Region and account named.
type Error struct {
	Call    string // athena:GetQueryExecution
	Region  string
	Account string
	QueryID string
	State   string // FAILED, CANCELLED; empty for a failed call
	Reason  string // StateChangeReason, or the call's error
	Err     error  // the call's error, if any
}

// Error implements error.
func (e *Error) Error() string {
	where := e.Call + " in " + e.Region
	if e.Account != "" {
		where += " (account " + e.Account + ")"
	}
	if e.State != "" {
		return fmt.Sprintf("%s: query %s %s: %s", where, e.QueryID, e.State, e.Reason)
	}
	return where + ": " + e.Reason
}

// Unwrap gives the call's error.
func (e *Error) Unwrap() error { return e.Err }

func (c *Client) fail(call, id string, err error) error {
	reason := err.Error()
	var we *session.Error
	if errors.As(err, &we) && we == err {
		// AWS's code and message, the call and Region being said once.
		reason = strings.TrimPrefix(we.Error(), we.Call+" in "+we.Region+": ")
	}
	return &Error{Call: "athena:" + call, Region: c.Region, Account: c.Account, QueryID: id, Reason: reason, Err: err}
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) poll() (time.Duration, time.Duration) {
	p, m := c.Poll, c.MaxPoll
	if p <= 0 {
		p = 200 * time.Millisecond
	}
	if m <= 0 {
		m = 5 * time.Second
	}
	return p, max(p, m)
}

// call runs fn, again with backoff while Athena throttles it; a
// throttling that persists is reported with how often it was tried.
func call[T any](ctx context.Context, c *Client, name, id string, fn func() (T, error)) (T, error) {
	tries := c.Throttled
	if tries <= 0 {
		tries = 8
	}
	wait, maxWait := c.poll()
	for i := 1; ; i++ {
		out, err := fn()
		if err == nil {
			return out, nil
		}
		err = session.Wrap("athena:"+name, c.Region, err)
		if session.Classify(err) != session.ClassThrottled || ctx.Err() != nil {
			return out, c.fail(name, id, err)
		}
		if i >= tries {
			var we *session.Error
			errors.As(err, &we)
			return out, &Error{Call: "athena:" + name, Region: c.Region, Account: c.Account, QueryID: id,
				Reason: fmt.Sprintf("still throttled after %d tries: %s", i, strings.TrimPrefix(we.Error(), we.Call+" in "+we.Region+": ")), Err: err}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return out, c.fail(name, id, err)
		}
		wait = min(2*wait, maxWait)
	}
}

// Start starts sql and returns the query's id. token makes a retried
// start the same query (ClientRequestToken, 32 to 128 characters).
func (c *Client) Start(ctx context.Context, sql, token string) (string, error) {
	in := &athena.StartQueryExecutionInput{QueryString: aws.String(sql)}
	if token != "" {
		in.ClientRequestToken = aws.String(token)
	}
	if c.Workgroup != "" {
		in.WorkGroup = aws.String(c.Workgroup)
	}
	if c.OutputLocation != "" {
		in.ResultConfiguration = &types.ResultConfiguration{OutputLocation: aws.String(c.OutputLocation)}
	}
	out, err := call(ctx, c, "StartQueryExecution", "", func() (*athena.StartQueryExecutionOutput, error) {
		return c.API.StartQueryExecution(ctx, in)
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.QueryExecutionId), nil
}

// Wait polls the query until it is final. SUCCEEDED gives its stats;
// FAILED and CANCELLED an *Error with Athena's reason. When ctx ends
// first, the query is stopped (StopQueryExecution, on a context of its
// own) and ctx's error returned.
func (c *Client) Wait(ctx context.Context, id string) (Stats, error) {
	st := Stats{QueryID: id}
	wait, maxWait := c.poll()
	for {
		out, err := call(ctx, c, "GetQueryExecution", id, func() (*athena.GetQueryExecutionOutput, error) {
			return c.API.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		})
		if err != nil {
			if ctx.Err() != nil {
				return st, c.stop(id, ctx.Err())
			}
			return st, err
		}
		q := out.QueryExecution
		if q == nil || q.Status == nil {
			return st, c.fail("GetQueryExecution", id, errors.New("no status in the answer"))
		}
		st.State = string(q.Status.State)
		if s := q.Statistics; s != nil {
			st.BytesScanned = aws.ToInt64(s.DataScannedInBytes)
			st.EngineTime = time.Duration(aws.ToInt64(s.EngineExecutionTimeInMillis)) * time.Millisecond
		}
		switch q.Status.State {
		case types.QueryExecutionStateSucceeded:
			return st, nil
		case types.QueryExecutionStateFailed, types.QueryExecutionStateCancelled:
			reason := aws.ToString(q.Status.StateChangeReason)
			if reason == "" && q.Status.AthenaError != nil {
				reason = aws.ToString(q.Status.AthenaError.ErrorMessage)
			}
			if reason == "" {
				reason = "no reason given"
			}
			return st, &Error{Call: "athena:GetQueryExecution", Region: c.Region, Account: c.Account, QueryID: id, State: st.State, Reason: reason}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return st, c.stop(id, err)
		}
		wait = min(2*wait, maxWait)
	}
}

// stop asks Athena to stop query id after the caller gave up (cause).
func (c *Client) stop(id string, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.API.StopQueryExecution(ctx, &athena.StopQueryExecutionInput{QueryExecutionId: aws.String(id)})
	if err != nil {
		return fmt.Errorf("%w; and stopping query %s: %v", cause, id, c.fail("StopQueryExecution", id, session.Wrap("athena:StopQueryExecution", c.Region, err)))
	}
	return fmt.Errorf("%w (query %s stopped)", cause, id)
}

// Results reads the query's rows page by page (the header row of the
// first page skipped) and hands each page to fn: one value per column,
// nil for SQL NULL.
func (c *Client) Results(ctx context.Context, id string, fn func(rows [][]*string) error) error {
	size := c.PageSize
	if size <= 0 {
		size = 1000
	}
	var token *string
	first := true
	for {
		in := &athena.GetQueryResultsInput{QueryExecutionId: aws.String(id), MaxResults: aws.Int32(size), NextToken: token}
		out, err := call(ctx, c, "GetQueryResults", id, func() (*athena.GetQueryResultsOutput, error) {
			return c.API.GetQueryResults(ctx, in)
		})
		if err != nil {
			return err
		}
		var rows [][]*string
		if rs := out.ResultSet; rs != nil {
			src := rs.Rows
			if first && len(src) > 0 {
				src = src[1:] // a SELECT's first row holds the column names
			}
			rows = make([][]*string, len(src))
			for i, r := range src {
				row := make([]*string, len(r.Data))
				for j, d := range r.Data {
					row[j] = d.VarCharValue
				}
				rows[i] = row
			}
		}
		first = false
		if err := fn(rows); err != nil {
			return err
		}
		token = out.NextToken
		if aws.ToString(token) == "" {
			return nil
		}
	}
}

// Run starts sql, waits for it, and reads its results into fn.
func (c *Client) Run(ctx context.Context, sql, token string, fn func(rows [][]*string) error) (Stats, error) {
	id, err := c.Start(ctx, sql, token)
	if err != nil {
		return Stats{}, err
	}
	st, err := c.Wait(ctx, id)
	if err != nil {
		return st, err
	}
	return st, c.Results(ctx, id, fn)
}

// TableExists asks the catalog whether database.table exists
// (GetTableMetadata; a "not found" is false, any other failure an error).
func (c *Client) TableExists(ctx context.Context, database, table string) (bool, error) {
	catalog := c.Catalog
	if catalog == "" {
		catalog = "AwsDataCatalog"
	}
	_, err := call(ctx, c, "GetTableMetadata", "", func() (*athena.GetTableMetadataOutput, error) {
		return c.API.GetTableMetadata(ctx, &athena.GetTableMetadataInput{
			CatalogName: aws.String(catalog), DatabaseName: aws.String(database), TableName: aws.String(table)})
	})
	if err == nil {
		return true, nil
	}
	var me *types.MetadataException
	if errors.As(err, &me) && strings.Contains(strings.ToLower(me.ErrorMessage()), "not found") || session.Classify(err) == session.ClassNotFound {
		return false, nil
	}
	return false, err
}
