package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
)

// uaTransport sends every request with a user agent the attacker chose
// (SigV4 does not sign User-Agent).
type uaTransport struct{ ua string }

func (u uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return http.DefaultTransport.RoundTrip(r)
}

// hostileDrillCases plants the payloads that can travel over HTTP in the
// drill account (IAM user names, the user agent of their calls, the names
// a contain command is given), then checks inventory --output json, stream
// --once (table and JSON) and contain's error text.
func hostileDrillCases(t *testing.T) []caseResult {
	t.Helper()
	d := newStreamDrill(t, sim.Options{})
	var res []caseResult
	add := func(path string, h hostile, field, problem string) {
		res = append(res, caseResult{path, h.class, field, problem})
	}
	var sent []hostile
	ctx := context.Background()
	for _, h := range hostilePayloads {
		if !h.overHTTP() {
			continue
		}
		sent = append(sent, h)
		if err := d.sim.AddUser(h.s); err != nil {
			t.Fatal(err)
		}
		k, err := d.sim.AddKey(h.s)
		if err != nil {
			t.Fatal(err)
		}
		cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(d.endpoint), HTTPClient: &http.Client{Transport: uaTransport{h.s}},
			Credentials: credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, "")}
		if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("%s: %v", h.class, err)
		}
		// A failed call: its errorMessage quotes the name.
		_, _ = iam.NewFromConfig(cfg).GetUser(ctx, &iam.GetUserInput{UserName: aws.String("x" + h.s)})
	}
	ep := []string{"--endpoint-url", d.endpoint}

	code, out, errOut := warroom(t, append([]string{"inventory", "-o", "json", "--journal", t.TempDir() + "/inv/journal.jsonl"}, ep...)...)
	if code != 0 && code != 1 {
		t.Fatalf("inventory: exit %d\n%s", code, errOut)
	}
	for _, h := range sent {
		add("inventory --output json", h, "userName", checkJSON(out, h.s, true, false))
	}

	j := t.TempDir() + "/stream/journal.jsonl"
	code, table, errOut := warroom(t, append([]string{"stream", "--once", "--since", "1h", "-j", j}, ep...)...)
	if code != 0 {
		t.Fatalf("stream: exit %d\n%s", code, errOut)
	}
	code, jsonOut, errOut := warroom(t, append([]string{"stream", "--once", "--since", "1h", "-j", j, "-o", "json"}, ep...)...)
	if code != 0 {
		t.Fatalf("stream -o json: exit %d\n%s", code, errOut)
	}
	for _, h := range sent {
		add("stream --once (table)", h, "userName", checkTerminal(table+errOut, h, true))
		add("stream --once (json)", h, "userName", checkJSON(jsonOut, "user/"+h.s, true, true))
		add("stream --once (json)", h, "userAgent", checkJSON(jsonOut, h.s, true, true))
		add("stream --once (json)", h, "errorMessage", checkJSON(jsonOut, "x"+h.s, true, true))
	}

	cj := t.TempDir() + "/contain/journal.jsonl"
	for _, h := range hostilePayloads {
		for _, c := range [][]string{
			{"contain", "delete-login-profile", "user/nobody-" + h.s, "--yes"},
			{"contain", "deactivate-key", "AKIA" + h.s, "--yes"},
			{"contain", "credential", "AKIA" + h.s, "--plan", "-j", cj},
		} {
			args := append(append([]string{}, c...), ep...)
			if c[1] != "credential" {
				args = append(args, "-j", cj)
			}
			_, out, errOut := warroom(t, args...)
			field := c[1] + " target"
			text := out + errOut
			shown := strings.Contains(text, "nobody-") || strings.Contains(text, "AKIA")
			if !shown {
				add("contain (error text)", h, field, fmt.Sprintf("the target is not named: %q", text))
				continue
			}
			// A C0 control cannot travel in AWS's XML answer (it arrives
			// as U+FFFD): where the text quotes AWS, only what arrived can
			// be shown.
			add("contain (error text)", h, field, checkTerminal(text, h, h.overHTTP() || c[1] == "credential"))
		}
	}
	return res
}

// TestHostileOutputDrill: inventory --output json, stream --once and
// contain's error text with hostile names and user agents in the drill.
func TestHostileOutputDrill(t *testing.T) {
	reportFailures(t, hostileDrillCases(t))
}
