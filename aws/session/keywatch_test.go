package session

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// rotating hands out a new key id each time, expiring at once.
type rotating struct{ n int }

func (r *rotating) Retrieve(context.Context) (aws.Credentials, error) {
	r.n++
	return aws.Credentials{AccessKeyID: fmt.Sprintf("ASIAROTATED%04d", r.n), SecretAccessKey: "s", SessionToken: "t",
		CanExpire: true, Expires: time.Now().Add(-time.Second)}, nil
}

// TestOnNewKey: refreshed credentials report their new key id once each;
// the first (Identify's) before OnNewKey is set is not reported.
func TestOnNewKey(t *testing.T) {
	s, err := Load(context.Background(), Options{Region: "us-east-1", Credentials: &rotating{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := s.base.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	s.OnNewKey(func(k string) { got = append(got, k) })
	for range 3 {
		if _, err := s.base.Credentials.Retrieve(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if slices.Contains(got, first.AccessKeyID) || len(got) == 0 {
		t.Fatalf("first key %s, reported %v", first.AccessKeyID, got)
	}
	if len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("a key reported twice: %v", got)
	}
}
