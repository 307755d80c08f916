//go:build redteam

package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestRedTeam plants every payload class of issue 13 (C0/C1 controls, DEL,
// escape sequences, bidi, zero-width and tag characters, formula prefixes,
// HTML and Markdown injection) in CloudTrail records files, names, user
// agents and AWS messages, ingests or streams them, and checks every output
// path: events (table, json), stream --once (table, json), inventory
// --output json, report md/html/json, contain error text. It prints the
// table cases tried / caught / failed per path and the classes each path
// failed on. Run it with scripts/redteam.sh.
func TestRedTeam(t *testing.T) {
	res := hostileCases(t, hostileJournal(t))
	res = append(res, hostileDrillCases(t)...)
	fmt.Print("\n" + redTeamTable(res))
	failedClasses := map[string]map[string]bool{}
	for _, r := range failures(res) {
		if failedClasses[r.path] == nil {
			failedClasses[r.path] = map[string]bool{}
		}
		failedClasses[r.path][r.class] = true
	}
	for p, cs := range failedClasses {
		var list []string
		for c := range cs {
			list = append(list, c)
		}
		sort.Strings(list)
		fmt.Printf("%s failed on: %s\n", p, strings.Join(list, ", "))
	}
	classes := map[string]bool{}
	for _, h := range hostilePayloads {
		classes[h.class] = true
	}
	fmt.Printf("%d payload classes, %d record fields, CSV: no output writes CSV (sanitize.CSVField is covered by its own tests)\n",
		len(classes), len(hostileFields))
	if n := len(failures(res)); n > 0 {
		t.Errorf("%d cases not caught", n)
	}
}

// redTeamTable formats the cases as a table: tried, caught, failed per path.
func redTeamTable(res []caseResult) string {
	var order []string
	tried, failed := map[string]int{}, map[string]int{}
	for _, r := range res {
		if tried[r.path] == 0 {
			order = append(order, r.path)
		}
		tried[r.path]++
		if r.problem != "" {
			failed[r.path]++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-36s %6s %6s %6s\n", "output path", "tried", "caught", "failed")
	tt, tf := 0, 0
	for _, p := range order {
		fmt.Fprintf(&b, "%-36s %6d %6d %6d\n", p, tried[p], tried[p]-failed[p], failed[p])
		tt += tried[p]
		tf += failed[p]
	}
	fmt.Fprintf(&b, "%-36s %6d %6d %6d\n", "total", tt, tt-tf, tf)
	return b.String()
}
