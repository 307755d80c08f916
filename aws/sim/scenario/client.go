package scenario

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
)

// HTTPClient returns an HTTP client for talking to the drill account from
// localIP (a loopback address such as 127.0.0.66, so that each actor shows
// its own sourceIPAddress; "" for the default). Where the address cannot
// be bound (systems with only 127.0.0.1), it falls back to the default.
//
// The client hands the transport its own copy of each request body, as
// every warroom client does (see session.BodyCopier).
func HTTPClient(localIP string) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if localIP != "" {
		if ip := net.ParseIP(localIP); ip != nil {
			bound := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: ip}}
			plain := &net.Dialer{Timeout: 10 * time.Second}
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := bound.DialContext(ctx, network, addr)
				if err != nil {
					return plain.DialContext(ctx, network, addr)
				}
				return c, nil
			}
		}
	}
	return &http.Client{Transport: session.BodyCopier{Next: tr}}
}

// identity is how an actor looks on the wire.
type identity struct {
	ip        string
	userAgent string // replaces the SDK's user agent when set
	http      *http.Client
}

func newIdentity(ip, ua string) *identity {
	return &identity{ip: ip, userAgent: ua, http: HTTPClient(ip)}
}

// config returns an SDK config for creds in region, without retries (the
// actors decide what to do about errors themselves).
func (id *identity) config(endpoint string, c sim.Credentials, region string) aws.Config {
	cfg := aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint:     aws.String(endpoint),
		HTTPClient:       id.http,
		RetryMaxAttempts: 1,
		Retryer:          func() aws.Retryer { return aws.NopRetryer{} },
	}
	if id.userAgent != "" {
		ua := id.userAgent
		cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
			// SigV4 does not sign User-Agent, so it can be set after signing.
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("scenarioUserAgent",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						req.Header.Set("User-Agent", ua)
					}
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		})
	}
	return cfg
}
