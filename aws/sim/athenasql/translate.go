package athenasql

import (
	"fmt"
	"strings"
)

// Lookup finds a table in the catalog (db empty: the query's database).
type Lookup func(db, name string) (*Table, bool)

// OutColumn is one column of a query's result: its name and, when the
// translator can tell, its type (nil: read from the values).
type OutColumn struct {
	Name string
	Type *Type
}

// translation is a query in SQLite's dialect, with a marker
// "\x00S<n>\x00" where the n-th source table's rows are to be put.
type translation struct {
	sql     string
	sources []*Table
	cols    []OutColumn
	star    bool
	// prune is the outer query's WHERE terms that name only partition
	// keys of its one table (pruneTable, aliased pruneAlias), in SQLite's
	// dialect, with the raw terms for checks.
	prune      []string
	pruneRaw   [][]Token
	pruneTable *Table
	pruneAlias string
}

type ref struct {
	table *Table
	// unnest: the alias of CROSS JOIN UNNEST(x) alias (col): elem is the
	// array's element type, col the column name.
	unnest *Type
	col    string
}

type translator struct {
	toks   []Token
	lookup Lookup
	db     string
	refs   map[string]*ref // by alias (lower-case)
	order  []string        // aliases in order of appearance
	ctes   map[string]bool
	srcAt  map[int]srcSpan // source table spans by first token index
	unAt   map[int]unnestSpan
	tables map[*Table]int
	tr     *translation
	// after[i] is the alias to add after token i (select items)
	after map[int]string
}

type srcSpan struct {
	end   int // one past the name's last token
	table *Table
	alias string // "" when the query names none
}

type unnestSpan struct {
	exprFrom, exprTo int // the argument's tokens
	end              int // one past the column list
	alias            string
}

// keywords that never start a column reference.
var keywords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`SELECT FROM WHERE AND OR NOT IN IS NULL LIKE ESCAPE BETWEEN AS ON JOIN CROSS INNER LEFT RIGHT FULL OUTER
		GROUP BY ORDER HAVING LIMIT OFFSET ASC DESC NULLS FIRST LAST DISTINCT ALL UNION INTERSECT EXCEPT CASE WHEN THEN ELSE END
		TRUE FALSE CAST TRY_CAST VARCHAR BIGINT INTEGER INT DOUBLE BOOLEAN TIMESTAMP DATE INTERVAL WITH UNNEST EXISTS ROW ROWS FETCH ONLY
		OVER PARTITION ORDINALITY USING NATURAL ZONE AT TIME REAL DECIMAL CHAR SMALLINT TINYINT`) {
		keywords[w] = true
	}
}

func isKeyword(t Token) bool { return t.Kind == Ident && keywords[strings.ToUpper(t.Text)] }

func translate(q *Query, db string, lookup Lookup) (*translation, error) {
	tr := &translator{toks: q.Tokens, lookup: lookup, db: db, refs: map[string]*ref{}, ctes: map[string]bool{},
		srcAt: map[int]srcSpan{}, unAt: map[int]unnestSpan{}, tables: map[*Table]int{}, tr: &translation{}, after: map[int]string{}}
	if err := tr.collect(); err != nil {
		return nil, err
	}
	if err := tr.outer(); err != nil {
		return nil, err
	}
	var b strings.Builder
	if _, err := tr.emit(0, len(tr.toks)-1, &b); err != nil {
		return nil, err
	}
	tr.tr.sql = b.String()
	return tr.tr, nil
}

// collect finds the CTE names, the tables every FROM and JOIN names and
// the UNNESTs, with their aliases.
func (tr *translator) collect() error {
	toks := tr.toks
	depth := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.IsOp("("):
			depth++
		case t.IsOp(")"):
			depth--
		case (t.Kind == Ident || t.Kind == QIdent) && i+2 < len(toks) && toks[i+1].Is("AS") && toks[i+2].IsOp("(") && i > 0 && (toks[i-1].Is("WITH") || toks[i-1].IsOp(",")):
			tr.ctes[t.Name()] = true
		}
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !(t.Is("FROM") || t.Is("JOIN")) {
			continue
		}
		j := i + 1
		for {
			var err error
			j, err = tr.source(j)
			if err != nil {
				return err
			}
			if toks[j].IsOp(",") && t.Is("FROM") {
				j++
				continue
			}
			break
		}
	}
	return nil
}

// source reads one FROM item at i and returns the index after it.
func (tr *translator) source(i int) (int, error) {
	toks := tr.toks
	t := toks[i]
	switch {
	case t.IsOp("("):
		depth := 0
		for ; i < len(toks)-1; i++ {
			if toks[i].IsOp("(") {
				depth++
			} else if toks[i].IsOp(")") {
				depth--
				if depth == 0 {
					i++
					break
				}
			}
		}
		if toks[i].Is("AS") {
			i++
		}
		if toks[i].Kind == Ident && !isKeyword(toks[i]) || toks[i].Kind == QIdent {
			tr.refs[toks[i].Name()] = &ref{}
			i++
		}
		return i, nil
	case t.Is("UNNEST"):
		if !toks[i+1].IsOp("(") {
			return 0, errAt("SYNTAX_ERROR", toks[i+1], "mismatched input '%s'. Expecting: '('", toks[i+1].Text)
		}
		depth, j := 0, i+1
		for ; j < len(toks)-1; j++ {
			if toks[j].IsOp("(") {
				depth++
			} else if toks[j].IsOp(")") {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		sp := unnestSpan{exprFrom: i + 2, exprTo: j}
		j++
		if toks[j].Is("WITH") && toks[j+1].Is("ORDINALITY") {
			return 0, errAt("NOT_SUPPORTED", toks[j], "WITH ORDINALITY is not supported by the drill")
		}
		if toks[j].Is("AS") {
			j++
		}
		if toks[j].Kind != Ident && toks[j].Kind != QIdent || isKeyword(toks[j]) {
			return 0, errAt("SYNTAX_ERROR", toks[j], "UNNEST needs an alias in the drill: UNNEST(x) AS t (col)")
		}
		sp.alias = toks[j].Name()
		j++
		col := "col"
		if toks[j].IsOp("(") {
			col = toks[j+1].Name()
			if !toks[j+2].IsOp(")") {
				return 0, errAt("NOT_SUPPORTED", toks[j+2], "UNNEST of more than one column is not supported by the drill")
			}
			j += 3
		}
		sp.end = j
		tr.unAt[i] = sp
		tr.refs[sp.alias] = &ref{col: col}
		tr.order = append(tr.order, sp.alias)
		return j, nil
	case t.Kind == Ident && !isKeyword(t) || t.Kind == QIdent:
		j := i
		parts := []Token{toks[j]}
		for toks[j+1].IsOp(".") && (toks[j+2].Kind == Ident || toks[j+2].Kind == QIdent) {
			parts = append(parts, toks[j+2])
			j += 2
		}
		j++
		if len(parts) == 1 && tr.ctes[parts[0].Name()] {
			alias := parts[0].Name()
			if toks[j].Is("AS") {
				j++
			}
			if toks[j].Kind == Ident && !isKeyword(toks[j]) || toks[j].Kind == QIdent {
				alias = toks[j].Name()
				j++
			}
			tr.refs[alias] = &ref{}
			return j, nil
		}
		var db, name string
		switch len(parts) {
		case 1:
			name = parts[0].Name()
		case 2:
			db, name = parts[0].Name(), parts[1].Name()
		case 3:
			if parts[0].Name() != "awsdatacatalog" {
				return 0, errAt("CATALOG_NOT_FOUND", parts[0], "Catalog '%s' does not exist", parts[0].Name())
			}
			db, name = parts[1].Name(), parts[2].Name()
		default:
			return 0, errAt("SYNTAX_ERROR", parts[3], "Too many dots in table name")
		}
		tb, ok := tr.lookup(db, name)
		if !ok {
			if db == "" {
				db = tr.db
			}
			return 0, errAt("TABLE_NOT_FOUND", t, "Table 'awsdatacatalog.%s.%s' does not exist", db, name)
		}
		sp := srcSpan{end: j, table: tb}
		alias := name
		k := j
		if toks[k].Is("AS") {
			k++
		}
		if toks[k].Kind == Ident && !isKeyword(toks[k]) || toks[k].Kind == QIdent {
			alias, sp.alias = toks[k].Name(), toks[k].Name()
			k++
		}
		tr.srcAt[i] = sp
		tr.refs[alias] = &ref{table: tb}
		tr.order = append(tr.order, alias)
		if _, ok := tr.tables[tb]; !ok {
			tr.tables[tb] = len(tr.tr.sources)
			tr.tr.sources = append(tr.tr.sources, tb)
		}
		return k, nil
	}
	return 0, errAt("SYNTAX_ERROR", t, "mismatched input '%s'. Expecting: <table>", tokText(t))
}

func tokText(t Token) string {
	if t.Kind == EOF {
		return "<EOF>"
	}
	return t.Text
}

// outer reads the outermost SELECT: its items (names and types for the
// result metadata) and its WHERE terms over partition keys.
func (tr *translator) outer() error {
	toks := tr.toks
	depth, sel := 0, -1
	for i, t := range toks {
		if t.IsOp("(") {
			depth++
		} else if t.IsOp(")") {
			depth--
		} else if depth == 0 && t.Is("SELECT") {
			sel = i
			break
		}
	}
	if sel < 0 {
		return errAt("SYNTAX_ERROR", toks[0], "mismatched input '%s'. Expecting: 'SELECT'", tokText(toks[0]))
	}
	i := sel + 1
	if toks[i].Is("DISTINCT") || toks[i].Is("ALL") {
		i++
	}
	// items up to FROM (or the end of the select list) at depth 0
	end := i
	depth = 0
	for ; end < len(toks)-1; end++ {
		t := toks[end]
		if t.IsOp("(") {
			depth++
		} else if t.IsOp(")") {
			if depth == 0 {
				break
			}
			depth--
		} else if depth == 0 && (t.Is("FROM") || t.Is("WHERE") || t.Is("GROUP") || t.Is("ORDER") || t.Is("LIMIT") || t.Is("UNION") || t.IsOp(";")) {
			break
		}
	}
	from := end
	var outerRefs []string
	if toks[from].Is("FROM") {
		// the aliases of this FROM, in order
		outerRefs = append(outerRefs, tr.order...)
	}
	start := i
	n := 0
	depth = 0
	for k := i; k <= end; k++ {
		t := toks[k]
		if k < end && t.IsOp("(") {
			depth++
			continue
		}
		if k < end && t.IsOp(")") {
			depth--
			continue
		}
		if k == end || depth == 0 && t.IsOp(",") {
			if err := tr.item(start, k, n, outerRefs); err != nil {
				return err
			}
			n++
			start = k + 1
		}
	}
	// WHERE terms over partition keys, when the outer FROM is one table.
	if !toks[from].Is("FROM") {
		return nil
	}
	sp, ok := tr.srcAt[from+1]
	if !ok {
		return nil
	}
	w := sp.end
	if toks[w].Is("AS") {
		w++
	}
	if sp.alias != "" {
		w++
	}
	if !toks[w].Is("WHERE") {
		return nil
	}
	tr.tr.pruneTable = sp.table
	tr.tr.pruneAlias = sp.alias
	if sp.alias == "" {
		tr.tr.pruneAlias = sp.table.Name
	}
	w++
	depth, between, tstart := 0, false, w
	for k := w; k < len(toks); k++ {
		t := toks[k]
		if t.IsOp("(") {
			depth++
			continue
		}
		if t.IsOp(")") {
			if depth == 0 {
				tr.pruneTerm(tstart, k)
				break
			}
			depth--
			continue
		}
		if depth > 0 {
			continue
		}
		if t.Is("BETWEEN") {
			between = true
		}
		if t.Is("AND") && between {
			between = false
			continue
		}
		if t.Is("AND") || t.Kind == EOF || t.Is("GROUP") || t.Is("ORDER") || t.Is("LIMIT") || t.Is("HAVING") || t.Is("UNION") || t.Is("OFFSET") || t.Is("INTERSECT") || t.Is("EXCEPT") {
			tr.pruneTerm(tstart, k)
			tstart = k + 1
			if !t.Is("AND") {
				break
			}
		}
	}
	return nil
}

// pruneTerm keeps toks[a:b] as a partition filter when every column it
// names is a partition key of the outer table.
func (tr *translator) pruneTerm(a, b int) {
	if a >= b {
		return
	}
	for k := a; k < b; k++ {
		if tr.toks[k].Is("SELECT") {
			return
		}
	}
	var sb strings.Builder
	info, err := tr.emit(a, b, &sb)
	if err != nil || len(info.cols) == 0 || info.unresolved {
		return
	}
	for _, c := range info.cols {
		if c.table != tr.tr.pruneTable || !c.table.IsPartitionKey(c.name) || c.path {
			return
		}
	}
	tr.tr.prune = append(tr.tr.prune, sb.String())
	tr.tr.pruneRaw = append(tr.tr.pruneRaw, tr.toks[a:b])
}

// item reads one select item toks[a:b]: its output name and type.
func (tr *translator) item(a, b, n int, outerRefs []string) error {
	toks := tr.toks
	if a >= b {
		return errAt("SYNTAX_ERROR", toks[a], "mismatched input '%s'. Expecting: <expression>", tokText(toks[a]))
	}
	// * and alias.*
	if b-a == 1 && toks[a].IsOp("*") || b-a == 3 && toks[a+1].IsOp(".") && toks[a+2].IsOp("*") {
		var which []string
		if b-a == 1 {
			which = outerRefs
		} else {
			which = []string{toks[a].Name()}
		}
		for _, al := range which {
			r := tr.refs[al]
			if r == nil {
				return errAt("COLUMN_NOT_FOUND", toks[a], "Column '%s' cannot be resolved", al)
			}
			switch {
			case r.table != nil:
				for _, f := range r.table.AllColumns() {
					tr.tr.cols = append(tr.tr.cols, OutColumn{Name: strings.ToLower(f.Name), Type: f.Type})
				}
			case r.unnest != nil || r.col != "":
				tr.tr.cols = append(tr.tr.cols, OutColumn{Name: r.col})
			default:
				tr.tr.star = true
			}
		}
		return nil
	}
	alias := ""
	end := b
	if b-a >= 3 && toks[b-2].Is("AS") {
		alias, end = toks[b-1].Name(), b-2
	} else if b-a >= 2 && (toks[b-1].Kind == QIdent || toks[b-1].Kind == Ident && !isKeyword(toks[b-1])) &&
		(toks[b-2].Kind == Ident && !isKeyword(toks[b-2]) || toks[b-2].Kind == QIdent || toks[b-2].IsOp(")") || toks[b-2].Kind == String || toks[b-2].Kind == Number) {
		alias, end = toks[b-1].Name(), b-1
	}
	name := fmt.Sprintf("_col%d", n)
	var ty *Type
	if c, ok := tr.chainAt(a); ok && c.end == end {
		if c.leaf != "" {
			name = c.leaf
		}
		// the type of what the path reaches, not the column's: a
		// struct's string field is a varchar (emit reports a bad path)
		if c.resolveType(toks[a]) == nil {
			ty = c.typ
		}
	} else if toks[a].Kind == Ident && toks[a+1].IsOp("(") {
		switch strings.ToLower(toks[a].Text) {
		case "count", "count_if", "approx_distinct":
			ty = typeBigint
		case "from_iso8601_timestamp":
			ty = typeTSTZ
		case "regexp_like", "starts_with", "contains":
			ty = typeBool
		case "lower", "upper", "json_extract_scalar", "concat", "substr", "trim", "replace", "json_format", "to_iso8601":
			ty = typeString
		case "min", "max", "arbitrary", "any_value":
			if c, ok := tr.chainAt(a + 2); ok && c.end < end && toks[c.end].IsOp(")") && c.end+1 == end && c.resolveType(toks[a+2]) == nil {
				ty = c.typ
			}
		case "cardinality", "length", "strpos":
			ty = typeBigint
		}
	}
	if alias != "" {
		name = alias
	} else {
		tr.after[end-1] = name
	}
	tr.tr.cols = append(tr.tr.cols, OutColumn{Name: name, Type: ty})
	return nil
}

// chain is a column reference: a column (maybe qualified) and a path of
// struct fields and subscripts.
type chain struct {
	end    int // one past its last token
	table  *Table
	name   string // the column's name
	qual   string // the alias it was qualified with, if any
	unnest *ref   // set for a reference to an UNNEST column
	typ    *Type  // the result's type (nil: unknown)
	path   []pathStep
	leaf   string // the name Trino gives the result (the last field)
}

type pathStep struct {
	field string // struct field or map key
	index int    // array subscript (1-based), when field is ""
	isKey bool
}

// chainAt reads a column reference starting at i.
func (tr *translator) chainAt(i int) (chain, bool) {
	toks := tr.toks
	t := toks[i]
	if t.Kind != Ident && t.Kind != QIdent || t.Kind == Ident && isKeyword(t) {
		return chain{}, false
	}
	if toks[i+1].IsOp("(") {
		return chain{}, false
	}
	// names joined by dots
	names := []Token{t}
	j := i + 1
	for toks[j].IsOp(".") && (toks[j+1].Kind == Ident || toks[j+1].Kind == QIdent) {
		names = append(names, toks[j+1])
		j += 2
	}
	c := chain{}
	rest := names
	if r := tr.refs[t.Name()]; r != nil && len(names) >= 2 {
		switch {
		case r.table != nil:
			if f, ok := r.table.Column(names[1].Name()); ok {
				c.table, c.name, c.qual, c.typ = r.table, strings.ToLower(f.Name), t.Name(), f.Type
				rest = names[2:]
			}
		case r.col != "" && names[1].Name() == r.col:
			c.unnest, c.qual, c.typ, c.name = r, t.Name(), r.unnest, r.col
			rest = names[2:]
		}
	}
	if c.name == "" {
		for _, al := range tr.order {
			r := tr.refs[al]
			if r.table != nil {
				if f, ok := r.table.Column(t.Name()); ok {
					c.table, c.name, c.typ = r.table, strings.ToLower(f.Name), f.Type
					break
				}
			} else if r.col != "" && r.col == t.Name() {
				c.unnest, c.qual, c.typ, c.name = r, al, r.unnest, r.col
				break
			}
		}
		if c.name == "" {
			return chain{}, false
		}
		rest = names[1:]
	}
	c.leaf = c.name
	for _, n := range rest {
		c.path = append(c.path, pathStep{field: n.Name()})
		c.leaf = n.Name()
	}
	// subscripts: [1] on arrays, ['k'] on maps, then maybe more fields
	for toks[j].IsOp("[") && (toks[j+1].Kind == Number || toks[j+1].Kind == String) && toks[j+2].IsOp("]") {
		if toks[j+1].Kind == Number {
			var n int
			fmt.Sscan(toks[j+1].Val, &n)
			c.path = append(c.path, pathStep{index: n})
		} else {
			c.path = append(c.path, pathStep{field: toks[j+1].Val, isKey: true})
		}
		j += 3
		for toks[j].IsOp(".") && (toks[j+1].Kind == Ident || toks[j+1].Kind == QIdent) {
			c.path = append(c.path, pathStep{field: toks[j+1].Name()})
			c.leaf = toks[j+1].Name()
			j += 2
		}
	}
	c.end = j
	return c, true
}

// resolveType walks the path through the column's type; it fails with
// Athena's COLUMN_NOT_FOUND on a field the struct does not have.
func (c *chain) resolveType(at Token) error {
	ty := c.typ
	where := c.name
	for _, st := range c.path {
		if ty == nil {
			return nil
		}
		switch {
		case st.field != "" && !st.isKey:
			where += "." + st.field
			if ty.Kind != "struct" {
				return errAt("TYPE_MISMATCH", at, "Expression %s is not of type ROW", where)
			}
			f, ok := ty.Field(st.field)
			if !ok {
				return errAt("COLUMN_NOT_FOUND", at, "Column '%s' cannot be resolved", where)
			}
			ty = f.Type
		case st.isKey:
			if ty.Kind != "map" {
				return errAt("TYPE_MISMATCH", at, "Cannot use subscript on %s", where)
			}
			ty = ty.Elem
		default:
			if ty.Kind != "array" {
				return errAt("TYPE_MISMATCH", at, "Cannot use subscript on %s", where)
			}
			if st.index < 1 {
				return errAt("INVALID_FUNCTION_ARGUMENT", at, "SQL array indices start at 1")
			}
			ty = ty.Elem
		}
	}
	c.typ = ty
	return nil
}

// jsonPath is the chain's path for json_extract.
func (c *chain) jsonPath() string {
	var b strings.Builder
	b.WriteString("$")
	for _, st := range c.path {
		switch {
		case st.field != "" && !st.isKey:
			b.WriteString(".")
			b.WriteString(st.field)
		case st.isKey:
			b.WriteString(`."`)
			b.WriteString(strings.ReplaceAll(st.field, `"`, `\"`))
			b.WriteString(`"`)
		default:
			fmt.Fprintf(&b, "[%d]", st.index-1)
		}
	}
	return b.String()
}

type colUse struct {
	table *Table
	name  string
	path  bool
}

type emitInfo struct {
	cols       []colUse
	unresolved bool
}

// functions whose names differ; the rest are passed to SQLite as named.
var funcs = map[string]string{
	"from_iso8601_timestamp": "athena_from_iso8601_timestamp",
	"regexp_like":            "athena_regexp_like",
	"json_extract_scalar":    "athena_json_extract_scalar",
	"strpos":                 "instr",
	"cardinality":            "json_array_length",
	"starts_with":            "athena_starts_with",
	"to_iso8601":             "athena_to_iso8601",
}

func quoteIdent(s string) string  { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// emit writes toks[a:b] in SQLite's dialect.
func (tr *translator) emit(a, b int, out *strings.Builder) (emitInfo, error) {
	var info emitInfo
	toks := tr.toks
	sp := func() {
		if out.Len() > 0 {
			out.WriteByte(' ')
		}
	}
	for i := a; i < b; {
		t := toks[i]
		if s, ok := tr.srcAt[i]; ok {
			sp()
			fmt.Fprintf(out, "\x00S%d\x00 AS %s", tr.tables[s.table], quoteIdent(orDefault(s.alias, s.table.Name)))
			i = s.end
			if s.alias != "" {
				if toks[i].Is("AS") {
					i++
				}
				i++
			}
			continue
		}
		if u, ok := tr.unAt[i]; ok {
			var arg strings.Builder
			if _, err := tr.emit(u.exprFrom, u.exprTo, &arg); err != nil {
				return info, err
			}
			// the element type, from the argument when it is a column
			if c, ok := tr.chainAt(u.exprFrom); ok && c.end == u.exprTo {
				if err := c.resolveType(toks[u.exprFrom]); err == nil && c.typ != nil && c.typ.Kind == "array" {
					tr.refs[u.alias].unnest = c.typ.Elem
				}
			}
			sp()
			fmt.Fprintf(out, "json_each(%s) AS %s", arg.String(), quoteIdent(u.alias))
			i = u.end
			continue
		}
		if c, ok := tr.chainAt(i); ok {
			if err := c.resolveType(t); err != nil {
				return info, err
			}
			sp()
			base := quoteIdent(c.name)
			if c.unnest != nil {
				base = quoteIdent(c.qual) + ".value"
			} else if c.qual != "" {
				base = quoteIdent(c.qual) + "." + base
			}
			if len(c.path) == 0 {
				out.WriteString(base)
			} else {
				fmt.Fprintf(out, "json_extract(%s, %s)", base, quoteString(c.jsonPath()))
			}
			info.cols = append(info.cols, colUse{table: c.table, name: c.name, path: len(c.path) > 0})
			i = c.end
			if al, ok := tr.after[i-1]; ok {
				out.WriteString(" AS " + quoteIdent(al))
			}
			continue
		}
		if end, ok := castToJSON(toks, i, b); ok {
			// CAST(x AS JSON): structs, arrays and maps are held as
			// JSON already (json_format then gives it back as text).
			sp()
			out.WriteString("(")
			if _, err := tr.emit(i+2, end-2, out); err != nil {
				return info, err
			}
			out.WriteString(")")
			i = end + 1
			continue
		}
		switch {
		case t.Kind == Ident && toks[i+1].IsOp("("):
			sp()
			if m, ok := funcs[strings.ToLower(t.Text)]; ok {
				out.WriteString(m)
			} else {
				out.WriteString(t.Text)
			}
		case (t.Is("TIMESTAMP") || t.Is("DATE")) && toks[i+1].Kind == String:
			sp()
			if t.Is("DATE") {
				out.WriteString(quoteString(toks[i+1].Val))
			} else {
				ts, ok := normTimestamp(toks[i+1].Val)
				if !ok {
					return info, errAt("INVALID_LITERAL", t, "'%s' is not a valid TIMESTAMP literal", toks[i+1].Val)
				}
				out.WriteString(quoteString(ts))
			}
			i += 2
			if al, ok := tr.after[i-1]; ok {
				out.WriteString(" AS " + quoteIdent(al))
			}
			continue
		case t.Kind == QIdent:
			sp()
			out.WriteString(quoteIdent(t.Val))
			if !(i > 0 && toks[i-1].Is("AS")) {
				info.unresolved = true
			}
		case t.Kind == Ident:
			sp()
			if !isKeyword(t) && (i > 0 && toks[i-1].Is("AS") || toks[i+1].IsOp(".")) {
				// an alias or a qualifier: a name, whatever SQLite reserves
				out.WriteString(quoteIdent(t.Text))
			} else {
				out.WriteString(t.Text)
			}
			if !isKeyword(t) && !(i > 0 && toks[i-1].Is("AS")) {
				info.unresolved = true
			}
		case t.Kind == String:
			sp()
			out.WriteString(quoteString(t.Val))
		case t.Kind == EOF:
		default:
			if t.IsOp(".") || t.IsOp("(") || t.IsOp(")") || t.IsOp(",") || i > a && toks[i-1].IsOp(".") || i > a && toks[i-1].IsOp("(") {
				out.WriteString(t.Text)
			} else {
				sp()
				out.WriteString(t.Text)
			}
		}
		i++
		if al, ok := tr.after[i-1]; ok {
			out.WriteString(" AS " + quoteIdent(al))
		}
	}
	return info, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
