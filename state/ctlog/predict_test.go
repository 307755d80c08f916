package ctlog

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestMemberTable holds the prediction tables to lookupKey: a predicted
// name must give exactly what looking it up gives, no secret name is ever
// predicted, and predictions stay within their context.
func TestMemberTable(t *testing.T) {
	ctxOf := map[uint8]ctx{}
	for c := range numCtx {
		for _, j := range ctxMembers[c] {
			if _, dup := ctxOf[j]; dup {
				t.Fatalf("member %d in two contexts", j)
			}
			ctxOf[j] = c
		}
	}
	if len(ctxOf) != numMembers-1 {
		t.Fatalf("%d members in contexts, %d in the table", len(ctxOf), numMembers-1)
	}
	for j := 1; j < numMembers; j++ {
		m, c := members[j], ctxOf[uint8(j)]
		if f, child := lookupKey(c, []byte(m.name)); f != m.f || child != m.child {
			t.Errorf("%q in context %d: table says %d/%d, lookupKey %d/%d", m.name, c, m.f, m.child, f, child)
		}
		if isSecretKey([]byte(m.name)) {
			t.Errorf("secret name %q is predicted", m.name)
		}
		var words, masks [maxPredicted]byte
		for i := range m.w {
			for b := range 8 {
				words[8*i+b] = byte(m.w[i] >> (8 * b))
				masks[8*i+b] = byte(m.mask[i] >> (8 * b))
			}
		}
		q := `"` + m.name + `"`
		if m.n != len(q) || string(words[:m.n]) != q || bytes.Count(masks[:], []byte{0xff}) != m.n || masks[m.n-1] != 0xff {
			t.Errorf("%q: words %q, masks %x, length %d", m.name, words, masks, m.n)
		}
		if got := memberIndex(c, []byte(m.name)); got != uint8(j) {
			t.Errorf("memberIndex(%d, %q) = %d, want %d", c, m.name, got, j)
		}
		if s := succMember[j]; s != 0 && ctxOf[s] != c {
			t.Errorf("%q is followed by %q of another context", m.name, members[s].name)
		}
	}
	for c := range numCtx {
		if f := firstMember[c]; f != 0 && ctxOf[f] != c {
			t.Errorf("context %d starts with %q of another context", c, members[f].name)
		}
	}
}

// canonical is a record with every captured context, its members in the
// order CloudTrail writes them and no container the scanner skips.
const canonical = `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole",` +
	`"principalId":"AROA1:s","arn":"arn:aws:sts::111122223333:assumed-role/r/s","accountId":"111122223333",` +
	`"accessKeyId":"ASIA1","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA1",` +
	`"arn":"arn:aws:iam::111122223333:role/r","accountId":"111122223333","userName":"r"},` +
	`"attributes":{"creationDate":"2024-05-01T09:00:00Z","mfaAuthenticated":"true"}}},` +
	`"eventTime":"2024-05-01T10:00:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole",` +
	`"awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"aws-cli/2",` +
	`"requestParameters":{"roleArn":"arn:aws:iam::111122223333:role/t","roleSessionName":"u"},` +
	`"responseElements":{"credentials":{"accessKeyId":"ASIA2","expiration":"Nov 30, 2024, 8:43:17 PM"}},` +
	`"requestID":"r1","eventID":"e1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,` +
	`"recipientAccountId":"111122223333","eventCategory":"Management",` +
	`"addendum":{"reason":"UPDATED_DATA","updatedFields":"x","originalRequestID":"r0","originalEventID":"e0"}}`

// sortMembers re-encodes a record with every object's members sorted, as
// tools that round-trip records through a map write them.
func sortMembers(t *testing.T, s string) string {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// reverseMembers writes the top level's members in reverse order.
func reverseMembers(t *testing.T, s string) string {
	d := json.NewDecoder(strings.NewReader(s))
	var m []json.RawMessage
	var names []string
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatal(tok, err)
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		names, m = append(names, k.(string)), append(m, v)
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := len(m) - 1; i >= 0; i-- {
		k, _ := json.Marshal(names[i])
		b.Write(k)
		b.WriteByte(':')
		b.Write(m[i])
		if i > 0 {
			b.WriteByte(',')
		}
	}
	b.WriteByte('}')
	return b.String()
}

func indent(t *testing.T, s string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(s), "", "  "); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPrediction scans records whose names are predicted (the fast path),
// mispredicted or not predictable (the fallback), after every kind of
// training, and holds each scan to a scanner that predicts nothing, and to
// encoding/json. scanned is how many names the scanner trained on the
// record itself must still scan: -1 when not checked.
func TestPrediction(t *testing.T) {
	secret := func(depth int, name string) string {
		v := `"tok"`
		for range depth {
			v = `{"k":[` + v + `,{"` + name + `":"deep"}]}`
		}
		return `"` + name + `":` + v
	}
	tests := []struct {
		name    string
		in      string
		scanned int
	}{
		{"canonical order", canonical, 0},
		// The last name has fewer than maxPredicted bytes after it.
		{"sorted members", sortMembers(t, canonical), 1},
		{"reversed members", reverseMembers(t, canonical), 1},
		{"pretty-printed", indent(t, canonical), 0},
		{"pretty-printed sorted", indent(t, sortMembers(t, canonical)), 0},
		{"escaped names", strings.NewReplacer(`"eventTime"`, `"event\u0054ime"`, `"arn"`, `"\u0061rn"`,
			`"userName"`, `"user\u004eame"`).Replace(canonical), 4}, // arn twice
		{"near-miss names", strings.NewReplacer(`"eventVersion"`, `"eventVersio"`, `"eventTime"`, `"eventTimes"`,
			`"type"`, `"typ\u0065"`, `"accountId"`, `"accountID"`, `"readOnly"`, `"readOnl"`,
			`"eventSource"`, `"eventSourcE"`, `"recipientAccountId"`, `"recipientAccountID"`,
			`"requestParameters"`, `"requestParameterS"`, `"sourceIPAddress"`, `"sourceIPAddresses"`).Replace(canonical), 13}, // type, accountId twice; roleArn, roleSessionName skipped
		{"unknown members between", strings.NewReplacer(`"eventSource"`, `"x":1,"eventSource"`,
			`"arn":`, `"zz":{"arn":"no"},"arn":`, `"eventCategory"`, `"errorCode":"E","eventCategory"`).Replace(canonical), -1},
		{"duplicate contexts", strings.TrimSuffix(canonical, "}") + `,"userIdentity":{"userName":"u2","sessionContext":` +
			`{"attributes":{"mfaAuthenticated":"false"}},"type":"IAMUser"},"addendum":{"reason":"DELIVERY_DELAY"}}`, -1},
		{"predicted names with other kinds", strings.NewReplacer(`"eventTime":"2024-05-01T10:00:00Z"`, `"eventTime":1714557600`,
			`"userAgent":"aws-cli/2"`, `"userAgent":{"a":[null]}`, `"readOnly":false`, `"readOnly":"false"`).Replace(canonical), -1},
		{"secret in skipped subtrees", strings.NewReplacer(`"roleSessionName":"u"`, `"roleSessionName":"u",`+secret(1, "sessionToken"),
			`"eventCategory"`, `"additionalEventData":{`+secret(3, "SecretAccessKey")+`},"eventCategory"`,
			`"expiration"`, secret(2, "SESSIONTOKEN")+`,"expiration"`).Replace(canonical), -1},
		{"secret in captured contexts", strings.NewReplacer(`"arn":"arn:aws:sts`, `"sessionToken":"t1","arn":"arn:aws:sts`,
			`"creationDate"`, `"secretAccessKey":{"a":1},"creationDate"`, `"eventVersion":"1.09"`, `"sessionToken":["x",{"y":2}],"eventVersion":"1.09"`).Replace(canonical), -1},
		{"escaped secret name", strings.Replace(canonical, `"expiration"`, `"session\u0054oken":"t","expiration"`, 1), -1},
		{"names at the end of input", `{"eventTime":"2024-05-01T10:00:00Z","eventID":"e","readOnly":true}`, -1},
		{"bad: no colon after predicted name", `{"eventVersion" "1.09"}`, -1},
		{"bad: no value after predicted name", strings.Replace(canonical, `"eventSource":"sts.amazonaws.com"`, `"eventSource":}`, 1), -1},
		{"bad: predicted name unterminated", `{"eventVersion":"1","userIdentity`, -1},
		{"bad: control character after prefix", "{\"eventVersion\":\"1\",\"userIdent\x01ty\":{}}", -1},
	}
	trainings := []struct {
		name  string
		input func(in string) string
	}{
		{"fresh", nil},
		{"after canonical", func(string) string { return canonical }},
		{"after sorted", func(string) string { return sortMembers(t, canonical) }},
		{"after itself", func(in string) string { return in }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.HasPrefix(tt.name, "bad:") == json.Valid([]byte(tt.in)) {
				t.Fatalf("the case is not what its name says: %s", tt.in)
			}
			differential(t, []byte(tt.in))
			fixed := scanner{learned: true, fixed: true}
			want := scanWith(&fixed, []byte(tt.in))
			for _, tr := range trainings {
				var s scanner
				if tr.input != nil {
					scanWith(&s, []byte(tr.input(tt.in)))
				}
				s.scanned = 0
				if got := scanWith(&s, []byte(tt.in)); got != want {
					t.Fatalf("%s: scan differs from one without prediction:\n%+v\n%+v", tr.name, got, want)
				}
				if tr.name == "after itself" && tt.scanned >= 0 && s.scanned != tt.scanned {
					t.Errorf("%s: %d names scanned, want %d (of %d)", tr.name, s.scanned, tt.scanned, fixed.scanned)
				}
			}
			// A whole parse with a parser that met other orders first.
			p := new(recParser)
			var got Record
			for _, in := range []string{sortMembers(t, canonical), canonical, tt.in} {
				p.one([]byte(in), 0, &got)
			}
			_, reason, serr := p.one([]byte(tt.in), 0, &got)
			wantRec, err := ParseRecord([]byte(tt.in))
			if (serr == nil && reason == "") != (err == nil) {
				t.Fatalf("trained parser: %v %q; ParseRecord: %v", serr, reason, err)
			}
			if err == nil && !reflect.DeepEqual(got, wantRec) {
				t.Fatalf("trained parser's record differs:\n%+v\n%+v", got, wantRec)
			}
		})
	}
}
