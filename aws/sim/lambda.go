package sim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Lambda in the drill account: per Region, function metadata only (code is
// hashed for CodeSha256 and CodeSize, then dropped), in restJson1 under
// /2015-03-31/functions. CloudTrail names these events with the API
// version appended (CreateFunction20150331), and so does the sim.

// The operation names, as CloudTrail records them.
const (
	lambdaList             = "ListFunctions20150331"
	lambdaCreate           = "CreateFunction20150331"
	lambdaDelete           = "DeleteFunction20150331"
	lambdaGet              = "GetFunction20150331v2"
	lambdaAddPermission    = "AddPermission20150331v2"
	lambdaRemovePermission = "RemovePermission20150331v2"
	lambdaGetPolicy        = "GetPolicy20150331v2"
)

func lambdaService(s *Sim) *Service {
	return &Service{Name: "lambda", EventSource: "lambda.amazonaws.com", Protocol: ProtoRESTJSON, Route: lambdaRoute,
		Ops: map[string]Op{
			lambdaList:             {Handle: s.lambdaListFunctions, ReadOnly: true, Action: "lambda:ListFunctions"},
			lambdaCreate:           {Handle: s.lambdaCreateFunction, Action: "lambda:CreateFunction"},
			lambdaDelete:           {Handle: s.lambdaDeleteFunction, Action: "lambda:DeleteFunction"},
			lambdaGet:              {Handle: s.lambdaGetFunction, ReadOnly: true, Action: "lambda:GetFunction"},
			lambdaAddPermission:    {Handle: s.lambdaAddPermission, Action: "lambda:AddPermission"},
			lambdaRemovePermission: {Handle: s.lambdaRemovePermission, Action: "lambda:RemovePermission"},
			lambdaGetPolicy:        {Handle: s.lambdaGetPolicy, ReadOnly: true, Action: "lambda:GetPolicy"},
		}}
}

const lambdaPrefix = "/2015-03-31/functions"

// lambdaRoute names the operation from the method and path and puts the
// function name in Path["FunctionName"].
func lambdaRoute(r *Request) (string, *Error) {
	p := r.HTTP.URL.Path
	rest, ok := strings.CutPrefix(p, lambdaPrefix)
	if !ok {
		return "", errUnknownOp(ProtoRESTJSON, p)
	}
	rest = strings.Trim(rest, "/")
	switch {
	case rest == "" && r.HTTP.Method == http.MethodGet:
		return lambdaList, nil
	case rest == "" && r.HTTP.Method == http.MethodPost:
		return lambdaCreate, nil
	case rest != "" && !strings.Contains(rest, "/") && r.HTTP.Method == http.MethodDelete:
		r.Path["FunctionName"] = rest
		return lambdaDelete, nil
	case rest != "" && !strings.Contains(rest, "/") && r.HTTP.Method == http.MethodGet:
		r.Path["FunctionName"] = rest
		return lambdaGet, nil
	}
	// functions/NAME/policy and functions/NAME/policy/SID; a function ARN
	// has no slash, so the first segment is the name.
	name, sub, _ := strings.Cut(rest, "/")
	if unescaped, err := url.PathUnescape(name); err == nil {
		name = unescaped
	}
	r.Path["FunctionName"] = name
	switch {
	case sub == "policy" && r.HTTP.Method == http.MethodGet:
		return lambdaGetPolicy, nil
	case sub == "policy" && r.HTTP.Method == http.MethodPost:
		return lambdaAddPermission, nil
	case strings.HasPrefix(sub, "policy/") && r.HTTP.Method == http.MethodDelete:
		sid := strings.TrimPrefix(sub, "policy/")
		if unescaped, err := url.PathUnescape(sid); err == nil {
			sid = unescaped
		}
		r.Path["StatementId"] = sid
		return lambdaRemovePermission, nil
	}
	return "", errUnknownOp(ProtoRESTJSON, p)
}

// lambdaFunction is one function's configuration.
type lambdaFunction struct {
	Name, Runtime, Role, Handler, Description string
	Timeout, MemorySize                       int
	CodeSize                                  int64
	CodeSHA256                                string
	Modified                                  time.Time
	RevisionID                                string
	Creator                                   string
	// Policy is the resource-based policy's statements, in the order added.
	Policy []lambdaStatement
}

// lambdaState holds the functions, by Region and name.
type lambdaState struct {
	regions map[string]map[string]*lambdaFunction
}

func (s *Sim) lambdaFunctions(region string) map[string]*lambdaFunction {
	st := s.State("lambda", func() any { return &lambdaState{regions: map[string]map[string]*lambdaFunction{}} }).(*lambdaState)
	m := st.regions[region]
	if m == nil {
		m = map[string]*lambdaFunction{}
		st.regions[region] = m
	}
	return m
}

// functionConfig is FunctionConfiguration as the Lambda API returns it.
type functionConfig struct {
	FunctionName     string            `json:"FunctionName"`
	FunctionArn      string            `json:"FunctionArn"`
	Runtime          string            `json:"Runtime"`
	Role             string            `json:"Role"`
	Handler          string            `json:"Handler"`
	CodeSize         int64             `json:"CodeSize"`
	Description      string            `json:"Description"`
	Timeout          int               `json:"Timeout"`
	MemorySize       int               `json:"MemorySize"`
	LastModified     string            `json:"LastModified"`
	CodeSha256       string            `json:"CodeSha256"`
	Version          string            `json:"Version"`
	TracingConfig    map[string]string `json:"TracingConfig"`
	RevisionID       string            `json:"RevisionId"`
	State            string            `json:"State,omitempty"`
	LastUpdateStatus string            `json:"LastUpdateStatus,omitempty"`
	PackageType      string            `json:"PackageType"`
	Architectures    []string          `json:"Architectures"`
	EphemeralStorage map[string]int    `json:"EphemeralStorage"`
}

func (s *Sim) functionARN(region, name string) string {
	return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, s.acct.ID, name)
}

func (s *Sim) functionView(region string, f *lambdaFunction) functionConfig {
	return functionConfig{FunctionName: f.Name, FunctionArn: s.functionARN(region, f.Name), Runtime: f.Runtime, Role: f.Role,
		Handler: f.Handler, CodeSize: f.CodeSize, Description: f.Description, Timeout: f.Timeout, MemorySize: f.MemorySize,
		LastModified: f.Modified.UTC().Format("2006-01-02T15:04:05.000-0700"), CodeSha256: f.CodeSHA256, Version: "$LATEST",
		TracingConfig: map[string]string{"Mode": "PassThrough"}, RevisionID: f.RevisionID, State: "Active",
		LastUpdateStatus: "Successful", PackageType: "Zip", Architectures: []string{"x86_64"},
		EphemeralStorage: map[string]int{"Size": 512}}
}

// lambdaRuntimes are the runtimes CreateFunction accepts.
var lambdaRuntimes = []string{"nodejs18.x", "nodejs20.x", "nodejs22.x", "python3.9", "python3.10", "python3.11", "python3.12",
	"python3.13", "java11", "java17", "java21", "dotnet8", "ruby3.2", "ruby3.3", "provided.al2", "provided.al2023"}

var (
	functionNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	roleARNRE      = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
)

func lambdaInvalid(format string, args ...any) *Error {
	return Errorf(400, "InvalidParameterValueException", format, args...)
}

func (s *Sim) lambdaCreateFunction(r *Request) (any, error) {
	var in struct {
		FunctionName string
		Runtime      string
		Role         string
		Handler      string
		Description  string
		Timeout      *int
		MemorySize   *int
		Publish      bool
		Code         struct {
			ZipFile  string
			S3Bucket string
			S3Key    string
		}
	}
	if err := json.Unmarshal(r.Body, &in); err != nil {
		return nil, lambdaInvalid("Could not parse request body into json: %v", err)
	}
	params := map[string]any{"functionName": in.FunctionName, "runtime": in.Runtime, "role": in.Role, "handler": in.Handler,
		"code": map[string]any{}, "publish": in.Publish}
	if in.Description != "" {
		params["description"] = in.Description
	}
	r.RequestParameters = params
	switch {
	case !functionNameRE.MatchString(in.FunctionName):
		return nil, lambdaInvalid("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+", in.FunctionName)
	case !slices.Contains(lambdaRuntimes, in.Runtime):
		return nil, lambdaInvalid("Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: %v or be a valid ARN", in.Runtime, lambdaRuntimes)
	case !roleARNRE.MatchString(in.Role):
		return nil, lambdaInvalid("1 validation error detected: Value '%s' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+", in.Role)
	case in.Handler == "":
		return nil, lambdaInvalid("Handler is required for a function whose package type is Zip.")
	case in.Code.ZipFile == "" && in.Code.S3Bucket == "":
		return nil, lambdaInvalid("Please provide a source for function code.")
	}
	if strings.Contains(in.Role, ":"+s.acct.ID+":") && !slices.ContainsFunc(s.acct.sortedRoles(), func(ro *role) bool { return ro.ARN == in.Role }) {
		return nil, lambdaInvalid("The role defined for the function cannot be assumed by Lambda.")
	}
	fns := s.lambdaFunctions(r.Region)
	if fns[in.FunctionName] != nil {
		return nil, Errorf(409, "ResourceConflictException", "Function already exist: %s", in.FunctionName)
	}
	code, _ := base64.StdEncoding.DecodeString(in.Code.ZipFile)
	if len(code) == 0 {
		code = []byte(in.Code.S3Bucket + "/" + in.Code.S3Key)
	}
	sum := sha256.Sum256(code)
	f := &lambdaFunction{Name: in.FunctionName, Runtime: in.Runtime, Role: in.Role, Handler: in.Handler, Description: in.Description,
		Timeout: 3, MemorySize: 128, CodeSize: int64(len(code)), CodeSHA256: base64.StdEncoding.EncodeToString(sum[:]),
		Modified: r.Now, RevisionID: s.ids.uuid(), Creator: r.Caller.ARN}
	if in.Timeout != nil {
		f.Timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		f.MemorySize = *in.MemorySize
	}
	fns[f.Name] = f
	v := s.functionView(r.Region, f)
	r.Resources = []EventResource{{ARN: v.FunctionArn, AccountID: s.acct.ID, Type: "AWS::Lambda::Function"}}
	r.ResponseElements = map[string]any{"functionName": v.FunctionName, "functionArn": v.FunctionArn, "runtime": v.Runtime,
		"role": v.Role, "handler": v.Handler, "codeSize": v.CodeSize, "description": v.Description, "timeout": v.Timeout,
		"memorySize": v.MemorySize, "lastModified": v.LastModified, "codeSha256": v.CodeSha256, "version": v.Version,
		"tracingConfig": map[string]any{"mode": "PassThrough"}, "revisionId": v.RevisionID, "state": "Pending",
		"stateReason": "The function is being created.", "stateReasonCode": "Creating", "packageType": "Zip",
		"architectures": []string{"x86_64"}, "ephemeralStorage": map[string]any{"size": 512}}
	// Real CreateFunction answers Pending; the sim's functions are ready at once.
	v.State, v.LastUpdateStatus = "Pending", ""
	return &Reply{Status: http.StatusCreated, Body: v}, nil
}

// lambdaFunctionName resolves a name, a full ARN or a partial ARN to a name.
func lambdaFunctionName(v string) string {
	if strings.HasPrefix(v, "arn:") || strings.Contains(v, ":function:") {
		if i := strings.Index(v, ":function:"); i >= 0 {
			v = v[i+len(":function:"):]
		}
		v, _, _ = strings.Cut(v, ":")
	}
	return v
}

func (s *Sim) lambdaDeleteFunction(r *Request) (any, error) {
	raw := r.Path["FunctionName"]
	r.RequestParameters = map[string]any{"functionName": raw}
	name := lambdaFunctionName(raw)
	fns := s.lambdaFunctions(r.Region)
	if fns[name] == nil {
		return nil, Errorf(404, "ResourceNotFoundException", "Function not found: %s", s.functionARN(r.Region, name))
	}
	delete(fns, name)
	r.Resources = []EventResource{{ARN: s.functionARN(r.Region, name), AccountID: s.acct.ID, Type: "AWS::Lambda::Function"}}
	return &Reply{Status: http.StatusNoContent, Body: []byte{}}, nil
}

type listFunctionsResult struct {
	Functions  []functionConfig `json:"Functions"`
	NextMarker *string          `json:"NextMarker,omitempty"`
}

func (s *Sim) lambdaListFunctions(r *Request) (any, error) {
	q := r.HTTP.URL.Query()
	max := 50
	params := map[string]any{}
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return nil, lambdaInvalid("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", v)
		}
		max = n
		params["maxItems"] = n
	}
	if v := q.Get("Marker"); v != "" {
		params["marker"] = v
	}
	if len(params) > 0 {
		r.RequestParameters = params
	}
	off, perr := parseEC2Token("functions", q.Get("Marker"))
	if perr != nil {
		return nil, lambdaInvalid("Invalid marker: %s", q.Get("Marker"))
	}
	fns := s.lambdaFunctions(r.Region)
	names := make([]string, 0, len(fns))
	for n := range fns {
		names = append(names, n)
	}
	sort.Strings(names)
	page, next := ec2Page(names, off, max)
	out := listFunctionsResult{Functions: []functionConfig{}}
	for _, n := range page {
		out.Functions = append(out.Functions, s.functionView(r.Region, fns[n]))
	}
	if next >= 0 {
		m := ec2Token("functions", next)
		out.NextMarker = &m
	}
	return out, nil
}
