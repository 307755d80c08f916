package athenasql

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// projection reports whether the table uses partition projection.
func projection(t *Table) bool {
	return len(t.PartitionKeys) > 0 && strings.EqualFold(t.Properties["projection.enabled"], "true")
}

func s3URI(o Object) string { return "s3://" + o.Bucket + "/" + o.Key }

// under reports whether the object lies under the location (a folder).
func under(o Object, loc string) bool {
	loc = strings.TrimSuffix(loc, "/") + "/"
	return strings.HasPrefix(s3URI(o), loc)
}

// partitionsOf is the table's partitions that hold objects, each with
// its objects: every object under LOCATION for a table without
// partitions; for partition projection, the objects whose keys match
// storage.location.template with values the projection allows; else the
// objects under each added partition's location. A partitioned table
// with neither projection nor added partitions has none, as in Athena.
func partitionsOf(t *Table, objects []Object, now time.Time) ([]partition, error) {
	if len(t.PartitionKeys) == 0 {
		p := partition{}
		for _, o := range objects {
			if under(o, t.Location) {
				p.objects = append(p.objects, o)
			}
		}
		return []partition{p}, nil
	}
	if !projection(t) {
		var out []partition
		for _, ap := range t.Partitions {
			p := partition{values: make([]string, len(t.PartitionKeys))}
			loc := ap.Location
			var dirs []string
			for i, k := range t.PartitionKeys {
				v := ap.Values[strings.ToLower(k.Name)]
				p.values[i] = v
				dirs = append(dirs, strings.ToLower(k.Name)+"="+v)
			}
			if loc == "" {
				loc = strings.TrimSuffix(t.Location, "/") + "/" + strings.Join(dirs, "/")
			}
			for _, o := range objects {
				if under(o, loc) {
					p.objects = append(p.objects, o)
				}
			}
			out = append(out, p)
		}
		return out, nil
	}
	tmpl := t.Properties["storage.location.template"]
	if tmpl == "" {
		var dirs []string
		for _, k := range t.PartitionKeys {
			n := strings.ToLower(k.Name)
			dirs = append(dirs, n+"=${"+n+"}")
		}
		tmpl = strings.TrimSuffix(t.Location, "/") + "/" + strings.Join(dirs, "/")
	}
	re, order, err := templateRE(t, tmpl)
	if err != nil {
		return nil, err
	}
	checks := make([]func(string) bool, len(t.PartitionKeys))
	for i, k := range t.PartitionKeys {
		if checks[i], err = projectionCheck(t, strings.ToLower(k.Name), now); err != nil {
			return nil, err
		}
	}
	byKey := map[string]*partition{}
	var keys []string
	for _, o := range objects {
		m := re.FindStringSubmatch(s3URI(o))
		if m == nil {
			continue
		}
		vals := make([]string, len(t.PartitionKeys))
		ok := true
		for g, ki := range order {
			v := m[g+1]
			if vals[ki] != "" && vals[ki] != v {
				ok = false
			}
			vals[ki] = v
		}
		for i := range vals {
			if !checks[i](vals[i]) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		id := strings.Join(vals, "\x00")
		p := byKey[id]
		if p == nil {
			p = &partition{values: vals}
			byKey[id] = p
			keys = append(keys, id)
		}
		p.objects = append(p.objects, o)
	}
	sort.Strings(keys)
	out := make([]partition, len(keys))
	for i, k := range keys {
		out[i] = *byKey[k]
	}
	return out, nil
}

// templateRE compiles storage.location.template: ${key} matches what the
// key's projection can hold (a date in its format, else one path
// segment); order maps each group to its partition key.
func templateRE(t *Table, tmpl string) (*regexp.Regexp, []int, error) {
	var b strings.Builder
	b.WriteString("^")
	var order []int
	rest := tmpl
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, nil, &Error{Type: "INVALID_TABLE_PROPERTY", Msg: "storage.location.template has an unclosed ${: " + tmpl}
		}
		name := strings.ToLower(rest[i+2 : i+j])
		ki := -1
		for k, pk := range t.PartitionKeys {
			if strings.EqualFold(pk.Name, name) {
				ki = k
			}
		}
		if ki < 0 {
			return nil, nil, &Error{Type: "INVALID_TABLE_PROPERTY", Msg: fmt.Sprintf("storage.location.template names %s, which is not a partition key", name)}
		}
		order = append(order, ki)
		if strings.EqualFold(t.Properties["projection."+name+".type"], "date") {
			_, pat := javaDate(t.Properties["projection."+name+".format"])
			b.WriteString("(" + pat + ")")
		} else {
			b.WriteString("([^/]+)")
		}
		rest = rest[i+j+1:]
	}
	b.WriteString("/")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, nil, &Error{Type: "INVALID_TABLE_PROPERTY", Msg: err.Error()}
	}
	for k := range t.PartitionKeys {
		found := false
		for _, o := range order {
			found = found || o == k
		}
		if !found {
			return nil, nil, &Error{Type: "INVALID_TABLE_PROPERTY", Msg: fmt.Sprintf("storage.location.template does not name partition key %s", t.PartitionKeys[k].Name)}
		}
	}
	return re, order, nil
}

// javaDate turns a Java date format (yyyy/MM/dd) into a Go layout and a
// regular expression.
func javaDate(f string) (layout, pattern string) {
	if f == "" {
		f = "yyyy-MM-dd"
	}
	repl := []struct{ java, goL, re string }{
		{"yyyy", "2006", `\d{4}`}, {"MM", "01", `\d{2}`}, {"dd", "02", `\d{2}`},
		{"HH", "15", `\d{2}`}, {"mm", "04", `\d{2}`}, {"ss", "05", `\d{2}`},
	}
	var lb, pb strings.Builder
outer:
	for i := 0; i < len(f); {
		for _, r := range repl {
			if strings.HasPrefix(f[i:], r.java) {
				lb.WriteString(r.goL)
				pb.WriteString(r.re)
				i += len(r.java)
				continue outer
			}
		}
		lb.WriteByte(f[i])
		pb.WriteString(regexp.QuoteMeta(f[i : i+1]))
		i++
	}
	return lb.String(), pb.String()
}

var nowOffset = regexp.MustCompile(`^NOW\s*([+-])\s*(\d+)\s*(YEAR|MONTH|WEEK|DAY|HOUR|MINUTE|SECOND)S?$`)

// projectionCheck is the test a value of a projected key must pass:
// enum values, a date or integer range; injected values are any.
func projectionCheck(t *Table, key string, now time.Time) (func(string) bool, error) {
	p := func(s string) string { return t.Properties["projection."+key+"."+s] }
	switch strings.ToLower(p("type")) {
	case "enum":
		vals := map[string]bool{}
		for _, v := range strings.Split(p("values"), ",") {
			vals[strings.TrimSpace(v)] = true
		}
		return func(s string) bool { return vals[s] }, nil
	case "integer":
		lo, hi, ok := strings.Cut(p("range"), ",")
		a, err1 := strconv.ParseInt(strings.TrimSpace(lo), 10, 64)
		b, err2 := strconv.ParseInt(strings.TrimSpace(hi), 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, &Error{Type: "INVALID_TABLE_PROPERTY", Msg: fmt.Sprintf("projection.%s.range must be two integers: %q", key, p("range"))}
		}
		return func(s string) bool {
			n, err := strconv.ParseInt(s, 10, 64)
			return err == nil && n >= a && n <= b
		}, nil
	case "date":
		layout, _ := javaDate(p("format"))
		lo, hi, ok := strings.Cut(p("range"), ",")
		if !ok {
			return nil, &Error{Type: "INVALID_TABLE_PROPERTY", Msg: fmt.Sprintf("projection.%s.range must be two dates: %q", key, p("range"))}
		}
		bound := func(s string) (time.Time, error) {
			s = strings.TrimSpace(s)
			if strings.EqualFold(s, "NOW") {
				return now, nil
			}
			if m := nowOffset.FindStringSubmatch(strings.ToUpper(s)); m != nil {
				n, _ := strconv.Atoi(m[2])
				if m[1] == "-" {
					n = -n
				}
				switch m[3] {
				case "YEAR":
					return now.AddDate(n, 0, 0), nil
				case "MONTH":
					return now.AddDate(0, n, 0), nil
				case "WEEK":
					return now.AddDate(0, 0, 7*n), nil
				case "DAY":
					return now.AddDate(0, 0, n), nil
				case "HOUR":
					return now.Add(time.Duration(n) * time.Hour), nil
				case "MINUTE":
					return now.Add(time.Duration(n) * time.Minute), nil
				}
				return now.Add(time.Duration(n) * time.Second), nil
			}
			return time.Parse(layout, s)
		}
		a, err1 := bound(lo)
		b, err2 := bound(hi)
		if err1 != nil || err2 != nil {
			return nil, &Error{Type: "INVALID_TABLE_PROPERTY", Msg: fmt.Sprintf("projection.%s.range is not two dates in %s: %q", key, p("format"), p("range"))}
		}
		// bounds at the format's precision: NOW's day is in range
		a, _ = time.Parse(layout, a.UTC().Format(layout))
		b, _ = time.Parse(layout, b.UTC().Format(layout))
		return func(s string) bool {
			d, err := time.Parse(layout, s)
			return err == nil && !d.Before(a) && !d.After(b)
		}, nil
	case "injected", "":
		return func(string) bool { return true }, nil
	}
	return nil, &Error{Type: "INVALID_TABLE_PROPERTY", Msg: fmt.Sprintf("projection.%s.type %q is not enum, integer, date or injected", key, p("type"))}
}

// checkInjected enforces Athena's rule for injected keys: the WHERE
// must hold static equality conditions on each.
func checkInjected(t *Table, tr *translation) error {
	if !projection(t) {
		return nil
	}
	for _, k := range t.PartitionKeys {
		name := strings.ToLower(k.Name)
		if !strings.EqualFold(t.Properties["projection."+name+".type"], "injected") {
			continue
		}
		ok := false
		if tr != nil {
			for _, raw := range tr.pruneRaw {
				ok = ok || staticEquality(raw, name)
			}
		}
		if !ok {
			return &Error{Type: "CONSTRAINT_VIOLATION", Msg: fmt.Sprintf("For the injected projected partition column %s, the WHERE clause must contain only static equality conditions, and at least one such condition must be present.", name)}
		}
	}
	return nil
}

// staticEquality reports whether toks is [q.]col = 'v' or [q.]col IN ('a', …).
func staticEquality(toks []Token, col string) bool {
	i := 0
	if len(toks) > 2 && toks[1].IsOp(".") {
		i = 2
	}
	if i >= len(toks) || toks[i].Name() != col {
		return false
	}
	rest := toks[i+1:]
	if len(rest) == 2 && rest[0].IsOp("=") && rest[1].Kind == String {
		return true
	}
	if len(rest) >= 4 && rest[0].Is("IN") && rest[1].IsOp("(") && rest[len(rest)-1].IsOp(")") {
		for k, t := range rest[2 : len(rest)-1] {
			if k%2 == 0 && t.Kind != String || k%2 == 1 && !t.IsOp(",") {
				return false
			}
		}
		return true
	}
	return false
}
