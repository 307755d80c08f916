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

// BenchmarkConfigNote measures what AWS Config's recorder adds to one IAM
// write call (config.go: every user's and role's configuration compared
// with its last item) in an account of 300 users and 100 roles with
// inline policies, and to one EC2 write in a Region of 500 instances and
// 100 security groups.
func BenchmarkConfigNote(b *testing.B) {
	s := New(Options{Seed: 1, Clock: NewManualClock(time.Now())})
	now := s.clock.Now().UTC()
	s.mu.Lock()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","ec2:Describe*"],"Resource":"*"}]}`
	for i := range 300 {
		u := s.addUserLocked(fmt.Sprintf("user-%03d", i), "/", now)
		u.Inline = []namedPolicy{{Name: "p", Document: doc}}
	}
	for i := range 100 {
		s.addRoleLocked(fmt.Sprintf("role-%03d", i), "/", 3600, now)
	}
	rg := s.ec2region(HomeRegion)
	for i := range 500 {
		in := &instance{ID: fmt.Sprintf("i-%017d", i), State: "running", Launched: now, Type: "t3.micro", AZ: "us-east-1a"}
		rg.instances[in.ID] = in
		rg.order = append(rg.order, in)
	}
	for i := range 100 {
		s.newSecGroupLocked(rg, fmt.Sprintf("sg-%d", i), "x", "")
	}
	s.configNoteAllLocked(now) // the first items
	s.mu.Unlock()
	for _, svc := range []string{"iam", "ec2"} {
		b.Run(svc, func(b *testing.B) {
			r := &Request{Service: s.services[svc], Region: HomeRegion, Now: now}
			s.mu.Lock()
			defer s.mu.Unlock()
			for b.Loop() {
				s.configNoteLocked(r)
			}
		})
	}
}
