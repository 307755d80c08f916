package hunt

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// node is one member of a rebuilt record: a column's value, or an object
// of members (written only when one of them has a value).
type node struct {
	name string
	col  int // index in Columns, or -1 for an object
	kids []*node
}

// recordTree is the record's shape, built once from Columns' paths in
// their order.
var recordTree = func() *node {
	root := &node{col: -1}
	for i, c := range Columns {
		n := root
		parts := strings.Split(c.Path, ".")
		for _, p := range parts[:len(parts)-1] {
			var next *node
			for _, k := range n.kids {
				if k.name == p && k.col < 0 {
					next = k
				}
			}
			if next == nil {
				next = &node{name: p, col: -1}
				n.kids = append(n.kids, next)
			}
			n = next
		}
		n.kids = append(n.kids, &node{name: parts[len(parts)-1], col: i})
	}
	return root
}()

// resourceFields are the fields of resources' struct, in the table's
// order: Trino casts a ROW to a JSON array of its fields in that order, or
// (newer engines) to an object with their lower-case names.
var resourceFields = []struct{ name, col string }{{"ARN", "arn"}, {"accountId", "accountid"}, {"type", "type"}}

// AppendRecord appends the CloudTrail record a row of a hunt stands for
// (one value per Column, nil for SQL NULL) as JSON to dst. A NULL is an
// absent field; an object whose fields are all absent is absent.
func AppendRecord(dst []byte, row []*string) ([]byte, error) {
	if len(row) != len(Columns) {
		return dst, fmt.Errorf("a row of %d fields, want %d", len(row), len(Columns))
	}
	var err error
	dst, _, err = appendNode(dst, recordTree, row)
	return dst, err
}

// appendNode writes n's object to dst; wrote is false (and dst unchanged)
// when none of its members has a value.
func appendNode(dst []byte, n *node, row []*string) ([]byte, bool, error) {
	start := len(dst)
	dst = append(dst, '{')
	first := true
	for _, k := range n.kids {
		mark := len(dst)
		if !first {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k.name)
		dst = append(dst, ':')
		var ok bool
		var err error
		if k.col < 0 {
			dst, ok, err = appendNode(dst, k, row)
		} else {
			dst, ok, err = appendValue(dst, Columns[k.col], row[k.col])
		}
		if err != nil {
			return dst[:start], false, err
		}
		if !ok {
			dst = dst[:mark]
			continue
		}
		first = false
	}
	if first && n != recordTree {
		return dst[:start], false, nil
	}
	return append(dst, '}'), true, nil
}

// appendValue writes one column's value; false when it is NULL.
func appendValue(dst []byte, c Column, v *string) ([]byte, bool, error) {
	if v == nil {
		return dst, false, nil
	}
	s := *v
	switch c.Kind {
	case kindBool:
		switch strings.ToLower(s) {
		case "true":
			return append(dst, "true"...), true, nil
		case "false":
			return append(dst, "false"...), true, nil
		}
	case kindJSON:
		// requestParameters and its like are JSON objects in the record;
		// the SerDe keeps them as their JSON text. Text that is not
		// JSON (or is a bare string) goes back as a string.
		if t := strings.TrimSpace(s); t != "" && (t[0] == '{' || t[0] == '[') && json.Valid([]byte(t)) {
			return append(dst, t...), true, nil
		}
	case kindRows:
		out, err := resourcesJSON(dst, s)
		if err != nil {
			return dst, false, fmt.Errorf("%s: %v", c.Path, err)
		}
		return out, true, nil
	}
	return appendString(dst, s), true, nil
}

// resourcesJSON rewrites resources as Trino cast it to JSON into
// CloudTrail's shape: [{"ARN":…,"accountId":…,"type":…}].
func resourcesJSON(dst []byte, s string) ([]byte, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal([]byte(s), &elems); err != nil {
		return dst, fmt.Errorf("not a JSON array: %v", err)
	}
	dst = append(dst, '[')
	for i, e := range elems {
		if i > 0 {
			dst = append(dst, ',')
		}
		vals := make([]*string, len(resourceFields))
		var arr []*string
		var obj map[string]*string
		switch {
		case json.Unmarshal(e, &arr) == nil:
			for j := range min(len(arr), len(vals)) {
				vals[j] = arr[j]
			}
		case json.Unmarshal(e, &obj) == nil:
			for k, v := range obj {
				for j, f := range resourceFields {
					if strings.EqualFold(k, f.col) {
						vals[j] = v
					}
				}
			}
		default:
			return dst, fmt.Errorf("element %d is neither an array nor an object of strings", i)
		}
		dst = append(dst, '{')
		n := 0
		for j, f := range resourceFields {
			if vals[j] == nil {
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(append(appendString(dst, f.name), ':'), *vals[j])
			n++
		}
		dst = append(dst, '}')
	}
	return append(dst, ']'), nil
}

// appendString writes s as a JSON string: quote, backslash and control
// characters escaped, invalid UTF-8 as U+FFFD (as encoding/json does).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default:
				dst = append(dst, `\u00`...)
				dst = append(dst, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += w
	}
	return append(append(dst, s[start:]...), '"')
}
