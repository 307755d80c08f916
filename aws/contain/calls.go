package contain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// A plan is a list of state.Call values, and execution is their
// interpretation: do sends exactly the call the plan (and the journaled
// intent) shows, so what was confirmed is what is sent. It is the only
// place that uses the mutating clients.

// do sends one call. With dryRun, EC2 calls carry DryRun=true and nothing
// else is sent (IAM and Lambda have no dry run). out is the SDK's output.
func do(ctx context.Context, m *session.Mutators, c state.Call, dryRun bool) (out any, requestID string, err error) {
	p := c.Params
	s := func(k string) *string {
		if v, ok := p[k]; ok && v != "" {
			return aws.String(v)
		}
		return nil
	}
	svc, op, _ := strings.Cut(c.API, ":")
	if dryRun && svc != "ec2" {
		return nil, "", nil
	}
	var md middleware.Metadata
	switch svc {
	case "iam":
		cl := m.IAM()
		switch op {
		case "UpdateAccessKey":
			var o *iam.UpdateAccessKeyOutput
			o, err = cl.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: s("UserName"), AccessKeyId: s("AccessKeyId"),
				Status: iamtypes.StatusType(p["Status"])})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteAccessKey":
			var o *iam.DeleteAccessKeyOutput
			o, err = cl.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: s("UserName"), AccessKeyId: s("AccessKeyId")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "CreateAccessKey":
			var o *iam.CreateAccessKeyOutput
			o, err = cl.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: s("UserName")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "PutUserPolicy":
			var o *iam.PutUserPolicyOutput
			o, err = cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: s("UserName"), PolicyName: s("PolicyName"), PolicyDocument: s("PolicyDocument")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteUserPolicy":
			var o *iam.DeleteUserPolicyOutput
			o, err = cl.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: s("UserName"), PolicyName: s("PolicyName")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "PutRolePolicy":
			var o *iam.PutRolePolicyOutput
			o, err = cl.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: s("RoleName"), PolicyName: s("PolicyName"), PolicyDocument: s("PolicyDocument")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteRolePolicy":
			var o *iam.DeleteRolePolicyOutput
			o, err = cl.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: s("RoleName"), PolicyName: s("PolicyName")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "CreatePolicy":
			var o *iam.CreatePolicyOutput
			o, err = cl.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: s("PolicyName"), PolicyDocument: s("PolicyDocument"),
				Path: s("Path"), Description: s("Description")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeletePolicy":
			var o *iam.DeletePolicyOutput
			o, err = cl.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: s("PolicyArn")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "AttachUserPolicy":
			var o *iam.AttachUserPolicyOutput
			o, err = cl.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: s("UserName"), PolicyArn: s("PolicyArn")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DetachUserPolicy":
			var o *iam.DetachUserPolicyOutput
			o, err = cl.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: s("UserName"), PolicyArn: s("PolicyArn")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "AttachRolePolicy":
			var o *iam.AttachRolePolicyOutput
			o, err = cl.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: s("RoleName"), PolicyArn: s("PolicyArn")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DetachRolePolicy":
			var o *iam.DetachRolePolicyOutput
			o, err = cl.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: s("RoleName"), PolicyArn: s("PolicyArn")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "UpdateLoginProfile":
			// Only the reset flag: warroom never sets a password.
			var o *iam.UpdateLoginProfileOutput
			o, err = cl.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: s("UserName"),
				PasswordResetRequired: aws.Bool(p["PasswordResetRequired"] == "true")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteLoginProfile":
			var o *iam.DeleteLoginProfileOutput
			o, err = cl.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: s("UserName")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeactivateMFADevice":
			var o *iam.DeactivateMFADeviceOutput
			o, err = cl.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: s("UserName"), SerialNumber: s("SerialNumber")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteVirtualMFADevice":
			var o *iam.DeleteVirtualMFADeviceOutput
			o, err = cl.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: s("SerialNumber")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteSigningCertificate":
			var o *iam.DeleteSigningCertificateOutput
			o, err = cl.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: s("UserName"), CertificateId: s("CertificateId")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteSSHPublicKey":
			var o *iam.DeleteSSHPublicKeyOutput
			o, err = cl.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: s("UserName"), SSHPublicKeyId: s("SSHPublicKeyId")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteServiceSpecificCredential":
			var o *iam.DeleteServiceSpecificCredentialOutput
			o, err = cl.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: s("UserName"),
				ServiceSpecificCredentialId: s("ServiceSpecificCredentialId")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "RemoveUserFromGroup":
			var o *iam.RemoveUserFromGroupOutput
			o, err = cl.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: s("UserName"), GroupName: s("GroupName")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteUserPermissionsBoundary":
			var o *iam.DeleteUserPermissionsBoundaryOutput
			o, err = cl.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: s("UserName")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteUser":
			var o *iam.DeleteUserOutput
			o, err = cl.DeleteUser(ctx, &iam.DeleteUserInput{UserName: s("UserName")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "TagUser":
			var o *iam.TagUserOutput
			o, err = cl.TagUser(ctx, &iam.TagUserInput{UserName: s("UserName"),
				Tags: []iamtypes.Tag{{Key: s("TagKey"), Value: aws.String(p["TagValue"])}}})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "UpdateAssumeRolePolicy":
			var o *iam.UpdateAssumeRolePolicyOutput
			o, err = cl.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: s("RoleName"), PolicyDocument: s("PolicyDocument")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "AttachGroupPolicy":
			var o *iam.AttachGroupPolicyOutput
			o, err = cl.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: s("GroupName"), PolicyArn: s("PolicyArn")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DetachGroupPolicy":
			var o *iam.DetachGroupPolicyOutput
			o, err = cl.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: s("GroupName"), PolicyArn: s("PolicyArn")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "PutGroupPolicy":
			var o *iam.PutGroupPolicyOutput
			o, err = cl.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: s("GroupName"), PolicyName: s("PolicyName"), PolicyDocument: s("PolicyDocument")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteGroupPolicy":
			var o *iam.DeleteGroupPolicyOutput
			o, err = cl.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: s("GroupName"), PolicyName: s("PolicyName")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "AddUserToGroup":
			var o *iam.AddUserToGroupOutput
			o, err = cl.AddUserToGroup(ctx, &iam.AddUserToGroupInput{UserName: s("UserName"), GroupName: s("GroupName")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "TagRole":
			var o *iam.TagRoleOutput
			o, err = cl.TagRole(ctx, &iam.TagRoleInput{RoleName: s("RoleName"),
				Tags: []iamtypes.Tag{{Key: s("TagKey"), Value: aws.String(p["TagValue"])}}})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		default:
			return nil, "", fmt.Errorf("%s: not a call warroom makes", c.API)
		}
	case "ec2":
		cl := m.EC2(c.Region)
		dr := aws.Bool(dryRun)
		switch op {
		case "ModifyInstanceAttribute":
			in := &ec2.ModifyInstanceAttributeInput{InstanceId: s("InstanceId"), DryRun: dr}
			if v, ok := p["DisableApiTermination"]; ok {
				in.DisableApiTermination = &ec2types.AttributeBooleanValue{Value: aws.Bool(v == "true")}
			}
			if v, ok := p["DisableApiStop"]; ok {
				in.DisableApiStop = &ec2types.AttributeBooleanValue{Value: aws.Bool(v == "true")}
			}
			var o *ec2.ModifyInstanceAttributeOutput
			o, err = cl.ModifyInstanceAttribute(ctx, in)
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "StopInstances":
			var o *ec2.StopInstancesOutput
			o, err = cl.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: splitList(p["InstanceIds"]), DryRun: dr})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "TerminateInstances":
			var o *ec2.TerminateInstancesOutput
			o, err = cl.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: splitList(p["InstanceIds"]), DryRun: dr})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "CancelSpotInstanceRequests":
			var o *ec2.CancelSpotInstanceRequestsOutput
			o, err = cl.CancelSpotInstanceRequests(ctx, &ec2.CancelSpotInstanceRequestsInput{
				SpotInstanceRequestIds: splitList(p["SpotInstanceRequestIds"]), DryRun: dr})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteKeyPair":
			var o *ec2.DeleteKeyPairOutput
			o, err = cl.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: s("KeyName"), DryRun: dr})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "CreateTags":
			var o *ec2.CreateTagsOutput
			o, err = cl.CreateTags(ctx, &ec2.CreateTagsInput{Resources: splitList(p["Resources"]), DryRun: dr,
				Tags: []ec2types.Tag{{Key: s("TagKey"), Value: aws.String(p["TagValue"])}}})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "CreateSnapshot":
			var o *ec2.CreateSnapshotOutput
			o, err = cl.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: s("VolumeId"), Description: s("Description"), DryRun: dr})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "RevokeSecurityGroupIngress":
			perms, perr := ingressParam(p["IpPermissions"])
			if perr != nil {
				return nil, "", fmt.Errorf("%s: %w", c.API, perr)
			}
			var o *ec2.RevokeSecurityGroupIngressOutput
			o, err = cl.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: s("GroupId"), IpPermissions: perms, DryRun: dr})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "AuthorizeSecurityGroupIngress":
			perms, perr := ingressParam(p["IpPermissions"])
			if perr != nil {
				return nil, "", fmt.Errorf("%s: %w", c.API, perr)
			}
			var o *ec2.AuthorizeSecurityGroupIngressOutput
			o, err = cl.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: s("GroupId"), IpPermissions: perms, DryRun: dr})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "CreateNetworkAclEntry":
			var o *ec2.CreateNetworkAclEntryOutput
			o, err = cl.CreateNetworkAclEntry(ctx, &ec2.CreateNetworkAclEntryInput{NetworkAclId: s("NetworkAclId"), RuleNumber: int32Param(p["RuleNumber"]),
				Protocol: s("Protocol"), RuleAction: ec2types.RuleAction(p["RuleAction"]), Egress: aws.Bool(p["Egress"] == "true"),
				CidrBlock: s("CidrBlock"), Ipv6CidrBlock: s("Ipv6CidrBlock"), DryRun: dr})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "DeleteNetworkAclEntry":
			var o *ec2.DeleteNetworkAclEntryOutput
			o, err = cl.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: s("NetworkAclId"), RuleNumber: int32Param(p["RuleNumber"]),
				Egress: aws.Bool(p["Egress"] == "true"), DryRun: dr})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		default:
			return nil, "", fmt.Errorf("%s: not a call warroom makes", c.API)
		}
	case "lambda":
		cl := m.Lambda(c.Region)
		switch op {
		case "DeleteFunction":
			var o *lambda.DeleteFunctionOutput
			o, err = cl.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: s("FunctionName")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "RemovePermission":
			var o *lambda.RemovePermissionOutput
			o, err = cl.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: s("FunctionName"), StatementId: s("StatementId")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "AddPermission":
			var o *lambda.AddPermissionOutput
			o, err = cl.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: s("FunctionName"), StatementId: s("StatementId"),
				Action: s("Action"), Principal: s("Principal"), SourceArn: s("SourceArn"), SourceAccount: s("SourceAccount")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		default:
			return nil, "", fmt.Errorf("%s: not a call warroom makes", c.API)
		}
	case "cloudtrail":
		cl := m.CloudTrail(c.Region)
		switch op {
		case "StartLogging":
			var o *cloudtrail.StartLoggingOutput
			o, err = cl.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: s("Name")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "StopLogging":
			var o *cloudtrail.StopLoggingOutput
			o, err = cl.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: s("Name")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "PutEventSelectors":
			sels, serr := eventSelectorsOf(p["EventSelectors"])
			if serr != nil {
				return nil, "", fmt.Errorf("%s: %w", c.API, serr)
			}
			var o *cloudtrail.PutEventSelectorsOutput
			o, err = cl.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: s("TrailName"), EventSelectors: sels})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		default:
			return nil, "", fmt.Errorf("%s: not a call warroom makes", c.API)
		}
	case "organizations":
		cl := m.Organizations()
		switch op {
		case "CreatePolicy":
			var o *organizations.CreatePolicyOutput
			o, err = cl.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: s("Name"), Type: orgtypes.PolicyType(p["Type"]),
				Description: aws.String(p["Description"]), Content: s("Content")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		case "AttachPolicy", "DetachPolicy":
			if p["PolicyId"] == policyFromCreate {
				return nil, "", fmt.Errorf("%s: CreatePolicy returned no policy id", c.API)
			}
			if op == "AttachPolicy" {
				var o *organizations.AttachPolicyOutput
				o, err = cl.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: s("PolicyId"), TargetId: s("TargetId")})
				out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
			} else {
				var o *organizations.DetachPolicyOutput
				o, err = cl.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: s("PolicyId"), TargetId: s("TargetId")})
				out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
			}
		case "DeletePolicy":
			var o *organizations.DeletePolicyOutput
			o, err = cl.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: s("PolicyId")})
			out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		default:
			return nil, "", fmt.Errorf("%s: not a call warroom makes", c.API)
		}
	case "sso":
		out, md, err = doSSO(ctx, m, c)
	default:
		return nil, "", fmt.Errorf("%s: not a call warroom makes", c.API)
	}
	if err != nil {
		err = session.Wrap(c.API, c.Region, err)
		var se *session.Error
		if errors.As(err, &se) {
			requestID = se.RequestID
		}
		return nil, requestID, err
	}
	requestID, _ = awsmw.GetRequestIDMetadata(md)
	return out, requestID, nil
}

// int32Param reads a numeric call parameter; nil when it is not one.
func int32Param(v string) *int32 {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return nil
	}
	return aws.Int32(int32(n))
}

// meta returns an output's metadata, or none when the output is nil (the
// call failed).
func meta[T any](o *T, get func() middleware.Metadata) middleware.Metadata {
	if o == nil {
		return middleware.Metadata{}
	}
	return get()
}

// alreadyDone reports whether err from call c means the call's effect is
// already there: what it deletes, detaches, cancels or deactivates is gone.
func alreadyDone(c state.Call, err error) bool {
	if session.Classify(err) != session.ClassNotFound {
		return false
	}
	_, op, _ := strings.Cut(c.API, ":")
	for _, p := range []string{"Delete", "Detach", "Remove", "Deactivate", "Cancel", "Terminate"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return op == "UpdateAccessKey" && c.Params["Status"] == string(iamtypes.StatusTypeInactive)
}

// dryRunAnswer turns an EC2 DryRun error into a finding: DryRunOperation
// means the call would succeed, UnauthorizedOperation that it would be
// denied.
func dryRunAnswer(c state.Call, err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "DryRunOperation":
			return fmt.Sprintf("DryRun %s: would succeed", c.API)
		case "UnauthorizedOperation":
			return fmt.Sprintf("DryRun %s: would be DENIED", c.API)
		}
	}
	if err == nil {
		return fmt.Sprintf("DryRun %s: no answer", c.API)
	}
	return fmt.Sprintf("DryRun %s: %v", c.API, err)
}

// preflightEC2 asks EC2 whether each call of the plan would succeed.
// Read-only sessions cannot send the DryRun calls (they are mutating
// operations); the finding says so.
func preflightEC2(ctx context.Context, env *Env, p *Plan) {
	if env.Mut == nil {
		p.Findings = append(p.Findings, "DryRun skipped: read-only session")
		return
	}
	for _, c := range p.Calls {
		if !strings.HasPrefix(c.API, "ec2:") {
			continue
		}
		_, _, err := do(ctx, env.Mut, c, true)
		p.Findings = append(p.Findings, dryRunAnswer(c, err))
	}
}
