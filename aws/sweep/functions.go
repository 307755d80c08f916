package sweep

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

func init() { Register(functions{}) }

// functions sweeps Lambda functions: a backdoor function with an
// attacker's code and an admin role outlives every key rotation.
type functions struct{}

func (functions) Name() string { return "lambda:function" }

func (functions) Sweep(ctx context.Context, sess *session.Session, region string) ([]state.Resource, error) {
	var out []state.Resource
	p := lambda.NewListFunctionsPaginator(sess.Lambda(region), &lambda.ListFunctionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("lambda:ListFunctions", region, err)
		}
		for _, f := range page.Functions {
			r := state.Resource{ID: aws.ToString(f.FunctionName), Name: aws.ToString(f.FunctionName), ARN: aws.ToString(f.FunctionArn),
				State: string(f.State), Attrs: map[string]string{}}
			// LastModified is the closest the API comes to a creation time.
			if t, err := lambdaTime(aws.ToString(f.LastModified)); err == nil {
				r.Created = t
			}
			set := func(k, v string) {
				if v != "" {
					r.Attrs[k] = v
				}
			}
			set("runtime", string(f.Runtime))
			set("role", aws.ToString(f.Role))
			set("handler", aws.ToString(f.Handler))
			set("last_modified", aws.ToString(f.LastModified))
			set("package", string(f.PackageType))
			out = append(out, r)
		}
	}
	return out, nil
}

// lambdaTime reads Lambda's LastModified ("2026-11-23T04:05:06.000+0000").
func lambdaTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	var err error
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}
