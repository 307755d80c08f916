package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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

func TestLambdaPermissions(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	const region = "ap-southeast-2"
	c := env.lambda(env.sim.Responder(), region)
	acct := env.sim.AccountID()
	fnARN := "arn:aws:lambda:" + region + ":" + acct + ":function:exfil"
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("exfil"), Runtime: ltypes.RuntimePython312,
		Role: aws.String("arn:aws:iam::" + acct + ":role/IncidentResponse"), Handler: aws.String("index.handler"),
		Code: &ltypes.FunctionCode{ZipFile: []byte("PK\x03\x04 not really")}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fnARN)})
	if err != nil || aws.ToString(got.Configuration.FunctionName) != "exfil" || aws.ToString(got.Code.RepositoryType) != "S3" {
		t.Fatalf("GetFunction: %v %+v", err, got)
	}
	if rec := recordOf(t, env.sim, "GetFunction20150331v2"); dig(rec, "requestParameters", "functionName") != fnARN || rec["readOnly"] != true {
		t.Errorf("GetFunction record %s", mustJSON(t, rec))
	}
	_, err = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("exfil")})
	if code := errCode(t, err); code != "ResourceNotFoundException" {
		t.Errorf("policy of a function without one: %q", code)
	}
	add, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("exfil"), StatementId: aws.String("anyone"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"), SourceArn: aws.String("arn:aws:s3:::drop-zone")})
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(add.Statement)), &st); err != nil || st["Sid"] != "anyone" || st["Principal"] != "*" ||
		dig(st, "Condition", "ArnLike", "AWS:SourceArn") != "arn:aws:s3:::drop-zone" || st["Resource"] != fnARN {
		t.Errorf("statement %s (%v)", aws.ToString(add.Statement), err)
	}
	rec := recordOf(t, env.sim, "AddPermission20150331v2")
	rp := dig(rec, "requestParameters")
	if dig(rp, "functionName") != "exfil" || dig(rp, "statementId") != "anyone" || dig(rp, "action") != "lambda:InvokeFunction" ||
		dig(rp, "principal") != "*" || dig(rp, "sourceArn") != "arn:aws:s3:::drop-zone" || dig(rec, "responseElements", "statement") != aws.ToString(add.Statement) {
		t.Errorf("AddPermission record %s", mustJSON(t, rec))
	}
	if _, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("exfil"), StatementId: aws.String("acct"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("210987654321")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("exfil"), StatementId: aws.String("anyone"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")})
	if code := errCode(t, err); code != "ResourceConflictException" {
		t.Errorf("duplicate statement id: %q", code)
	}
	pol, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("exfil")})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version, Id string
		Statement   []map[string]any
	}
	if err := json.Unmarshal([]byte(aws.ToString(pol.Policy)), &doc); err != nil || doc.Version != "2012-10-17" || doc.Id != "default" ||
		len(doc.Statement) != 2 || dig(doc.Statement[1], "Principal", "AWS") != "arn:aws:iam::210987654321:root" {
		t.Errorf("policy %s (%v)", aws.ToString(pol.Policy), err)
	}
	if _, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("exfil"), StatementId: aws.String("anyone")}); err != nil {
		t.Fatal(err)
	}
	if rec := recordOf(t, env.sim, "RemovePermission20150331v2"); dig(rec, "requestParameters", "statementId") != "anyone" ||
		dig(rec, "requestParameters", "functionName") != "exfil" {
		t.Errorf("RemovePermission record %s", mustJSON(t, rec))
	}
	pol, err = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("exfil")})
	if err != nil || strings.Contains(aws.ToString(pol.Policy), `"anyone"`) || !strings.Contains(aws.ToString(pol.Policy), `"acct"`) {
		t.Errorf("policy after remove: %v %s", err, aws.ToString(pol.Policy))
	}
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"remove absent", func() error {
			_, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("exfil"), StatementId: aws.String("anyone")})
			return err
		}(), "ResourceNotFoundException"},
		{"get unknown function", func() error {
			_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("nope")})
			return err
		}(), "ResourceNotFoundException"},
		{"add on unknown function", func() error {
			_, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("nope"), StatementId: aws.String("x"),
				Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")})
			return err
		}(), "ResourceNotFoundException"},
		{"function of another Region", func() error {
			_, err := env.lambda(env.sim.Responder(), "us-east-1").GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("exfil")})
			return err
		}(), "ResourceNotFoundException"},
	} {
		if got := errCode(t, tc.err); got != tc.code {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.code)
		}
	}
}
