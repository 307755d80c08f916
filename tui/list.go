package tui

import (
	"cmp"
	"strings"
)

// What every list pane shares besides the cursor: a sort by any of its
// columns (o cycles the column, O reverses), a free-text filter (/ in any
// pane but the stream, whose filter language has fields of its own), and a
// wide mode (ctrl+w) that shows every column.

// listSort is a list pane's sort: an index into the pane's sortable column
// names (0 is the pane's natural order) and a direction.
type listSort struct {
	col  int
	desc bool
}

// cycle moves to the next of n sortable columns, ascending.
func (s *listSort) cycle(n int) {
	if n <= 0 {
		return
	}
	s.col = (s.col + 1) % n
	s.desc = false
}

// label is the sort as a header shows it: "sort name ↑".
func (s listSort) label(names []string) string {
	if s.col <= 0 || s.col >= len(names) {
		if s.desc {
			return "sort " + names[0] + " ↓"
		}
		return ""
	}
	return "sort " + names[s.col] + " " + arrow(s.desc)
}

// arrow marks a sort's direction.
func arrow(desc bool) string {
	if desc {
		return "↓"
	}
	return "↑"
}

// textFilter is a free-text filter: space-separated terms that must all
// match (case-insensitively, as substrings); a term "name:value" matches
// only the column called name when the pane has one, and "-term" excludes.
type textFilter struct {
	text  string
	terms []textTerm
}

type textTerm struct {
	col  string // "" matches any column
	val  string // lower-case
	not  bool
	text string
}

// parseTextFilter reads a free-text filter; cols are the pane's column
// names (lower-case), so that "status:inactive" reads as a column term and
// "arn:aws:iam::…" as text.
func parseTextFilter(s string, cols []string) textFilter {
	f := textFilter{text: strings.TrimSpace(s)}
	for _, w := range strings.Fields(s) {
		t := textTerm{text: w}
		if strings.HasPrefix(w, "-") && len(w) > 1 {
			t.not, w = true, w[1:]
		}
		if name, val, ok := strings.Cut(w, ":"); ok && val != "" {
			for _, c := range cols {
				if strings.EqualFold(c, name) {
					t.col, w = c, val
					break
				}
			}
		}
		t.val = strings.ToLower(w)
		f.terms = append(f.terms, t)
	}
	return f
}

// empty reports whether the filter lets everything through.
func (f textFilter) empty() bool { return len(f.terms) == 0 }

// match reports whether a row passes; field returns the row's text in a
// column (names as given to parseTextFilter).
func (f textFilter) match(cols []string, field func(col int) string) bool {
	for _, t := range f.terms {
		hit := false
		for i, c := range cols {
			if t.col != "" && t.col != c {
				continue
			}
			if strings.Contains(strings.ToLower(field(i)), t.val) {
				hit = true
				break
			}
		}
		if hit == t.not {
			return false
		}
	}
	return true
}

// compareText orders two cells for a sort: case-insensitively, then as is.
func compareText(a, b string) int {
	if c := cmp.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// titleParts appends the filter and sort to a pane title.
func titleParts(t string, f textFilter, s listSort, names []string) string {
	if !f.empty() {
		t += " · /" + clean(f.text)
	}
	if l := s.label(names); l != "" {
		t += " · " + l
	}
	return t
}

// dropFit picks which of n columns fit in w cells: each column has a
// minimum width and a priority (lower is kept longer); columns are kept in
// priority order while they fit (one cell between columns), and the result
// lists the kept indexes in their original (reading) order.
func dropFit(minW, prio []int, w int) []bool {
	order := make([]int, len(minW))
	for i := range order {
		order[i] = i
	}
	// Stable insertion sort by priority (a handful of columns).
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && prio[order[j]] < prio[order[j-1]]; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	keep := make([]bool, len(minW))
	used := 0
	for _, i := range order {
		need := minW[i]
		if used > 0 {
			need++
		}
		if used+need > w {
			continue
		}
		used += need
		keep[i] = true
	}
	return keep
}
