package report

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/warroom-ir/warroom/sanitize"
)

// Formats Write knows.
const (
	FormatMarkdown = "md"
	FormatHTML     = "html"
	FormatJSON     = "json"
)

// Write renders r in format (md, html or json) to w.
func Write(w io.Writer, r *Report, format string) error {
	switch format {
	case FormatMarkdown, "markdown":
		return render(w, r, mdStyle)
	case FormatHTML:
		return render(w, r, htmlStyle)
	case FormatJSON:
		// encoding/json leaves C1 controls, DEL, bidi and zero-width
		// characters raw: the writer escapes them.
		jw := sanitize.NewJSONWriter(w)
		enc := json.NewEncoder(jw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
		return jw.Flush()
	}
	return fmt.Errorf("report: unknown format %q (md, html, json)", format)
}

// style is how one markup language writes the parts of the report. Every
// string that reaches it passes through esc; the markup it adds itself is
// fixed text.
type style struct {
	esc      func(string) string
	begin    func(title string) string
	end      string
	heading  func(level int, text string) string
	para     func(text string) string
	table    func(head []string, rows [][]string) string
	code     func(text string) string // a hash or id, shown verbatim
	listItem func(text string) string
	list     [2]string // what opens and closes a list
}

// mdEsc makes CloudTrail text safe for a Markdown table cell or paragraph:
// no markup, links, HTML or formulas.
func mdEsc(s string) string { return sanitize.Markdown(s) }

// htmlEsc makes CloudTrail text safe for HTML text and attribute values.
func htmlEsc(s string) string { return html.EscapeString(sanitize.Terminal(s)) }

var mdStyle = style{
	esc:     mdEsc,
	begin:   func(title string) string { return "# " + title + "\n\n" },
	end:     "",
	heading: func(level int, text string) string { return strings.Repeat("#", level) + " " + text + "\n\n" },
	para:    func(text string) string { return text + "\n\n" },
	table: func(head []string, rows [][]string) string {
		var sb strings.Builder
		sb.WriteString("| " + strings.Join(head, " | ") + " |\n|" + strings.Repeat("---|", len(head)) + "\n")
		for _, r := range rows {
			sb.WriteString("| " + strings.Join(r, " | ") + " |\n")
		}
		return sb.String() + "\n"
	},
	code:     func(text string) string { return "`" + strings.ReplaceAll(sanitize.Terminal(text), "`", "") + "`" },
	listItem: func(text string) string { return "- " + text + "\n" },
	list:     [2]string{"", "\n"},
}

var htmlStyle = style{
	esc: htmlEsc,
	begin: func(title string) string {
		return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" +
			"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n" +
			"<title>" + title + "</title>\n<style>body{font-family:sans-serif;max-width:72em;margin:2em auto}" +
			"table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em;text-align:left;vertical-align:top}" +
			"code{font-size:90%}</style>\n</head>\n<body>\n<h1>" + title + "</h1>\n"
	},
	end:     "</body>\n</html>\n",
	heading: func(level int, text string) string { return fmt.Sprintf("<h%d>%s</h%d>\n", level, text, level) },
	para:    func(text string) string { return "<p>" + text + "</p>\n" },
	table: func(head []string, rows [][]string) string {
		var sb strings.Builder
		sb.WriteString("<table>\n<tr><th>" + strings.Join(head, "</th><th>") + "</th></tr>\n")
		for _, r := range rows {
			sb.WriteString("<tr><td>" + strings.Join(r, "</td><td>") + "</td></tr>\n")
		}
		return sb.String() + "</table>\n"
	},
	code:     func(text string) string { return "<code>" + htmlEsc(text) + "</code>" },
	listItem: func(text string) string { return "<li>" + text + "</li>\n" },
	list:     [2]string{"<ul>\n", "</ul>\n"},
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func dur(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return d.Round(time.Second).String()
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// render writes the report in a markup style. Strings from the journal go
// through st.esc; the words around them are the report's own.
func render(w io.Writer, r *Report, st style) error {
	e := st.esc
	var sb strings.Builder
	title := "Incident report " + e(r.Incident.ID)
	sb.WriteString(st.begin(title))

	sb.WriteString(st.heading(2, "Summary"))
	rows := [][]string{
		{"Incident", e(r.Incident.ID) + " " + e(r.Incident.Title)},
		{"Account", e(r.Summary.Account)},
		{"Opened", ts(r.Incident.OpenedAt)},
		{"Began (responder's estimate)", ts(r.Incident.Began)},
		{"As of (last fact)", ts(r.Incident.AsOf)},
		{"Responders", e(strings.Join(r.Summary.Responders, "; "))},
		{"Suspects", e(strings.Join(r.Summary.Suspects, ", "))},
	}
	if f := r.Summary.FirstAttackerEvent; f != nil {
		rows = append(rows, []string{"First attacker event", ts(f.Time) + " " + e(f.Name) + " (" + e(f.Source) + ", " + e(f.Region) + ") by " + e(f.Key) + " " + e(f.Principal) + " from " + e(f.SourceIP)})
	} else {
		rows = append(rows, []string{"First attacker event", "unknown (no suspect marked, or no event of theirs seen)"})
	}
	sb.WriteString(st.table([]string{"", ""}, rows))
	rows = nil
	for _, c := range r.Summary.Containment {
		target := e(c.Target)
		if c.Account != "" {
			target += " (account " + e(c.Account) + ")"
		}
		rows = append(rows, []string{e(c.Action), target, e(c.Outcome), ts(c.At), dur(c.SinceFirstEvent), dur(c.SinceOpened)})
	}
	sb.WriteString(st.heading(3, "Containment"))
	if len(rows) == 0 {
		sb.WriteString(st.para("No containment action was journaled."))
	} else {
		sb.WriteString(st.table([]string{"step", "target", "outcome", "at", "after first attacker event", "after opening"}, rows))
	}

	sb.WriteString(st.heading(2, "Still open"))
	if len(r.Verdicts) == 0 {
		sb.WriteString(st.para("No verdict was read back from AWS in this journal: what follows is the journal's memory, which an attacker or a teammate may have undone since. Run `warroom contain credential KEY --plan` with access to the account to read it back."))
	}
	for _, v := range r.Verdicts {
		line := fmt.Sprintf("Verdict on %s: %s — %d of %d footholds read back as neutralised at %s.", v.Key, v.Word, v.Held, v.Footholds, ts(v.CheckedAt))
		if v.Stale {
			line += " Containment actions were journaled after it: read it back again."
		}
		sb.WriteString(st.para(e(line)))
	}
	if len(r.Open) == 0 {
		if len(r.Verdicts) == 0 {
			sb.WriteString(st.para("Nothing known to be open as of the last fact."))
		} else {
			sb.WriteString(st.para("Nothing open as of the verdict."))
		}
	} else {
		rows = nil
		for _, o := range r.Open {
			id := o.ID
			if o.Region != "" {
				id += " (" + o.Region + ")"
			}
			rows = append(rows, []string{e(o.Kind), e(id), e(o.Source), e(o.Detail)})
		}
		sb.WriteString(st.table([]string{"what", "id", "from", "why"}, rows))
	}

	sb.WriteString(st.heading(2, "Timeline of significant events"))
	rows = nil
	for _, ev := range r.Timeline {
		rule := e(ev.Rule)
		if ev.Authors != "" {
			rule += " (" + e(ev.RuleSet) + ", by " + e(ev.Authors) + ")"
		}
		rows = append(rows, []string{ts(ev.Time), e(ev.Severity), e(ev.Class), e(ev.Name), e(ev.Source), e(ev.Region), e(ev.Key), e(ev.Principal), e(ev.SourceIP), e(ev.Error), yes(ev.Suspect), rule})
	}
	if len(rows) == 0 {
		sb.WriteString(st.para("No significant event."))
	} else {
		sb.WriteString(st.table([]string{"time", "severity", "class", "event", "source", "region", "key", "principal", "source IP", "error", "suspect", "rule"}, rows))
	}

	sb.WriteString(st.heading(2, "Actions"))
	if len(r.Actions) == 0 {
		sb.WriteString(st.para("No action was journaled."))
	}
	for _, a := range r.Actions {
		sb.WriteString(st.heading(3, e(a.Action)+" "+e(a.Target)+" — "+e(a.Outcome)))
		rows = [][]string{
			{"action id", e(a.ID)}, {"by", e(a.By)}, {"intent", ts(a.IntentAt)}, {"result", ts(a.ResultAt)},
			{"region", e(a.Region)}, {"error", e(a.Error)}, {"undo", e(a.Undo)},
		}
		if a.Account != "" {
			rows = append(rows, []string{"account", e(a.Account)}, []string{"role assumed", e(a.Role)})
		}
		for _, v := range a.Verified {
			h := "does not hold"
			if v.Holds {
				h = "holds"
			}
			rows = append(rows, []string{"verified", h + ": " + e(v.Detail)})
		}
		sb.WriteString(st.table([]string{"", ""}, rows))
		rows = nil
		for _, c := range a.Calls {
			rows = append(rows, []string{e(c.API), e(c.Region), e(c.RequestID), e(c.Error)})
		}
		if len(rows) > 0 {
			sb.WriteString(st.table([]string{"call", "region", "AWS request id", "error"}, rows))
		}
	}

	sb.WriteString(st.heading(2, "Credential family"))
	rows = nil
	for _, m := range r.Family {
		rows = append(rows, []string{strings.Repeat("→ ", m.Depth) + e(m.Key), e(m.Issuer), e(m.Call), e(m.Role), ts(m.MintedAt), e(m.Owner), e(m.Status), e(m.Fate)})
	}
	if len(rows) == 0 {
		sb.WriteString(st.para("No suspect key was marked."))
	} else {
		sb.WriteString(st.table([]string{"key", "minted by key", "call", "role", "minted", "owner", "status", "what became of it"}, rows))
	}

	sb.WriteString(st.heading(2, "Resources by Region"))
	if len(r.Regions) == 0 {
		sb.WriteString(st.para("No Region was swept."))
	}
	for _, reg := range r.Regions {
		sb.WriteString(st.heading(3, e(reg.Name)))
		for _, er := range reg.Errors {
			sb.WriteString(st.para("Not read: " + e(er)))
		}
		rows = nil
		for _, res := range reg.Resources {
			rows = append(rows, []string{e(res.Kind), e(res.ID), e(res.Name), e(res.State), ts(res.Created), e(res.Creator), yes(res.New), yes(res.Suspect), e(strings.Join(res.Done, "; "))})
		}
		if len(rows) > 0 {
			sb.WriteString(st.table([]string{"kind", "id", "name", "state", "created", "creator", "new", "suspect", "done"}, rows))
		}
	}

	renderTrails(&sb, r, st)
	renderBlockedIPs(&sb, r, st)
	renderGuardDuty(&sb, r, st)
	renderQuarantine(&sb, r, st)
	renderImpact(&sb, r, st)
	renderIdentityCenter(&sb, r, st)
	renderReach(&sb, r, st)

	sb.WriteString(st.heading(2, "Notes"))
	rows = nil
	for _, n := range r.Notes {
		rows = append(rows, []string{ts(n.At), e(n.By), e(n.Text)})
	}
	if len(rows) == 0 {
		sb.WriteString(st.para("No note."))
	} else {
		sb.WriteString(st.table([]string{"at", "by", "note"}, rows))
	}

	if len(r.Credits) > 0 {
		sb.WriteString(st.heading(2, "Detection rules credited"))
		sb.WriteString(st.list[0])
		for _, c := range r.Credits {
			sb.WriteString(st.listItem(e(c.Rule) + " — " + e(c.RuleSet) + ", by " + e(c.Authors) + ", " + e(c.License)))
		}
		sb.WriteString(st.list[1])
	}
	if len(r.Problems) > 0 {
		sb.WriteString(st.heading(2, "Journal entries not used"))
		sb.WriteString(st.list[0])
		for _, p := range r.Problems {
			sb.WriteString(st.listItem(fmt.Sprintf("%d: %s", p.Seq, e(p.What))))
		}
		sb.WriteString(st.list[1])
	}

	sb.WriteString(st.heading(2, "Journal"))
	verified := "yes: the hash chain is intact"
	if !r.Journal.Verified {
		verified = "NO: " + e(r.Journal.Problem)
	}
	sb.WriteString(st.table([]string{"", ""}, [][]string{
		{"entries", fmt.Sprint(r.Journal.Entries)},
		{"head hash (SHA-256 of the last good line)", st.code(r.Journal.Head)},
		{"verified", verified},
	}))
	sb.WriteString(st.end)
	_, err := io.WriteString(w, sb.String())
	return err
}
