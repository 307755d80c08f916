package state

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Field is a field of the filter language (and of Counts).
type Field uint8

// Fields. Matching is case-insensitive everywhere except id (see ParseFilter).
const (
	FieldText          Field = iota // bare or quoted text: substring of any string field
	FieldKey                        // key: access key id
	FieldFamily                     // family: a key and every key it minted, recursively
	FieldPrincipal                  // principal: userIdentity.arn
	FieldUser                       // user: user name
	FieldType                       // type: userIdentity.type (IAMUser, AssumedRole, Root, …)
	FieldIP                         // ip: sourceIPAddress, as text
	FieldEvent                      // event: eventName
	FieldSource                     // source: eventSource (iam = iam.amazonaws.com)
	FieldRegion                     // region: awsRegion
	FieldError                      // error: errorCode
	FieldMessage                    // msg: errorMessage, substring
	FieldAgent                      // agent: userAgent, substring
	FieldID                         // id: CloudTrail eventID, exact
	FieldSince                      // since: event time at or after
	FieldUntil                      // until: event time at or before
	FieldReadOnly                   // readonly: readOnly is true
	FieldOurs                       // ours: the console's own calls (its credentials, in its time, claiming warroom)
	FieldMinted                     // minted: the call minted a temporary credential
	FieldFailed                     // failed: the call has an error code
	FieldImpersonation              // impersonation: the user agent claims warroom, the credentials or time do not
	FieldConflict                   // conflict: copies of the event differ where no addendum allows
	FieldAccount                    // account: recipientAccountId, the account the event happened in
	numFields
)

// fieldInfo describes how a field is written and matched.
type fieldInfo struct {
	name   string
	col    int  // the interned column it matches, or -1
	substr bool // values match anywhere in the text
	flag   bool // a bare word without a value
}

var fields = [numFields]fieldInfo{
	FieldText:          {name: "", col: -1, substr: true},
	FieldKey:           {name: "key", col: colKey},
	FieldFamily:        {name: "family", col: colKey},
	FieldPrincipal:     {name: "principal", col: colPrincipal},
	FieldUser:          {name: "user", col: colUser},
	FieldType:          {name: "type", col: colType},
	FieldIP:            {name: "ip", col: colIP},
	FieldEvent:         {name: "event", col: colEvent},
	FieldSource:        {name: "source", col: colSource},
	FieldRegion:        {name: "region", col: colRegion},
	FieldError:         {name: "error", col: colError},
	FieldMessage:       {name: "msg", col: colMessage, substr: true},
	FieldAgent:         {name: "agent", col: colAgent, substr: true},
	FieldID:            {name: "id", col: -1},
	FieldSince:         {name: "since", col: -1},
	FieldUntil:         {name: "until", col: -1},
	FieldReadOnly:      {name: "readonly", col: -1, flag: true},
	FieldOurs:          {name: "ours", col: -1, flag: true},
	FieldMinted:        {name: "minted", col: -1, flag: true},
	FieldFailed:        {name: "failed", col: colError, flag: true},
	FieldImpersonation: {name: "impersonation", col: -1, flag: true},
	FieldConflict:      {name: "conflict", col: -1, flag: true},
	FieldAccount:       {name: "account", col: colAccount},
}

// String returns the field's name in the filter language ("" for text).
func (f Field) String() string {
	if f < numFields {
		return fields[f].name
	}
	return "field(" + strconv.Itoa(int(f)) + ")"
}

// Filter is a parsed filter expression: terms that must all hold.
type Filter struct {
	Terms []Term
}

// Term is one condition of a filter.
type Term struct {
	Neg   bool     // the term was written with a leading '-': it must not hold
	Field Field    // what the term tests
	Value []string // alternatives (any may match); empty for bare words like readonly
	Col   int      // 1-based column (in characters) where the term starts in the expression

	// since/until: an absolute time, or (rel) a duration back from the
	// time the query runs.
	at  time.Time
	ago time.Duration
	rel bool
}

// FilterError is a filter expression that cannot be parsed.
type FilterError struct {
	Col int    // 1-based column (in characters) where the problem is
	Msg string // what is wrong
}

// Error implements error.
func (e *FilterError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// ParseFilter parses a filter expression such as
//
//	key:AKIA… user:alice ip:203.0.113.7 event:CreateUser,CreateAccessKey
//	region:eu-west-1 error:AccessDenied source:iam -readonly "free text"
//	account:111122223333
//
// Terms are separated by white space and all must hold. A leading '-'
// negates a term. A term is field:value; a value may be quoted ("a b", with
// \" and \\ as escapes), a comma separates alternatives, and '*' in a value
// matches any run of characters (but never an absent field: error:* means
// "has an error"). A source value without a dot gets .amazonaws.com.
// account: is the event's recipientAccountId, the account it happened in
// (an organisation trail holds many).
// The bare words readonly, ours, minted, failed, impersonation and conflict
// test flags; any other
// bare word or a quoted string is free text, matched as a substring of any
// of the event's string fields.
//
// Matching ignores case everywhere: at 3 a.m. event:createuser must find
// CreateUser, and no two AWS API names, key ids or IAM names differ only in
// case (IAM names are unique regardless of case). The exception is id:, which
// compares event ids exactly (hex digits of a UUID in either case). key:,
// family:, id: and since:/until: are exact lookups; agent: and msg: match
// substrings; the other fields match the whole value (use '*' for more).
//
// since: and until: take an RFC3339 time, a date or a time without a zone
// (both UTC), or a duration back from now such as 2h, 90m, 7d, 1w or 1d12h;
// both bounds are inclusive. An event without a time sorts before all
// others: since: never matches it, until: always does. The words: readonly
// matches readOnly true (so -readonly also matches records that omit it);
// ours, the console's own calls (signed with a credential a warroom
// session ran on, within that session's time, and claiming app/warroom
// in the user agent); impersonation, calls whose user agent claims
// warroom but whose credentials or time are not a session's; minted,
// calls that minted a credential (in any copy); failed, calls with an
// error code (the same as error:*); conflict, events seen in copies that
// differ where CloudTrail's addendum rules do not allow.
func ParseFilter(expr string) (*Filter, error) {
	p := &parser{s: expr}
	f := &Filter{}
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return f, nil
		}
		t, err := p.term()
		if err != nil {
			return nil, err
		}
		f.Terms = append(f.Terms, t)
	}
}

type parser struct {
	s string
	i int
}

func (p *parser) col(i int) int { return utf8.RuneCountInString(p.s[:i]) + 1 }

func (p *parser) errAt(i int, format string, args ...any) *FilterError {
	return &FilterError{Col: p.col(i), Msg: fmt.Sprintf(format, args...)}
}

// space reports whether a term ends at i, and the width of the space there.
func (p *parser) space(i int) (bool, int) {
	r, w := utf8.DecodeRuneInString(p.s[i:])
	return unicode.IsSpace(r), w
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) {
		sp, w := p.space(p.i)
		if !sp {
			return
		}
		p.i += w
	}
}

func (p *parser) atEnd(i int) bool {
	if i >= len(p.s) {
		return true
	}
	sp, _ := p.space(i)
	return sp
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func (p *parser) term() (Term, error) {
	start := p.i
	t := Term{Col: p.col(start)}
	if p.s[p.i] == '-' {
		t.Neg = true
		p.i++
		if p.atEnd(p.i) {
			return t, p.errAt(start, "nothing after '-'")
		}
		if p.s[p.i] == '-' {
			return t, p.errAt(p.i, "a term can be negated only once (quote text that starts with '-')")
		}
	}
	if p.s[p.i] == '"' {
		v, err := p.quoted()
		if err != nil {
			return t, err
		}
		t.Field, t.Value = FieldText, []string{v}
		return t, nil
	}
	j := p.i
	for j < len(p.s) && isLetter(p.s[j]) {
		j++
	}
	if j > p.i && j < len(p.s) && p.s[j] == ':' {
		name := strings.ToLower(p.s[p.i:j])
		fld, ok := fieldByName(name)
		if _, flag := flagByName(name); flag {
			return t, p.errAt(p.i, "%s is a word without a value: write %s or -%s", name, name, name)
		}
		if !ok {
			return t, p.errAt(p.i, "%s", unknownField(p.s[p.i:j]))
		}
		p.i = j + 1
		t.Field = fld
		return t, p.values(&t)
	}
	// A bare word: a flag or free text.
	wordAt := p.i
	for !p.atEnd(p.i) {
		if p.s[p.i] == '"' {
			return t, p.errAt(p.i, "quote inside a word (quote the whole word)")
		}
		_, w := p.space(p.i)
		p.i += w
	}
	word := p.s[wordAt:p.i]
	if fld, ok := flagByName(word); ok {
		t.Field = fld
		return t, nil
	}
	t.Field, t.Value = FieldText, []string{word}
	return t, nil
}

// quoted reads a quoted string at p.i; the term must end after it.
func (p *parser) quoted() (string, error) {
	v, err := p.quotedItem()
	if err != nil {
		return "", err
	}
	if !p.atEnd(p.i) {
		return "", p.errAt(p.i, "expected a space after the closing quote")
	}
	return v, nil
}

// quotedItem reads a quoted string at p.i and stops after its closing quote.
func (p *parser) quotedItem() (string, error) {
	open := p.i
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			if b.Len() == 0 {
				return "", p.errAt(open, "empty value")
			}
			return b.String(), nil
		case c == '\\' && p.i+1 < len(p.s) && (p.s[p.i+1] == '"' || p.s[p.i+1] == '\\'):
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.errAt(open, "unterminated quote")
}

// values reads a field's comma-separated alternatives at p.i.
func (p *parser) values(t *Term) error {
	info := fields[t.Field]
	for {
		at := p.i
		var v string
		switch {
		case p.atEnd(p.i) || p.s[p.i] == ',':
			return p.errAt(at, "empty value for %s:", info.name)
		case p.s[p.i] == '"':
			q, err := p.quotedItem()
			if err != nil {
				return err
			}
			if !p.atEnd(p.i) && p.s[p.i] != ',' {
				return p.errAt(p.i, "expected a space or ',' after the closing quote")
			}
			v = q
		default:
			for !p.atEnd(p.i) && p.s[p.i] != ',' {
				if p.s[p.i] == '"' {
					return p.errAt(p.i, "quote inside a value (quote the whole value)")
				}
				_, w := p.space(p.i)
				p.i += w
			}
			v = p.s[at:p.i]
		}
		v, err := p.check(t, v, at)
		if err != nil {
			return err
		}
		t.Value = append(t.Value, v)
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		return nil
	}
}

// check validates (and, for source:, completes) one value of term t.
func (p *parser) check(t *Term, v string, at int) (string, error) {
	switch t.Field {
	case FieldSource:
		if !strings.Contains(v, ".") && v != "*" {
			v += ".amazonaws.com"
		}
	case FieldID:
		if strings.Contains(v, "*") {
			return "", p.errAt(at, "id: takes exact event ids, not patterns")
		}
	case FieldSince, FieldUntil:
		if len(t.Value) > 0 {
			return "", p.errAt(at-1, "%s: takes one time, not alternatives", fields[t.Field].name)
		}
		at2, ago, rel, err := parseWhen(v)
		if err != nil {
			return "", p.errAt(at, "bad time %q: %v", v, err)
		}
		t.at, t.ago, t.rel = at2, ago, rel
	}
	return v, nil
}

func fieldByName(name string) (Field, bool) {
	for f, info := range fields {
		if info.name == name && !info.flag && info.name != "" {
			return Field(f), true
		}
	}
	return 0, false
}

func flagByName(word string) (Field, bool) {
	for f, info := range fields {
		if info.flag && strings.EqualFold(info.name, word) {
			return Field(f), true
		}
	}
	return 0, false
}

// fieldNames lists the field names (with a colon) and the flag words.
func fieldNames() (names, flags []string) {
	for _, info := range fields {
		switch {
		case info.flag:
			flags = append(flags, info.name)
		case info.name != "":
			names = append(names, info.name)
		}
	}
	return names, flags
}

// unknownField builds the message for an unknown field name: the nearest
// known name when one is close, and the full list.
func unknownField(name string) string {
	names, flags := fieldNames()
	best, bestD := "", 3
	for _, n := range append(names, flags...) {
		if d := editDistance(strings.ToLower(name), n); d < bestD {
			best, bestD = n, d
		}
	}
	msg := fmt.Sprintf("unknown field %q", name)
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return msg + "; fields: " + strings.Join(names, ", ") + "; words: " + strings.Join(flags, ", ") +
		`; quote text that contains ':'`
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// maxAgo bounds durations back from now (a century), well inside int64
// nanoseconds.
const maxAgo = 100 * 365 * 24 * time.Hour

// parseWhen parses a since:/until: value: a duration back from now (2h,
// 90m, 7d, 1w, 1d12h), an RFC3339 time, or a date or local-less time (UTC).
func parseWhen(s string) (at time.Time, ago time.Duration, rel bool, err error) {
	if s != "" && s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "-:") {
		d, err := parseAgo(s)
		return time.Time{}, d, true, err
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), 0, false, nil
		}
	}
	return time.Time{}, 0, false, fmt.Errorf("want RFC3339 (2024-05-01T10:00:00Z), a date (2024-05-01) or a duration back from now (2h, 90m, 7d)")
}

// parseAgo parses a sequence of whole numbers with units w, d, h, m, s.
func parseAgo(s string) (time.Duration, error) {
	units := map[byte]time.Duration{'w': 7 * 24 * time.Hour, 'd': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute, 's': time.Second}
	var total time.Duration
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i || j == len(s) {
			return 0, fmt.Errorf("want a number and a unit (w, d, h, m, s), like 2h, 90m or 7d")
		}
		u, ok := units[s[j]|0x20]
		if !ok {
			return 0, fmt.Errorf("unknown unit %q: use w, d, h, m or s", s[j])
		}
		n, err := strconv.ParseInt(s[i:j], 10, 64)
		if err != nil || n > int64(maxAgo/u) {
			return 0, fmt.Errorf("more than a century back")
		}
		total += time.Duration(n) * u
		if total > maxAgo {
			return 0, fmt.Errorf("more than a century back")
		}
		i = j + 1
	}
	return total, nil
}

// String returns the filter in canonical form: field names and words in
// lower case, source: values completed, values quoted where they must be.
// Parsing it gives back the same filter.
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(f.Terms))
	for i, t := range f.Terms {
		parts[i] = t.String()
	}
	return strings.Join(parts, " ")
}

// At returns the time a since: or until: term stands for when the query
// runs at now (a duration is counted back from now), and false for any
// other term. Compilers to other engines (the Athena hunt) use it to keep
// the store's meaning.
func (t Term) At(now time.Time) (time.Time, bool) {
	if t.Field != FieldSince && t.Field != FieldUntil {
		return time.Time{}, false
	}
	if t.rel {
		return now.Add(-t.ago), true
	}
	return t.at, true
}

// String returns the term in canonical form.
func (t Term) String() string {
	var b strings.Builder
	if t.Neg {
		b.WriteByte('-')
	}
	info := fields[t.Field]
	switch {
	case info.flag:
		b.WriteString(info.name)
	case t.Field == FieldText:
		v := ""
		if len(t.Value) > 0 {
			v = t.Value[0]
		}
		if textNeedsQuote(v) {
			writeQuoted(&b, v)
		} else {
			b.WriteString(v)
		}
	default:
		b.WriteString(info.name)
		b.WriteByte(':')
		for i, v := range t.Value {
			if i > 0 {
				b.WriteByte(',')
			}
			if valueNeedsQuote(v) {
				writeQuoted(&b, v)
			} else {
				b.WriteString(v)
			}
		}
	}
	return b.String()
}

func hasSpace(s string) bool {
	return strings.IndexFunc(s, unicode.IsSpace) >= 0
}

func valueNeedsQuote(v string) bool {
	return v == "" || hasSpace(v) || strings.ContainsAny(v, `,"`)
}

func textNeedsQuote(v string) bool {
	if _, flag := flagByName(v); flag {
		return true
	}
	return v == "" || v[0] == '-' || hasSpace(v) || strings.ContainsAny(v, `":`)
}

func writeQuoted(b *strings.Builder, v string) {
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
}

// FilterFields lists the filter language's field names and its flag
// words, for a prompt's hint.
func FilterFields() (names, flags []string) { return fieldNames() }
