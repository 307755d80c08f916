package athenasql

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim/gen"
)

// referenceRows is the engine's first decoder, kept as the reference the
// loader is held to: encoding/json reads the whole file into maps, and
// columnValue makes each cell.
func referenceRows(t *Table, body []byte) [][]any {
	raw := body
	if len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil
		}
	}
	var file struct {
		Records []map[string]json.RawMessage `json:"Records"`
	}
	if json.Unmarshal(raw, &file) != nil {
		return nil
	}
	rows := make([][]any, 0, len(file.Records))
	lower := map[string]json.RawMessage{}
	for _, rec := range file.Records {
		clear(lower)
		for k, v := range rec {
			lower[strings.ToLower(k)] = v
		}
		row := make([]any, len(t.Columns))
		for i, f := range t.Columns {
			row[i] = columnValue(f.Type, lower[strings.ToLower(f.Name)])
		}
		rows = append(rows, row)
	}
	return rows
}

// tableOf parses a CREATE TABLE.
func tableOf(t testing.TB, ddl string) *Table {
	t.Helper()
	st, err := Parse(ddl)
	if err != nil {
		t.Fatal(err)
	}
	return st.(*CreateTable).Table
}

// guideTable is AWS's CloudTrail table (the one warroom's hunt and the
// drill's tests use).
func guideTable(t testing.TB) *Table {
	t.Helper()
	ddl, err := os.ReadFile("../testdata/athena/cloudtrail_logs_pp.sql")
	if err != nil {
		t.Fatal(err)
	}
	return tableOf(t, string(ddl))
}

// kindsTable has a column of every kind the loader reads, under names
// CloudTrail records use.
const kindsDDL = `CREATE EXTERNAL TABLE kinds (
  eventid STRING, eventtime TIMESTAMP, readonly BOOLEAN, n BIGINT, x DOUBLE, v VARCHAR(10),
  useridentity STRUCT<type: STRING, accountid: STRING, n: BIGINT, b: BOOLEAN, inner: STRUCT<a: STRING>,
    m: MAP<STRING, STRING>, l: ARRAY<STRING>>,
  resources ARRAY<STRUCT<arn: STRING, accountId: STRING, type: STRING>>,
  tags MAP<STRING, STRING>,
  requestparameters STRING)
LOCATION 's3://b/k/'`

// sameRows reports how got differs from the reference's rows: cells of
// structs, arrays and maps are compared as JSON values (fields may come
// in another order), the rest exactly.
func sameRows(tb *Table, got, want [][]any) string {
	if len(got) != len(want) {
		return "rows: got " + jsonText(len(got)) + ", want " + jsonText(len(want))
	}
	for i := range want {
		for c, f := range tb.Columns {
			g, w := got[i][c], want[i][c]
			switch f.Type.Kind {
			case "struct", "array", "map":
				gs, gok := g.(string)
				ws, wok := w.(string)
				if gok && wok {
					if !reflect.DeepEqual(parseJSON(gs), parseJSON(ws)) {
						return "row " + jsonText(i) + " " + f.Name + ": got " + gs + ", want " + ws
					}
					continue
				}
			}
			if !reflect.DeepEqual(g, w) {
				return "row " + jsonText(i) + " " + f.Name + ": got " + jsonText(g) + ", want " + jsonText(w)
			}
		}
	}
	return ""
}

func parseJSON(s string) any {
	var v any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return "not JSON: " + s
	}
	return v
}

func jsonText(v any) string { b, _ := json.Marshal(v); return string(b) }

// The loader gives the reference's rows for gen's realistic files, gzipped
// as CloudTrail delivers them, in both tables.
func TestLoaderMatchesReferenceOnGen(t *testing.T) {
	dir := t.TempDir()
	if _, err := gen.Write(dir, gen.Options{Events: 3000, Seed: 5, AccountID: "111111111111", End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		Rate: 1, Regions: []string{"us-east-1", "eu-west-1"}, PerFile: 250}); err != nil {
		t.Fatal(err)
	}
	tables := []*Table{guideTable(t), tableOf(t, kindsDDL)}
	files, rows := 0, 0
	err := filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, tb := range tables {
			got, want := newLoader(tb).decode(body), referenceRows(tb, body)
			if d := sameRows(tb, got, want); d != "" {
				t.Errorf("%s, table %s: %s", filepath.Base(p), tb.Name, d)
			}
			rows += len(got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 || rows < 6000 {
		t.Fatalf("%d files, %d rows: the test says little", files, rows)
	}
}

// loaderCases are shapes the fast path meets rarely or leaves to the
// reference: escapes, non-ASCII, names in any case or twice, values of
// another type than declared, damaged files.
var loaderCases = []string{
	`{"Records":[{"eventID":"e1","eventTime":"2026-11-20T00:00:00Z","readOnly":true,"n":12,"x":1.5,"v":"abc"}]}`,
	`{"Records":[{"EVENTID":"e\u0041\n\"q\"","useridentity":{"Type":"IAMUser","ACCOUNTID":"111111111111","n":7,"b":false,"inner":{"a":"x","z":1}}}]}`,
	`{"Records":[{"eventid":"ünïcode ✓","useridentity":{"type":"ünï","accountid":"\u00e9\ud83d\ude00","l":["a","\u00e9",null,1,true,{"k":"v"}]}}]}`,
	`{"Records":[{"e\u0076entid":"escaped key","useridentity":{"typ\u0065":"x"}}]}`,
	`{"Records":[{"eventid":"dup","eventid":"last","useridentity":{"type":"a","type":"b"}}]}`,
	`{"Records":[{"useridentity":{"type":"a"},"useridentity":null},{"useridentity":null,"useridentity":{"type":"b"}}]}`,
	`{"Records":[{"eventid":12,"useridentity":{"type":12.5e3,"accountid":true,"inner":"notastruct","m":{"b":"2","a":{"x":[1,2]}},"l":"notalist"}}]}`,
	`{"Records":[{"eventid":{"a":1},"requestparameters":{"bucketName":"b", "key" : "k\u00e9","list":[1, 2 ,{}]},"tags":{"z":"1","a":"2","a":"3"}}]}`,
	`{"Records":[{"n":"42","x":"1.5","readonly":"true","useridentity":{"n":"9","b":"x","inner":{"a":{"deep":[{"b":1,"a":2}]}}}}]}`,
	`{"Records":[{"n":1.0,"x":1e400,"readonly":1,"eventtime":"2026-11-20 00:00:00"}]}`,
	`{"Records":[{"resources":[{"ARN":"arn:aws:s3:::b","accountId":"111111111111","type":"AWS::S3::Bucket"},null,"x",{"arn":"<&>"}]}]}`,
	`{"Records":[{"resources":{"arn":"x"},"useridentity":[1]}, null]}`,
	`{"records":[{"eventid":"lower-case Records"}],"Other":{"x":[1,2,{"y":null}]}}`,
	`{"Records":[{"eventid":"first"}],"Records":[{"eventid":"second"},{"eventid":"third"}]}`,
	`{"Records":null}`,
	`{"Records":[]}`,
	`{}`,
	`null`,
	` {"Records" : [ { "eventid" : "spaces" , "useridentity" : { "type" : "t" } } ] } `,
	`{"Records":[{"eventid":"e1"}]`,
	`{"Records":[{"eventid":"e1"}]}x`,
	`{"Records":[{"eventid":"e1",}]}`,
	`{"Records":[{"eventid":"e1"}],}`,
	`{"Records":[1]}`,
	`{"Records":{"eventid":"e1"}}`,
	`{"Records":[{"eventid":"bad \x01 control"}]}`,
	`{"Records":[{"eventid":"bad \q escape"}]}`,
	`{"Records":[{"n":01}]}`,
	`{"Records":[{"n":-}]}`,
	`{"Records":[{"n":1.}]}`,
	`{"Records":[{"n":tru}]}`,
	`[{"Records":[]}]`,
	`{"Records":[{"eventid":"\xff\xfe invalid UTF-8","useridentity":{"type":"\xff"}}]}`,
	`{"Records":[{"useridentity":{"inner":{"a":"x"},"inner":{"a":"y"}},"tags":{}}]}`,
	`{"Records":[{"useridentity":{"m":{"k":"v","k2":null}},"useridentity":{}}]}`,
}

func TestLoaderMatchesReference(t *testing.T) {
	tables := []*Table{guideTable(t), tableOf(t, kindsDDL)}
	for i, c := range loaderCases {
		for _, body := range [][]byte{[]byte(c), gzipped(c)} {
			for _, tb := range tables {
				got, want := newLoader(tb).decode(body), referenceRows(tb, body)
				if d := sameRows(tb, got, want); d != "" {
					t.Errorf("case %d (%.60s…), table %s: %s", i, c, tb.Name, d)
				}
			}
		}
	}
}

// recordsNamedTwice reports whether a file's top-level object has more
// than one key that encoding/json takes for Records.
func recordsNamedTwice(body []byte) bool {
	if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
		if body, err = io.ReadAll(zr); err != nil {
			return false
		}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	n := 0
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if k, _ := tok.(string); strings.EqualFold(k, "Records") {
			n++
		}
		var skip json.RawMessage
		if d.Decode(&skip) != nil {
			return false
		}
	}
	return n > 1
}

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// FuzzLoader holds the loader to the reference on any input, but where
// the reference's answer is an accident of encoding/json: a record
// naming a field twice in different case gives either, as map order
// falls; a file naming Records twice has the second array decoded into
// the first one's maps (the loader takes the last array, as a map
// would).
func FuzzLoader(f *testing.F) {
	for _, c := range loaderCases {
		f.Add([]byte(c))
	}
	tables := []*Table{guideTable(f), tableOf(f, kindsDDL)}
	f.Fuzz(func(t *testing.T, body []byte) {
		if recordsNamedTwice(body) {
			return
		}
		for _, tb := range tables {
			want := referenceRows(tb, body)
			for range 3 {
				if sameRows(tb, referenceRows(tb, body), want) != "" {
					return
				}
			}
			if d := sameRows(tb, newLoader(tb).decode(body), want); d != "" {
				t.Errorf("table %s: %s", tb.Name, d)
			}
		}
	})
}

// BenchmarkLoad: the first query over 50,000 of gen's records (the
// guide's table, files of 200 records, gzipped): each iteration is a
// fresh engine, so every file is decoded and inserted.
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	if _, err := gen.Write(dir, gen.Options{Events: 50000, Seed: 9, AccountID: "111111111111", End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		Rate: 50000.0 / 86400, Regions: []string{"us-east-1"}, PerFile: 200}); err != nil {
		b.Fatal(err)
	}
	var objs []Object
	var size int64
	err := filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		objs = append(objs, Object{Bucket: "b", Key: "t/" + filepath.ToSlash(rel), Body: body, ETag: rel})
		size += int64(len(body))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	tb := tableOf(b, `CREATE EXTERNAL TABLE ct (`+guideColumns(b)+`) LOCATION 's3://b/t/'`)
	q, _ := Parse("SELECT count(*), count(useridentity.accountid) FROM ct")
	b.SetBytes(size)
	var cpu time.Duration
	for b.Loop() {
		c0 := cpuTime()
		e, err := New()
		if err != nil {
			b.Fatal(err)
		}
		res, err := e.Run(context.Background(), q.(*Query), "default", func(db, n string) (*Table, bool) { return tb, true }, objs, time.Now())
		if err != nil || *res.Rows[0][0] != "50000" {
			b.Fatalf("%v %v", err, cells(res.Rows[0]))
		}
		cpu += cpuTime() - c0
		b.StopTimer()
		e.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/load")
}

// guideColumns is the column list of the guide's table.
func guideColumns(t testing.TB) string {
	var parts []string
	for _, f := range guideTable(t).Columns {
		parts = append(parts, "`"+f.Name+"` "+f.Type.Hive())
	}
	return strings.Join(parts, ", ")
}
