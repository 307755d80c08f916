package trail

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
)

// benchRegions are the 17 Regions every account has enabled.
var benchRegions = []string{"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2",
	"us-west-1", "us-west-2"}

// BenchmarkBackfill17Regions backfills 24 hours in 17 Regions holding
// pagesPerRegion pages of events each, through the sim's real 2 requests/s
// per Region throttle. Run one after another, the Regions would take
// requests/2 seconds; in parallel, about pagesPerRegion/2.
func BenchmarkBackfill17Regions(b *testing.B) {
	const pagesPerRegion = 6
	env := startSim(b, sim.Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, r := range benchRegions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := sts.NewFromConfig(env.cfg(env.sim.Responder(), r))
			// A page holds 50; leave room for the benchmark's own calls.
			for range pagesPerRegion*50 - 25 {
				if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	lookup := SessionLookup(env.session(b, static(env.sim.Responder())))
	b.ResetTimer()
	var requests int64
	budget := NewBudget(0, 0)
	start := time.Now()
	for range b.N {
		st := New(lookup, nopSink{}, Options{Regions: benchRegions, Once: true, Since: 24 * time.Hour, Now: env.clock.Now, Budget: budget})
		if err := st.Run(ctx); err != nil {
			b.Fatal(err)
		}
		requests += st.Requests()
	}
	wall := time.Since(start).Seconds() / float64(b.N)
	b.StopTimer()
	perRun := float64(requests) / float64(b.N)
	b.ReportMetric(perRun, "requests/op")
	b.ReportMetric(perRun/2, "sequential-s/op")
	b.ReportMetric(perRun/2/wall, "speedup")
	if n := lookupThrottles(env.sim); n != 0 {
		b.Errorf("%d LookupEvents calls throttled", n)
	}
}
