package trailcheck_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// awscliCheck is aws-cli's own verifier (customizations/cloudtrail/
// validation.py, Sha256RSADigestValidator and its string to sign) run on
// digests this package signs and checks: both must agree, on a good digest
// and on an edited one.
const awscliCheck = `
import base64, json, sys
from awscli.customizations.cloudtrail.validation import Sha256RSADigestValidator, DigestError
cases = json.load(open(sys.argv[1]))
out = []
for c in cases:
    raw = base64.b64decode(c["raw"])
    data = json.loads(raw.decode())
    data["_signature"] = c["sig"]
    data["_signature_algorithm"] = "SHA256withRSA"
    try:
        Sha256RSADigestValidator().validate(data["digestS3Bucket"], data["digestS3Object"], c["key"], data, raw)
        out.append("valid")
    except DigestError as e:
        out.append("invalid: " + str(e))
print(json.dumps(out))
`

func TestAgreesWithAWSCLIVerifier(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not found")
	}
	if err := exec.Command("python3", "-c", "import awscli.customizations.cloudtrail.validation").Run(); err != nil {
		t.Skip("aws-cli v1 not installed")
	}
	tr, digests := sixHours(t)
	type tc struct {
		Raw []byte `json:"raw"`
		Sig string `json:"sig"`
		Key string `json:"key"`
	}
	// aws-cli base64-decodes the key's Value once more (botocore hands it the blob as sent).
	key := base64.StdEncoding.EncodeToString(tr.PublicKey().Value)
	var cases []tc
	for _, d := range digests[:2] {
		o, _ := tr.Mem.Get(context.Background(), tr.Bucket, d)
		cases = append(cases, tc{gunzip(t, o.Body), o.Meta["signature"], key})
	}
	edited := bytes.Replace(cases[1].Raw, []byte(`"hashValue":"`), []byte(`"hashValue":"f`), 1)
	cases = append(cases, tc{edited, cases[1].Sig, key})
	in := filepath.Join(t.TempDir(), "cases.json")
	b, _ := json.Marshal(cases)
	os.WriteFile(in, b, 0o600)
	out, err := exec.Command("python3", "-c", awscliCheck, in).CombinedOutput()
	if err != nil {
		t.Fatalf("aws-cli's verifier: %v\n%s", err, out)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := []string{"valid", "valid", "invalid"}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || !strings.HasPrefix(got[2], "invalid: ") || !strings.Contains(got[2], "signature verification failed") {
		t.Fatalf("aws-cli says %v, want %v", got, want)
	}
	// And this package says the same of the same bytes.
	tr.Mem.Edit(tr.Bucket, digests[1], func([]byte) []byte { return edited })
	res := validate(t, tr.Mem, opts(tr))
	if d := digestByKey(t, res, digests[1]); d.Status != "invalid" {
		t.Errorf("edited digest: %+v", d)
	}
	if d := digestByKey(t, res, digests[0]); d.Status != "valid" {
		t.Errorf("good digest: %+v", d)
	}
}
