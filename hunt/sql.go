// Package hunt searches an organisation's CloudTrail in Amazon Athena with
// warroom's filter language: it compiles a filter expression into Athena
// (Trino) SQL over the CloudTrail table of AWS's documentation (the
// organisation trail's table with partition projection on account, Region
// and day), restricted to the partitions the filter implies, and turns
// the rows Athena returns back into CloudTrail records for the journal,
// through the path ingest takes (ctlog, state.Seen, events facts).
//
// It uses the standard library and state only; the Athena calls are made
// by aws/athena.
package hunt

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/warroom-ir/warroom/state"
)

// Table names the CloudTrail table in Athena's catalog.
type Table struct {
	Database string // the Glue database, e.g. "warroom"
	Name     string // the table, e.g. "cloudtrail_org"
}

// identRE is what an unquoted Glue database or table name may be: Glue
// lower-cases names and allows letters, digits and underscores.
var identRE = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)

// Check reports a database or table name Athena would not take as written.
func (t Table) Check() error {
	for _, n := range []struct{ what, v string }{{"database", t.Database}, {"table", t.Name}} {
		if !identRE.MatchString(n.v) {
			return fmt.Errorf("%s name %q: use lower-case letters, digits and '_' (Glue's names)", n.what, n.v)
		}
	}
	return nil
}

// quoted is the table as SQL names it.
func (t Table) quoted() string { return `"` + t.Database + `"."` + t.Name + `"` }

// Partitions are the partitions a filter restricts the scan to; empty
// fields do not restrict.
type Partitions struct {
	Accounts []string // account IN (…): account: terms without '*', not negated
	Regions  []string // region IN (…): region: terms without '*', not negated
	From, To string   // "timestamp" BETWEEN From AND To, as yyyy/MM/dd
}

// String says the partitions in one line, for --dry-run.
func (p Partitions) String() string {
	all := func(s []string, what string) string {
		if len(s) == 0 {
			return "every " + what
		}
		return strings.Join(s, ",")
	}
	days := "every day"
	switch {
	case p.From != "" && p.To != "":
		days = p.From + " to " + p.To
	case p.From != "":
		days = "from " + p.From
	case p.To != "":
		days = "until " + p.To
	}
	return "accounts " + all(p.Accounts, "account") + "; Regions " + all(p.Regions, "Region") + "; days " + days
}

// Query is a compiled hunt.
type Query struct {
	SQL        string
	Partitions Partitions
}

// TermError is a term of the filter that has no meaning in Athena's SQL.
type TermError struct {
	Term string // the term as written (canonical form)
	Col  int    // its column in the expression
	Why  string
}

// Error implements error.
func (e *TermError) Error() string {
	return fmt.Sprintf("column %d: %s cannot be hunted in Athena: %s", e.Col, e.Term, e.Why)
}

// Column is one selected field: the SQL expression Athena evaluates and
// the CloudTrail record's field it fills (a dotted path in the record).
type Column struct {
	SQL  string // the expression, over the table's columns
	Path string // where the value goes in the record, e.g. userIdentity.sessionContext.attributes.mfaAuthenticated
	Kind int    // how the text Athena returns is put back (kindString, …)
}

// How a column's text is put back into the record.
const (
	kindString = iota // a JSON string
	kindJSON          // JSON text held in a string column (requestParameters…): put back as JSON when it is JSON
	kindBool          // "true"/"false" (readOnly): a JSON boolean
	kindRows          // an array of structs cast to JSON (resources): objects, or arrays of the struct's fields in order
)

// Columns are the fields a hunt selects, each on its own: Trino's text
// for a ROW is not JSON, so every leaf of userIdentity is a column of its
// own and the record is rebuilt from them (record.go). resources, an
// array of structs, is cast to JSON.
var Columns = []Column{
	{"eventversion", "eventVersion", kindString},
	{"useridentity.type", "userIdentity.type", kindString},
	{"useridentity.principalid", "userIdentity.principalId", kindString},
	{"useridentity.arn", "userIdentity.arn", kindString},
	{"useridentity.accountid", "userIdentity.accountId", kindString},
	{"useridentity.invokedby", "userIdentity.invokedBy", kindString},
	{"useridentity.accesskeyid", "userIdentity.accessKeyId", kindString},
	{"useridentity.username", "userIdentity.userName", kindString},
	{"useridentity.onbehalfof.userid", "userIdentity.onBehalfOf.userId", kindString},
	{"useridentity.onbehalfof.identitystorearn", "userIdentity.onBehalfOf.identityStoreArn", kindString},
	{"useridentity.sessioncontext.attributes.mfaauthenticated", "userIdentity.sessionContext.attributes.mfaAuthenticated", kindString},
	{"useridentity.sessioncontext.attributes.creationdate", "userIdentity.sessionContext.attributes.creationDate", kindString},
	{"useridentity.sessioncontext.sessionissuer.type", "userIdentity.sessionContext.sessionIssuer.type", kindString},
	{"useridentity.sessioncontext.sessionissuer.principalid", "userIdentity.sessionContext.sessionIssuer.principalId", kindString},
	{"useridentity.sessioncontext.sessionissuer.arn", "userIdentity.sessionContext.sessionIssuer.arn", kindString},
	{"useridentity.sessioncontext.sessionissuer.accountid", "userIdentity.sessionContext.sessionIssuer.accountId", kindString},
	{"useridentity.sessioncontext.sessionissuer.username", "userIdentity.sessionContext.sessionIssuer.userName", kindString},
	{"useridentity.sessioncontext.ec2roledelivery", "userIdentity.sessionContext.ec2RoleDelivery", kindString},
	{"eventtime", "eventTime", kindString},
	{"eventsource", "eventSource", kindString},
	{"eventname", "eventName", kindString},
	{"awsregion", "awsRegion", kindString},
	{"sourceipaddress", "sourceIPAddress", kindString},
	{"useragent", "userAgent", kindString},
	{"errorcode", "errorCode", kindString},
	{"errormessage", "errorMessage", kindString},
	{"requestparameters", "requestParameters", kindJSON},
	{"responseelements", "responseElements", kindJSON},
	{"additionaleventdata", "additionalEventData", kindJSON},
	{"requestid", "requestID", kindString},
	{"eventid", "eventID", kindString},
	{"readonly", "readOnly", kindBool},
	{"json_format(CAST(resources AS JSON))", "resources", kindRows},
	{"eventtype", "eventType", kindString},
	{"apiversion", "apiVersion", kindString},
	{"recipientaccountid", "recipientAccountId", kindString},
	{"serviceeventdetails", "serviceEventDetails", kindJSON},
	{"sharedeventid", "sharedEventID", kindString},
	{"vpcendpointid", "vpcEndpointId", kindString},
	{"vpcendpointaccountid", "vpcEndpointAccountId", kindString},
	{"eventcategory", "eventCategory", kindString},
	{"addendum.reason", "addendum.reason", kindString},
	{"addendum.updatedfields", "addendum.updatedFields", kindString},
	{"addendum.originalrequestid", "addendum.originalRequestID", kindString},
	{"addendum.originaleventid", "addendum.originalEventID", kindString},
	{"sessioncredentialfromconsole", "sessionCredentialFromConsole", kindString},
	{"tlsdetails.tlsversion", "tlsDetails.tlsVersion", kindString},
	{"tlsdetails.ciphersuite", "tlsDetails.cipherSuite", kindString},
	{"tlsdetails.clientprovidedhostheader", "tlsDetails.clientProvidedHostHeader", kindString},
}

// fieldSQL is the column a field of the filter language means.
var fieldSQL = map[state.Field]string{
	state.FieldKey:       "useridentity.accesskeyid",
	state.FieldPrincipal: "useridentity.arn",
	state.FieldType:      "useridentity.type",
	state.FieldIP:        "sourceipaddress",
	state.FieldEvent:     "eventname",
	state.FieldSource:    "eventsource",
	state.FieldRegion:    "awsregion",
	state.FieldError:     "errorcode",
	state.FieldMessage:   "errormessage",
	state.FieldAgent:     "useragent",
	state.FieldAccount:   "recipientaccountid",
}

// textFields are the fields free text searches: every string column of
// the event table, in its order.
var textFields = []state.Field{state.FieldEvent, state.FieldSource, state.FieldRegion, state.FieldPrincipal,
	state.FieldUser, state.FieldType, state.FieldKey, state.FieldIP, state.FieldAgent, state.FieldError,
	state.FieldMessage, state.FieldAccount}

// substrFields match their values anywhere in the text.
var substrFields = map[state.Field]bool{state.FieldMessage: true, state.FieldAgent: true}

// noSQL says why a term has no meaning in Athena.
var noSQL = map[state.Field]string{
	state.FieldFamily:        "a key's family is known from the minting events in the journal, not from one row; hunt key: for each key (the console's family list names them)",
	state.FieldOurs:          "warroom's own calls are told by its sessions in the journal, which Athena does not hold",
	state.FieldImpersonation: "impersonation is judged against warroom's sessions in the journal, which Athena does not hold",
	state.FieldMinted:        "the store knows minting from every copy of an event; hunt event:AssumeRole,GetSessionToken,GetFederationToken and the like",
	state.FieldConflict:      "conflicting copies are judged in the journal once the copies are there",
}

// dayFormat is the trail's date partition as projected (yyyy/MM/dd).
const dayFormat = "2006/01/02"

// timeFormat is eventTime as CloudTrail writes it: whole seconds, UTC.
const timeFormat = "2006-01-02T15:04:05Z"

// deliveryLag pads the last day of the partition range: a log file lands
// in the folder of the day it was delivered, which may be the day after
// its events (CloudTrail delivers within about 15 minutes, later with a
// DELIVERY_DELAY addendum).
const deliveryLag = 24 * time.Hour

// Compile turns f into a query over table t, with durations (since:2h)
// counted back from now. Every term keeps the meaning it has in the store
// (state/filter.go): case-insensitive whole values or globs ('*'), msg:
// and agent: as substrings, an absent field never matching, a negated
// term matching what lacks the field. A term with no meaning in SQL
// (family:, ours, impersonation, minted, conflict) is a *TermError.
func Compile(f *state.Filter, t Table, now time.Time) (*Query, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	q := &Query{}
	var where []string
	var since, until []time.Time
	for _, term := range f.Terms {
		cond, err := compileTerm(term, now)
		if err != nil {
			return nil, err
		}
		if term.Neg {
			cond = "NOT " + cond
		}
		where = append(where, cond)
		if term.Neg {
			continue
		}
		switch term.Field {
		case state.FieldAccount:
			if vs, ok := exactValues(term); ok {
				q.Partitions.Accounts = intersect(q.Partitions.Accounts, vs)
			}
		case state.FieldRegion:
			if vs, ok := exactValues(term); ok {
				q.Partitions.Regions = intersect(q.Partitions.Regions, vs)
			}
		case state.FieldSince:
			at, _ := term.At(now)
			since = append(since, at)
		case state.FieldUntil:
			at, _ := term.At(now)
			until = append(until, at)
		}
	}
	// The partitions first: they are what keeps the scan small.
	var parts []string
	if p := q.Partitions.Accounts; p != nil {
		parts = append(parts, "account IN ("+literalList(p)+")")
	}
	if p := q.Partitions.Regions; p != nil {
		parts = append(parts, "region IN ("+literalList(p)+")")
	}
	if len(since) > 0 {
		q.Partitions.From = slices.MaxFunc(since, time.Time.Compare).UTC().Format(dayFormat)
	}
	if len(until) > 0 {
		q.Partitions.To = slices.MinFunc(until, time.Time.Compare).UTC().Add(deliveryLag).Format(dayFormat)
	}
	switch {
	case q.Partitions.From != "" && q.Partitions.To != "":
		parts = append(parts, `"timestamp" BETWEEN `+literal(q.Partitions.From)+" AND "+literal(q.Partitions.To))
	case q.Partitions.From != "":
		parts = append(parts, `"timestamp" >= `+literal(q.Partitions.From))
	case q.Partitions.To != "":
		parts = append(parts, `"timestamp" <= `+literal(q.Partitions.To))
	}
	var b strings.Builder
	b.WriteString("SELECT\n")
	for i, c := range Columns {
		b.WriteString("  " + c.SQL)
		if i < len(Columns)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("FROM " + t.quoted() + "\n")
	conds := append(parts, where...)
	for i, c := range conds {
		if i == 0 {
			b.WriteString("WHERE ")
		} else {
			b.WriteString("\n  AND ")
		}
		b.WriteString(c)
	}
	if len(conds) > 0 {
		b.WriteByte('\n')
	}
	b.WriteString("ORDER BY eventtime, eventid")
	q.SQL = b.String()
	return q, nil
}

// intersect is the partition values both a and b allow (b alone when a is
// nil: no restriction yet), lower-cased, sorted and unique.
func intersect(a, b []string) []string {
	var out []string
	for _, v := range b {
		v = strings.ToLower(v)
		if a == nil || slices.Contains(a, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{} // nothing: account IN () is refused, see below
	}
	return out
}

// exactValues returns a term's values when none is a pattern: those are
// partition values.
func exactValues(t state.Term) ([]string, bool) {
	for _, v := range t.Value {
		if strings.Contains(v, "*") {
			return nil, false
		}
	}
	return t.Value, true
}

// compileTerm is one term, not negated, as a condition that is true or
// false, never NULL (so that NOT keeps the store's meaning for events
// without the field).
func compileTerm(t state.Term, now time.Time) (string, error) {
	if why, ok := noSQL[t.Field]; ok {
		return "", &TermError{Term: t.String(), Col: t.Col, Why: why}
	}
	for _, v := range t.Value {
		if err := checkValue(v); err != nil {
			return "", &TermError{Term: t.String(), Col: t.Col, Why: err.Error()}
		}
	}
	switch t.Field {
	case state.FieldText:
		var alts []string
		for _, f := range textFields {
			alts = append(alts, fieldMatch(f, t.Value[0], true))
		}
		return "(" + strings.Join(alts, "\n    OR ") + ")", nil
	case state.FieldID:
		var ids []string
		for _, v := range t.Value {
			// A UUID matches in either case (the store keeps UUIDs as
			// their 16 bytes); any other id exactly.
			if isUUID(strings.ToLower(v)) {
				ids = append(ids, strings.ToLower(v))
			}
			ids = append(ids, v)
		}
		slices.Sort(ids)
		return "coalesce(eventid IN (" + literalList(slices.Compact(ids)) + "), false)", nil
	case state.FieldSince, state.FieldUntil:
		at, _ := t.At(now)
		// eventTime is whole seconds: at or after a time is at or after
		// its next whole second; at or before it, at or before its
		// whole second. An event without a time: since: never, until:
		// always (the store sorts it before every time).
		if t.Field == state.FieldSince {
			s := at.UTC().Truncate(time.Second)
			if s.Before(at) {
				s = s.Add(time.Second)
			}
			return "coalesce(nullif(eventtime, '') >= " + literal(s.Format(timeFormat)) + ", false)", nil
		}
		return "coalesce(nullif(eventtime, '') <= " + literal(at.UTC().Truncate(time.Second).Format(timeFormat)) + ", true)", nil
	case state.FieldReadOnly:
		return "coalesce(lower(readonly) = 'true', false)", nil
	case state.FieldFailed:
		return "coalesce(errorcode, '') <> ''", nil
	}
	if _, ok := fieldSQL[t.Field]; !ok && t.Field != state.FieldUser {
		return "", &TermError{Term: t.String(), Col: t.Col, Why: "no column in the CloudTrail table means it"}
	}
	var alts []string
	for _, v := range t.Value {
		alts = append(alts, fieldMatch(t.Field, v, substrFields[t.Field]))
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return "(" + strings.Join(alts, " OR ") + ")", nil
}

// fieldMatch is the store's glob over field f.
func fieldMatch(f state.Field, v string, substr bool) string {
	if f == state.FieldUser {
		return userMatch(v, substr)
	}
	return match(fieldSQL[f], v, substr)
}

// userMatch is user: as ctlog derives the user: the userIdentity's
// userName, else its session issuer's, else the last segment of its ARN
// (after the last '/', else after the last ':'). The segment is matched
// with regexp_like on the ARN's end, which says the same without
// splitting the ARN.
func userMatch(v string, substr bool) string {
	const name, issuer, arn = "useridentity.username", "useridentity.sessioncontext.sessionissuer.username", "useridentity.arn"
	low := strings.ToLower(v)
	if substr {
		low = "*" + low + "*"
	}
	a := "lower(coalesce(" + arn + ", ''))"
	seg := func(sep byte) string {
		re, ok := segmentRE(low, sep)
		if !ok {
			return "false" // a segment never holds its separator
		}
		// The store never matches an empty user: an ARN ending with
		// the separator has none.
		return "(regexp_like(" + a + ", " + literal(re) + ") AND NOT regexp_like(" + a + ", " + literal(regexp.QuoteMeta(string(sep))+"$") + "))"
	}
	return "(CASE WHEN coalesce(" + name + ", '') <> '' THEN " + match(name, v, substr) +
		" WHEN coalesce(" + issuer + ", '') <> '' THEN " + match(issuer, v, substr) +
		" WHEN strpos(" + a + ", '/') > 0 THEN " + seg('/') +
		" WHEN strpos(" + a + ", ':') > 0 THEN " + seg(':') +
		" ELSE false END)"
}

// segmentRE is a regular expression for an ARN whose last segment (after
// its last sep) matches glob (lower case, '*' any run): false when no
// segment can (the glob holds sep).
func segmentRE(glob string, sep byte) (string, bool) {
	if strings.IndexByte(glob, sep) >= 0 {
		return "", false
	}
	var b strings.Builder
	b.WriteString(regexp.QuoteMeta(string(sep)))
	for i, part := range strings.Split(glob, "*") {
		if i > 0 {
			b.WriteString("[^" + regexp.QuoteMeta(string(sep)) + "]*")
		}
		b.WriteString(regexp.QuoteMeta(part))
	}
	b.WriteByte('$')
	return b.String(), true
}

// match is the store's glob over col: case-insensitive, the whole value
// unless substr, '*' any run of characters, never matching an absent
// (NULL or empty) field.
func match(col, v string, substr bool) string {
	v = strings.ToLower(v)
	if substr {
		v = "*" + v + "*"
	}
	low := "lower(coalesce(" + col + ", ''))"
	if !strings.Contains(v, "*") {
		return low + " = " + literal(v)
	}
	var p strings.Builder
	for _, r := range v {
		switch r {
		case '*':
			p.WriteByte('%')
		case '%', '_', '\\':
			p.WriteByte('\\')
			p.WriteRune(r)
		default:
			p.WriteRune(r)
		}
	}
	return "(coalesce(" + col + ", '') <> '' AND " + low + " LIKE " + literal(p.String()) + ` ESCAPE '\')`
}

// checkValue refuses what a SQL string literal should not carry: control
// characters (a NUL ends a C string in some engines; a newline or escape
// makes the printed SQL lie) and bytes that are not UTF-8.
func checkValue(v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("the value %q is not UTF-8", v)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return fmt.Errorf("the value %q holds a control character (U+%04X)", v, r)
		}
	}
	return nil
}

// literal is s as a SQL string literal: quotes doubled, nothing else
// special (standard SQL, as Trino reads it: a backslash is itself).
func literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// literalList is values as a list of literals, for IN; a list of nothing
// is the literal NULL (IN (NULL) is never true) since IN () is not SQL.
func literalList(vs []string) string {
	if len(vs) == 0 {
		return "NULL"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = literal(v)
	}
	return strings.Join(out, ", ")
}

// isUUID reports whether s is a canonical lower-case UUID.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
