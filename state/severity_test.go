package state

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		name                string
		source, event, code string
		want                Class
		wantRule            string
	}{
		{name: "stop logging", source: "cloudtrail.amazonaws.com", event: "StopLogging", want: ClassDefenseEvasion, wantRule: "AWS CloudTrail Important Change"},
		{name: "guardduty detector deleted", source: "guardduty.amazonaws.com", event: "DeleteDetector", want: ClassDefenseEvasion, wantRule: "AWS GuardDuty Detector Deleted Or Updated"},
		{name: "flow logs deleted", source: "ec2.amazonaws.com", event: "DeleteFlowLogs", want: ClassDefenseEvasion, wantRule: "AWS VPC Flow Logs Deleted"},
		{name: "backdoor key", source: "iam.amazonaws.com", event: "CreateAccessKey", want: ClassPersistence, wantRule: "AWS IAM Backdoor Users Keys"},
		{name: "short source spelling", source: "iam", event: "CreateUser", want: ClassPersistence},
		{name: "region enabled", source: "account.amazonaws.com", event: "EnableRegion", want: ClassPersistence, wantRule: "AWS EnableRegion Command Monitoring"},
		{name: "policy attached", source: "iam.amazonaws.com", event: "AttachUserPolicy", want: ClassPrivEsc},
		{name: "lambda layer by prefix", source: "lambda.amazonaws.com", event: "UpdateFunctionConfiguration20150331v2", want: ClassPrivEsc, wantRule: "AWS New Lambda Layer Attached"},
		{name: "session token", source: "sts.amazonaws.com", event: "GetSessionToken", want: ClassCredentialAccess, wantRule: "AWS STS GetSessionToken Misuse"},
		{name: "signin token", source: "signin.amazonaws.com", event: "GetSigninToken", want: ClassCredentialAccess},
		{name: "mining instances", source: "ec2.amazonaws.com", event: "RunInstances", want: ClassImpact},
		{name: "bucket versioning", source: "s3.amazonaws.com", event: "PutBucketVersioning", want: ClassImpact, wantRule: "AWS S3 Bucket Versioning Disable"},
		{name: "denied list is recon", source: "iam.amazonaws.com", event: "ListUsers", code: "AccessDenied", want: ClassRecon},
		{name: "ec2 unauthorized is recon", source: "ec2.amazonaws.com", event: "DescribeInstances", code: "Client.UnauthorizedOperation", want: ClassRecon},
		{name: "denied write is an attempt, shown as recon", source: "iam.amazonaws.com", event: "CreateUser", code: "AccessDenied", want: ClassRecon},
		{name: "failed for other reasons is nothing", source: "ec2.amazonaws.com", event: "RunInstances", code: "InsufficientInstanceCapacity", want: ClassNone},
		{name: "failed console login counts", source: "signin.amazonaws.com", event: "ConsoleLogin", code: "Failed authentication", want: ClassCredentialAccess},
		{name: "plain read", source: "s3.amazonaws.com", event: "ListBuckets", want: ClassNone},
		{name: "name from another service", source: "ec2.amazonaws.com", event: "CreateAccessKey", want: ClassNone},
		{name: "case matters for API names", source: "iam.amazonaws.com", event: "createaccesskey", want: ClassNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Classify(tt.source, tt.event, tt.code)
			if f.Class != tt.want {
				t.Errorf("class = %q, want %q", f.Class, tt.want)
			}
			if f.Rule != tt.wantRule && tt.wantRule != "" {
				t.Errorf("rule = %q, want %q", f.Rule, tt.wantRule)
			}
			if f.Rule != "" && (f.Authors == "" || f.Source != "SigmaHQ") {
				t.Errorf("rule %q shown without credit: authors %q source %q", f.Rule, f.Authors, f.Source)
			}
		})
	}
}

func TestClassLevels(t *testing.T) {
	tests := []struct {
		class Class
		want  Level
	}{
		{ClassNone, LevelNone},
		{ClassRecon, LevelLow},
		{ClassCredentialAccess, LevelMedium},
		{ClassPersistence, LevelHigh},
		{ClassPrivEsc, LevelHigh},
		{ClassDefenseEvasion, LevelCritical},
		{ClassImpact, LevelCritical},
	}
	for _, tt := range tests {
		t.Run(tt.class.String(), func(t *testing.T) {
			if got := tt.class.Level(); got != tt.want {
				t.Errorf("Level() = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestRulesAreReachable checks that no rule is shadowed by an earlier one
// with the same source and name, which would silently drop its credit.
func TestRulesAreReachable(t *testing.T) {
	for i, r := range rules {
		for _, n := range r.names {
			name := n
			if n[len(n)-1] == '*' {
				name = n[:len(n)-1] + "X"
			}
			for j := 0; j < i; j++ {
				if rules[j].source == r.source && matchName(rules[j].names, name) {
					t.Errorf("rule %d (%s %s) is shadowed by rule %d", i, r.source, n, j)
				}
			}
		}
	}
}
