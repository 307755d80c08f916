package athenasql

import (
	"database/sql/driver"
	"strings"

	"modernc.org/sqlite"
)

// Trino's json_format(CAST(x AS JSON)), which warroom's hunt uses to read
// an array of structs (resources) as JSON rather than as Trino's ROW
// text: the cast is dropped (castToJSON: the engine holds structs, arrays
// and maps as JSON already) and json_format gives its argument back as
// text.

func init() {
	sqlite.MustRegisterDeterministicScalarFunction("json_format", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		s, ok := argString(args[0])
		if !ok {
			return nil, nil
		}
		return s, nil
	})
}

// castToJSON reports whether toks[i:] starts CAST(… AS JSON) before b,
// and the index of its closing parenthesis.
func castToJSON(toks []Token, i, b int) (int, bool) {
	if !toks[i].Is("CAST") || i+1 >= b || !toks[i+1].IsOp("(") {
		return 0, false
	}
	depth := 0
	for k := i + 1; k < b; k++ {
		switch {
		case toks[k].IsOp("("):
			depth++
		case toks[k].IsOp(")"):
			depth--
			if depth == 0 {
				if k-2 > i+2 && toks[k-2].Is("AS") && (toks[k-1].Kind == Ident || toks[k-1].Kind == QIdent) && strings.EqualFold(toks[k-1].Text, "JSON") {
					return k, true
				}
				return 0, false
			}
		}
	}
	return 0, false
}
