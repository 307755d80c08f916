package athenasql

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// tsLayout is how the engine holds a timestamp with time zone: Athena's
// own rendering, fixed width, so that text order is time order.
const tsLayout = "2006-01-02 15:04:05.000 UTC"

// normTimestamp reads an ISO 8601 time or Trino's timestamp literal.
func normTimestamp(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, " UTC")
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05.999999999",
		"2006-01-02 15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Format(tsLayout), true
		}
	}
	return "", false
}

var (
	regMu   sync.Mutex
	regOnce sync.Once
	reCache = map[string]*regexp.Regexp{}
)

func compileRE(p string) (*regexp.Regexp, error) {
	regMu.Lock()
	defer regMu.Unlock()
	if re, ok := reCache[p]; ok {
		return re, nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, err
	}
	if len(reCache) > 256 {
		clear(reCache)
	}
	reCache[p] = re
	return re, nil
}

func argString(v driver.Value) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case []byte:
		return string(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	}
	return fmt.Sprint(v), true
}

// register adds the Trino functions the drill translates to to every
// SQLite connection the driver opens.
func register() {
	regOnce.Do(func() {
		sqlite.MustRegisterDeterministicScalarFunction("athena_from_iso8601_timestamp", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			s, ok := argString(args[0])
			if !ok {
				return nil, nil
			}
			ts, ok := normTimestamp(s)
			if !ok {
				return nil, fmt.Errorf("INVALID_FUNCTION_ARGUMENT: Invalid format: \"%s\"", s)
			}
			return ts, nil
		})
		sqlite.MustRegisterDeterministicScalarFunction("athena_to_iso8601", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			s, ok := argString(args[0])
			if !ok {
				return nil, nil
			}
			t, err := time.Parse(tsLayout, s)
			if err != nil {
				return s, nil
			}
			return t.Format("2006-01-02T15:04:05.000Z"), nil
		})
		sqlite.MustRegisterDeterministicScalarFunction("athena_regexp_like", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			s, ok1 := argString(args[0])
			p, ok2 := argString(args[1])
			if !ok1 || !ok2 {
				return nil, nil
			}
			re, err := compileRE(p)
			if err != nil {
				return nil, fmt.Errorf("INVALID_FUNCTION_ARGUMENT: %v", err)
			}
			if re.MatchString(s) {
				return int64(1), nil
			}
			return int64(0), nil
		})
		sqlite.MustRegisterDeterministicScalarFunction("athena_starts_with", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			s, ok1 := argString(args[0])
			p, ok2 := argString(args[1])
			if !ok1 || !ok2 {
				return nil, nil
			}
			if strings.HasPrefix(s, p) {
				return int64(1), nil
			}
			return int64(0), nil
		})
		sqlite.MustRegisterDeterministicScalarFunction("athena_json_extract_scalar", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			doc, ok1 := argString(args[0])
			p, ok2 := argString(args[1])
			if !ok1 || !ok2 {
				return nil, nil
			}
			return jsonExtractScalar(doc, p)
		})
	})
}

// jsonExtractScalar is Trino's json_extract_scalar: the scalar at a
// JSONPath ($.a.b, $.a[0], $["a"]) as text; NULL for objects, arrays,
// missing members and text that is not JSON.
func jsonExtractScalar(doc, path string) (driver.Value, error) {
	steps, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	var v any
	d := json.NewDecoder(strings.NewReader(doc))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil, nil
	}
	for _, st := range steps {
		switch x := v.(type) {
		case map[string]any:
			if st.isIdx {
				return nil, nil
			}
			v = x[st.key]
		case []any:
			if !st.isIdx || st.idx < 0 || st.idx >= len(x) {
				return nil, nil
			}
			v = x[st.idx]
		default:
			return nil, nil
		}
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return nil, nil
}

type jstep struct {
	key   string
	idx   int
	isIdx bool
}

func parsePath(p string) ([]jstep, error) {
	bad := fmt.Errorf("INVALID_FUNCTION_ARGUMENT: Invalid JSON path: '%s'", p)
	if !strings.HasPrefix(p, "$") {
		return nil, bad
	}
	var out []jstep
	i := 1
	for i < len(p) {
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, bad
			}
			out = append(out, jstep{key: p[i+1 : j]})
			i = j
		case '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, bad
			}
			in := p[i+1 : i+j]
			if n, err := strconv.Atoi(in); err == nil {
				out = append(out, jstep{idx: n, isIdx: true})
			} else if len(in) >= 2 && (in[0] == '"' && in[len(in)-1] == '"' || in[0] == '\'' && in[len(in)-1] == '\'') {
				out = append(out, jstep{key: in[1 : len(in)-1]})
			} else {
				return nil, bad
			}
			i += j + 1
		default:
			return nil, bad
		}
	}
	return out, nil
}
