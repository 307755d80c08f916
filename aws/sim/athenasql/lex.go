// Package athenasql is the drill's Athena engine: the Hive DDL Athena
// takes for external tables (CREATE DATABASE, CREATE EXTERNAL TABLE with
// STRUCT/ARRAY/MAP columns, partitions and partition projection, DROP),
// the Glue catalog that keeps them, and SELECT in Trino's dialect,
// translated token by token into SQLite's and run by a pure-Go SQLite
// (modernc.org/sqlite) over the records of CloudTrail log files.
//
// Only what Trino spells differently is translated: struct field access
// (useridentity.sessioncontext.sessionissuer.arn), array subscripts,
// CROSS JOIN UNNEST, quoted identifiers, TIMESTAMP literals and a few
// functions (from_iso8601_timestamp, regexp_like, json_extract_scalar,
// strpos, cardinality). The rest runs as SQLite reads it, or fails as
// Athena fails, with Athena's error types (SYNTAX_ERROR,
// COLUMN_NOT_FOUND, TABLE_NOT_FOUND, FUNCTION_NOT_FOUND …).
package athenasql

import (
	"fmt"
	"strings"
)

// Error is a query's failure as Athena states it: an error type and,
// when it has one, the position in the query ("line 1:8").
type Error struct {
	Type      string // SYNTAX_ERROR, COLUMN_NOT_FOUND, TABLE_NOT_FOUND …
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d:%d: %s", e.Type, e.Line, e.Col, e.Msg)
	}
	return e.Type + ": " + e.Msg
}

func errAt(typ string, t Token, format string, args ...any) *Error {
	return &Error{Type: typ, Line: t.Line, Col: t.Col, Msg: fmt.Sprintf(format, args...)}
}

// Kind is a token's kind.
type Kind int

const (
	EOF    Kind = iota
	Ident       // a bare word: a name or a keyword
	QIdent      // a quoted identifier: "x" or `x`
	String      // 'text'
	Number      // 12, 1.5, 1e3
	Op          // operators and punctuation
)

// Token is one token of a statement; Val is the unquoted text of strings
// and quoted identifiers, Text the source text.
type Token struct {
	Kind      Kind
	Text, Val string
	Pos       int // byte offset
	Line, Col int // 1-based, as Athena counts
}

// Is reports whether t is the bare word w (case-insensitive).
func (t Token) Is(w string) bool { return t.Kind == Ident && strings.EqualFold(t.Text, w) }

// IsOp reports whether t is the operator or punctuation o.
func (t Token) IsOp(o string) bool { return t.Kind == Op && t.Text == o }

// Name is an identifier's name as the catalog compares it: lower-case
// for bare words, as written for quoted ones (lowered too: Athena's
// catalog is case-insensitive).
func (t Token) Name() string {
	if t.Kind == QIdent {
		return strings.ToLower(t.Val)
	}
	return strings.ToLower(t.Text)
}

// Lex splits a statement into tokens, dropping comments and white space.
func Lex(src string) ([]Token, error) {
	var out []Token
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n && i < len(src); k++ {
			if src[i] == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			adv(1)
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, &Error{Type: "SYNTAX_ERROR", Line: line, Col: col, Msg: "unterminated comment"}
			}
			adv(end + 4)
		case c == '\'' || c == '"' || c == '`':
			start, sl, sc := i, line, col
			var b strings.Builder
			adv(1)
			closed := false
			for i < len(src) {
				if src[i] == c {
					if i+1 < len(src) && src[i+1] == c {
						b.WriteByte(c)
						adv(2)
						continue
					}
					adv(1)
					closed = true
					break
				}
				b.WriteByte(src[i])
				adv(1)
			}
			if !closed {
				return nil, &Error{Type: "SYNTAX_ERROR", Line: sl, Col: sc, Msg: "mismatched input '" + string(c) + "'. Unterminated quoted text"}
			}
			k := String
			if c != '\'' {
				k = QIdent
			}
			out = append(out, Token{Kind: k, Text: src[start:i], Val: b.String(), Pos: start, Line: sl, Col: sc})
		case isDigit(c) || c == '.' && i+1 < len(src) && isDigit(src[i+1]):
			start, sl, sc := i, line, col
			for i < len(src) && (isDigit(src[i]) || src[i] == '.') {
				adv(1)
			}
			if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
				adv(1)
				if i < len(src) && (src[i] == '+' || src[i] == '-') {
					adv(1)
				}
				for i < len(src) && isDigit(src[i]) {
					adv(1)
				}
			}
			out = append(out, Token{Kind: Number, Text: src[start:i], Val: src[start:i], Pos: start, Line: sl, Col: sc})
		case isIdentStart(c):
			start, sl, sc := i, line, col
			for i < len(src) && (isIdentStart(src[i]) || isDigit(src[i]) || src[i] == '$') {
				adv(1)
			}
			out = append(out, Token{Kind: Ident, Text: src[start:i], Val: src[start:i], Pos: start, Line: sl, Col: sc})
		default:
			start, sl, sc := i, line, col
			n := 1
			if i+1 < len(src) {
				switch src[i : i+2] {
				case "<=", ">=", "<>", "!=", "||", "=>", "->":
					n = 2
				}
			}
			if !strings.ContainsRune("(),.;=<>+-*/%[]:{}", rune(c)) && n == 1 {
				return nil, &Error{Type: "SYNTAX_ERROR", Line: sl, Col: sc, Msg: fmt.Sprintf("token recognition error at: '%c'", c)}
			}
			adv(n)
			out = append(out, Token{Kind: Op, Text: src[start:i], Val: src[start:i], Pos: start, Line: sl, Col: sc})
		}
	}
	out = append(out, Token{Kind: EOF, Pos: len(src), Line: line, Col: col})
	return out, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
