package sim

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// leak sets up a user "leaky" with a key and returns the key.
func leak(t *testing.T, env *testEnv) Credentials {
	t.Helper()
	if err := env.sim.AddUser("leaky"); err != nil {
		t.Fatal(err)
	}
	if err := env.sim.AttachUserPolicy("leaky", "arn:aws:iam::aws:policy/AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	k, err := env.sim.AddKey("leaky")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSTSMinting(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	key := leak(t, env)
	client := env.sts(key, "us-east-1")
	roleARN := "arn:aws:iam::" + env.sim.AccountID() + ":role/IncidentResponse"
	cases := []struct {
		name     string
		call     func() (*Credentials, string, error)
		code     string
		wantType string // userIdentity.type of calls made with the minted key
	}{
		{"GetSessionToken", func() (*Credentials, string, error) {
			out, err := client.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(3600)})
			if err != nil {
				return nil, "", err
			}
			return &Credentials{aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken), aws.ToTime(out.Credentials.Expiration)}, "", nil
		}, "", "IAMUser"},
		{"GetSessionToken too long", func() (*Credentials, string, error) {
			_, err := client.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(200000)})
			return nil, "", err
		}, "ValidationError", ""},
		{"GetFederationToken", func() (*Credentials, string, error) {
			out, err := client.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("backup")})
			if err != nil {
				return nil, "", err
			}
			return &Credentials{aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken), aws.ToTime(out.Credentials.Expiration)}, aws.ToString(out.FederatedUser.Arn), nil
		}, "", "FederatedUser"},
		{"AssumeRole", func() (*Credentials, string, error) {
			out, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1")})
			if err != nil {
				return nil, "", err
			}
			return &Credentials{aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken), aws.ToTime(out.Credentials.Expiration)}, aws.ToString(out.AssumedRoleUser.Arn), nil
		}, "", "AssumedRole"},
		{"AssumeRole unknown role", func() (*Credentials, string, error) {
			_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN + "x"), RoleSessionName: aws.String("s1")})
			return nil, "", err
		}, "AccessDenied", ""},
		{"AssumeRole over the role maximum", func() (*Credentials, string, error) {
			_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(7200)})
			return nil, "", err
		}, "ValidationError", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds, _, err := tc.call()
			if got := errCode(t, err); got != tc.code {
				t.Fatalf("code %q, want %q", got, tc.code)
			}
			if err != nil {
				return
			}
			if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || creds.SessionToken == "" || !creds.Expires.After(env.clock.Now()) {
				t.Fatalf("minted %v expiring %v", creds, creds.Expires)
			}
			// The minting record carries the new key id and the parent key.
			rec := lastRecord(t, env.sim)
			ui := rec["userIdentity"].(map[string]any)
			re := rec["responseElements"].(map[string]any)["credentials"].(map[string]any)
			if ui["accessKeyId"] != key.AccessKeyID || re["accessKeyId"] != creds.AccessKeyID || re["expiration"] == "" {
				t.Errorf("minting record %v / %v", ui, re)
			}
			if strings.Contains(string(env.sim.Records()[len(env.sim.Records())-1].JSON), creds.SecretAccessKey) {
				t.Error("minting record holds the secret")
			}
			// A call with the minted key is attributed to the right identity.
			if _, err := env.sts(*creds, "eu-west-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				t.Fatal(err)
			}
			rec = lastRecord(t, env.sim)
			ui = rec["userIdentity"].(map[string]any)
			if ui["type"] != tc.wantType || ui["accessKeyId"] != creds.AccessKeyID {
				t.Errorf("identity %v", ui)
			}
			sc, _ := ui["sessionContext"].(map[string]any)
			attrs, _ := sc["attributes"].(map[string]any)
			if attrs["creationDate"] == nil {
				t.Errorf("no creationDate: %v", ui)
			}
			if tc.wantType != "IAMUser" && sc["sessionIssuer"] == nil {
				t.Errorf("no sessionIssuer: %v", ui)
			}
		})
	}
}

func TestGetAccessKeyInfo(t *testing.T) {
	env := newEnv(t, Options{})
	key := leak(t, env)
	cases := []struct {
		name    string
		keyID   string
		ours    bool
		errCode string
	}{
		{"our key", key.AccessKeyID, true, ""},
		{"someone else's key", "AKIAIOSFODNN7EXAMPLE", false, ""},
		{"too short", "AKIA", false, "ValidationError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := env.sts(env.sim.Responder(), "us-east-1").GetAccessKeyInfo(context.Background(), &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(tc.keyID)})
			if got := errCode(t, err); got != tc.errCode {
				t.Fatalf("code %q", got)
			}
			if err == nil && (aws.ToString(out.Account) == env.sim.AccountID()) != tc.ours {
				t.Errorf("account %s", aws.ToString(out.Account))
			}
		})
	}
}

// TestContainment walks the containment sequence of AWS-FACTS.md: a
// deactivated key stops working, its temporary children do not until a
// TokenIssueTime deny is attached, and a deny-all stops long-term keys.
func TestContainment(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	key := leak(t, env)
	roleARN := "arn:aws:iam::" + env.sim.AccountID() + ":role/IncidentResponse"
	mint := func(kind string) Credentials {
		c := env.sts(key, "us-east-1")
		var cr *sts.GetSessionTokenOutput
		switch kind {
		case "session":
			out, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
			if err != nil {
				t.Fatal(err)
			}
			cr = &sts.GetSessionTokenOutput{Credentials: out.Credentials}
		case "federation":
			out, err := c.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("fed")})
			if err != nil {
				t.Fatal(err)
			}
			cr = &sts.GetSessionTokenOutput{Credentials: out.Credentials}
		case "role":
			out, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("evil")})
			if err != nil {
				t.Fatal(err)
			}
			cr = &sts.GetSessionTokenOutput{Credentials: out.Credentials}
		}
		return Credentials{aws.ToString(cr.Credentials.AccessKeyId), aws.ToString(cr.Credentials.SecretAccessKey), aws.ToString(cr.Credentials.SessionToken), time.Time{}}
	}
	session, fed, roleSess := mint("session"), mint("federation"), mint("role")
	admin := env.iam(env.sim.Responder())
	// GetCallerIdentity cannot be denied: it tells whether the key
	// authenticates. DescribeTrails then tells whether policies deny it.
	probe := func(c Credentials) string {
		_, err := env.sts(c, "eu-west-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return errCode(t, err)
		}
		_, err = env.ct(c, "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		return errCode(t, err)
	}
	revoke := func(doc string) func() error {
		return func() error {
			_, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("leaky"), PolicyName: aws.String("p-" + doc[:6]), PolicyDocument: aws.String(doc)})
			if err != nil {
				return err
			}
			_, err = admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("IncidentResponse"), PolicyName: aws.String("AWSRevokeOlderSessions"), PolicyDocument: aws.String(doc)})
			return err
		}
	}
	issuedBefore := env.clock.Now().Add(time.Second).Format(time.RFC3339)
	revokeDoc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + issuedBefore + `"}}}]}`
	steps := []struct {
		name                       string
		act                        func() error
		key, session, fed, roleSes string
	}{
		{"before containment", nil, "", "", "", ""},
		{"key deactivated", func() error {
			_, err := admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("leaky"), AccessKeyId: aws.String(key.AccessKeyID), Status: "Inactive"})
			return err
		}, "InvalidClientTokenId", "", "", ""},
		{"key reactivated", func() error {
			_, err := admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("leaky"), AccessKeyId: aws.String(key.AccessKeyID), Status: "Active"})
			return err
		}, "", "", "", ""},
		{"sessions revoked", revoke(revokeDoc), "", "AccessDeniedException", "AccessDeniedException", "AccessDeniedException"},
		{"deny all", revoke(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`),
			"AccessDeniedException", "AccessDeniedException", "AccessDeniedException", "AccessDeniedException"},
	}
	for _, st := range steps {
		if st.act != nil {
			if err := st.act(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		for _, c := range []struct {
			what  string
			creds Credentials
			want  string
		}{{"key", key, st.key}, {"session", session, st.session}, {"federation", fed, st.fed}, {"role session", roleSess, st.roleSes}} {
			if got := probe(c.creds); got != c.want {
				t.Errorf("%s: %s: %q, want %q", st.name, c.what, got, c.want)
			}
		}
	}
	// Denied calls are recorded with their error code.
	var denied int
	for _, r := range env.sim.Records() {
		var m map[string]any
		_ = json.Unmarshal(r.JSON, &m)
		if m["errorCode"] == "AccessDeniedException" {
			denied++
		}
	}
	if denied != 7 {
		t.Errorf("%d denied records, want 7", denied)
	}
}

func TestExpiredToken(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	key := leak(t, env)
	out, err := env.sts(key, "us-east-1").GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	c := Credentials{aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken), time.Time{}}
	cases := []struct {
		name    string
		advance time.Duration
		code    string
	}{
		{"fresh", 0, ""},
		{"just before expiry", 899 * time.Second, ""},
		{"expired", time.Second, "ExpiredToken"},
	}
	for _, tc := range cases {
		env.clock.Advance(tc.advance)
		_, err := env.sts(c, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if got := errCode(t, err); got != tc.code {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.code)
		}
	}
	wrongToken := c
	wrongToken.SessionToken += "x"
	env.clock.Advance(-time.Hour)
	_, err = env.sts(wrongToken, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if got := errCode(t, err); got != "InvalidClientTokenId" {
		t.Errorf("wrong token: %q", got)
	}
}
