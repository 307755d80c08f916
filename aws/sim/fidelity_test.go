package sim

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// samplesDir holds real CloudTrail records recorded by others; the
// repository is cloned with shared/ beside it.
const samplesDir = "../../../shared/testdata/cloudtrail/stratus-red-team-detonation-logs"

// incident makes calls of every identity type, minting included, and
// returns the leaked key and the minted session credential.
func incident(t *testing.T, env *testEnv) (Credentials, Credentials) {
	t.Helper()
	ctx := context.Background()
	key := leak(t, env)
	if _, err := env.iam(key).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("backdoor")}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.iam(key).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("backdoor")}); err == nil {
		t.Fatal("second CreateUser succeeded")
	}
	out, err := env.sts(key, "us-east-1").GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	sess := Credentials{aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken), time.Time{}}
	role, err := env.sts(key, "eu-west-1").AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + env.sim.AccountID() + ":role/IncidentResponse"), RoleSessionName: aws.String("evil")})
	if err != nil {
		t.Fatal(err)
	}
	roleCreds := Credentials{aws.ToString(role.Credentials.AccessKeyId), aws.ToString(role.Credentials.SecretAccessKey), aws.ToString(role.Credentials.SessionToken), time.Time{}}
	if _, err := env.ct(roleCreds, "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}); err != nil {
		t.Fatal(err)
	}
	fed, err := env.sts(key, "us-east-1").GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("fed")})
	if err != nil {
		t.Fatal(err)
	}
	fedCreds := Credentials{aws.ToString(fed.Credentials.AccessKeyId), aws.ToString(fed.Credentials.SecretAccessKey), aws.ToString(fed.Credentials.SessionToken), time.Time{}}
	if _, err := env.ct(fedCreds, "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}); err != nil {
		t.Fatal(err)
	}
	return key, sess
}

// TestRecordsParseWithCtlog checks that the spine's parser reads the
// sim's S3 files whole and finds in them what the sim did.
func TestRecordsParseWithCtlog(t *testing.T) {
	env := newEnv(t, Options{})
	key, sess := incident(t, env)
	env.clock.Advance(10 * time.Minute)
	env.sim.mu.Lock()
	env.sim.deliverLocked(env.clock.Now())
	var files []*s3Object
	for _, o := range env.sim.trail.objects {
		files = append(files, o)
	}
	env.sim.mu.Unlock()
	var recs []ctlog.Record
	for _, f := range files {
		probs, err := ctlog.ParseBytes(f.Key, f.Body, ctlog.Options{}, func(r ctlog.Record) error {
			r.Raw = append([]byte(nil), r.Raw...)
			recs = append(recs, r)
			return nil
		})
		if err != nil || len(probs) > 0 {
			t.Fatalf("%s: %v %v", f.Key, err, probs)
		}
	}
	if len(recs) != len(env.sim.Records()) {
		t.Fatalf("parsed %d records, sim wrote %d", len(recs), len(env.sim.Records()))
	}
	byName := map[string]ctlog.Record{}
	for _, r := range recs {
		byName[r.EventName+"/"+r.IdentityType+"/"+r.ErrorCode] = r
	}
	cases := []struct {
		name  string
		key   string
		check func(ctlog.Record) bool
	}{
		{"CreateUser by the leaked key", "CreateUser/IAMUser/", func(r ctlog.Record) bool {
			return r.AccessKeyID == key.AccessKeyID && r.Region == "us-east-1" && r.ReadOnly == ctlog.ReadOnlyFalse && r.UserName == "leaky"
		}},
		{"failed CreateUser", "CreateUser/IAMUser/EntityAlreadyExists", func(r ctlog.Record) bool { return r.ErrorMessage != "" }},
		{"GetSessionToken minted", "GetSessionToken/IAMUser/", func(r ctlog.Record) bool {
			return r.Minted != nil && r.Minted.AccessKeyID == sess.AccessKeyID && !r.Minted.Expiration.IsZero() &&
				!strings.Contains(string(r.Raw), sess.SessionToken)
		}},
		{"AssumeRole minted", "AssumeRole/IAMUser/", func(r ctlog.Record) bool {
			return r.Minted != nil && strings.HasSuffix(r.Minted.RoleARN, ":role/IncidentResponse") && r.Minted.SessionName == "evil" && r.Region == "eu-west-1"
		}},
		{"role session", "DescribeTrails/AssumedRole/", func(r ctlog.Record) bool {
			return strings.HasSuffix(r.SessionIssuerARN, ":role/IncidentResponse") && !r.SessionIssuedAt.IsZero() && strings.HasPrefix(r.AccessKeyID, "ASIA")
		}},
		{"federated session", "DescribeTrails/FederatedUser/", func(r ctlog.Record) bool {
			return strings.HasSuffix(r.SessionIssuerARN, ":user/leaky") && !r.SessionIssuedAt.IsZero()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := byName[tc.key]
			if !ok {
				t.Fatalf("no %s record", tc.key)
			}
			if !tc.check(r) {
				t.Errorf("record %+v", r)
			}
		})
	}
}

// keySets returns, for records grouped by group, the union and the
// intersection of the keys of the object at path (top level when empty).
func keySets(recs []map[string]any, group func(map[string]any) string, path string) (union, inter map[string]map[string]bool) {
	union, inter = map[string]map[string]bool{}, map[string]map[string]bool{}
	for _, r := range recs {
		obj := r
		if path != "" {
			o, ok := r[path].(map[string]any)
			if !ok {
				continue
			}
			obj = o
		}
		g := group(r)
		if union[g] == nil {
			union[g] = map[string]bool{}
			inter[g] = map[string]bool{}
			for k := range obj {
				inter[g][k] = true
			}
		}
		for k := range obj {
			union[g][k] = true
		}
		for k := range inter[g] {
			if _, ok := obj[k]; !ok {
				delete(inter[g], k)
			}
		}
	}
	return union, inter
}

// TestRecordFieldSet compares the sim's records with real ones field by
// field: every field the sim writes is one AWS writes, and every field
// that every real record of the same kind has, the sim writes too.
func TestRecordFieldSet(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if len(files) == 0 {
		t.Skipf("real CloudTrail samples not found at %s (clone shared/ beside the repository)", samplesDir)
	}
	var real []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var recs []map[string]any
		if err := json.Unmarshal(b, &recs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		real = append(real, recs...)
	}
	env := newEnv(t, Options{})
	incident(t, env)
	var ours []map[string]any
	for _, r := range env.sim.Records() {
		var m map[string]any
		if err := json.Unmarshal(r.JSON, &m); err != nil {
			t.Fatal(err)
		}
		ours = append(ours, m)
	}
	all := func(map[string]any) string { return "" }
	idType := func(r map[string]any) string {
		ui, _ := r["userIdentity"].(map[string]any)
		s, _ := ui["type"].(string)
		return s
	}
	cases := []struct {
		name  string
		group func(map[string]any) string
		path  string
	}{
		{"top level", all, ""},
		{"userIdentity by type", idType, "userIdentity"},
		{"tlsDetails", all, "tlsDetails"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			realU, realI := keySets(real, tc.group, tc.path)
			oursU, oursI := keySets(ours, tc.group, tc.path)
			for g := range oursU {
				if realU[g] == nil {
					t.Logf("no real records of group %q to compare", g)
					continue
				}
				var extra, missing []string
				for k := range oursU[g] {
					if !realU[g][k] {
						extra = append(extra, k)
					}
				}
				for k := range realI[g] {
					if !oursI[g][k] {
						missing = append(missing, k)
					}
				}
				sort.Strings(extra)
				sort.Strings(missing)
				if len(extra) > 0 || len(missing) > 0 {
					t.Errorf("group %q: fields real records never have: %v; fields real records always have and ours lack: %v", g, extra, missing)
				}
			}
		})
	}
}
