package sim

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func (e *testEnv) lambda(c Credentials, region string) *lambda.Client {
	return lambda.NewFromConfig(e.cfg(c, region))
}

func TestLambda(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	const region = "eu-south-2"
	c := env.lambda(env.sim.Responder(), region)
	denied := env.lambda(newUserKey(t, env, "quarantined", quarantineV3), region)
	role := "arn:aws:iam::" + env.sim.AccountID() + ":role/IncidentResponse"
	create := func(client *lambda.Client, name, runtime, role string) error {
		_, err := client.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: ltypes.Runtime(runtime),
			Role: aws.String(role), Handler: aws.String("index.handler"), Code: &ltypes.FunctionCode{ZipFile: []byte("PK\x03\x04 not really")}})
		return err
	}
	steps := []struct {
		name string
		call func() error
		code string
	}{
		{"create", func() error { return create(c, "exfil", "python3.12", role) }, ""},
		{"create duplicate", func() error { return create(c, "exfil", "python3.12", role) }, "ResourceConflictException"},
		{"create bad runtime", func() error { return create(c, "other", "cobol85", role) }, "InvalidParameterValueException"},
		{"create unknown role", func() error {
			return create(c, "other", "python3.12", "arn:aws:iam::"+env.sim.AccountID()+":role/Nope")
		}, "InvalidParameterValueException"},
		{"create bad name", func() error { return create(c, "bad name!", "python3.12", role) }, "InvalidParameterValueException"},
		{"create denied", func() error { return create(denied, "other", "python3.12", role) }, "AccessDeniedException"},
		{"create four more", func() error {
			for i := range 4 {
				if err := create(c, fmt.Sprintf("fn-%d", i), "nodejs20.x", role); err != nil {
					return err
				}
			}
			return nil
		}, ""},
		{"list pages", func() error {
			p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(2)})
			var names []string
			pages := 0
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				pages++
				for _, f := range out.Functions {
					names = append(names, aws.ToString(f.FunctionName))
					if aws.ToString(f.Role) != role || f.State != ltypes.StateActive {
						return fmt.Errorf("function %s role %s state %s", aws.ToString(f.FunctionName), aws.ToString(f.Role), f.State)
					}
				}
			}
			if want := []string{"exfil", "fn-0", "fn-1", "fn-2", "fn-3"}; pages != 3 || !slices.Equal(names, want) {
				return fmt.Errorf("%d pages %v", pages, names)
			}
			return nil
		}, ""},
		{"list bad marker", func() error {
			_, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{Marker: aws.String("garbage")})
			return err
		}, "InvalidParameterValueException"},
		{"other region is empty", func() error {
			out, err := env.lambda(env.sim.Responder(), "us-east-1").ListFunctions(ctx, &lambda.ListFunctionsInput{})
			if err == nil && len(out.Functions) != 0 {
				return fmt.Errorf("%d functions in us-east-1", len(out.Functions))
			}
			return err
		}, ""},
		{"delete by arn", func() error {
			_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("arn:aws:lambda:" + region + ":" + env.sim.AccountID() + ":function:exfil")})
			return err
		}, ""},
		{"delete again", func() error {
			_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("exfil")})
			return err
		}, "ResourceNotFoundException"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if got := errCode(t, st.call()); got != st.code {
				t.Fatalf("code %q, want %q", got, st.code)
			}
		})
	}
	rec := recordOf(t, env.sim, "CreateFunction20150331")
	if rec["eventSource"] != "lambda.amazonaws.com" || rec["awsRegion"] != region ||
		dig(rec, "responseElements", "functionArn") != "arn:aws:lambda:"+region+":"+env.sim.AccountID()+":function:fn-3" {
		t.Errorf("record %v %v %v", rec["eventSource"], rec["awsRegion"], rec["responseElements"])
	}
	if rec := recordOf(t, env.sim, "DeleteFunction20150331"); rec["errorCode"] != "ResourceNotFoundException" {
		t.Errorf("last delete record error %v", rec["errorCode"])
	}
}
