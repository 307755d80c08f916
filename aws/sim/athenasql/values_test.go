package athenasql

import (
	"context"
	"slices"
	"testing"
	"time"
)

// The CloudTrail table's userIdentity, as AWS's guide declares it.
const identityDDL = `CREATE EXTERNAL TABLE ct (
  eventid STRING,
  userIdentity STRUCT<type: STRING, principalId: STRING, arn: STRING, accountId: STRING,
    sessionContext: STRUCT<attributes: STRUCT<mfaAuthenticated: STRING, creationDate: STRING>,
      sessionIssuer: STRUCT<type: STRING, principalId: STRING, arn: STRING, accountId: STRING, userName: STRING>>>)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
LOCATION 's3://b/logs/'`

// runOver runs sql over one log file holding body.
func runOver(t *testing.T, ddl, sql, body string) *Result {
	t.Helper()
	st, err := Parse(ddl)
	if err != nil {
		t.Fatal(err)
	}
	tb := st.(*CreateTable).Table
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	q, err := Parse(sql)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Run(context.Background(), q.(*Query), "default", func(db, n string) (*Table, bool) { return tb, n == tb.Name },
		[]Object{{Bucket: "b", Key: "logs/f.json", Body: []byte(body), ETag: "1"}}, time.Now())
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res
}

func cells(r []*string) []string {
	out := make([]string, len(r))
	for i, v := range r {
		out[i] = "NULL"
		if v != nil {
			out[i] = *v
		}
	}
	return out
}

// A struct's string field selected by its path is a varchar holding the
// record's text, whatever the text looks like (a number, a boolean, a
// date), as Trino answers; two columns may have the same name (both
// accountids are "accountid"). The drill used to type such a column as
// the whole struct and answer "null" for text that starts like JSON.
func TestNestedStringFields(t *testing.T) {
	body := `{"Records":[
{"eventID":"e1","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:s","arn":"arn:aws:sts::111111111111:assumed-role/r/s","accountId":"111111111111",
 "sessionContext":{"attributes":{"mfaAuthenticated":"false","creationDate":"2026-11-20T10:00:00Z"},
  "sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::222222222222:role/r","accountId":"222222222222","userName":"r"}}}},
{"eventID":"e2","userIdentity":{"type":"IAMUser","accountId":"012345678901","SessionContext":{"Attributes":{"MFAAuthenticated":"true","CreationDate":"1e3"}}}},
{"eventID":"e3","userIdentity":{"type":"Root","accountId":null}}]}`
	res := runOver(t, identityDDL, `SELECT eventid, useridentity.accountid, useridentity.sessioncontext.attributes.creationdate,
  useridentity.sessioncontext.attributes.mfaauthenticated, useridentity.sessioncontext.sessionissuer.accountid,
  useridentity.type, useridentity.sessioncontext.sessionissuer.type
FROM ct ORDER BY eventid`, body)
	var names, types []string
	for _, c := range res.Columns {
		names = append(names, c.Name)
		types = append(types, c.Type.Trino())
	}
	if want := []string{"eventid", "accountid", "creationdate", "mfaauthenticated", "accountid", "type", "type"}; !slices.Equal(names, want) {
		t.Errorf("columns %v, want %v", names, want)
	}
	for i, ty := range types {
		if ty != "varchar" {
			t.Errorf("column %d (%s) is %s, want varchar", i, names[i], ty)
		}
	}
	want := [][]string{
		{"e1", "111111111111", "2026-11-20T10:00:00Z", "false", "222222222222", "AssumedRole", "Role"},
		{"e2", "012345678901", "1e3", "true", "NULL", "IAMUser", "NULL"},
		{"e3", "NULL", "NULL", "NULL", "NULL", "Root", "NULL"},
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("%d rows", len(res.Rows))
	}
	for i, r := range res.Rows {
		if got := cells(r); !slices.Equal(got, want[i]) {
			t.Errorf("row %d: %q, want %q", i, got, want[i])
		}
	}
	// An aggregate of such a field is a varchar too.
	res = runOver(t, identityDDL, `SELECT max(useridentity.sessioncontext.sessionissuer.accountid) FROM ct`, body)
	if got := cells(res.Rows[0]); res.Columns[0].Type.Trino() != "varchar" || !slices.Equal(got, []string{"222222222222"}) {
		t.Errorf("max: %s %q", res.Columns[0].Type.Trino(), got)
	}
}
