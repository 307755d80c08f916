package hunt

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/state"
)

// skeleton replaces every string literal of sql by '?' and returns the
// literals' decoded values; ok is false when a literal is not closed.
func skeleton(sql string) (skel string, lits, res []string, ok bool) {
	var b, lit strings.Builder
	for i := 0; i < len(sql); i++ {
		if sql[i] != '\'' {
			b.WriteByte(sql[i])
			continue
		}
		lit.Reset()
		closed := false
		for i++; i < len(sql); i++ {
			if sql[i] == '\'' {
				if i+1 < len(sql) && sql[i+1] == '\'' {
					lit.WriteByte('\'')
					i++
					continue
				}
				closed = true
				break
			}
			lit.WriteByte(sql[i])
		}
		if !closed {
			return "", nil, nil, false
		}
		// Only the literals compared with a field are values.
		if pre := b.String(); strings.HasSuffix(pre, "= ") || strings.HasSuffix(pre, "LIKE ") {
			lits = append(lits, lit.String())
		} else if strings.HasSuffix(pre, "regexp_like(lower(coalesce(useridentity.arn, ?)), ") && lit.String() != "/$" && lit.String() != ":$" {
			res = append(res, lit.String())
		}
		b.WriteByte('?')
	}
	return b.String(), lits, res, true
}

// unLike undoes match's LIKE escaping: % back to '*'.
func unLike(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			i++
			b.WriteByte(p[i])
		case p[i] == '%':
			b.WriteByte('*')
		default:
			b.WriteByte(p[i])
		}
	}
	return b.String()
}

// FuzzLiteral: whatever a value holds, it stays inside its literal: the
// SQL's shape is the shape a harmless value gives, and the literal reads
// back as the value.
func FuzzLiteral(f *testing.F) {
	for _, s := range []string{"alice", "o'brien", `\`, `'; DROP TABLE x; --`, `%_*`, `\'`, "a*b", "''", "é'\\", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if v == "" {
			return
		}
		for _, fld := range []state.Field{state.FieldUser, state.FieldAgent, state.FieldAccount} {
			q, err := Compile(&state.Filter{Terms: []state.Term{{Field: fld, Value: []string{v}, Col: 1}}}, testTable, testNow)
			if err != nil {
				if errors.As(err, new(*TermError)) && checkValue(v) != nil {
					continue
				}
				t.Fatalf("%q: %v", v, err)
			}
			// A harmless value with the same properties: a pattern or
			// not, a separator of the ARN's segments or not (user:).
			safe := "x"
			if strings.Contains(v, "*") || fld == state.FieldAgent {
				safe += "*x"
			}
			for _, sep := range []string{"/", ":"} {
				if strings.Contains(v, sep) {
					safe += sep
				}
			}
			want, _ := Compile(&state.Filter{Terms: []state.Term{{Field: fld, Value: []string{safe}, Col: 1}}}, testTable, testNow)
			skel, lits, res, ok := skeleton(q.SQL)
			wantSkel, _, _, _ := skeleton(want.SQL)
			if !ok || skel != wantSkel {
				t.Fatalf("%q changed the SQL's shape:\n%s", v, q.SQL)
			}
			if len(lits) == 0 {
				t.Fatalf("%q: no value in %s", v, q.SQL)
			}
			low := strings.ToLower(v)
			if fld == state.FieldAgent {
				low = "*" + low + "*"
			}
			for _, got := range lits {
				if strings.Contains(low, "*") {
					got = unLike(got)
				}
				if got != low {
					t.Fatalf("%q: the literal reads back as %q, want %q", v, got, low)
				}
			}
			// user:'s ARN segment: the regular expression matches an
			// ARN that ends with the value (stars as nothing).
			example := strings.ReplaceAll(low, "*", "")
			for _, re := range res {
				sep := re[:1]
				rx, err := regexp.Compile(re)
				if err != nil {
					t.Fatalf("%q: %q: %v", v, re, err)
				}
				if !rx.MatchString("arn:aws:iam::1:user" + sep + example) {
					t.Fatalf("%q: %q does not match an ARN ending in %q", v, re, sep+example)
				}
				if !strings.Contains(example, "x") && rx.MatchString("arn:aws:iam::1:user"+sep+example+"x") && !strings.HasSuffix(low, "*") {
					t.Fatalf("%q: %q matches more than the segment", v, re)
				}
			}
		}
	})
}
