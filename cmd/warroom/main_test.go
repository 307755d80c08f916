package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// samples is the folder of real CloudTrail recorded by others, beside the repo.
const samples = "../../../shared/testdata/cloudtrail"

func needSamples(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(samples); err != nil {
		t.Skipf("real CloudTrail samples not found at %s (shared/ should sit beside the repo): %v", samples, err)
	}
}

// warroom runs the command line in-process and returns exit code, stdout, stderr.
func warroom(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestIngestEventsVerify(t *testing.T) {
	needSamples(t)
	j := filepath.Join(t.TempDir(), "inc", "journal.jsonl")

	// The samples folder holds README and metadata files: reported, and
	// the exit status says some input could not be used.
	code, out, errOut := warroom(t, "ingest", "--journal", j, samples)
	if code != exitProblem {
		t.Fatalf("ingest exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	// trailscraper's folder holds the same file gzipped and not: its two
	// records are found twice and journaled once.
	var files, total, written, dups, skipped int
	if _, err := fmt.Sscanf(strings.TrimPrefix(out, j+": "), "%d files, %d records: %d written, %d already in the journal, %d problems",
		&files, &total, &written, &dups, &skipped); err != nil {
		t.Fatalf("cannot read the ingest summary %q: %v", out, err)
	}
	if dups != 2 || written != total-2 || written < 400 {
		t.Errorf("first ingest: %d records, %d written, %d duplicates; want the 2 trailscraper copies deduplicated", total, written, dups)
	}
	// README, SOURCE.txt, LICENSE and metadata files are named and skipped.
	if !strings.Contains(errOut, "README.md: not a CloudTrail log") {
		t.Errorf("non-CloudTrail files not reported: %s", errOut)
	}
	fi, err := os.Stat(j)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", fi.Mode().Perm())
	}

	// A second ingest of the same files writes nothing new.
	code, out2, _ := warroom(t, "ingest", "--journal", j, samples)
	if code != exitProblem || !strings.Contains(out2, " 0 written") {
		t.Errorf("re-ingest: exit %d, %s", code, out2)
	}

	// The json output is the CloudTrail records, one per line.
	code, out, errOut = warroom(t, "events", "--journal", j, "--output", "json")
	if code != 0 {
		t.Fatalf("events exit %d: %s", code, errOut)
	}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not JSON: %v", n+1, err)
		}
		if rec["eventID"] == nil || rec["eventName"] == nil {
			t.Fatalf("line %d lacks CloudTrail fields: %s", n+1, sc.Text())
		}
		n++
	}
	if n != written {
		t.Errorf("events printed %d records, ingest wrote %d", n, written)
	}

	// A filter narrows; its count shows on stderr.
	code, out, errOut = warroom(t, "events", "--journal", j, "--filter", "event:GetFederationToken")
	if code != 0 || !strings.Contains(out, "GetFederationToken") || strings.Contains(out, "ListBuckets") {
		t.Errorf("filtered events: exit %d\n%s\n%s", code, out, errOut)
	}

	// No minted session token survives into the journal.
	raw, err := os.ReadFile(j)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(`"sessionToken":"I`)) || bytes.Contains(raw, []byte(`"sessionToken":"F`)) {
		t.Error("a session token was journaled unredacted")
	}

	code, out, _ = warroom(t, "journal", "verify", j)
	if code != 0 || !strings.Contains(out, "intact") {
		t.Errorf("verify: exit %d: %s", code, out)
	}
	code, head, _ := warroom(t, "journal", "head", j)
	if code != 0 || len(strings.TrimSpace(head)) != 64 {
		t.Errorf("head: exit %d: %q", code, head)
	}
	code, out, _ = warroom(t, "journal", "show", j)
	if code != 0 || !strings.Contains(out, "incident.opened") || !strings.Contains(out, "events") {
		t.Errorf("show: exit %d: %s", code, out)
	}
}

func TestIngestReportsBadRecords(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "trail.ndjson")
	good := `{"eventVersion":"1.08","eventID":"11111111-1111-1111-1111-111111111111","eventTime":"2026-11-23T01:02:03Z","eventName":"ListUsers","eventSource":"iam.amazonaws.com","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","accessKeyId":"AKIAEXAMPLE"}}`
	good2 := strings.Replace(good, "11111111-1111", "22222222-2222", 1)
	if err := os.WriteFile(bad, []byte(good+"\n{not json\n"+good2+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	j := filepath.Join(dir, "j", "journal.jsonl")
	code, out, errOut := warroom(t, "ingest", "-j", j, bad)
	if code != exitProblem {
		t.Fatalf("ingest exit %d: %s %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "trail.ndjson") || !strings.Contains(errOut, ":2") {
		t.Errorf("the bad record's file and line are not named: %q", errOut)
	}
	if !strings.Contains(out, "2 written") {
		t.Errorf("the good records around the bad one were not all kept: %s", out)
	}
	_, out, _ = warroom(t, "events", "-j", j, "-o", "json")
	if strings.Count(out, "\n") != 2 {
		t.Errorf("want 2 events, got:\n%s", out)
	}
}

func TestJournalVerifyExitCodes(t *testing.T) {
	dir := t.TempDir()
	j := filepath.Join(dir, "journal.jsonl")
	// A note needs an existing journal: a usage error otherwise.
	if code, _, errOut := warroom(t, "note", "-j", j, "first"); code != 2 {
		t.Fatalf("note on a missing journal: exit %d (%s), want 2", code, errOut)
	}
	if code, _, errOut := warroom(t, "ingest", "-j", j, writeOneRecord(t, dir)); code != 0 {
		t.Fatalf("ingest: %s", errOut)
	}
	for _, text := range []string{"first", "second", "third"} {
		if code, _, errOut := warroom(t, "note", "-j", j, text); code != 0 {
			t.Fatalf("note: exit %d: %s", code, errOut)
		}
	}
	_, head, _ := warroom(t, "journal", "head", j)
	head = strings.TrimSpace(head)

	if code, _, _ := warroom(t, "journal", "verify", j, "--head", head); code != 0 {
		t.Errorf("intact journal with its head: exit %d", code)
	}
	if code, _, _ := warroom(t, "journal", "verify", filepath.Join(dir, "missing.jsonl")); code != 2 {
		t.Errorf("missing file: exit %d, want 2", code)
	}
	if code, _, _ := warroom(t, "journal", "verify"); code != 2 {
		t.Errorf("no argument: exit %d, want 2", code)
	}

	raw, err := os.ReadFile(j)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(raw), "\n")

	// Tampered: the second note's text changed.
	tampered := strings.Replace(string(raw), `"text":"second"`, `"text":"secund"`, 1)
	tj := filepath.Join(dir, "tampered.jsonl")
	if err := os.WriteFile(tj, []byte(tampered), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := warroom(t, "journal", "verify", tj)
	if code != 1 || !strings.Contains(errOut, "line") {
		t.Errorf("tampered journal: exit %d, stderr %q; want 1 and the line", code, errOut)
	}

	// Truncated: the last note cut off. Intact on its own, caught by --head.
	cut := filepath.Join(dir, "cut.jsonl")
	if err := os.WriteFile(cut, []byte(strings.Join(lines[:len(lines)-2], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := warroom(t, "journal", "verify", cut); code != 0 {
		t.Errorf("cut journal without --head: exit %d, want 0", code)
	}
	if code, _, errOut := warroom(t, "journal", "verify", cut, "--head", head); code != 1 {
		t.Errorf("cut journal with --head: exit %d (%s), want 1", code, errOut)
	}
}

func TestEventsBadFilter(t *testing.T) {
	dir := t.TempDir()
	j := filepath.Join(dir, "journal.jsonl")
	if code, _, errOut := warroom(t, "ingest", "-j", j, writeOneRecord(t, dir)); code != 0 {
		t.Fatalf("ingest: %s", errOut)
	}
	code, _, errOut := warroom(t, "events", "-j", j, "--filter", "colour:red")
	if code != 2 || !strings.Contains(errOut, "colour") {
		t.Errorf("bad filter: exit %d, stderr %q; want 2 naming the field", code, errOut)
	}
}

func TestHelpHasExamples(t *testing.T) {
	root := newRootCmd(&env{})
	for _, c := range root.Commands() {
		cmds := append(c.Commands(), c)
		for _, sub := range cmds {
			if sub.Runnable() && !sub.HasExample() {
				t.Errorf("%q has no example in --help", sub.CommandPath())
			}
		}
	}
}

func writeOneRecord(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "one.json")
	rec := `{"Records":[{"eventVersion":"1.08","eventID":"33333333-3333-3333-3333-333333333333","eventTime":"2026-11-23T01:02:03Z","eventName":"GetCallerIdentity","eventSource":"sts.amazonaws.com","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","accessKeyId":"AKIAEXAMPLE"}}]}`
	if err := os.WriteFile(p, []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
