package regions

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

func simEC2(t *testing.T, opts sim.Options) *ec2.Client {
	t.Helper()
	s := sim.New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c := s.Responder()
	return ec2.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")})
}

func TestListFromDrillAccount(t *testing.T) {
	api := simEC2(t, sim.Options{Seed: 3, DisabledRegions: []string{"ap-east-1", "me-south-1"}})
	list, err := List(context.Background(), api, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for i, r := range list {
		status[r.Name] = r.OptInStatus
		if i > 0 && list[i-1].Name >= r.Name {
			t.Errorf("not sorted: %s before %s", list[i-1].Name, r.Name)
		}
	}
	tests := []struct{ region, want string }{
		{"us-east-1", "opt-in-not-required"},
		{"eu-west-1", "opt-in-not-required"},
		{"ap-east-1", "not-opted-in"},
		{"me-south-1", "not-opted-in"},
		{"af-south-1", "opted-in"},
	}
	for _, tt := range tests {
		if got := status[tt.region]; got != tt.want {
			t.Errorf("%s: %q, want %q", tt.region, got, tt.want)
		}
	}
	en := Enabled(list)
	if len(en) != len(list)-2 || strings.Contains(strings.Join(en, " "), "ap-east-1") {
		t.Errorf("Enabled = %v", en)
	}
}

func TestDiff(t *testing.T) {
	r := func(name, st string) state.Region { return state.Region{Name: name, OptInStatus: st} }
	tests := []struct {
		name     string
		old, cur []state.Region
		want     string
		enabled  []string
	}{
		{"same", []state.Region{r("a", "opted-in")}, []state.Region{r("a", "opted-in")}, "[]", nil},
		{"first read", nil, []state.Region{r("a", "opted-in")}, "[a: (absent) → opted-in]", []string{"a"}},
		{"attacker opts in", []state.Region{r("a", "not-opted-in"), r("b", "opt-in-not-required")},
			[]state.Region{r("a", "opted-in"), r("b", "opt-in-not-required")}, "[a: not-opted-in → opted-in]", []string{"a"}},
		{"opting out", []state.Region{r("a", "opted-in")}, []state.Region{r("a", "not-opted-in")}, "[a: opted-in → not-opted-in]", nil},
		{"gone", []state.Region{r("a", "opted-in"), r("b", "opted-in")}, []state.Region{r("b", "opted-in")}, "[a: opted-in → (absent)]", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.old, tt.cur)
			if s := fmt.Sprint(got); s != tt.want {
				t.Errorf("Diff = %s, want %s", s, tt.want)
			}
			var en []string
			for _, c := range got {
				if c.Enabled() {
					en = append(en, c.Region)
				}
			}
			if fmt.Sprint(en) != fmt.Sprint(tt.enabled) {
				t.Errorf("enabled %v, want %v", en, tt.enabled)
			}
		})
	}
}

// scripted answers DescribeRegions from a list of answers, repeating the last.
type scripted struct {
	mu      sync.Mutex
	answers []func() (*ec2.DescribeRegionsOutput, error)
	n       int
}

func (s *scripted) DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.answers[min(s.n, len(s.answers)-1)]
	s.n++
	return a()
}

func answer(status string) func() (*ec2.DescribeRegionsOutput, error) {
	return func() (*ec2.DescribeRegionsOutput, error) {
		return &ec2.DescribeRegionsOutput{Regions: []types.Region{
			{RegionName: aws.String("us-east-1"), OptInStatus: aws.String("opt-in-not-required")},
			{RegionName: aws.String("ap-east-1"), OptInStatus: aws.String(status)},
		}}, nil
	}
}

func TestWatcherReportsChanges(t *testing.T) {
	denied := func() (*ec2.DescribeRegionsOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "no"}
	}
	api := &scripted{answers: []func() (*ec2.DescribeRegionsOutput, error){
		answer("not-opted-in"), answer("not-opted-in"), denied, answer("opted-in"),
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		reads  [][]Change
		errs   []error
		lastOK []state.Region
	)
	w := &Watcher{API: api, Region: "us-east-1", Every: time.Millisecond,
		OnChange: func(_ context.Context, list []state.Region, ch []Change) error {
			reads, lastOK = append(reads, ch), list
			if len(reads) == 2 {
				cancel()
			}
			return nil
		},
		OnError: func(_ context.Context, err error) { errs = append(errs, err) },
	}
	if err := w.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if len(reads) != 2 || len(reads[0]) != 2 || fmt.Sprint(reads[1]) != "[ap-east-1: not-opted-in → opted-in]" {
		t.Errorf("changes reported: %v", reads)
	}
	if !lastOK[0].Enabled() || lastOK[0].Name != "ap-east-1" {
		t.Errorf("last list %v", lastOK)
	}
	if len(errs) != 1 || session.Classify(errs[0]) != session.ClassDenied || !strings.Contains(errs[0].Error(), "ec2:DescribeRegions in us-east-1") {
		t.Errorf("errors reported: %v", errs)
	}
}
