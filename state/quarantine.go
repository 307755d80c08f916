package state

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AWS's own quarantine: when AWS finds an access key in public it attaches
// one of its AWSCompromisedKeyQuarantine managed policies to the key's user.
// Each denies a fixed list of actions, not everything: the attacker keeps
// whatever else the user's policies allow (sts:AssumeRole among them), so a
// quarantine is where containment starts, never containment itself.

// QuarantinePolicy is one of AWS's quarantine managed policies with its Deny
// list (one statement, Resource "*", no condition).
type QuarantinePolicy struct {
	Name    string
	ARN     string
	Version string // the policy's default version the list is from
	Deny    []string
}

// Denies reports whether the policy's Deny list matches action
// ("service:Operation"), case-insensitively with '*' wildcards, by the
// store's own glob (AWS's quarantine lists use '*', never '?').
func (p QuarantinePolicy) Denies(action string) bool {
	a := strings.ToLower(action)
	for _, pat := range p.Deny {
		if newGlob(pat, false).match(a) {
			return true
		}
	}
	return false
}

// quarantineDenyV2V3 is the Deny list of AWSCompromisedKeyQuarantineV2
// (default version v5, 2024-10-02T16:41:39Z) and AWSCompromisedKeyQuarantineV3
// (default version v2, 2024-10-02T16:52:27Z), in the policies' own order:
// the two documents list the same 89 actions. Sources: AWS's managed policy
// reference (docs.aws.amazon.com/aws-managed-policy/latest/reference/
// AWSCompromisedKeyQuarantineV2.html and …V3.html, "JSON policy document"),
// and the policy versions as GetPolicyVersion returns them, kept by
// github.com/zoph-io/MAMIP policies/AWSCompromisedKeyQuarantineV3 and
// github.com/zoph-io/IAMTrail policies/AWSCompromisedKeyQuarantineV2.
// Not denied, among what an attacker uses: sts:AssumeRole, iam:CreatePolicy,
// iam:DeleteUserPolicy, iam:CreateVirtualMFADevice, iam:EnableMFADevice,
// iam:UploadSSHPublicKey, ec2:AuthorizeSecurityGroupIngress,
// ec2:ImportKeyPair, cloudtrail:StopLogging, s3:PutObject.
var quarantineDenyV2V3 = []string{
	"cloudtrail:LookupEvents",
	"ec2:RequestSpotInstances", "ec2:RunInstances", "ec2:StartInstances",
	"iam:AddUserToGroup", "iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy",
	"iam:ChangePassword", "iam:CreateAccessKey", "iam:CreateInstanceProfile", "iam:CreateLoginProfile",
	"iam:CreatePolicyVersion", "iam:CreateRole", "iam:CreateUser", "iam:DetachUserPolicy", "iam:PassRole",
	"iam:PutGroupPolicy", "iam:PutRolePolicy", "iam:PutUserPermissionsBoundary", "iam:PutUserPolicy",
	"iam:SetDefaultPolicyVersion", "iam:UpdateAccessKey", "iam:UpdateAccountPasswordPolicy",
	"iam:UpdateAssumeRolePolicy", "iam:UpdateLoginProfile", "iam:UpdateUser",
	"lambda:AddLayerVersionPermission", "lambda:AddPermission", "lambda:CreateFunction", "lambda:GetPolicy",
	"lambda:ListTags", "lambda:PutProvisionedConcurrencyConfig", "lambda:TagResource", "lambda:UntagResource",
	"lambda:UpdateFunctionCode",
	"lightsail:Create*", "lightsail:Delete*", "lightsail:DownloadDefaultKeyPair",
	"lightsail:GetInstanceAccessDetails", "lightsail:Start*", "lightsail:Update*",
	"organizations:CreateAccount", "organizations:CreateOrganization", "organizations:InviteAccountToOrganization",
	"s3:DeleteBucket", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutLifecycleConfiguration",
	"s3:PutBucketAcl", "s3:PutBucketOwnershipControls", "s3:DeleteBucketPolicy",
	"s3:ObjectOwnerOverrideToBucketOwner", "s3:PutAccountPublicAccessBlock", "s3:PutBucketPolicy",
	"s3:ListAllMyBuckets",
	"ec2:PurchaseReservedInstancesOffering", "ec2:AcceptReservedInstancesExchangeQuote",
	"ec2:CreateReservedInstancesListing", "savingsplans:CreateSavingsPlan",
	"ecs:CreateService", "ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecr:GetAuthorizationToken",
	"bedrock:CreateModelInvocationJob", "bedrock:InvokeModelWithResponseStream",
	"bedrock:CreateFoundationModelAgreement", "bedrock:PutFoundationModelEntitlement", "bedrock:InvokeModel",
	"s3:CreateBucket", "s3:PutBucketCors", "s3:GetObject", "s3:ListBucket",
	"sagemaker:CreateEndpointConfig", "sagemaker:CreateProcessingJob",
	"ses:GetSendQuota", "ses:ListIdentities",
	"sts:GetSessionToken", "sts:GetFederationToken",
	"amplify:CreateDeployment", "amplify:CreateBackendEnvironment", "codebuild:CreateProject", "glue:CreateJob",
	"iam:DeleteRole", "iam:DeleteAccessKey", "iam:ListUsers",
	"lambda:GetEventSourceMapping", "sns:GetSMSAttributes", "mediapackagev2:CreateChannel",
}

// QuarantinePolicies are AWS's quarantine policies whose Deny lists warroom
// knows (the drill account's managed-policy catalogue holds the same).
var QuarantinePolicies = []QuarantinePolicy{
	{Name: "AWSCompromisedKeyQuarantineV2", ARN: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2", Version: "v5", Deny: quarantineDenyV2V3},
	{Name: "AWSCompromisedKeyQuarantineV3", ARN: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3", Version: "v2", Deny: quarantineDenyV2V3},
}

// quarantinePrefix starts the ARN of every AWS quarantine policy, the ones
// warroom knows the lists of and any later (V4 …) or earlier one.
const quarantinePrefix = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantine"

// IsAWSQuarantine reports whether arn is one of AWS's quarantine policies,
// known or not.
func IsAWSQuarantine(arn string) bool { return strings.HasPrefix(arn, quarantinePrefix) }

// QuarantinePolicyOf returns the known policy of arn.
func QuarantinePolicyOf(arn string) (QuarantinePolicy, bool) {
	for _, p := range QuarantinePolicies {
		if p.ARN == arn {
			return p, true
		}
	}
	return QuarantinePolicy{}, false
}

// quarantineName is the policy name of a quarantine ARN.
func quarantineName(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// QuarantineSighting is one user found under an AWS quarantine policy: in
// the inventory (attached now, as last read) or in CloudTrail (the
// AttachUserPolicy that attached it). Strings from CloudTrail may be
// attacker-chosen.
type QuarantineSighting struct {
	User   string `json:"user"`
	Policy string `json:"policy"` // the policy's name
	ARN    string `json:"policy_arn"`
	// Source is "inventory" or "cloudtrail".
	Source string `json:"source"`
	// At is when CloudTrail recorded the attachment, or when the inventory
	// that shows it was taken.
	At time.Time `json:"at"`
	// By is who attached it (CloudTrail): "AWS" when AWS did (sourceIPAddress
	// "AWS Internal"), else the caller's ARN.
	By      string `json:"by,omitempty"`
	ByAWS   bool   `json:"by_aws,omitempty"`
	EventID string `json:"event_id,omitempty"`
	// Known is set when warroom holds the policy's Deny list.
	Known bool `json:"known"`
}

// InventoryQuarantines lists the users the latest inventory shows with an
// AWS quarantine policy attached (directly or through a group).
func (s *Store) InventoryQuarantines() []QuarantineSighting {
	if s == nil || s.Inventory == nil {
		return nil
	}
	var out []QuarantineSighting
	for _, u := range s.Inventory.Users {
		for _, p := range u.Policies {
			if p.Inline || !IsAWSQuarantine(p.ARN) {
				continue
			}
			_, known := QuarantinePolicyOf(p.ARN)
			out = append(out, QuarantineSighting{User: u.Name, Policy: quarantineName(p.ARN), ARN: p.ARN,
				Source: "inventory", At: s.Inventory.TakenAt, Known: known})
		}
	}
	return out
}

// quarantineRecord is the part of an AttachUserPolicy record that names
// what was attached to whom.
type quarantineRecord struct {
	SourceIPAddress   string `json:"sourceIPAddress"`
	RequestParameters struct {
		UserName  string `json:"userName"`
		PolicyArn string `json:"policyArn"`
	} `json:"requestParameters"`
}

// FindQuarantines reads CloudTrail's successful AttachUserPolicy records in
// t and returns those that attached an AWS quarantine policy, oldest first.
// AWS's own attachments carry sourceIPAddress "AWS Internal". raw reads a
// record; one that cannot be read is reported and the rest are read.
func FindQuarantines(t *EventTable, raw func(EventRef) ([]byte, error)) (out []QuarantineSighting, problems []error) {
	f, err := ParseFilter("event:AttachUserPolicy -failed")
	if err != nil {
		return nil, []error{err}
	}
	res := t.Query(f)
	for i := 0; i < res.Len(); i++ {
		ev := t.Event(res.At(i))
		if ev.Source != "" && ev.Source != "iam.amazonaws.com" {
			continue
		}
		b, err := raw(ev.Ref)
		if err != nil {
			problems = append(problems, fmt.Errorf("event %s: %w", ev.EventID, err))
			continue
		}
		var r quarantineRecord
		if err := json.Unmarshal(b, &r); err != nil {
			problems = append(problems, fmt.Errorf("event %s (%s): %w", ev.EventID, ev.Name, err))
			continue
		}
		arn := r.RequestParameters.PolicyArn
		if !IsAWSQuarantine(arn) {
			continue
		}
		_, known := QuarantinePolicyOf(arn)
		sg := QuarantineSighting{User: r.RequestParameters.UserName, Policy: quarantineName(arn), ARN: arn,
			Source: "cloudtrail", At: ev.Time, By: ev.Principal, EventID: ev.EventID, Known: known}
		if r.SourceIPAddress == "AWS Internal" {
			sg.By, sg.ByAWS = "AWS", true
		}
		out = append(out, sg)
	}
	return out, problems
}

// QuarantineCoverage says, of a list of actions, which a quarantine policy
// already denies and which it does not.
type QuarantineCoverage struct {
	Policy    string   `json:"policy"`
	Known     bool     `json:"known"` // false: warroom does not hold this policy's list
	Denied    []string `json:"denied,omitempty"`
	NotDenied []string `json:"not_denied,omitempty"`
}

// CoverActions evaluates actions against the quarantine policy arn's Deny
// list. An unknown policy denies nothing warroom can vouch for.
func CoverActions(arn string, actions []string) QuarantineCoverage {
	p, known := QuarantinePolicyOf(arn)
	c := QuarantineCoverage{Policy: quarantineName(arn), Known: known}
	seen := map[string]bool{}
	for _, a := range actions {
		if a == "" || seen[a] {
			continue
		}
		seen[a] = true
		if known && p.Denies(a) {
			c.Denied = append(c.Denied, a)
		} else {
			c.NotDenied = append(c.NotDenied, a)
		}
	}
	slices.Sort(c.Denied)
	slices.Sort(c.NotDenied)
	return c
}

// String is the coverage in one line for a plan: "already denied by AWS's
// quarantine (NAME): …; NOT denied: …".
func (c QuarantineCoverage) String() string {
	if !c.Known {
		return fmt.Sprintf("AWS's quarantine %s: its deny list is not in warroom's catalogue; nothing counted as denied: %s",
			c.Policy, strings.Join(c.NotDenied, ", "))
	}
	d, n := strings.Join(c.Denied, ", "), strings.Join(c.NotDenied, ", ")
	if d == "" {
		d = "(none of the footholds' actions)"
	}
	if n == "" {
		n = "(none)"
	}
	return fmt.Sprintf("already denied by AWS's quarantine (%s): %s; NOT denied: %s", c.Policy, d, n)
}

// footholdActions are, per foothold kind (OpenFoothold.Kind), the calls an
// attacker makes to plant or restore it: what a quarantine must deny for
// that foothold to stay shut without the playbook's step.
var footholdActions = map[string][]string{
	"key":        {"iam:CreateAccessKey", "iam:UpdateAccessKey"},
	"session":    {"sts:GetSessionToken", "sts:GetFederationToken", "sts:AssumeRole"},
	"user":       {"iam:CreateUser", "iam:CreateAccessKey"},
	"login":      {"iam:CreateLoginProfile", "iam:UpdateLoginProfile"},
	"mfa":        {"iam:CreateVirtualMFADevice", "iam:EnableMFADevice"},
	"policy":     {"iam:AttachUserPolicy", "iam:PutUserPolicy", "iam:AttachGroupPolicy", "iam:PutGroupPolicy", "iam:AttachRolePolicy", "iam:PutRolePolicy"},
	"trust":      {"iam:UpdateAssumeRolePolicy"},
	"group":      {"iam:AddUserToGroup"},
	"role":       {"iam:CreateRole", "sts:AssumeRole"},
	"instance":   {"ec2:RunInstances", "ec2:StartInstances"},
	"spot":       {"ec2:RequestSpotInstances"},
	"key-pair":   {"ec2:ImportKeyPair", "ec2:CreateKeyPair"},
	"function":   {"lambda:CreateFunction", "lambda:UpdateFunctionCode"},
	"permission": {"lambda:AddPermission"},
	"ingress":    {"ec2:AuthorizeSecurityGroupIngress"},
	"trail":      {"cloudtrail:StopLogging", "cloudtrail:PutEventSelectors", "cloudtrail:DeleteTrail"},
	"cloudtrail": {"cloudtrail:StopLogging", "cloudtrail:PutEventSelectors", "cloudtrail:DeleteTrail"},
}

// FootholdActions returns the calls that plant or restore footholds of
// the given kinds (every kind warroom knows when none is given), each once,
// sorted.
func FootholdActions(kinds ...string) []string {
	if len(kinds) == 0 {
		for k := range footholdActions {
			kinds = append(kinds, k)
		}
	}
	var out []string
	for _, k := range kinds {
		for _, a := range footholdActions[k] {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return out
}

// awsAttachFilter finds the successful AttachUserPolicy calls.
var awsAttachFilter, _ = ParseFilter("event:AttachUserPolicy -failed")

// AWSQuarantineSeen is what the console's status line shows of AWS's
// quarantine without reading a record: the users the latest inventory shows
// under one, and how many successful AttachUserPolicy calls CloudTrail shows
// made from "AWS Internal" (AWS's own; their records name the user and the
// policy, which FindQuarantines reads).
func (s *Store) AWSQuarantineSeen() (sightings []QuarantineSighting, fromAWS int) {
	if s == nil {
		return nil, 0
	}
	sightings = s.InventoryQuarantines()
	if s.Events == nil || awsAttachFilter == nil {
		return sightings, 0
	}
	res := s.Events.Query(awsAttachFilter)
	for i := 0; i < res.Len(); i++ {
		if s.Events.Event(res.At(i)).SourceIP == "AWS Internal" {
			fromAWS++
		}
	}
	return sightings, fromAWS
}
