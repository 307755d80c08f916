package athenasql

import (
	"fmt"
	"strings"
)

// Type is a Hive column type.
type Type struct {
	Kind   string // string, bigint, int, smallint, tinyint, double, float, boolean, timestamp, date, decimal, struct, array, map
	Fields []Field
	Elem   *Type // array
	Key    *Type // map (Elem is the value)
}

// Field is a column or a struct field.
type Field struct {
	Name    string
	Type    *Type
	Comment string
}

// Hive is the type as Glue stores it ("struct<type:string,arn:string>").
func (t *Type) Hive() string {
	switch t.Kind {
	case "struct":
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ":" + f.Type.Hive()
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	case "array":
		return "array<" + t.Elem.Hive() + ">"
	case "map":
		return "map<" + t.Key.Hive() + "," + t.Elem.Hive() + ">"
	}
	return t.Kind
}

// Trino is the type as Athena's result metadata names it.
func (t *Type) Trino() string {
	switch t.Kind {
	case "string", "char":
		return "varchar"
	case "struct":
		return "row"
	case "array", "map", "bigint", "integer", "smallint", "tinyint", "double", "boolean", "date", "decimal":
		return t.Kind
	case "int":
		return "integer"
	case "float":
		return "real"
	case "timestamp":
		return "timestamp"
	case "timestamptz":
		return "timestamp with time zone"
	}
	return t.Kind
}

// Field returns a struct's field by name (case-insensitive).
func (t *Type) Field(name string) (*Field, bool) {
	for i := range t.Fields {
		if strings.EqualFold(t.Fields[i].Name, name) {
			return &t.Fields[i], true
		}
	}
	return nil, false
}

var (
	typeString = &Type{Kind: "string"}
	typeBigint = &Type{Kind: "bigint"}
	typeDouble = &Type{Kind: "double"}
	typeBool   = &Type{Kind: "boolean"}
	typeTSTZ   = &Type{Kind: "timestamptz"}
)

// Table is an external table in the catalog.
type Table struct {
	Database, Name string
	Columns        []Field
	PartitionKeys  []Field
	Comment        string
	Location       string
	SerDe          string
	SerDeProps     map[string]string
	InputFormat    string
	OutputFormat   string
	Properties     map[string]string
	// Partitions are the ones added with ALTER TABLE ADD PARTITION.
	Partitions []Partition
}

// Partition is an added partition: its values by key, and where it is.
type Partition struct {
	Values   map[string]string
	Location string
}

// Column finds a column or partition key by name.
func (t *Table) Column(name string) (*Field, bool) {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return &t.Columns[i], true
		}
	}
	for i := range t.PartitionKeys {
		if strings.EqualFold(t.PartitionKeys[i].Name, name) {
			return &t.PartitionKeys[i], true
		}
	}
	return nil, false
}

// IsPartitionKey reports whether name is one of the table's partition keys.
func (t *Table) IsPartitionKey(name string) bool {
	for _, k := range t.PartitionKeys {
		if strings.EqualFold(k.Name, name) {
			return true
		}
	}
	return false
}

// AllColumns is the columns then the partition keys, SELECT *'s order.
func (t *Table) AllColumns() []Field {
	return append(append([]Field{}, t.Columns...), t.PartitionKeys...)
}

// Statement kinds Parse returns.
type (
	// CreateDatabase is CREATE DATABASE|SCHEMA [IF NOT EXISTS] name.
	CreateDatabase struct {
		Name        string
		IfNotExists bool
		Comment     string
	}
	// DropDatabase is DROP DATABASE|SCHEMA [IF EXISTS] name [CASCADE].
	DropDatabase struct {
		Name     string
		IfExists bool
		Cascade  bool
	}
	// CreateTable is CREATE EXTERNAL TABLE [IF NOT EXISTS] [db.]name (…) ….
	CreateTable struct {
		Table       *Table
		IfNotExists bool
	}
	// DropTable is DROP TABLE [IF EXISTS] [db.]name.
	DropTable struct {
		Database, Name string
		IfExists       bool
	}
	// AddPartitions is ALTER TABLE [db.]name ADD [IF NOT EXISTS] PARTITION (…) [LOCATION '…'] ….
	AddPartitions struct {
		Database, Name string
		IfNotExists    bool
		Partitions     []Partition
	}
	// Query is a SELECT (or WITH … SELECT), run by the engine.
	Query struct {
		SQL    string
		Tokens []Token
	}
)

// Parse reads one statement (a trailing semicolon allowed).
func Parse(sql string) (any, error) {
	toks, err := Lex(sql)
	if err != nil {
		return nil, err
	}
	if n := len(toks); n >= 2 && toks[n-2].IsOp(";") {
		toks = append(toks[:n-2], toks[n-1])
	}
	p := &parser{toks: toks}
	first := p.peek()
	switch {
	case first.Is("SELECT") || first.Is("WITH") || first.IsOp("("):
		return &Query{SQL: sql, Tokens: toks}, nil
	case first.Is("CREATE"):
		p.next()
		if p.accept("DATABASE") || p.accept("SCHEMA") {
			return p.createDatabase()
		}
		p.accept("EXTERNAL")
		if p.accept("TABLE") {
			return p.createTable()
		}
	case first.Is("DROP"):
		p.next()
		if p.accept("TABLE") {
			st := &DropTable{}
			st.IfExists = p.acceptSeq("IF", "EXISTS")
			db, name, err := p.qualifiedName()
			if err != nil {
				return nil, err
			}
			st.Database, st.Name = db, name
			return st, p.end()
		}
		if p.accept("DATABASE") || p.accept("SCHEMA") {
			st := &DropDatabase{}
			st.IfExists = p.acceptSeq("IF", "EXISTS")
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			st.Name = n
			st.Cascade = p.accept("CASCADE")
			if !st.Cascade {
				p.accept("RESTRICT")
			}
			return st, p.end()
		}
	case first.Is("ALTER"):
		p.next()
		if p.accept("TABLE") {
			return p.alterTable()
		}
	}
	if first.Kind == EOF {
		return nil, errAt("SYNTAX_ERROR", first, "mismatched input '<EOF>'. Expecting: 'ALTER', 'CREATE', 'DROP', 'SELECT', 'WITH', <query>")
	}
	return nil, errAt("SYNTAX_ERROR", first, "mismatched input '%s'. Expecting: 'ALTER', 'CREATE', 'DROP', 'SELECT', 'WITH', <query>", first.Text)
}

type parser struct {
	toks []Token
	i    int
}

func (p *parser) peek() Token { return p.toks[p.i] }
func (p *parser) next() Token {
	t := p.toks[p.i]
	if t.Kind != EOF {
		p.i++
	}
	return t
}
func (p *parser) accept(w string) bool {
	if p.peek().Is(w) {
		p.i++
		return true
	}
	return false
}
func (p *parser) acceptOp(o string) bool {
	if p.peek().IsOp(o) {
		p.i++
		return true
	}
	return false
}
func (p *parser) acceptSeq(ws ...string) bool {
	for k, w := range ws {
		if p.i+k >= len(p.toks) || !p.toks[p.i+k].Is(w) {
			return false
		}
	}
	p.i += len(ws)
	return true
}

func (p *parser) unexpected(want string) error {
	t := p.peek()
	txt := t.Text
	if t.Kind == EOF {
		txt = "<EOF>"
	}
	return errAt("SYNTAX_ERROR", t, "mismatched input '%s'. Expecting: %s", txt, want)
}

func (p *parser) expectOp(o string) error {
	if !p.acceptOp(o) {
		return p.unexpected("'" + o + "'")
	}
	return nil
}

func (p *parser) expect(w string) error {
	if !p.accept(w) {
		return p.unexpected("'" + strings.ToUpper(w) + "'")
	}
	return nil
}

func (p *parser) end() error {
	if p.peek().Kind != EOF {
		return p.unexpected("<EOF>")
	}
	return nil
}

func (p *parser) name() (string, error) {
	t := p.peek()
	if t.Kind != Ident && t.Kind != QIdent {
		return "", p.unexpected("<identifier>")
	}
	p.i++
	return t.Name(), nil
}

func (p *parser) str() (string, error) {
	t := p.peek()
	if t.Kind != String {
		return "", p.unexpected("<string>")
	}
	p.i++
	return t.Val, nil
}

// qualifiedName reads [catalog.][db.]name.
func (p *parser) qualifiedName() (db, name string, err error) {
	parts := []string{}
	for {
		n, err := p.name()
		if err != nil {
			return "", "", err
		}
		parts = append(parts, n)
		if !p.acceptOp(".") {
			break
		}
	}
	switch len(parts) {
	case 1:
		return "", parts[0], nil
	case 2:
		return parts[0], parts[1], nil
	case 3:
		return parts[1], parts[2], nil
	}
	return "", "", errAt("SYNTAX_ERROR", p.peek(), "too many dots in table name")
}

func (p *parser) createDatabase() (any, error) {
	st := &CreateDatabase{}
	st.IfNotExists = p.acceptSeq("IF", "NOT", "EXISTS")
	n, err := p.name()
	if err != nil {
		return nil, err
	}
	st.Name = n
	for p.peek().Kind != EOF {
		switch {
		case p.accept("COMMENT"):
			if st.Comment, err = p.str(); err != nil {
				return nil, err
			}
		case p.accept("LOCATION"):
			if _, err = p.str(); err != nil {
				return nil, err
			}
		case p.accept("WITH"):
			if err := p.expect("DBPROPERTIES"); err != nil {
				return nil, err
			}
			if _, err := p.props(); err != nil {
				return nil, err
			}
		default:
			return nil, p.unexpected("'COMMENT', 'LOCATION', 'WITH', <EOF>")
		}
	}
	return st, nil
}

func (p *parser) createTable() (any, error) {
	st := &CreateTable{Table: &Table{Properties: map[string]string{}}}
	st.IfNotExists = p.acceptSeq("IF", "NOT", "EXISTS")
	db, name, err := p.qualifiedName()
	if err != nil {
		return nil, err
	}
	t := st.Table
	t.Database, t.Name = db, name
	if t.Columns, err = p.columns(); err != nil {
		return nil, err
	}
	for p.peek().Kind != EOF {
		switch {
		case p.accept("COMMENT"):
			if t.Comment, err = p.str(); err != nil {
				return nil, err
			}
		case p.acceptSeq("PARTITIONED", "BY"):
			if t.PartitionKeys, err = p.columns(); err != nil {
				return nil, err
			}
		case p.acceptSeq("ROW", "FORMAT"):
			switch {
			case p.accept("SERDE"):
				if t.SerDe, err = p.str(); err != nil {
					return nil, err
				}
				if p.acceptSeq("WITH", "SERDEPROPERTIES") {
					if t.SerDeProps, err = p.props(); err != nil {
						return nil, err
					}
				}
			case p.accept("DELIMITED"):
				for p.peek().Kind == Ident && !p.peek().Is("STORED") && !p.peek().Is("LOCATION") && !p.peek().Is("TBLPROPERTIES") {
					p.next()
					if p.peek().Kind == String {
						p.next()
					}
				}
			default:
				return nil, p.unexpected("'SERDE', 'DELIMITED'")
			}
		case p.acceptSeq("STORED", "AS"):
			if p.accept("INPUTFORMAT") {
				if t.InputFormat, err = p.str(); err != nil {
					return nil, err
				}
				if err := p.expect("OUTPUTFORMAT"); err != nil {
					return nil, err
				}
				if t.OutputFormat, err = p.str(); err != nil {
					return nil, err
				}
			} else {
				f, err := p.name()
				if err != nil {
					return nil, err
				}
				t.InputFormat = f
			}
		case p.accept("LOCATION"):
			if t.Location, err = p.str(); err != nil {
				return nil, err
			}
		case p.accept("TBLPROPERTIES"):
			if t.Properties, err = p.props(); err != nil {
				return nil, err
			}
		default:
			return nil, p.unexpected("'COMMENT', 'PARTITIONED', 'ROW', 'STORED', 'LOCATION', 'TBLPROPERTIES', <EOF>")
		}
	}
	if t.Location == "" {
		return nil, &Error{Type: "SYNTAX_ERROR", Msg: "CREATE EXTERNAL TABLE requires a LOCATION"}
	}
	if !strings.HasPrefix(t.Location, "s3://") {
		return nil, &Error{Type: "INVALID_TABLE_PROPERTY", Msg: "LOCATION must be an s3:// URI: " + t.Location}
	}
	seen := map[string]bool{}
	for _, f := range t.AllColumns() {
		n := strings.ToLower(f.Name)
		if seen[n] {
			return nil, &Error{Type: "SYNTAX_ERROR", Msg: fmt.Sprintf("Column '%s' specified more than once", f.Name)}
		}
		seen[n] = true
	}
	return st, nil
}

// columns reads ( name type [COMMENT '…'], … ).
func (p *parser) columns() ([]Field, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	var out []Field
	for {
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		ty, err := p.typ()
		if err != nil {
			return nil, err
		}
		f := Field{Name: n, Type: ty}
		if p.accept("COMMENT") {
			if f.Comment, err = p.str(); err != nil {
				return nil, err
			}
		}
		out = append(out, f)
		if p.acceptOp(")") {
			return out, nil
		}
		if err := p.expectOp(","); err != nil {
			return nil, err
		}
	}
}

// typ reads a Hive type: a primitive, STRUCT<name: type, …>,
// ARRAY<type>, MAP<type, type>, DECIMAL(p,s), VARCHAR(n).
func (p *parser) typ() (*Type, error) {
	t := p.peek()
	if t.Kind != Ident {
		return nil, p.unexpected("<type>")
	}
	p.i++
	k := strings.ToLower(t.Text)
	switch k {
	case "string", "bigint", "int", "integer", "smallint", "tinyint", "double", "float", "boolean", "timestamp", "date", "binary":
		if k == "integer" {
			k = "int"
		}
		return &Type{Kind: k}, nil
	case "varchar", "char", "decimal":
		if p.acceptOp("(") {
			for !p.acceptOp(")") {
				if p.peek().Kind == EOF {
					return nil, p.unexpected("')'")
				}
				p.next()
			}
		}
		if k != "decimal" {
			k = "string"
		}
		return &Type{Kind: k}, nil
	case "array":
		if err := p.expectOp("<"); err != nil {
			return nil, err
		}
		el, err := p.typ()
		if err != nil {
			return nil, err
		}
		if err := p.closeAngle(); err != nil {
			return nil, err
		}
		return &Type{Kind: "array", Elem: el}, nil
	case "map":
		if err := p.expectOp("<"); err != nil {
			return nil, err
		}
		kt, err := p.typ()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(","); err != nil {
			return nil, err
		}
		vt, err := p.typ()
		if err != nil {
			return nil, err
		}
		if err := p.closeAngle(); err != nil {
			return nil, err
		}
		return &Type{Kind: "map", Key: kt, Elem: vt}, nil
	case "struct":
		if err := p.expectOp("<"); err != nil {
			return nil, err
		}
		st := &Type{Kind: "struct"}
		for {
			n, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(":"); err != nil {
				return nil, err
			}
			ft, err := p.typ()
			if err != nil {
				return nil, err
			}
			f := Field{Name: n, Type: ft}
			if p.accept("COMMENT") {
				if f.Comment, err = p.str(); err != nil {
					return nil, err
				}
			}
			st.Fields = append(st.Fields, f)
			if p.acceptOp(",") {
				continue
			}
			if err := p.closeAngle(); err != nil {
				return nil, err
			}
			return st, nil
		}
	}
	return nil, errAt("SYNTAX_ERROR", t, "Unknown type '%s'", t.Text)
}

// closeAngle takes one '>' (the lexer never glues ">>").
func (p *parser) closeAngle() error { return p.expectOp(">") }

// props reads ( 'k'='v', … ).
func (p *parser) props() (map[string]string, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for {
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		v, err := p.str()
		if err != nil {
			return nil, err
		}
		out[k] = v
		if p.acceptOp(")") {
			return out, nil
		}
		if err := p.expectOp(","); err != nil {
			return nil, err
		}
	}
}

func (p *parser) alterTable() (any, error) {
	db, name, err := p.qualifiedName()
	if err != nil {
		return nil, err
	}
	if err := p.expect("ADD"); err != nil {
		return nil, err
	}
	st := &AddPartitions{Database: db, Name: name}
	st.IfNotExists = p.acceptSeq("IF", "NOT", "EXISTS")
	for p.accept("PARTITION") {
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		part := Partition{Values: map[string]string{}}
		for {
			k, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp("="); err != nil {
				return nil, err
			}
			t := p.next()
			if t.Kind != String && t.Kind != Number {
				return nil, errAt("SYNTAX_ERROR", t, "mismatched input '%s'. Expecting: <literal>", t.Text)
			}
			part.Values[k] = t.Val
			if p.acceptOp(")") {
				break
			}
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		if p.accept("LOCATION") {
			if part.Location, err = p.str(); err != nil {
				return nil, err
			}
		}
		st.Partitions = append(st.Partitions, part)
	}
	if len(st.Partitions) == 0 {
		return nil, p.unexpected("'PARTITION'")
	}
	return st, p.end()
}
