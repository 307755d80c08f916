package session

import (
	"bytes"
	"io"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// BodyCopier is an http.RoundTripper that hands the next transport its own
// copy of each request body.
//
// The SDK (smithy-go) closes a request's body as soon as the response
// arrives. Against an endpoint that answers before net/http's write loop has
// finished reading the body — the drill account on loopback, or any fast
// local endpoint — the transport's read fails and it closes the connection
// under the response: "deserialization failed … use of closed network
// connection" (aws/aws-sdk-go-v2#2737). A buffered copy that the SDK does not
// own cannot be closed early. Request bodies here are small API payloads.
type BodyCopier struct {
	// Next carries the request; nil means http.DefaultTransport.
	Next http.RoundTripper
}

// RoundTrip sends a copy of r whose body the transport owns.
func (b BodyCopier) RoundTrip(r *http.Request) (*http.Response, error) {
	next := b.Next
	if next == nil {
		next = http.DefaultTransport
	}
	if r.Body == nil || r.Body == http.NoBody {
		return next.RoundTrip(r)
	}
	buf, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(buf))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	r.ContentLength = int64(len(buf))
	return next.RoundTrip(r)
}

// NewHTTPClient returns the HTTP client warroom's AWS clients use: the SDK's
// default transport and timeouts, behind a BodyCopier.
func NewHTTPClient() *http.Client { return wrapBuildable(awshttp.NewBuildableClient()) }

// idleConnsPerHost is how many idle connections a host keeps. The SDK's
// default, 10, is for one account: reading across accounts, every member's
// IAM, STS and Organizations calls go to the same global host, and with
// more calls in flight than idle connections kept each answer's connection
// is closed and the next call dials (and, on AWS, shakes hands) again.
const idleConnsPerHost = 256

// wrapBuildable is the SDK's buildable client with room for idle
// connections, behind a BodyCopier.
func wrapBuildable(bc *awshttp.BuildableClient) *http.Client {
	bc = bc.WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = idleConnsPerHost
		t.MaxIdleConns = max(t.MaxIdleConns, 4*idleConnsPerHost)
	})
	return &http.Client{Transport: BodyCopier{Next: bc.GetTransport()}, Timeout: bc.GetTimeout()}
}
