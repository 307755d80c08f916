package session

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/smithy-go/logging"

	"github.com/warroom-ir/warroom/aws/sim"
)

// drill starts the drill account and returns its endpoint and responder.
func drill(t *testing.T) (string, sim.Credentials, *sim.Sim) {
	t.Helper()
	s := sim.New(sim.Options{Seed: 1})
	ctx, cancel := context.WithCancel(context.Background())
	endpoint, err := s.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); s.Close() })
	return endpoint, s.Responder(), s
}

// TestIdentifyWithCABundle: a custom CA bundle (AWS_CA_BUNDLE, set on machines
// behind TLS-inspecting proxies) must keep working with warroom's own HTTP
// client wrapping, and calls must go through.
func TestIdentifyWithCABundle(t *testing.T) {
	endpoint, resp, _ := drill(t)
	tls := httptest.NewTLSServer(nil)
	defer tls.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tls.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, caBundle := range []string{"", bundle} {
		t.Run("AWS_CA_BUNDLE="+caBundle, func(t *testing.T) {
			t.Setenv("AWS_CA_BUNDLE", caBundle)
			t.Setenv("AWS_PROFILE", "")
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
			s, err := Load(context.Background(), Options{
				Endpoint:    endpoint,
				Credentials: StaticCredentials(resp.AccessKeyID, resp.SecretAccessKey, resp.SessionToken),
			})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			id, err := s.Identify(context.Background())
			if err != nil {
				t.Fatalf("Identify: %v", err)
			}
			if id.KeyID != resp.AccessKeyID || id.AccountID == "" || id.Partition != "aws" {
				t.Errorf("identity %+v", id)
			}
		})
	}
}

// TestReadOnlySession: a read-only session builds no mutating client and
// its clients refuse any operation that is not a read before sending it.
func TestReadOnlySession(t *testing.T) {
	endpoint, resp, s := drill(t)
	sess, err := Load(context.Background(), Options{
		Endpoint: endpoint, ReadOnly: true,
		Credentials: StaticCredentials(resp.AccessKeyID, resp.SecretAccessKey, resp.SessionToken),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.Mutators(); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Mutators in read-only: %v", err)
	}
	before := len(s.Calls())
	_, err = sess.IAM().DeleteUser(context.Background(), nil)
	if !errors.Is(err, ErrReadOnly) {
		t.Errorf("DeleteUser through a read-only client: %v, want ErrReadOnly", err)
	}
	if n := len(s.Calls()) - before; n != 0 {
		t.Errorf("the drill account received %d calls", n)
	}
	if _, err := sess.Identify(context.Background()); err != nil {
		t.Errorf("reads still work: %v", err)
	}
}

// TestSDKLogsNothing: the SDK must not write its warnings to stderr, under
// the console's screen.
func TestSDKLogsNothing(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	s, err := Load(context.Background(), Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Config("eu-west-1").Logger.(logging.Nop); !ok {
		t.Errorf("the SDK logs through %T, want logging.Nop", s.Config("eu-west-1").Logger)
	}
}
