// Package session loads warroom's AWS configuration once and hands out
// clients per Region from it: the SDK's own configuration chain (profiles,
// environment, SSO caches, assume-role with MFA, AWS_ENDPOINT_URL), one
// retryer per client, the SDK application id that marks the console's own
// calls in CloudTrail, and the split between clients that only read and
// clients that change things — the latter are never built in read-only mode.
package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/guardduty"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// AppID is the SDK application id warroom sets: CloudTrail records it in the
// user agent as "app/warroom", and the store marks those events as ours.
const AppID = "warroom"

// DefaultRegion is used when nothing in the configuration names one. IAM and
// global STS record their events there too.
const DefaultRegion = "us-east-1"

// Options configure a Session. The zero value uses the SDK's default chain.
type Options struct {
	// Profile names a shared-config profile (--profile); empty uses the chain.
	Profile string
	// Region is the home Region (--region); empty uses the configuration's,
	// else DefaultRegion.
	Region string
	// Endpoint overrides every service's endpoint (the drill account). The
	// SDK reads AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> itself; this
	// is for an endpoint known only in-process.
	Endpoint string
	// Credentials, when set, replace the chain (the drill account's keys).
	Credentials aws.CredentialsProvider
	// MFA is asked for an MFA code when an assume-role profile needs one.
	// It runs before the console starts, on the terminal.
	MFA func() (string, error)
	// ReadOnly sessions never build a mutating client, and every client they
	// build refuses any operation that is not a read.
	ReadOnly bool
	// MaxAttempts per call, retries included (default 5).
	MaxAttempts int
	// MaxBackoff between attempts (default 5 s: a console must not stall).
	MaxBackoff time.Duration
	// HTTPClient is used for every call when set; otherwise the SDK's own
	// client (with AWS_CA_BUNDLE applied) behind a BodyCopier. A
	// replacement should keep a BodyCopier in its transport.
	HTTPClient *http.Client
	// AppVersion is appended to the app id: "warroom-VERSION".
	AppVersion string
	// Role is the role ForAccount assumes into member accounts.
	Role Role
}

// Session is one set of AWS credentials and the clients built from them.
// It is safe for concurrent use.
type Session struct {
	base aws.Config
	opts Options

	mu      sync.Mutex
	clients map[clientKey]any

	keys *keyWatch // nil when the configuration has no credentials

	// loaded is base before the read-only guard: the assume-role
	// provider's STS client is built from it (account.go).
	loaded aws.Config
	// parent, account and roleARN are set on a member session (ForAccount).
	parent  *Session
	account string
	roleARN string
	// members are the member sessions made from a base session, by account.
	members   map[string]*Session
	partition string
}

type clientKey struct {
	service string
	region  string
	mutate  bool
}

// ErrReadOnly is returned when a mutating client is asked of a read-only session.
var ErrReadOnly = errors.New("read-only session: no mutating AWS client is built")

// Load reads the configuration chain. It makes no network call; Identify does.
func Load(ctx context.Context, opts Options) (*Session, error) {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	app := AppID
	if opts.AppVersion != "" {
		app += "-" + sanitizeAppVersion(opts.AppVersion)
	}
	lo := []func(*config.LoadOptions) error{
		config.WithAppID(app),
		// The SDK logs warnings (checksums, retries, …) to stderr, under the
		// console's screen: every failure that matters reaches warroom as an
		// error and becomes a fact, so the SDK's own log is silenced.
		config.WithLogger(logging.Nop{}),
		config.WithDefaultRegion(DefaultRegion),
		// A fresh standard retryer per client; see the retryer option below.
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = opts.MaxAttempts
				o.MaxBackoff = opts.MaxBackoff
			})
		}),
	}
	if opts.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.Region != "" {
		lo = append(lo, config.WithRegion(opts.Region))
	}
	if opts.Credentials != nil {
		lo = append(lo, config.WithCredentialsProvider(opts.Credentials))
	}
	if opts.Endpoint != "" {
		lo = append(lo, config.WithBaseEndpoint(opts.Endpoint))
	}
	if opts.HTTPClient != nil {
		lo = append(lo, config.WithHTTPClient(opts.HTTPClient))
	}
	if opts.MFA != nil {
		mfa := opts.MFA
		lo = append(lo, config.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
			o.TokenProvider = mfa
		}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if opts.HTTPClient == nil {
		// Wrapped only now: the SDK applies AWS_CA_BUNDLE (ca_bundle) to
		// its own buildable client and refuses any other.
		switch c := cfg.HTTPClient.(type) {
		case nil:
			cfg.HTTPClient = NewHTTPClient()
		case *awshttp.BuildableClient:
			cfg.HTTPClient = wrapBuildable(c)
		}
	}
	var keys *keyWatch
	if cfg.Credentials != nil {
		keys = &keyWatch{next: cfg.Credentials, seen: map[string]bool{}}
		cfg.Credentials = aws.NewCredentialsCache(keys)
	}
	// Clipped, so that appending to one configuration's options never
	// writes into another's.
	cfg.APIOptions = slices.Clip(cfg.APIOptions)
	loaded := cfg.Copy()
	if opts.ReadOnly {
		cfg.APIOptions = slices.Clip(append(slices.Clip(cfg.APIOptions), readOnlyGuard))
	}
	return &Session{base: cfg, loaded: loaded, opts: opts, clients: map[clientKey]any{}, keys: keys}, nil
}

// sanitizeAppVersion keeps what the SDK accepts in an app id.
func sanitizeAppVersion(v string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, v)
}

// HomeRegion is the session's configured Region.
func (s *Session) HomeRegion() string { return s.base.Region }

// ReadOnly reports whether the session refuses to change anything.
func (s *Session) ReadOnly() bool { return s.opts.ReadOnly }

// Endpoint is the endpoint override, if any.
func (s *Session) Endpoint() string {
	if s.base.BaseEndpoint != nil {
		return *s.base.BaseEndpoint
	}
	return ""
}

// Config returns a copy of the base configuration set to region: one
// credential chain and cache shared by every Region.
func (s *Session) Config(region string) aws.Config {
	c := s.base.Copy()
	if region != "" {
		c.Region = region
	}
	return c
}

// client returns the cached client for (service, region, mutate), building it
// with build on first use.
func client[T any](s *Session, service, region string, mutate bool, build func(aws.Config) T) T {
	if region == "" {
		region = s.base.Region
	}
	k := clientKey{service, region, mutate}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[k]; ok {
		return c.(T)
	}
	c := build(s.Config(region))
	s.clients[k] = c
	return c
}

// STS returns an STS client for region (empty: the home Region).
func (s *Session) STS(region string) *sts.Client {
	return client(s, "sts", region, false, func(c aws.Config) *sts.Client { return sts.NewFromConfig(c) })
}

// IAM returns an IAM client for reading.
func (s *Session) IAM() *iam.Client {
	return client(s, "iam", DefaultRegion, false, func(c aws.Config) *iam.Client { return iam.NewFromConfig(c) })
}

// EC2 returns an EC2 client for reading in region.
func (s *Session) EC2(region string) *ec2.Client {
	return client(s, "ec2", region, false, func(c aws.Config) *ec2.Client { return ec2.NewFromConfig(c) })
}

// CloudTrail returns a CloudTrail client for reading in region.
func (s *Session) CloudTrail(region string) *cloudtrail.Client {
	return client(s, "cloudtrail", region, false, func(c aws.Config) *cloudtrail.Client { return cloudtrail.NewFromConfig(c) })
}

// Athena returns an Athena client in region, for hunts. A hunt only
// reads, but StartQueryExecution is not a read by name: a read-only
// session refuses it.
func (s *Session) Athena(region string) *athena.Client {
	return client(s, "athena", region, false, func(c aws.Config) *athena.Client { return athena.NewFromConfig(c) })
}

// GuardDuty returns a GuardDuty client for reading findings in region.
func (s *Session) GuardDuty(region string) *guardduty.Client {
	return client(s, "guardduty", region, false, func(c aws.Config) *guardduty.Client { return guardduty.NewFromConfig(c) })
}

// Lambda returns a Lambda client for reading in region.
func (s *Session) Lambda(region string) *lambda.Client {
	return client(s, "lambda", region, false, func(c aws.Config) *lambda.Client { return lambda.NewFromConfig(c) })
}

// ConfigService returns an AWS Config client for reading in region.
func (s *Session) ConfigService(region string) *configservice.Client {
	return client(s, "config", region, false, func(c aws.Config) *configservice.Client { return configservice.NewFromConfig(c) })
}

// S3 returns an S3 client for reading in region. With an endpoint override
// it uses path-style addressing, which local endpoints need.
func (s *Session) S3(region string) *s3.Client {
	path := s.Endpoint() != ""
	return client(s, "s3", region, false, func(c aws.Config) *s3.Client {
		return s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = path })
	})
}

// Mutators are the clients that change things. Containment alone holds them.
type Mutators struct {
	s *Session
}

// Mutators returns the mutating clients, or ErrReadOnly.
func (s *Session) Mutators() (*Mutators, error) {
	if s.opts.ReadOnly {
		return nil, ErrReadOnly
	}
	return &Mutators{s: s}, nil
}

// IAM returns an IAM client that may change things.
func (m *Mutators) IAM() *iam.Client {
	return client(m.s, "iam", DefaultRegion, true, func(c aws.Config) *iam.Client { return iam.NewFromConfig(c) })
}

// EC2 returns an EC2 client that may change things in region.
func (m *Mutators) EC2(region string) *ec2.Client {
	return client(m.s, "ec2", region, true, func(c aws.Config) *ec2.Client { return ec2.NewFromConfig(c) })
}

// Lambda returns a Lambda client that may change things in region.
func (m *Mutators) Lambda(region string) *lambda.Client {
	return client(m.s, "lambda", region, true, func(c aws.Config) *lambda.Client { return lambda.NewFromConfig(c) })
}

// CloudTrail returns a CloudTrail client that may change things in region.
func (m *Mutators) CloudTrail(region string) *cloudtrail.Client {
	return client(m.s, "cloudtrail", region, true, func(c aws.Config) *cloudtrail.Client { return cloudtrail.NewFromConfig(c) })
}

// readOnlyGuard refuses, before anything is sent, every operation that is not
// a read. It is defence in depth: read-only sessions also never build
// Mutators.
func readOnlyGuard(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("warroomReadOnly",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := middleware.GetOperationName(ctx)
			if !IsReadOperation(op) {
				return middleware.InitializeOutput{}, middleware.Metadata{},
					fmt.Errorf("%s refused: %w", op, ErrReadOnly)
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// IsReadOperation reports whether an AWS operation only reads: whether
// CloudTrail records it with readOnly true. GenerateCredentialReport is not
// one (CloudTrail records it as a write), nor are the STS calls that mint
// credentials.
func IsReadOperation(op string) bool {
	if op == "GenerateServiceLastAccessedDetails" {
		// Access Advisor's report: a read-level action, recorded readOnly.
		return true
	}
	for _, p := range []string{"Describe", "List", "Get", "Lookup", "Head", "Select"} {
		if strings.HasPrefix(op, p) {
			// GetSessionToken and GetFederationToken mint credentials.
			return op != "GetSessionToken" && op != "GetFederationToken"
		}
	}
	return false
}
