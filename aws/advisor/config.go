package advisor

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cfgtypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// Config is the part of the AWS Config client a history uses.
type Config interface {
	DescribeConfigurationRecorderStatus(context.Context, *configservice.DescribeConfigurationRecorderStatusInput, ...func(*configservice.Options)) (*configservice.DescribeConfigurationRecorderStatusOutput, error)
	GetResourceConfigHistory(context.Context, *configservice.GetResourceConfigHistoryInput, ...func(*configservice.Options)) (*configservice.GetResourceConfigHistoryOutput, error)
}

// ResourceTypes maps the kinds warroom knows resources by (the sweep's
// kinds, the inventory's principals) to AWS Config's resource types.
var ResourceTypes = map[string]string{
	"ec2:instance":       "AWS::EC2::Instance",
	"instance":           "AWS::EC2::Instance",
	"ec2:security-group": "AWS::EC2::SecurityGroup",
	"security-group":     "AWS::EC2::SecurityGroup",
	"user":               "AWS::IAM::User",
	"role":               "AWS::IAM::Role",
	"lambda:function":    "AWS::Lambda::Function",
	"ec2:key-pair":       "AWS::EC2::KeyPair",
}

// TypeOf guesses a resource's Config type from its id or ARN: i-… an
// instance, sg-… a security group, an IAM user or role ARN. "" when it
// cannot tell.
func TypeOf(id string) string {
	switch {
	case strings.HasPrefix(id, "i-"):
		return "AWS::EC2::Instance"
	case strings.HasPrefix(id, "sg-"):
		return "AWS::EC2::SecurityGroup"
	case strings.HasPrefix(id, "AIDA"):
		return "AWS::IAM::User"
	case strings.HasPrefix(id, "AROA"):
		return "AWS::IAM::Role"
	}
	if p, ok := state.ParseARN(id); ok {
		kind, _, _ := strings.Cut(p.Resource, "/")
		switch p.Service + ":" + kind {
		case "iam:user":
			return "AWS::IAM::User"
		case "iam:role":
			return "AWS::IAM::Role"
		case "ec2:instance":
			return "AWS::EC2::Instance"
		case "ec2:security-group":
			return "AWS::EC2::SecurityGroup"
		}
	}
	return ""
}

// MaxItems bounds the items a history reads (newest first).
const MaxItems = 500

// History reads a resource's AWS Config history in region: first whether
// a recorder records there (none, or stopped: Recording says so and
// nothing more is read), then every page of items, newest first. A
// resource Config never discovered is NotDiscovered, not an error. The
// ConfigHistory returned is always journalable: a failed call is in its
// Error (and returned as err too).
func History(ctx context.Context, c Config, region, resourceType, id string) (state.ConfigHistory, error) {
	h := state.ConfigHistory{Region: region, ResourceType: resourceType, ResourceID: id, TakenAt: time.Now().UTC()}
	fail := func(call string, err error) (state.ConfigHistory, error) {
		err = session.Wrap(call, region, err)
		var we *session.Error
		if errors.As(err, &we) {
			ce := we.CallError()
			ce.Target = id
			h.Error = &ce
		}
		return h, err
	}
	st, err := c.DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{})
	if err != nil {
		return fail("config:DescribeConfigurationRecorderStatus", err)
	}
	h.Recording = state.ConfigNoRecorder
	for _, r := range st.ConfigurationRecordersStatus {
		if r.Recording {
			h.Recording = state.ConfigRecording
			break
		}
		h.Recording = state.ConfigNotRecording
	}
	if h.Recording != state.ConfigRecording {
		return h, nil
	}
	var token *string
	for {
		out, err := c.GetResourceConfigHistory(ctx, &configservice.GetResourceConfigHistoryInput{
			ResourceType: cfgtypes.ResourceType(resourceType), ResourceId: aws.String(id), NextToken: token, Limit: 100})
		if err != nil {
			var nd *cfgtypes.ResourceNotDiscoveredException
			if errors.As(err, &nd) {
				h.NotDiscovered = true
				return h, nil
			}
			return fail("config:GetResourceConfigHistory", err)
		}
		for _, it := range out.ConfigurationItems {
			h.Items = append(h.Items, itemOf(it))
		}
		if out.NextToken == nil || *out.NextToken == "" || len(h.Items) >= MaxItems {
			return h, nil
		}
		token = out.NextToken
	}
}

func itemOf(it cfgtypes.ConfigurationItem) state.ConfigItem {
	out := state.ConfigItem{Status: string(it.ConfigurationItemStatus), ARN: aws.ToString(it.Arn), Name: aws.ToString(it.ResourceName),
		StateID: aws.ToString(it.ConfigurationStateId), Configuration: aws.ToString(it.Configuration)}
	if it.ConfigurationItemCaptureTime != nil {
		out.CaptureTime = it.ConfigurationItemCaptureTime.UTC()
	}
	if len(out.Configuration) > state.MaxConfigBytes {
		out.Configuration, out.Cut = out.Configuration[:state.MaxConfigBytes], true
	}
	return out
}

// IAMNames is the part of the IAM client that finds a user's or role's id.
type IAMNames interface {
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
}

// ConfigID returns the id AWS Config knows an IAM user or role by (its
// unique id, AIDA… or AROA…), from its name or ARN, and its name. Other
// types' ids are returned as given.
func ConfigID(ctx context.Context, c IAMNames, resourceType, ref string) (id, name string, err error) {
	name = ref
	if p, ok := state.ParsePrincipal(ref); ok {
		name = p.Name
	}
	switch resourceType {
	case "AWS::IAM::User":
		if strings.HasPrefix(ref, "AIDA") {
			return ref, "", nil
		}
		out, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
		if err != nil {
			return "", "", session.Wrap("iam:GetUser", session.DefaultRegion, err)
		}
		return aws.ToString(out.User.UserId), name, nil
	case "AWS::IAM::Role":
		if strings.HasPrefix(ref, "AROA") {
			return ref, "", nil
		}
		out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err != nil {
			return "", "", session.Wrap("iam:GetRole", session.DefaultRegion, err)
		}
		return aws.ToString(out.Role.RoleId), name, nil
	}
	return ref, "", nil
}
