package main

import (
	"bufio"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/session"
)

func TestSimBadFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"public listen", []string{"sim", "--listen", "0.0.0.0:0"}, "loopback"},
		{"unknown scenario", []string{"sim", "--scenario", "ransomware"}, "known scenarios"},
		{"zero speed", []string{"sim", "--speed", "0"}, "--speed"},
		{"rate above one", []string{"sim", "--throttle-rate", "1.5"}, "--throttle-rate"},
		{"unknown deny region", []string{"sim", "--deny-region", "xx-nowhere-1"}, "--deny-region"},
		{"default region cannot be disabled", []string{"sim", "--disable-region", "us-east-1"}, "opt-in"},
		{"generate without events", []string{"sim", "generate", "--out", "x"}, "--events"},
		{"generate without out", []string{"sim", "generate", "--events", "5"}, "--out"},
		{"generate bad account", []string{"sim", "generate", "--events", "5", "--out", "x", "--account", "12ab"}, "--account"},
		{"stray argument", []string{"sim", "now"}, "unknown command"},
		{"organisation of one", []string{"sim", "--org-accounts", "1"}, "--org-accounts"},
		{"no member to pivot to", []string{"sim", "--org-accounts", "2"}, "--org-accounts 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := warroom(t, tc.args...)
			if code != exitUsage || !strings.Contains(strings.ToLower(errOut), strings.ToLower(tc.want)) {
				t.Fatalf("exit %d, stderr %q; want %d mentioning %q", code, errOut, exitUsage, tc.want)
			}
		})
	}
}

func TestSimGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "trail")
	code, out, errOut := warroom(t, "sim", "generate", "--events", "400", "--out", dir, "--account", "123456789012", "--regions", "eu-west-1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "400 records in") {
		t.Errorf("summary %q", out)
	}
	matches, err := filepath.Glob(filepath.Join(dir, "AWSLogs", "123456789012", "CloudTrail", "*", "*", "*", "*", "*.json.gz"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no delivery files under %s (%v)", dir, err)
	}
	for _, m := range matches {
		if r := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(m))))); r != "eu-west-1" && r != "us-east-1" {
			t.Errorf("file in Region %s", r)
		}
	}
	// The files are what ingest reads.
	j := filepath.Join(t.TempDir(), "journal.jsonl")
	if code, out, errOut := warroom(t, "ingest", "--journal", j, dir); code != 0 || !strings.Contains(out, "400 records") {
		t.Fatalf("ingest exit %d: %s %s", code, out, errOut)
	}
}

// syncBuffer is a bytes buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSimServesAndPrintsSettings(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"sim", "--listen", "127.0.0.1:0", "--speed", "50", "--seed", "3"}, strings.NewReader(""), &out, &errb)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "leaked key: ") {
		if time.Now().After(deadline) {
			t.Fatalf("no settings printed; stderr %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	env := map[string]string{}
	var leaked string
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		line := sc.Text()
		if k, ok := strings.CutPrefix(line, "leaked key: "); ok {
			leaked = k
			continue
		}
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			t.Fatalf("unexpected output line %q", line)
		}
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
		if env[k] == "" {
			t.Errorf("no %s line", k)
		}
	}
	if !strings.HasPrefix(leaked, "AKIA") || leaked == env["AWS_ACCESS_KEY_ID"] {
		t.Errorf("leaked key %q", leaked)
	}
	// Point the console's own session at it, as eval "$(warroom sim | grep ^export)" would.
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	for k, v := range env {
		t.Setenv(k, v)
	}
	sess, err := session.Load(ctx, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sess.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(id.ARN, ":user/incident-responder") || id.KeyID != env["AWS_ACCESS_KEY_ID"] {
		t.Errorf("responder is %s with %s", id.ARN, id.KeyID)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after interrupt: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("sim did not stop when interrupted")
	}
	if strings.Contains(errb.String(), env["AWS_SECRET_ACCESS_KEY"]) {
		t.Error("the secret reached stderr")
	}
}

func TestSimDisabledRegions(t *testing.T) {
	def := newSimCmd(&env{}).Flags().Lookup("disable-region").DefValue
	cases := []struct {
		name string
		in   []string
		want int
	}{
		{"default", defaultDisabled, len(defaultDisabled)},
		{"none", []string{""}, 0},
		{"one", []string{"me-south-1"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := simOptions{listen: "127.0.0.1:0", scenario: "none", speed: 1, disableRegion: tc.in}
			if err := o.check(); err != nil {
				t.Fatal(err)
			}
			if len(o.disableRegion) != tc.want {
				t.Errorf("disabled %v, want %d", o.disableRegion, tc.want)
			}
		})
	}
	for _, r := range defaultDisabled {
		if !strings.Contains(def, r) {
			t.Errorf("default %s does not disable %s", def, r)
		}
	}
}

// TestSimOrg: --org-accounts serves an organisation and prints the
// management responder's settings, the organisation, its members and the
// leaked key's account (a member); the settings reach the management
// account through the one endpoint.
func TestSimOrg(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"sim", "--listen", "127.0.0.1:0", "--speed", "50", "--seed", "3", "--org-accounts", "4"},
			strings.NewReader(""), &out, &errb)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "leaked key's account: ") {
		if time.Now().After(deadline) {
			t.Fatalf("no settings printed; stderr %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	env := map[string]string{}
	var org, mgmt, leakedAcct string
	var members []string
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ": ")
		switch k {
		case "organization":
			org = v
		case "management account":
			mgmt = v
		case "member account":
			members = append(members, v)
		case "leaked key's account":
			leakedAcct = v
		case "leaked key":
		default:
			kv, ok := strings.CutPrefix(sc.Text(), "export ")
			if !ok {
				t.Fatalf("unexpected output line %q", sc.Text())
			}
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	if !strings.HasPrefix(org, "o-") || len(mgmt) != 12 || len(members) != 3 || leakedAcct != members[0] {
		t.Fatalf("org %q, management %q, members %v, leaked key's account %q", org, mgmt, members, leakedAcct)
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	for k, v := range env {
		t.Setenv(k, v)
	}
	sess, err := session.Load(ctx, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sess.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(id.ARN, "::"+mgmt+":user/incident-responder") {
		t.Errorf("responder is %s", id.ARN)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after interrupt: %s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("sim did not stop when interrupted")
	}
}
