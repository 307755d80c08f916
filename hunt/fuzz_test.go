package hunt

import (
	"errors"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/state"
)

// skeleton replaces every string literal of sql by '?' and returns the
// literals' decoded values; ok is false when a literal is not closed.
func skeleton(sql string) (skel string, lits []string, ok bool) {
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
			return "", nil, false
		}
		// Only the literals compared with a field are values.
		if pre := b.String(); strings.HasSuffix(pre, "= ") || strings.HasSuffix(pre, "LIKE ") {
			lits = append(lits, lit.String())
		}
		b.WriteByte('?')
	}
	return b.String(), lits, true
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
			safe := "x"
			if strings.Contains(v, "*") || fld == state.FieldAgent {
				safe = "x*x"
			}
			want, _ := Compile(&state.Filter{Terms: []state.Term{{Field: fld, Value: []string{safe}, Col: 1}}}, testTable, testNow)
			skel, lits, ok := skeleton(q.SQL)
			wantSkel, _, _ := skeleton(want.SQL)
			if !ok || skel != wantSkel {
				t.Fatalf("%q changed the SQL's shape:\n%s", v, q.SQL)
			}
			if len(lits) != 1 {
				t.Fatalf("%q: %d values in %s", v, len(lits), q.SQL)
			}
			got := lits[0]
			low := strings.ToLower(v)
			if fld == state.FieldAgent {
				low = "*" + low + "*"
			}
			if strings.Contains(low, "*") {
				got = unLike(got)
			}
			if got != low {
				t.Fatalf("%q: the literal reads back as %q, want %q", v, got, low)
			}
		}
	})
}
