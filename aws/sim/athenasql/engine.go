package athenasql

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Object is one S3 object a query may read: its bucket and key, its
// stored (compressed) bytes and its ETag.
type Object struct {
	Bucket, Key string
	Body        []byte
	ETag        string
}

// Result is a finished query: the columns, the rows (nil for SQL NULL),
// and the bytes read from S3.
type Result struct {
	Columns []OutColumn
	Rows    [][]*string
	Scanned int64
}

// Engine runs queries. One SQLite database in memory holds, per table,
// the records of the objects queries have read; a later query loads only
// the objects that are new or changed since and drops the rows of the
// ones that went away. Safe for concurrent use (queries run one at a time).
type Engine struct {
	mu     sync.Mutex
	db     *sql.DB
	stores map[string]*store
	seq    int
}

type store struct {
	sqlName string
	sig     string // the table's definition when loaded
	loaded  map[string]loadedObj
	nextID  int64
}

type loadedObj struct {
	id   int64
	etag string
}

// New opens the engine's database.
func New() (*Engine, error) {
	register()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	// Trino's LIKE is case-sensitive; SQLite's is not unless told.
	if _, err := db.Exec("PRAGMA case_sensitive_like = ON"); err != nil {
		db.Close()
		return nil, err
	}
	return &Engine{db: db, stores: map[string]*store{}}, nil
}

// Close releases the database.
func (e *Engine) Close() error { return e.db.Close() }

// Forget drops what the engine loaded for a table (DROP TABLE).
func (e *Engine) Forget(db, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if st, ok := e.stores[db+"."+name]; ok {
		_, _ = e.db.Exec("DROP TABLE IF EXISTS " + quoteIdent(st.sqlName))
		delete(e.stores, db+"."+name)
	}
}

// Run executes a SELECT over objects (the account's S3 objects; the
// engine picks each table's from its LOCATION and partitions). db is the
// query's database; now is the account's clock (partition projection's
// NOW).
func (e *Engine) Run(ctx context.Context, q *Query, db string, lookup Lookup, objects []Object, now time.Time) (*Result, error) {
	tr, err := translate(q, db, lookup)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	res := &Result{}
	sqlText := tr.sql
	for i, t := range tr.sources {
		parts, err := partitionsOf(t, objects, now)
		if err != nil {
			return nil, err
		}
		if t == tr.pruneTable {
			if err := checkInjected(t, tr); err != nil {
				return nil, err
			}
			if len(tr.prune) > 0 {
				if parts, err = e.prune(ctx, t, tr, parts); err != nil {
					return nil, err
				}
			}
		} else if err := checkInjected(t, nil); err != nil {
			return nil, err
		}
		var keep []partObject
		for _, p := range parts {
			for _, o := range p.objects {
				keep = append(keep, partObject{obj: o, values: p.values})
				res.Scanned += int64(len(o.Body))
			}
		}
		src, err := e.sync(ctx, t, keep)
		if err != nil {
			return nil, err
		}
		sqlText = strings.ReplaceAll(sqlText, fmt.Sprintf("\x00S%d\x00", i), src)
	}
	rows, err := e.db.QueryContext(ctx, sqlText)
	if err != nil {
		return nil, sqliteError(err, q)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, sqliteError(err, q)
	}
	cols := tr.cols
	if len(cols) != len(names) {
		cols = make([]OutColumn, len(names))
		for i, n := range names {
			cols[i] = OutColumn{Name: n}
		}
	}
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	kinds := make([]*Type, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, sqliteError(err, q)
		}
		row := make([]*string, len(vals))
		for i, v := range vals {
			if v == nil {
				continue
			}
			ty := cols[i].Type
			if ty == nil {
				if kinds[i] == nil {
					switch v.(type) {
					case int64:
						kinds[i] = typeBigint
					case float64:
						kinds[i] = typeDouble
					default:
						kinds[i] = typeString
					}
				}
				ty = kinds[i]
			}
			s := render(ty, v)
			row[i] = &s
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, sqliteError(err, q)
	}
	for i := range cols {
		if cols[i].Type == nil {
			cols[i].Type = kinds[i]
			if cols[i].Type == nil {
				cols[i].Type = typeString
			}
		}
	}
	res.Columns = cols
	return res, nil
}

// render is a value as Athena writes it in results.
func render(ty *Type, v any) string {
	var s string
	switch x := v.(type) {
	case int64:
		if ty.Kind == "boolean" {
			return strconv.FormatBool(x != 0)
		}
		s = strconv.FormatInt(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
		if ty.Kind == "double" && !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
	case []byte:
		s = string(x)
	case string:
		s = x
	default:
		s = fmt.Sprint(x)
	}
	switch ty.Kind {
	case "struct", "array", "map":
		var doc any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		// the whole text, not a prefix of it: "2026-11-20" is no number
		if d.Decode(&doc) == nil {
			if _, err := d.Token(); err == io.EOF {
				return renderJSON(ty, doc)
			}
		}
	}
	return s
}

// renderJSON writes a struct, array or map as Athena shows it:
// {name=value, …}, [a, b], null for null.
func renderJSON(ty *Type, v any) string {
	if v == nil {
		return "null"
	}
	switch ty.Kind {
	case "struct":
		m, ok := v.(map[string]any)
		if !ok {
			return "null"
		}
		parts := make([]string, len(ty.Fields))
		for i, f := range ty.Fields {
			parts[i] = strings.ToLower(f.Name) + "=" + renderJSON(f.Type, m[strings.ToLower(f.Name)])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case "array":
		a, ok := v.([]any)
		if !ok {
			return "null"
		}
		parts := make([]string, len(a))
		for i, x := range a {
			parts[i] = renderJSON(ty.Elem, x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return "null"
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + renderJSON(ty.Elem, m[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

var noSuchColumn = regexp.MustCompile(`no such column: ([^\s]+)`)
var noSuchFunc = regexp.MustCompile(`no such function: ([^\s]+)`)

// sqliteError states SQLite's complaint as Athena would.
func sqliteError(err error, q *Query) error {
	msg := err.Error()
	if i := strings.Index(msg, "INVALID_FUNCTION_ARGUMENT: "); i >= 0 {
		return &Error{Type: "INVALID_FUNCTION_ARGUMENT", Msg: strings.TrimPrefix(msg[i:], "INVALID_FUNCTION_ARGUMENT: ")}
	}
	find := func(name string) Token {
		name = strings.Trim(name, "`\"")
		if k := strings.LastIndexByte(name, '.'); k >= 0 {
			name = name[k+1:]
		}
		for _, t := range q.Tokens {
			if (t.Kind == Ident || t.Kind == QIdent) && strings.EqualFold(t.Val, name) {
				return t
			}
		}
		return Token{Line: 1, Col: 1}
	}
	if m := noSuchColumn.FindStringSubmatch(msg); m != nil {
		t := find(m[1])
		return errAt("COLUMN_NOT_FOUND", t, "Column '%s' cannot be resolved or requester is not authorized to access requested resources", strings.Trim(m[1], "`\""))
	}
	if m := noSuchFunc.FindStringSubmatch(msg); m != nil {
		t := find(m[1])
		return errAt("FUNCTION_NOT_FOUND", t, "Function '%s' not registered", strings.ToLower(m[1]))
	}
	if i := strings.Index(msg, "syntax error"); i >= 0 {
		return &Error{Type: "SYNTAX_ERROR", Line: 1, Col: 1, Msg: msg[i:]}
	}
	return &Error{Type: "GENERIC_INTERNAL_ERROR", Msg: msg}
}

type partObject struct {
	obj    Object
	values []string
}

type partition struct {
	values  []string // by partition key
	objects []Object
}

// sync brings the table's store up to date with objs and returns the
// SQL of a subquery giving the table's rows of exactly those objects.
func (e *Engine) sync(ctx context.Context, t *Table, objs []partObject) (string, error) {
	key := t.Database + "." + t.Name
	sig := tableSig(t)
	st := e.stores[key]
	if st != nil && st.sig != sig {
		_, _ = e.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(st.sqlName))
		st = nil
	}
	all := t.AllColumns()
	if st == nil {
		e.seq++
		st = &store{sqlName: fmt.Sprintf("t%d_%s", e.seq, t.Name), sig: sig, loaded: map[string]loadedObj{}}
		defs := []string{"__obj INTEGER"}
		for _, f := range all {
			defs = append(defs, quoteIdent(strings.ToLower(f.Name)))
		}
		if _, err := e.db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s (%s)", quoteIdent(st.sqlName), strings.Join(defs, ", "))); err != nil {
			return "", err
		}
		if _, err := e.db.ExecContext(ctx, fmt.Sprintf("CREATE INDEX %s ON %s (__obj)", quoteIdent(st.sqlName+"_obj"), quoteIdent(st.sqlName))); err != nil {
			return "", err
		}
		e.stores[key] = st
	}
	want := map[string]bool{}
	var toLoad []partObject
	ids := make([]int64, 0, len(objs))
	for _, po := range objs {
		k := po.obj.Bucket + "/" + po.obj.Key
		want[k] = true
		if lo, ok := st.loaded[k]; ok && lo.etag == po.obj.ETag {
			ids = append(ids, lo.id)
			continue
		}
		toLoad = append(toLoad, po)
	}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	// rows of objects changed since they were loaded; st.loaded changes
	// only once the transaction is committed
	var changed []string
	for _, po := range toLoad {
		k := po.obj.Bucket + "/" + po.obj.Key
		if lo, ok := st.loaded[k]; ok {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(st.sqlName)+" WHERE __obj = ?", lo.id); err != nil {
				return "", err
			}
			changed = append(changed, k)
		}
	}
	var loaded []loadedObj
	if len(toLoad) > 0 {
		if loaded, err = e.load(ctx, tx, st, t, toLoad); err != nil {
			return "", err
		}
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	for _, k := range changed {
		delete(st.loaded, k)
	}
	for i, lo := range loaded {
		st.loaded[toLoad[i].obj.Bucket+"/"+toLoad[i].obj.Key] = lo
		ids = append(ids, lo.id)
	}
	names := make([]string, len(all))
	for i, f := range all {
		names[i] = quoteIdent(strings.ToLower(f.Name))
	}
	src := fmt.Sprintf("(SELECT %s FROM %s", strings.Join(names, ", "), quoteIdent(st.sqlName))
	if len(ids) != len(st.loaded) {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = strconv.FormatInt(id, 10)
		}
		src += " WHERE __obj IN (" + strings.Join(parts, ",") + ")"
	}
	return src + ")", nil
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// tableSig is what makes a table's rows: its columns and partition keys.
func tableSig(t *Table) string {
	var b strings.Builder
	for _, f := range t.Columns {
		b.WriteString(f.Name + " " + f.Type.Hive() + ",")
	}
	b.WriteString("|")
	for _, f := range t.PartitionKeys {
		b.WriteString(f.Name + ",")
	}
	return b.String()
}

// columnValue is one record field as the column holds it: text for
// strings (a JSON object or array as its text, as the CloudTrail SerDe
// gives requestparameters), JSON text with lower-case field names for
// structs, arrays and maps.
func columnValue(ty *Type, raw json.RawMessage) any {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	switch ty.Kind {
	case "string":
		if raw[0] == '"' {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				return s
			}
			return nil
		}
		return string(raw)
	case "bigint", "int", "smallint", "tinyint":
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			if i, err := n.Int64(); err == nil {
				return i
			}
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i
			}
		}
		return nil
	case "double", "float", "decimal":
		var f float64
		if json.Unmarshal(raw, &f) == nil {
			return f
		}
		return nil
	case "boolean":
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			if b {
				return int64(1)
			}
			return int64(0)
		}
		return nil
	case "struct", "array", "map":
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if d.Decode(&v) != nil {
			return nil
		}
		n := normalize(ty, v)
		if n == nil {
			return nil
		}
		b, _ := json.Marshal(n)
		return string(b)
	}
	return string(raw)
}

// normalize keeps a struct's declared fields under their lower-case
// names (JsonSerDe matches names case-insensitively) and strings as
// strings.
func normalize(ty *Type, v any) any {
	if v == nil {
		return nil
	}
	switch ty.Kind {
	case "struct":
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		out := make(map[string]any, len(ty.Fields))
		for k, x := range m {
			if f, ok := ty.Field(k); ok {
				out[strings.ToLower(f.Name)] = normalize(f.Type, x)
			}
		}
		return out
	case "array":
		a, ok := v.([]any)
		if !ok {
			return nil
		}
		out := make([]any, len(a))
		for i, x := range a {
			out[i] = normalize(ty.Elem, x)
		}
		return out
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[k] = normalize(ty.Elem, x)
		}
		return out
	case "string":
		switch x := v.(type) {
		case string:
			return x
		case json.Number:
			return x.String()
		case bool:
			return strconv.FormatBool(x)
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	return v
}

// prune keeps the partitions the WHERE's partition terms accept,
// evaluated by SQLite over a table of the partitions.
func (e *Engine) prune(ctx context.Context, t *Table, tr *translation, parts []partition) ([]partition, error) {
	if len(parts) == 0 {
		return parts, nil
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	defs := []string{"__p INTEGER"}
	for _, k := range t.PartitionKeys {
		defs = append(defs, quoteIdent(strings.ToLower(k.Name)))
	}
	_, _ = conn.ExecContext(ctx, "DROP TABLE IF EXISTS temp.__parts")
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE __parts ("+strings.Join(defs, ", ")+")"); err != nil {
		return nil, err
	}
	defer conn.ExecContext(context.Background(), "DROP TABLE IF EXISTS temp.__parts")
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(t.PartitionKeys)+1), ", ")
	for i, p := range parts {
		args := append([]any{i}, stringsToAny(p.values)...)
		if _, err := conn.ExecContext(ctx, "INSERT INTO temp.__parts VALUES ("+ph+")", args...); err != nil {
			return nil, err
		}
	}
	q := fmt.Sprintf("SELECT __p FROM temp.__parts AS %s WHERE %s", quoteIdent(tr.pruneAlias), strings.Join(tr.prune, " AND "))
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		// a term SQLite cannot read over the partitions alone keeps them all;
		// the query itself will say what is wrong.
		return parts, nil
	}
	defer rows.Close()
	var out []partition
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, err
		}
		out = append(out, parts[i])
	}
	return out, rows.Err()
}
