package athena

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
)

// fake is a small Athena for unit tests: states to go through, pages to
// serve, and throttling for the first calls of each operation.
type fake struct {
	states    []types.QueryExecutionState
	reason    string
	pages     [][]types.Row
	throttle  map[string]int // operation → how many calls are throttled first
	calls     map[string]int
	started   *athena.StartQueryExecutionInput
	stopped   string
	scanned   int64
	onExecute func()
}

func (f *fake) count(op string) error {
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
	if f.throttle[op] > 0 {
		f.throttle[op]--
		return &types.TooManyRequestsException{Message: aws.String("Rate exceeded")}
	}
	return nil
}

func (f *fake) StartQueryExecution(_ context.Context, in *athena.StartQueryExecutionInput, _ ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error) {
	if err := f.count("StartQueryExecution"); err != nil {
		return nil, err
	}
	f.started = in
	return &athena.StartQueryExecutionOutput{QueryExecutionId: aws.String("q-1")}, nil
}

func (f *fake) GetQueryExecution(_ context.Context, in *athena.GetQueryExecutionInput, _ ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error) {
	if err := f.count("GetQueryExecution"); err != nil {
		return nil, err
	}
	if f.onExecute != nil {
		f.onExecute()
	}
	st := f.states[0]
	if len(f.states) > 1 {
		f.states = f.states[1:]
	}
	return &athena.GetQueryExecutionOutput{QueryExecution: &types.QueryExecution{
		QueryExecutionId: in.QueryExecutionId,
		Status:           &types.QueryExecutionStatus{State: st, StateChangeReason: aws.String(f.reason)},
		Statistics:       &types.QueryExecutionStatistics{DataScannedInBytes: aws.Int64(f.scanned)},
	}}, nil
}

func (f *fake) GetQueryResults(_ context.Context, in *athena.GetQueryResultsInput, _ ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error) {
	if err := f.count("GetQueryResults"); err != nil {
		return nil, err
	}
	i := 0
	if in.NextToken != nil {
		i = int((*in.NextToken)[0] - '0')
	}
	out := &athena.GetQueryResultsOutput{ResultSet: &types.ResultSet{Rows: f.pages[i]}}
	if i+1 < len(f.pages) {
		out.NextToken = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

func (f *fake) StopQueryExecution(_ context.Context, in *athena.StopQueryExecutionInput, _ ...func(*athena.Options)) (*athena.StopQueryExecutionOutput, error) {
	f.stopped = aws.ToString(in.QueryExecutionId)
	return &athena.StopQueryExecutionOutput{}, nil
}

func (f *fake) GetTableMetadata(_ context.Context, in *athena.GetTableMetadataInput, _ ...func(*athena.Options)) (*athena.GetTableMetadataOutput, error) {
	if aws.ToString(in.TableName) == "there" {
		return &athena.GetTableMetadataOutput{}, nil
	}
	return nil, &types.MetadataException{Message: aws.String("Table not found: " + aws.ToString(in.TableName))}
}

func row(vals ...*string) types.Row {
	var r types.Row
	for _, v := range vals {
		r.Data = append(r.Data, types.Datum{VarCharValue: v})
	}
	return r
}

func newClient(f *fake) *Client {
	return &Client{API: f, Region: "eu-west-1", Account: "111122223333", Workgroup: "wg", OutputLocation: "s3://out/",
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }}
}

func TestRunPagesSkipHeader(t *testing.T) {
	f := &fake{
		states: []types.QueryExecutionState{types.QueryExecutionStateQueued, types.QueryExecutionStateRunning, types.QueryExecutionStateSucceeded},
		pages: [][]types.Row{
			{row(aws.String("eventid"), aws.String("errorcode")), row(aws.String("a"), nil)},
			{row(aws.String("b"), aws.String("AccessDenied"))},
		},
		scanned: 3 << 30,
	}
	var got []string
	st, err := newClient(f).Run(context.Background(), "SELECT 1", strings.Repeat("t", 32), func(rows [][]*string) error {
		for _, r := range rows {
			s := *r[0] + "/"
			if r[1] == nil {
				s += "NULL"
			} else {
				s += *r[1]
			}
			got = append(got, s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "a/NULL b/AccessDenied" {
		t.Errorf("rows %v", got)
	}
	if st.BytesScanned != 3<<30 || st.QueryID != "q-1" || st.State != "SUCCEEDED" {
		t.Errorf("stats %+v", st)
	}
	in := f.started
	if aws.ToString(in.WorkGroup) != "wg" || aws.ToString(in.ResultConfiguration.OutputLocation) != "s3://out/" || len(aws.ToString(in.ClientRequestToken)) != 32 {
		t.Errorf("start input %+v", in)
	}
}

func TestFailedQueryNamesCallRegionAccount(t *testing.T) {
	f := &fake{states: []types.QueryExecutionState{types.QueryExecutionStateFailed}, reason: "TABLE_NOT_FOUND: line 1:15: Table 'x' does not exist"}
	_, err := newClient(f).Run(context.Background(), "SELECT 1", "", func([][]*string) error { return nil })
	var ae *Error
	if !errors.As(err, &ae) || ae.State != "FAILED" {
		t.Fatalf("%v", err)
	}
	for _, w := range []string{"athena:GetQueryExecution", "eu-west-1", "111122223333", "q-1", "TABLE_NOT_FOUND"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	if f.calls["GetQueryResults"] != 0 {
		t.Error("results read from a failed query")
	}
}

func TestThrottled(t *testing.T) {
	t.Run("recovers", func(t *testing.T) {
		f := &fake{states: []types.QueryExecutionState{types.QueryExecutionStateSucceeded}, pages: [][]types.Row{{row(aws.String("h"))}},
			throttle: map[string]int{"StartQueryExecution": 3, "GetQueryExecution": 2, "GetQueryResults": 4}}
		if _, err := newClient(f).Run(context.Background(), "SELECT 1", "", func([][]*string) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if f.calls["StartQueryExecution"] != 4 || f.calls["GetQueryResults"] != 5 {
			t.Errorf("calls %v", f.calls)
		}
	})
	t.Run("persists", func(t *testing.T) {
		f := &fake{throttle: map[string]int{"StartQueryExecution": 100}}
		c := newClient(f)
		c.Throttled = 5
		_, err := c.Run(context.Background(), "SELECT 1", "", func([][]*string) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "athena:StartQueryExecution in eu-west-1 (account 111122223333)") ||
			!strings.Contains(err.Error(), "still throttled after 5 tries") || f.calls["StartQueryExecution"] != 5 {
			t.Errorf("%v after %d calls", err, f.calls["StartQueryExecution"])
		}
	})
}

func TestCancelStopsQuery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fake{states: []types.QueryExecutionState{types.QueryExecutionStateRunning}}
	n := 0
	f.onExecute = func() {
		if n++; n == 3 {
			cancel()
		}
	}
	_, err := newClient(f).Run(ctx, "SELECT 1", "", func([][]*string) error { return nil })
	if !errors.Is(err, context.Canceled) || f.stopped != "q-1" {
		t.Errorf("err %v, stopped %q", err, f.stopped)
	}
}

func TestTableExists(t *testing.T) {
	c := newClient(&fake{})
	if ok, err := c.TableExists(context.Background(), "db", "there"); !ok || err != nil {
		t.Errorf("there: %v %v", ok, err)
	}
	if ok, err := c.TableExists(context.Background(), "db", "gone"); ok || err != nil {
		t.Errorf("gone: %v %v", ok, err)
	}
}

func TestCost(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want float64
	}{{0, 0.00005}, {10_000_000, 0.00005}, {1e12, 5}, {3e11, 1.5}} {
		if got := CostOf(tc.n); got < tc.want*0.999999 || got > tc.want*1.000001 {
			t.Errorf("CostOf(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}
