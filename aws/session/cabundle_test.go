package session

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadWithCABundle(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bundle string
	}{
		{"no bundle", ""},
		{"AWS_CA_BUNDLE set", bundle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("AWS_CA_BUNDLE", tt.bundle)
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
			s, err := Load(context.Background(), Options{Region: "eu-west-1"})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			hc, ok := s.base.HTTPClient.(*http.Client)
			if !ok {
				t.Fatalf("HTTP client %T, want *http.Client", s.base.HTTPClient)
			}
			if _, ok := hc.Transport.(BodyCopier); !ok {
				t.Errorf("transport %T, want a BodyCopier", hc.Transport)
			}
		})
	}
}
