package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// BenchmarkServe measures one signed call through the SDK, the HTTP
// server, SigV4 verification, authorisation and the recorder.
func BenchmarkServe(b *testing.B) {
	env := newEnvB(b, Options{})
	c := env.sts(env.sim.Responder(), "eu-west-1")
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookupEvents measures the lookup itself (no HTTP): a 50-event
// page filtered by access key over a Region holding 10,000 records.
func BenchmarkLookupEvents(b *testing.B) {
	s := New(Options{Seed: 1, LookupRate: 1e9, Clock: NewManualClock(time.Now())})
	now := s.clock.Now()
	for i := range 10000 {
		s.trail.add(&event{seq: i, raw: []byte(`{}`), time: now, visibleAt: now, region: "eu-west-1",
			id: fmt.Sprint(i), name: "GetCallerIdentity", keyID: fmt.Sprintf("AKIA%016d", i%10)}, "")
	}
	body, _ := json.Marshal(map[string]any{"LookupAttributes": []map[string]string{{"AttributeKey": "AccessKeyId", "AttributeValue": fmt.Sprintf("AKIA%016d", 3)}}})
	r := &Request{Region: "eu-west-1", Body: body, Now: now}
	for b.Loop() {
		out, err := s.ctLookupEvents(r)
		if err != nil || len(out.(lookupOutput).Events) != 50 {
			b.Fatal(err)
		}
	}
}
