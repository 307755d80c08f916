package state

import "strings"

// Class is what an event may mean for the incident: the tactic an attacker
// with a leaked key would use it for. The console marks rows by class (with
// a glyph as well as a colour) and the report groups by it.
type Class uint8

// Classes, in increasing order of how loudly the console shows them.
const (
	ClassNone             Class = iota // nothing notable
	ClassRecon                         // a discovery call that was denied: someone probing what the key may do
	ClassCredentialAccess              // minting or reading credentials (GetSessionToken, GetSigninToken, secrets)
	ClassPersistence                   // a way back in (new keys, users, login profiles, key pairs, Regions)
	ClassPrivEsc                       // more power for a principal (policies attached, roles trusted)
	ClassDefenseEvasion                // blinding the defenders (trails, GuardDuty, Config, flow logs)
	ClassImpact                        // damage or spend (instances, deletions, ransom-style encryption)
	// ClassImpersonation: the user agent claims warroom (app/warroom) but
	// the call was not signed with a credential a warroom session ran on,
	// in its time: someone hiding among the console's own calls.
	ClassImpersonation
	numClasses
)

var classNames = [numClasses]string{
	ClassNone:             "",
	ClassRecon:            "recon failure",
	ClassCredentialAccess: "credential access",
	ClassPersistence:      "persistence",
	ClassPrivEsc:          "privilege escalation",
	ClassDefenseEvasion:   "defence evasion",
	ClassImpact:           "impact",
	ClassImpersonation:    "warroom impersonation",
}

// String returns the class's name ("" for ClassNone).
func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return "class?"
}

// Level is how severe a class is, for colour and sorting.
type Level uint8

// Levels.
const (
	LevelNone Level = iota
	LevelLow
	LevelMedium
	LevelHigh
	LevelCritical
)

// Level returns the class's severity level.
func (c Class) Level() Level {
	switch c {
	case ClassRecon:
		return LevelLow
	case ClassCredentialAccess:
		return LevelMedium
	case ClassPersistence, ClassPrivEsc:
		return LevelHigh
	case ClassDefenseEvasion, ClassImpact, ClassImpersonation:
		return LevelCritical
	}
	return LevelNone
}

// Finding is the classifier's answer for one event: its class and, when a
// published detection rule says the same, the rule's title and authors, so
// the console and the report can credit them.
type Finding struct {
	Class   Class
	Rule    string // the rule's title, e.g. "AWS CloudTrail Important Change"
	Authors string // the rule's authors, as the rule gives them
	// Tactic is the class the call itself has (by source and name) when
	// Class is ClassImpersonation, which outranks it; else ClassNone.
	Tactic Class
	// Source names the rule set ("SigmaHQ" for rules from
	// github.com/SigmaHQ/sigma, Detection Rule License 1.1); empty for
	// warroom's own rules.
	Source string
}

// rule is one line of the classifier's table.
type rule struct {
	source  string   // eventSource without ".amazonaws.com"
	names   []string // event names; a trailing '*' matches a prefix
	class   Class
	title   string
	authors string
	sigma   bool // the rule comes from SigmaHQ
	// anyOutcome rules match failed calls too: an attempt is itself news.
	anyOutcome bool
}

// rules is the table, most specific first; the first match wins. The Sigma
// rules are those of SigmaHQ's rules/cloud/aws/cloudtrail that match on
// event source and name alone (or where that is the part that matters for
// a leaked key); their titles and authors are kept as the Detection Rule
// License asks.
var rules = []rule{
	// Defence evasion.
	{source: "cloudtrail", names: []string{"StopLogging", "UpdateTrail", "DeleteTrail"}, class: ClassDefenseEvasion,
		title: "AWS CloudTrail Important Change", authors: "vitaliy0x1", sigma: true},
	{source: "cloudtrail", names: []string{"PutEventSelectors", "DeleteEventDataStore", "StopEventDataStoreIngestion"}, class: ClassDefenseEvasion},
	{source: "guardduty", names: []string{"DeleteDetector", "UpdateDetector"}, class: ClassDefenseEvasion,
		title: "AWS GuardDuty Detector Deleted Or Updated", authors: "suktech24", sigma: true},
	{source: "guardduty", names: []string{"CreateIPSet"}, class: ClassDefenseEvasion,
		title: "AWS GuardDuty Important Change", authors: "faloker", sigma: true},
	{source: "guardduty", names: []string{"DisassociateFromMasterAccount", "DisassociateFromAdministratorAccount", "CreateFilter", "UpdateFilter"}, class: ClassDefenseEvasion},
	{source: "config", names: []string{"DeleteDeliveryChannel", "StopConfigurationRecorder"}, class: ClassDefenseEvasion,
		title: "AWS Config Disabling Channel/Recorder", authors: "vitaliy0x1", sigma: true},
	{source: "config", names: []string{"DeleteConfigurationRecorder", "DeleteConfigRule"}, class: ClassDefenseEvasion},
	{source: "ec2", names: []string{"DeleteFlowLogs"}, class: ClassDefenseEvasion,
		title: "AWS VPC Flow Logs Deleted", authors: "Ivan Saakov", sigma: true},
	{source: "securityhub", names: []string{"BatchUpdateFindings", "DeleteInsight", "UpdateFindings", "UpdateInsight"}, class: ClassDefenseEvasion,
		title: "AWS SecurityHub Findings Evasion", authors: "Sittikorn S", sigma: true},
	{source: "securityhub", names: []string{"DisableSecurityHub"}, class: ClassDefenseEvasion},
	{source: "ses", names: []string{"DeleteIdentity"}, class: ClassDefenseEvasion,
		title: "SES Identity Has Been Deleted", authors: "Janantha Marasinghe", sigma: true},
	{source: "iam", names: []string{"DeleteSAMLProvider"}, class: ClassDefenseEvasion,
		title: "AWS SAML Provider Deletion Activity", authors: "Ivan Saakov", sigma: true},
	{source: "logs", names: []string{"DeleteLogGroup", "DeleteLogStream"}, class: ClassDefenseEvasion},
	{source: "bedrock", names: []string{"DeleteGuardrail"}, class: ClassDefenseEvasion,
		title: "AWS Bedrock Guardrail Deleted", authors: "Marco Pedrinazzi (@pedrinazziM) (InTheCyber)", sigma: true},

	// Impact.
	{source: "s3", names: []string{"DeleteBucket"}, class: ClassImpact,
		title: "AWS Bucket Deleted", authors: "Ivan Saakov, Nasreddine Bencherchali", sigma: true},
	{source: "s3", names: []string{"PutBucketVersioning"}, class: ClassImpact,
		title: "AWS S3 Bucket Versioning Disable", authors: "Sean Johnstone | Unit 42", sigma: true},
	{source: "ec2", names: []string{"DisableEbsEncryptionByDefault"}, class: ClassImpact,
		title: "AWS EC2 Disable EBS Encryption", authors: "Sittikorn S", sigma: true},
	{source: "elasticfilesystem", names: []string{"DeleteFileSystem"}, class: ClassImpact,
		title: "AWS EFS Fileshare Modified or Deleted", authors: "Austin Songer @austinsonger", sigma: true},
	{source: "elasticfilesystem", names: []string{"DeleteMountTarget"}, class: ClassImpact,
		title: "AWS EFS Fileshare Mount Modified or Deleted", authors: "Austin Songer @austinsonger", sigma: true},
	{source: "eks", names: []string{"CreateCluster", "DeleteCluster"}, class: ClassImpact,
		title: "AWS EKS Cluster Created or Deleted", authors: "Austin Songer", sigma: true},
	{source: "kms", names: []string{"ImportKeyMaterial", "DeleteImportedKeyMaterial"}, class: ClassImpact,
		title: "AWS KMS Imported Key Material Usage", authors: "toopricey", sigma: true},
	{source: "kms", names: []string{"ScheduleKeyDeletion", "DisableKey"}, class: ClassImpact},
	{source: "route53", names: []string{"TransferDomainToAnotherAwsAccount"}, class: ClassImpact,
		title: "AWS Route 53 Domain Transferred to Another Account", authors: "Elastic, Austin Songer @austinsonger", sigma: true},
	// A leaked key's commonest use: instances for mining, often Spot, in
	// Regions nobody watches.
	{source: "ec2", names: []string{"RunInstances", "RequestSpotInstances", "RequestSpotFleet", "CreateFleet"}, class: ClassImpact},
	{source: "ec2", names: []string{"TerminateInstances", "DeleteSnapshot", "DeleteVolume"}, class: ClassImpact},
	{source: "lambda", names: []string{"CreateFunction", "CreateFunction20150331"}, class: ClassImpact},
	{source: "iam", names: []string{"DeleteUser", "DeleteRole"}, class: ClassImpact},

	// Privilege escalation.
	{source: "lambda", names: []string{"UpdateFunctionConfiguration*"}, class: ClassPrivEsc,
		title: "AWS New Lambda Layer Attached", authors: "Austin Songer", sigma: true},
	{source: "lambda", names: []string{"CreateFunctionUrlConfig*"}, class: ClassPrivEsc,
		title: "New AWS Lambda Function URL Configuration Created", authors: "Ivan Saakov", sigma: true},
	{source: "glue", names: []string{"CreateDevEndpoint", "DeleteDevEndpoint", "UpdateDevEndpoint"}, class: ClassPrivEsc,
		title: "AWS Glue Development Endpoint Activity", authors: "Austin Songer @austinsonger", sigma: true},
	{source: "ssm", names: []string{"SendCommand"}, class: ClassPrivEsc,
		title: "Potential Malicious Usage of CloudTrail System Manager", authors: "jamesc-grafana", sigma: true},
	{source: "iam", names: []string{
		"AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy", "PutUserPolicy", "PutRolePolicy", "PutGroupPolicy",
		"CreatePolicyVersion", "SetDefaultPolicyVersion", "AddUserToGroup", "UpdateAssumeRolePolicy",
		"PutUserPermissionsBoundary", "DeleteUserPermissionsBoundary", "DeleteRolePermissionsBoundary",
	}, class: ClassPrivEsc},

	// Persistence.
	{source: "iam", names: []string{"CreateAccessKey"}, class: ClassPersistence,
		title: "AWS IAM Backdoor Users Keys", authors: "faloker", sigma: true},
	{source: "iam", names: []string{"UpdateLoginProfile"}, class: ClassPersistence,
		title: "AWS User Login Profile Was Modified", authors: "toffeebr33k", sigma: true},
	{source: "ec2", names: []string{"ImportKeyPair"}, class: ClassPersistence,
		title: "AWS Key Pair Import Activity", authors: "Ivan Saakov", sigma: true},
	{source: "account", names: []string{"EnableRegion"}, class: ClassPersistence,
		title: "AWS EnableRegion Command Monitoring", authors: "Ivan Saakov, Sergey Zelenskiy", sigma: true},
	{source: "elasticache", names: []string{"CreateCacheSecurityGroup"}, class: ClassPersistence,
		title: "AWS ElastiCache Security Group Created", authors: "Austin Songer @austinsonger", sigma: true},
	{source: "iam", names: []string{
		"CreateUser", "CreateLoginProfile", "CreateRole", "CreateVirtualMFADevice", "EnableMFADevice",
		"UploadSSHPublicKey", "UploadSigningCertificate", "CreateServiceSpecificCredential",
		"CreateSAMLProvider", "CreateOpenIDConnectProvider", "UpdateAccessKey",
	}, class: ClassPersistence},
	{source: "ec2", names: []string{"CreateKeyPair", "AuthorizeSecurityGroupIngress"}, class: ClassPersistence},

	// Credential access.
	{source: "signin", names: []string{"GetSigninToken"}, class: ClassCredentialAccess,
		title: "AWS Console GetSigninToken Potential Abuse", authors: "Chester Le Bron (@123Le_Bron)", sigma: true},
	{source: "sts", names: []string{"GetSessionToken"}, class: ClassCredentialAccess,
		title: "AWS STS GetSessionToken Misuse", authors: "Austin Songer @austinsonger", sigma: true},
	{source: "sts", names: []string{"GetFederationToken"}, class: ClassCredentialAccess},
	{source: "secretsmanager", names: []string{"GetSecretValue", "BatchGetSecretValue"}, class: ClassCredentialAccess},
	{source: "ssm", names: []string{"GetParameter", "GetParameters", "GetParametersByPath"}, class: ClassCredentialAccess},
	{source: "ec2", names: []string{"GetPasswordData"}, class: ClassCredentialAccess},
	{source: "signin", names: []string{"ConsoleLogin"}, class: ClassCredentialAccess, anyOutcome: true},
}

// deniedCodes are the error codes of a call refused for lack of permission.
var deniedCodes = map[string]bool{
	"AccessDenied":                       true,
	"AccessDeniedException":              true,
	"UnauthorizedOperation":              true,
	"Client.UnauthorizedOperation":       true,
	"UnauthorizedAccess":                 true,
	"AuthorizationError":                 true,
	"Forbidden":                          true,
	"InvalidClientTokenId":               true,
	"SignatureDoesNotMatch":              true,
	"UnrecognizedClientException":        true,
	"NotAuthorized":                      true,
	"AuthFailure":                        true,
	"OptInRequired":                      true,
	"Client.OptInRequired":               true,
	"AccessDeniedForDependencyException": true,
}

// Classify classifies a CloudTrail event by its source (iam.amazonaws.com or
// iam), name and error code. It is pure: the same event always gets the same
// answer. A call that failed is only notable when it was denied, and then
// as reconnaissance, unless its rule says an attempt counts.
func Classify(source, name, errorCode string) Finding {
	src := strings.TrimSuffix(source, ".amazonaws.com")
	failed := errorCode != ""
	for i := range rules {
		r := &rules[i]
		if r.source != src || (failed && !r.anyOutcome) || !matchName(r.names, name) {
			continue
		}
		f := Finding{Class: r.class, Rule: r.title, Authors: r.authors}
		if r.sigma {
			f.Source = "SigmaHQ"
		}
		return f
	}
	if failed && deniedCodes[errorCode] {
		return Finding{Class: ClassRecon}
	}
	return Finding{}
}

// ClassifyEvent classifies an event of the table. An impersonation (see
// FlagImpersonation) is ClassImpersonation whatever the call, with the
// call's own class as Tactic.
func ClassifyEvent(e *Event) Finding {
	f := Classify(e.Source, e.Name, e.ErrorCode)
	if e.Impersonation {
		return Finding{Class: ClassImpersonation, Tactic: f.Class,
			Rule: "user agent claims warroom; credentials or time are not a warroom session's"}
	}
	return f
}

func matchName(names []string, name string) bool {
	for _, n := range names {
		if p, ok := strings.CutSuffix(n, "*"); ok {
			if strings.HasPrefix(name, p) {
				return true
			}
		} else if n == name {
			return true
		}
	}
	return false
}
