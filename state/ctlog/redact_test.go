package ctlog

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// Secrets of every shape, as AWS's documentation writes its examples and
// as real tokens start.
const (
	testSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testPassword  = "hunter2-Correct-Horse"
	testKeyID     = "ASIAIOSFODNN7EXAMPLE"
)

var (
	testTokenEC  = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + strings.Repeat("x7Q+Zk3", 60)
	testTokenOld = "FwoGZXIvYXdzEBYaDHqa0AP1rTl" + strings.Repeat("Ab9/Kd+e", 40)
)

// secrets are the values no journaled record may hold.
var testSecrets = []string{testSecretKey, testPassword, testTokenEC, testTokenOld}

// TestRedactSecrets: a secret is redacted under any of the names records
// carry it under, nested in objects, inside JSON held in a string, and in
// free text; access key ids and ordinary text are kept as they are.
func TestRedactSecrets(t *testing.T) {
	esc := func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }
	inner := `{"AccessKeyId":"` + testKeyID + `","SecretAccessKey":"` + testSecretKey + `","SessionToken":"` + testTokenEC + `"}`
	cases := []struct{ name, member string }{
		{"password", `"requestParameters":{"userName":"bob","password":"` + testPassword + `"}`},
		{"oldPassword newPassword", `"requestParameters":{"oldPassword":"` + testPassword + `","newPassword":"` + testPassword + `x"}`},
		{"session_token", `"requestParameters":{"config":{"session_token":"` + testTokenEC + `"}}`},
		{"aws_secret_access_key", `"requestParameters":{"env":[{"aws_secret_access_key":"` + testSecretKey + `"}]}`},
		{"SecretKey", `"responseElements":{"SecretKey":"` + testSecretKey + `"}`},
		{"x-amz-security-token", `"additionalEventData":{"x-amz-security-token":"` + testTokenOld + `"}`},
		{"secret under an unknown name", `"requestParameters":{"blob":"` + testSecretKey + `"}`},
		{"token under an unknown name", `"requestParameters":{"t":"` + testTokenOld + `"}`},
		{"credentials in a JSON string", `"requestParameters":{"body":"` + esc(inner) + `"}`},
		{"password in a JSON string", `"requestParameters":{"body":"` + esc(`{"user":"bob","password":"`+testPassword+`"}`) + `"}`},
		{"JSON string in a JSON string", `"requestParameters":{"body":"` + esc(`{"wrapped":"`+esc(inner)+`"}`) + `"}`},
		{"token in errorMessage", `"errorCode":"InvalidClientTokenId","errorMessage":"The security token ` + testTokenEC + ` included in the request is invalid."`},
		{"secret key in errorMessage", `"errorMessage":"bad secret ` + testSecretKey + `."`},
		{"escaped slashes", `"requestParameters":{"k":"` + strings.ReplaceAll(testSecretKey, "/", `\/`) + `"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := `{"eventVersion":"1.08","eventID":"e1","eventTime":"2026-11-23T01:02:03Z","eventName":"X","eventSource":"iam.amazonaws.com","userIdentity":{"accessKeyId":"` + testKeyID + `"},` + tc.member + `}`
			if !json.Valid([]byte(raw)) {
				t.Fatalf("test record is not JSON: %s", raw)
			}
			r, err := ParseRecord([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range append(testSecrets, esc(testSecretKey), testPassword+"x") {
				if strings.Contains(string(r.Raw), s) || strings.Contains(r.ErrorMessage, s) {
					t.Errorf("secret %.20s… kept:\n%s", s, r.Raw)
				}
			}
			// The marker stands in for it.
			if !strings.Contains(string(r.Raw), redactPrefix) {
				t.Errorf("no redaction marker: %s", r.Raw)
			}
			// Ids are not secrets.
			if r.AccessKeyID != testKeyID {
				t.Errorf("access key id %q", r.AccessKeyID)
			}
			if strings.Contains(inner, testKeyID) && strings.Contains(tc.member, "AccessKeyId") && !strings.Contains(string(r.Raw), testKeyID+`\`) {
				t.Errorf("the access key id in the JSON string was lost: %s", r.Raw)
			}
			checkRedacted(t, r)
			// Replay: parsing Raw again changes nothing.
			again, err := ParseRecord(r.Raw)
			if err != nil || string(again.Raw) != string(r.Raw) || again.ErrorMessage != r.ErrorMessage {
				t.Errorf("not stable on replay: %v\n%s\n%s", err, again.Raw, r.Raw)
			}
		})
	}
}

// TestRedactKeepsText: text that only resembles a secret is kept.
func TestRedactKeepsText(t *testing.T) {
	for _, s := range []string{
		"arn:aws:sts::123456789012:assumed-role/OrganizationAccountAccessRole/JohnDoe123",
		"aws-cli/2.13.0 Python/3.11.4 Linux/5.15.0-1040-aws exe/x86_64.ubuntu.22 prompt/off command/sts.get-caller-identity",
		"da39a3ee5e6b4b0d3255bfef95601890afd80709", // a SHA-1 in hex: no upper case
		"ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMN", // no lower case, no digit
		"User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/mallory",
		"9AqQcFdnLBrhYqB6vuDpXHPZptGUsmoJpoYyU1O9oKf5KWqnOTI/qFbJdTKzC5m0d8NkImNXDUw=", // x-amz-id-2: 76 characters
		"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}",
		testKeyID,
	} {
		q, _ := json.Marshal(s)
		raw := `{"eventID":"e1","eventTime":"2026-11-23T01:02:03Z","errorMessage":` + string(q) + `,"requestParameters":{"x":` + string(q) + `}}`
		r, err := ParseRecord([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		if r.ErrorMessage != s || string(r.Raw) != raw {
			t.Errorf("changed:\n%s\n%s", raw, r.Raw)
		}
	}
}

// checkRedacted fails when a string anywhere in r.Raw (JSON in strings
// included) still has a secret's shape or sits under a secret name.
func checkRedacted(t *testing.T, r Record) {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.Raw, &v); err != nil {
		t.Fatalf("Raw: %v", err)
	}
	if path := secretIn(v, 0); path != "" {
		t.Fatalf("a secret survives at %s in %s", path, r.Raw)
	}
}

// secretIn returns where in v a secret survives, or "".
func secretIn(v any, depth int) string {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if isSecretKey([]byte(k)) {
				if s, ok := x.(string); x != nil && (!ok || !isMarker([]byte(s)) && s != hiddenByCloudTrail) {
					return k
				}
			}
			if p := secretIn(x, depth); p != "" {
				return k + "." + p
			}
		}
	case []any:
		for _, x := range v {
			if p := secretIn(x, depth); p != "" {
				return "[]." + p
			}
		}
	case string:
		if strings.HasPrefix(v, "arn:") {
			return ""
		}
		if shapedLikeSecret(v) {
			return "(text)"
		}
		if t := strings.Trim(v, " \t\r\n"); depth < maxNested && (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
			var in any
			if json.Unmarshal([]byte(t), &in) == nil {
				if p := secretIn(in, depth+1); p != "" {
					return "(json)." + p
				}
			}
		}
	}
	return ""
}

// FuzzRedact: whatever text a record carries, in a free-text field or under
// any member name, no secret-shaped value and no secret member survives
// in Raw; and text without a secret is kept byte for byte.
func FuzzRedact(f *testing.F) {
	f.Add("The security token "+testTokenEC+" is invalid", "message")
	f.Add(testSecretKey, "password")
	f.Add("key="+testSecretKey+"&token="+testTokenOld, "q")
	f.Add(`{"aws_secret_access_key":"`+testSecretKey+`"}`, "body")
	f.Add(`[{"x":{"SecretKey":"s"}}]`, "doc")
	f.Add("plain text, nothing to hide", "note")
	f.Add(testKeyID+" is an id", "x-amz-security-token")
	f.Add(strings.Repeat("a", 39)+"B1", "k")
	f.Fuzz(func(t *testing.T, text, key string) {
		if !utf8.ValidString(text) || !utf8.ValidString(key) {
			return
		}
		q, _ := json.Marshal(text)
		k, _ := json.Marshal(key)
		raw := `{"eventID":"e1","eventTime":"2026-11-23T01:02:03Z","errorMessage":` + string(q) +
			`,"requestParameters":{` + string(k) + `:` + string(q) + `,"n":{"deep":[` + string(q) + `]}}}`
		r, err := ParseRecord([]byte(raw))
		if err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		checkRedacted(t, r)
		var back struct {
			ErrorMessage      string         `json:"errorMessage"`
			RequestParameters map[string]any `json:"requestParameters"`
		}
		if err := json.Unmarshal(r.Raw, &back); err != nil {
			t.Fatal(err)
		}
		if back.ErrorMessage != r.ErrorMessage {
			t.Fatalf("ErrorMessage %q, Raw says %q", r.ErrorMessage, back.ErrorMessage)
		}
		// Text with no secret in it is kept as it was.
		var v any = text
		if secretIn(v, 0) == "" && secretIn(map[string]any{"n": text}, 0) == "" {
			if r.ErrorMessage != text {
				t.Fatalf("errorMessage %q became %q", text, r.ErrorMessage)
			}
			if !isSecretKey([]byte(key)) && key != "n" && back.RequestParameters[key] != text { // "n" is the nested member
				t.Fatalf("member %q: %q became %v", key, text, back.RequestParameters[key])
			}
		}
		again, err := ParseRecord(r.Raw)
		if err != nil || string(again.Raw) != string(r.Raw) {
			t.Fatalf("not stable on replay: %v\n%s\n%s", err, again.Raw, r.Raw)
		}
	})
}

// shapedLikeSecret is the shape rule written a second way, as the fuzz
// target's oracle: the text split into maximal runs of base64 characters.
func shapedLikeSecret(s string) bool {
	runs := strings.FieldsFunc(s, func(r rune) bool {
		return !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '+' || r == '/')
	})
	for _, r := range runs {
		if len(r) == 40 && strings.ContainsAny(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
			strings.ContainsAny(r, "abcdefghijklmnopqrstuvwxyz") && strings.ContainsAny(r, "0123456789+/") {
			return true
		}
		if len(r) >= 100 && (strings.HasPrefix(r[4:], "b3JpZ2lu") || strings.HasPrefix(r[4:], "ZXIvYXdz") ||
			strings.HasPrefix(r[5:], "ZXIvYXdz") || strings.HasPrefix(r[4:], "YXdz")) {
			return true
		}
	}
	return false
}

// TestSecretNameTails: every secret name passes the scanner's table of
// last letters, or it would never be checked.
func TestSecretNameTails(t *testing.T) {
	for name := range secretNames {
		for _, k := range []string{name, strings.ToUpper(name)} {
			if secretTail[k[len(k)-2]]&secretLast[k[len(k)-1]] == 0 {
				t.Errorf("%s: rejected by its last letters", k)
			}
		}
	}
	for _, k := range []string{"password", "oldPassword", "newPassword", "session_token", "aws_secret_access_key", "SecretKey", "x-amz-security-token", "sessionToken", "SecretAccessKey"} {
		if !isSecretKey([]byte(k)) {
			t.Errorf("%s is not a secret name", k)
		}
	}
	for _, k := range []string{"passwordResetRequired", "accessKeyId", "roleArn", "keyName", "passwordLastUsed", "tokenCode"} {
		if isSecretKey([]byte(k)) {
			t.Errorf("%s taken for a secret name", k)
		}
	}
}
