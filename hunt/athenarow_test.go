package hunt

import (
	"encoding/json"
	"strconv"
	"strings"
)

// athenaRow is what Athena returns for one CloudTrail record under the
// table's DDL and Compile's select list: the JsonSerDe matches names
// ignoring case, keeps a nested object in a STRING column as its JSON
// text, and Trino gives every value as text (NULL when absent). resources
// is cast to JSON as objects with the DDL's lower-case names, or (older
// engines) as arrays of the fields in order.
func athenaRow(rec map[string]any, rowsAsArrays bool) []*string {
	out := make([]*string, len(Columns))
	for i, c := range Columns {
		path := strings.Split(c.Path, ".")
		var v any = rec
		for _, p := range path {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = nil
			for k, x := range m {
				if strings.EqualFold(k, p) {
					v = x
				}
			}
		}
		if v == nil {
			continue
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case bool:
			s = strconv.FormatBool(x)
		case json.Number:
			s = x.String()
		case []any:
			if c.Kind == kindRows {
				var elems []any
				for _, e := range x {
					m, _ := e.(map[string]any)
					get := func(n string) any {
						for k, y := range m {
							if strings.EqualFold(k, n) {
								return y
							}
						}
						return nil
					}
					if rowsAsArrays {
						elems = append(elems, []any{get("arn"), get("accountid"), get("type")})
					} else {
						elems = append(elems, map[string]any{"arn": get("arn"), "accountid": get("accountid"), "type": get("type")})
					}
				}
				b, _ := json.Marshal(elems)
				s = string(b)
				break
			}
			b, _ := json.Marshal(x)
			s = string(b)
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		out[i] = &s
	}
	return out
}

// decodeRecord decodes a record's JSON keeping numbers as text.
func decodeRecord(raw []byte) map[string]any {
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		panic(err)
	}
	return m
}
