package sim

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
)

// A Lambda function's resource-based policy: AddPermission adds a
// statement, RemovePermission takes one out, GetPolicy returns the
// document as a JSON string, as Lambda does.

// lambdaStatement is one statement of a function's policy, its fields in
// the order Lambda writes them.
type lambdaStatement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Principal any                          `json:"Principal"`
	Action    string                       `json:"Action"`
	Resource  string                       `json:"Resource"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

type lambdaPolicyDoc struct {
	Version   string            `json:"Version"`
	ID        string            `json:"Id"`
	Statement []lambdaStatement `json:"Statement"`
}

var (
	statementIDRE  = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,100}$`)
	lambdaActionRE = regexp.MustCompile(`^(lambda:[*]|lambda:[a-zA-Z]+|[*])$`)
	accountIDRE    = regexp.MustCompile(`^\d{12}$`)
)

// lambdaPrincipal is the Principal element Lambda writes for
// AddPermission's Principal: "*", an account (as its root ARN), an ARN,
// or a service.
func lambdaPrincipal(p string) any {
	switch {
	case p == "*":
		return "*"
	case accountIDRE.MatchString(p):
		return map[string]string{"AWS": "arn:aws:iam::" + p + ":root"}
	case len(p) > 4 && p[:4] == "arn:":
		return map[string]string{"AWS": p}
	}
	return map[string]string{"Service": p}
}

// lambdaFunctionOf finds the function a policy call names, or answers
// ResourceNotFoundException.
func (s *Sim) lambdaFunctionOf(r *Request) (*lambdaFunction, error) {
	name := lambdaFunctionName(r.Path["FunctionName"])
	f := s.lambdaFunctions(r.Region)[name]
	if f == nil {
		return nil, Errorf(404, "ResourceNotFoundException", "Function not found: %s", s.functionARN(r.Region, name))
	}
	r.Resources = []EventResource{{ARN: s.functionARN(r.Region, name), AccountID: s.acct.ID, Type: "AWS::Lambda::Function"}}
	return f, nil
}

func (s *Sim) lambdaGetFunction(r *Request) (any, error) {
	r.RequestParameters = map[string]any{"functionName": r.Path["FunctionName"]}
	f, err := s.lambdaFunctionOf(r)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"Configuration": s.functionView(r.Region, f),
		"Code": map[string]string{"RepositoryType": "S3",
			"Location": "https://awslambda-" + r.Region + "-tasks.s3." + r.Region + ".amazonaws.com/snapshots/" + s.acct.ID + "/" + f.Name},
	}, nil
}

func (s *Sim) lambdaAddPermission(r *Request) (any, error) {
	var in struct {
		StatementID   string `json:"StatementId"`
		Action        string `json:"Action"`
		Principal     string `json:"Principal"`
		SourceArn     string `json:"SourceArn"`
		SourceAccount string `json:"SourceAccount"`
		RevisionID    string `json:"RevisionId"`
	}
	if err := json.Unmarshal(r.Body, &in); err != nil {
		return nil, lambdaInvalid("Could not parse request body into json: %v", err)
	}
	params := map[string]any{"functionName": r.Path["FunctionName"], "statementId": in.StatementID, "action": in.Action,
		"principal": in.Principal}
	if in.SourceArn != "" {
		params["sourceArn"] = in.SourceArn
	}
	if in.SourceAccount != "" {
		params["sourceAccount"] = in.SourceAccount
	}
	r.RequestParameters = params
	switch {
	case !statementIDRE.MatchString(in.StatementID):
		return nil, lambdaInvalid("1 validation error detected: Value '%s' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)", in.StatementID)
	case !lambdaActionRE.MatchString(in.Action):
		return nil, lambdaInvalid("1 validation error detected: Value '%s' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])", in.Action)
	case in.Principal == "":
		return nil, lambdaInvalid("1 validation error detected: Value null at 'principal' failed to satisfy constraint: Member must not be null")
	}
	f, err := s.lambdaFunctionOf(r)
	if err != nil {
		return nil, err
	}
	if in.RevisionID != "" && in.RevisionID != f.RevisionID {
		return nil, Errorf(412, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id")
	}
	if slices.ContainsFunc(f.Policy, func(st lambdaStatement) bool { return st.Sid == in.StatementID }) {
		return nil, Errorf(409, "ResourceConflictException",
			"The statement id (%s) provided already exists. Please provide a new statement id, or remove the existing statement.", in.StatementID)
	}
	st := lambdaStatement{Sid: in.StatementID, Effect: "Allow", Principal: lambdaPrincipal(in.Principal), Action: in.Action,
		Resource: s.functionARN(r.Region, f.Name)}
	if in.SourceArn != "" || in.SourceAccount != "" {
		st.Condition = map[string]map[string]string{}
		if in.SourceAccount != "" {
			st.Condition["StringEquals"] = map[string]string{"AWS:SourceAccount": in.SourceAccount}
		}
		if in.SourceArn != "" {
			st.Condition["ArnLike"] = map[string]string{"AWS:SourceArn": in.SourceArn}
		}
	}
	f.Policy = append(f.Policy, st)
	f.RevisionID = s.ids.uuid()
	b, _ := json.Marshal(st)
	r.ResponseElements = map[string]any{"statement": string(b)}
	return &Reply{Status: http.StatusCreated, Body: map[string]string{"Statement": string(b)}}, nil
}

func (s *Sim) lambdaRemovePermission(r *Request) (any, error) {
	sid := r.Path["StatementId"]
	r.RequestParameters = map[string]any{"functionName": r.Path["FunctionName"], "statementId": sid}
	f, err := s.lambdaFunctionOf(r)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(f.Policy, func(st lambdaStatement) bool { return st.Sid == sid })
	if i < 0 {
		if len(f.Policy) == 0 {
			return nil, Errorf(404, "ResourceNotFoundException", "No policy is associated with the given resource.")
		}
		return nil, Errorf(404, "ResourceNotFoundException", "Statement %s is not found in resource policy.", sid)
	}
	f.Policy = slices.Delete(f.Policy, i, i+1)
	f.RevisionID = s.ids.uuid()
	return &Reply{Status: http.StatusNoContent, Body: []byte{}}, nil
}

func (s *Sim) lambdaGetPolicy(r *Request) (any, error) {
	r.RequestParameters = map[string]any{"functionName": r.Path["FunctionName"]}
	f, err := s.lambdaFunctionOf(r)
	if err != nil {
		return nil, err
	}
	if len(f.Policy) == 0 {
		return nil, Errorf(404, "ResourceNotFoundException", "The resource you requested does not exist.")
	}
	b, _ := json.Marshal(lambdaPolicyDoc{Version: "2012-10-17", ID: "default", Statement: f.Policy})
	return map[string]string{"Policy": string(b), "RevisionId": f.RevisionID}, nil
}
