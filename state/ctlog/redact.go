package ctlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
)

// Secrets are redacted by the name of the member holding them (see
// isSecretKey) and by the shape of the value, wherever it is: a record can
// carry a credential under any name, inside a JSON document held in a
// string (a policy, a request body), or in free text (an error message
// quoting a token). What has a secret's shape is replaced by
// "REDACTED sha256:<hex>" of it; the rest of the text is kept as it was.
//
// Shapes:
//   - an AWS secret access key: exactly 40 characters of base64 (letters,
//     digits, '+', '/'), with upper and lower case letters and a digit or
//     '+' or '/', not inside a longer run of such characters;
//   - a session token: a run of base64 of 100 characters or more that
//     starts like one (protobuf "origin_ec" or "er/aws" headers:
//     IQoJb3JpZ2luX2Vj…, FwoGZXIvYXdzE…, AQoDYXdzE…).
//
// The members a Record is built from are not searched, except
// errorMessage: they are names, ids, ARNs, times and the user agent, and
// the CloudTrailEvent of LookupEvents is a record scanned on its own.
//
// Access key ids (AKIA…, ASIA…) are identifiers, not secrets: they are 20
// characters and never match. Strings that start with "arn:" are not
// searched: an ARN whose role and session names happen to make 40 such
// characters would otherwise lose its principal.

// minSecretLen is the shortest secret shape: an access key's secret.
const minSecretLen = 40

// minTokenLen is the shortest run taken for a session token.
const minTokenLen = 100

// maxNested bounds how deep JSON held in strings (in strings…) is searched.
const maxNested = 3

// b64 marks the characters of standard base64 text.
var b64 = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
		t[c+'a'-'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['+'], t['/'] = true, true
	return t
}()

// isSecretRun reports whether a maximal run of base64 characters has a
// secret's shape.
func isSecretRun(r []byte) bool {
	switch {
	case len(r) == minSecretLen:
		var upper, lower, other bool
		for _, c := range r {
			switch {
			case 'A' <= c && c <= 'Z':
				upper = true
			case 'a' <= c && c <= 'z':
				lower = true
			default:
				other = true
			}
		}
		return upper && lower && other
	case len(r) >= minTokenLen:
		return bytes.HasPrefix(r[4:], []byte("b3JpZ2lu")) || // \x..\n\torigin
			bytes.HasPrefix(r[4:], []byte("ZXIvYXdz")) || bytes.HasPrefix(r[5:], []byte("ZXIvYXdz")) || // \n\x06er/aws
			bytes.HasPrefix(r[4:], []byte("YXdz")) // \n\x03aws
	}
	return false
}

// secretAt returns the first secret-shaped run in b at or after from, as
// b[start:end] (a token's '=' padding included), or -1, -1.
func secretAt(b []byte, from int) (start, end int) {
	n := len(b)
	// A run of minSecretLen or more covers one of the probed positions,
	// which are minSecretLen apart past anything that is not base64.
	for i := from + minSecretLen - 1; i < n; {
		if !b64[b[i]] {
			i += minSecretLen
			continue
		}
		st := i
		for st > from && b64[b[st-1]] {
			st--
		}
		e := i + 1
		for e < n && b64[b[e]] {
			e++
		}
		if isSecretRun(b[st:e]) {
			for e < n && b[e] == '=' {
				e++
			}
			return st, e
		}
		i = e + minSecretLen
	}
	return -1, -1
}

// redactRuns appends text to dst with every secret-shaped run replaced by
// a marker, and reports whether there was any.
func redactRuns(dst, text []byte) ([]byte, bool) {
	found := false
	from := 0
	for {
		st, e := secretAt(text, from)
		if st < 0 {
			break
		}
		found = true
		dst = append(dst, text[from:st]...)
		sum := sha256.Sum256(text[st:e])
		dst = append(dst, redactPrefix...)
		dst = hex.AppendEncode(dst, sum[:])
		from = e
	}
	if !found {
		return dst, false
	}
	return append(dst, text[from:]...), true
}

// appendQuoted appends s as a JSON string. s is valid UTF-8 (decoded by
// jsonscan.Unquote): only quotes, backslashes and control characters are escaped.
func appendQuoted(dst, s []byte) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// secretNames are the member names whose values are secrets, lower case
// without '_' and '-': sessionToken, session_token, SecretAccessKey,
// aws_secret_access_key, x-amz-security-token, password…
var secretNames = map[string]bool{
	"sessiontoken": true, "awssessiontoken": true, "securitytoken": true,
	"xamzsecuritytoken": true, "awssecuritytoken": true,
	"secretaccesskey": true, "awssecretaccesskey": true, "secretkey": true,
	"password": true, "oldpassword": true, "newpassword": true,
	"privatekey": true, "clientsecret": true, "secretstring": true,
	"accesstoken": true, "refreshtoken": true,
}

// isSecretKey reports whether a member name holds credential material that
// must never be kept, in any letter case, with or without '_' and '-'
// (see secretNames).
func isSecretKey(k []byte) bool {
	if len(k) < len("password") || len(k) > 24 {
		return false
	}
	var buf [24]byte
	n := 0
	for _, c := range k {
		switch {
		case c == '_' || c == '-':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return secretNames[string(buf[:n])]
}

// secretTail and secretLast classify a name's last two letters: the names
// in secretNames end in "en", "ey", "et", "rd" or "ng", and a name whose
// letters share no bit cannot be one.
var secretTail, secretLast = func() (tail, last [256]uint8) {
	const en, ey, et, rd, ng = 1, 2, 4, 8, 16
	for _, c := range []byte("eE") {
		tail[c] = en | ey | et
	}
	for _, c := range []byte("rR") {
		tail[c] = rd
	}
	for _, c := range []byte("nN") {
		tail[c] = ng
		last[c] = en
	}
	for _, c := range []byte("yY") {
		last[c] = ey
	}
	for _, c := range []byte("tT") {
		last[c] = et
	}
	for _, c := range []byte("dD") {
		last[c] = rd
	}
	for _, c := range []byte("gG") {
		last[c] = ng
	}
	return
}()

// hiddenByCloudTrail is what CloudTrail itself writes for a password: it is
// kept as it is, so that a record says what CloudTrail said.
const hiddenByCloudTrail = "HIDDEN_DUE_TO_SECURITY_REASONS"

// nested returns the scanner that searches JSON held in strings.
func (s *scanner) nested() *scanner {
	if s.sub == nil {
		s.sub = &scanner{learned: true, fixed: true, depth: s.depth + 1}
	}
	return s.sub
}

// redactShapes replaces the string value in[pos:end] when it holds
// something secret: JSON (an object or array) with secret members or
// secret shapes inside, or secret-shaped runs in its text. f is the field
// the value is captured as, or 0: the field then reads the redacted text.
//
//go:noinline
func (s *scanner) redactShapes(pos, end int, esc bool, f field) {
	body := s.in[pos+1 : end-1]
	// Most long strings are ARNs, user agents and ids: told apart before
	// anything is decoded.
	if c := body[0]; c|0x20 != '{' {
		if len(body) < minSecretLen || c == 'a' && body[1] == 'r' && body[2] == 'n' && body[3] == ':' {
			return
		}
	}
	if esc {
		s.dec = jsonscan.Unquote(s.dec[:0], body)
		body = s.dec
	}
	var out []byte
	changed := false
	if st := jsonscan.SkipWS(body, 0); st < len(body) && (body[st] == '{' || body[st] == '[') && s.depth < maxNested {
		sub := s.nested()
		sub.reset(body, st)
		if e, err := sub.value(st, ctxNone); err == nil && jsonscan.SkipWS(body, e) == len(body) && sub.redacted {
			// What was around the value (white space) goes with the
			// rest of its compact form.
			out = append(s.red[:0], sub.compact(st, e)...)
			changed = true
		}
	}
	if !changed {
		if len(body) < minSecretLen || bytes.HasPrefix(body, []byte("arn:")) {
			return
		}
		if out, changed = redactRuns(s.red[:0], body); !changed {
			return
		}
	}
	s.red = out
	s.flushTo(pos)
	s.out = appendQuoted(s.out, out)
	s.flushed = end
	s.redacted = true
	if f != 0 {
		s.redField[f] = append(s.redField[f][:0], out...)
		s.redMask |= 1 << f
		s.redStart[f] = pos + 1
	}
}
