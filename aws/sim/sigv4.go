package sim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// authHeader is a parsed SigV4 Authorization header.
type authHeader struct {
	KeyID         string
	Date          string // YYYYMMDD of the scope
	Region        string
	Service       string
	SignedHeaders []string
	Signature     string
}

var errNoAuth = errors.New("no SigV4 authorization")

// parseAuth reads the Authorization header:
// AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex.
func parseAuth(h string) (authHeader, error) {
	const algo = "AWS4-HMAC-SHA256"
	if !strings.HasPrefix(h, algo+" ") {
		return authHeader{}, errNoAuth
	}
	var a authHeader
	for _, part := range strings.Split(h[len(algo)+1:], ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return authHeader{}, errNoAuth
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return authHeader{}, errNoAuth
			}
			a.KeyID, a.Date, a.Region, a.Service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.SignedHeaders = strings.Split(v, ";")
		case "Signature":
			a.Signature = v
		}
	}
	if a.KeyID == "" || a.Signature == "" || len(a.SignedHeaders) == 0 {
		return authHeader{}, errNoAuth
	}
	return a, nil
}

// verifySig recomputes the request's SigV4 signature with secret and
// reports whether it matches. body is the request body already read.
func verifySig(r *http.Request, body []byte, a authHeader, secret string) bool {
	amzDate := r.Header.Get("X-Amz-Date")
	if len(amzDate) < 8 || amzDate[:8] != a.Date {
		return false
	}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	if a.Service != "s3" {
		path = escapePath(path)
	}
	var canon strings.Builder
	canon.WriteString(r.Method + "\n" + path + "\n" + canonicalQuery(r.URL.Query()) + "\n")
	for _, h := range a.SignedHeaders {
		var vals []string
		switch h {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		default:
			vals = r.Header.Values(h)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		canon.WriteString(h + ":" + strings.Join(vals, ",") + "\n")
	}
	canon.WriteString("\n" + strings.Join(a.SignedHeaders, ";") + "\n" + payloadHash)
	crHash := sha256.Sum256([]byte(canon.String()))
	scope := a.Date + "/" + a.Region + "/" + a.Service + "/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash[:])
	k := hmacSHA256([]byte("AWS4"+secret), a.Date)
	k = hmacSHA256(k, a.Region)
	k = hmacSHA256(k, a.Service)
	k = hmacSHA256(k, "aws4_request")
	want := hex.EncodeToString(hmacSHA256(k, toSign))
	return hmac.Equal([]byte(want), []byte(a.Signature))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalQuery encodes q as SigV4 wants: keys sorted, then values, each
// percent-encoded with only unreserved characters left bare.
func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	return strings.Join(parts, "&")
}

// escapePath encodes an already-escaped path once more, as SigV4 does for
// every service but S3.
func escapePath(p string) string { return uriEncode(p, false) }

// uriEncode percent-encodes s leaving unreserved characters (and '/' unless
// encodeSlash) bare.
func uriEncode(s string, encodeSlash bool) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
		}
	}
	return b.String()
}
