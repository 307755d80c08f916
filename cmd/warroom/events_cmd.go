package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
)

func newEventsCmd(e *env) *cobra.Command {
	var (
		path, filter, output string
		limit                int
	)
	c := &cobra.Command{
		Use:   "events",
		Short: "Query the CloudTrail events in a journal",
		Long: `events rebuilds the store from a journal and prints the events that match a filter,
oldest first. The filter language is the console's:

  key:AKIA…  family:AKIA…  principal:ARN  user:NAME  type:IAMUser  ip:ADDR
  event:CreateUser,CreateAccessKey  event:Create*  source:iam  region:eu-west-1
  error:AccessDenied  error:*  id:EVENTID  agent:TEXT  since:2h  until:RFC3339  account:ID
  readonly  ours  minted  failed  impersonation  conflict  "free text"

Terms are ANDed; -term negates. --output json prints each event's CloudTrail record,
one JSON object per line, as journaled (session tokens redacted).`,
		Example: `  warroom events -j incident/journal.jsonl --filter 'key:AKIAEXAMPLE -readonly'
  warroom events -j incident/journal.jsonl --filter 'error:AccessDenied region:eu-west-1' --output json | jq .eventName`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireJournal(path); err != nil {
				return err
			}
			f, err := state.ParseFilter(filter)
			if err != nil {
				return usageErr(fmt.Errorf("--filter: %w", err))
			}
			if output != "table" && output != "json" {
				return usageErr(fmt.Errorf("--output must be table or json, not %q", output))
			}
			// Terms over columns alone are answered from the
			// checkpoint, when it holds and nothing changed the events
			// since (else the journal is opened).
			a, _, qerr := state.AnswerIndexed(path, f)
			if qerr == nil {
				if output == "json" {
					return printAnswerJSON(e, a, limit)
				}
				start := 0
				if limit > 0 && a.Len() > limit {
					start = a.Len() - limit
				}
				if evs, ok := a.Events(start); ok {
					if err := printEventRowsTable(e, evs, a.Len(), a.Total); err != nil {
						return usageErr(err)
					}
					return nil
				}
				qerr = a.Damaged()
			}
			// A checkpoint the query found damaged is written again by
			// the open that answers instead.
			opts := state.OpenOptions{Warn: e.stderr}
			if state.IndexDamaged(qerr) {
				opts.Rebuild = qerr
			}
			s, rep, err := openJournal(e, path, opts)
			if err != nil {
				return err
			}
			res := s.Events.Query(f)
			start := 0
			if limit > 0 && res.Len() > limit {
				start = res.Len() - limit
			}
			if output == "json" {
				err = printAnswerJSON(e, s.Events.Answer(path, res), limit)
			} else {
				err = printEventsTable(e, s, res, start)
			}
			if err != nil {
				return usageErr(err)
			}
			if rep.Problem != nil {
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	journalFlag(c, &path, "journal to read")
	c.Flags().StringVarP(&filter, "filter", "f", "", "filter expression (see above)")
	c.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	c.Flags().IntVarP(&limit, "limit", "n", 0, "print only the newest N matches (0: all)")
	return c
}

func printEventsTable(e *env, s *state.Store, res state.Result, start int) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, eventsTableHeader)
	writeEventRows(tw, s, res.IDs()[start:])
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "%d of %d events match\n", res.Len(), s.Events.Len())
	return nil
}

// printEventRowsTable is printEventsTable for events answered from the
// checkpoint: evs of matched matching events, of total.
func printEventRowsTable(e *env, evs []state.Event, matched, total int) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, eventsTableHeader)
	for _, ev := range evs {
		writeEventRow(tw, ev)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "%d of %d events match\n", matched, total)
	return nil
}

// eventsTableHeader heads the events table.
const eventsTableHeader = "TIME (UTC)\tREGION\tEVENT\tPRINCIPAL\tKEY\tIP\tERROR"

// writeEventRows writes one tab-separated row per event (warroom stream
// prints its rows as they arrive with it too).
func writeEventRows(w io.Writer, s *state.Store, ids []uint32) {
	for _, id := range ids {
		writeEventRow(w, s.Events.Event(id))
	}
}

// writeEventRow writes ev's row.
func writeEventRow(w io.Writer, ev state.Event) {
	principal := ev.User
	if principal == "" {
		principal = ev.Principal
	}
	cells := []string{
		ev.Time.UTC().Format(time.DateTime),
		ev.Region, strings.TrimSuffix(ev.Source, ".amazonaws.com") + ":" + ev.Name,
		principal, ev.AccessKeyID, ev.SourceIP, ev.ErrorCode,
	}
	for j := range cells {
		// Attacker-chosen text: no escape sequence, and no tab or
		// newline that would break the columns.
		cells[j] = sanitize.Truncate(sanitize.Terminal(cells[j]), 60)
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

func printAnswerJSON(e *env, a *state.IndexedAnswer, limit int) error {
	start := 0
	if limit > 0 && a.Len() > limit {
		start = a.Len() - limit
	}
	w := bufio.NewWriterSize(e.stdout, 1<<16)
	if err := writeAnswerJSON(w, a, start); err != nil {
		return usageErr(err)
	}
	return w.Flush()
}

// writeAnswerJSON writes each event's record from start on, as journaled,
// one per line, with the characters a terminal acts on or a reader cannot
// see (C0, C1, DEL, bidi, zero-width, tag characters) escaped: the journal
// keeps them raw, as CloudTrail wrote them.
func writeAnswerJSON(w *bufio.Writer, a *state.IndexedAnswer, start int) error {
	var out []byte
	return a.Records(start, func(_ int, raw []byte) error {
		out = sanitize.AppendEscapedJSON(out[:0], raw)
		out = append(out, '\n')
		_, err := w.Write(out)
		return err
	})
}
func printEventsJSON(e *env, path string, s *state.Store, res state.Result, start int) error {
	raws := state.NewRawReader(path)
	defer raws.Close()
	w := bufio.NewWriterSize(e.stdout, 1<<16)
	if err := writeEventsJSON(w, raws, s, res.IDs()[start:]); err != nil {
		return err
	}
	return w.Flush()
}

// writeEventsJSON writes each event's record, as journaled, one per line,
// with the characters a terminal acts on or a reader cannot see (C0, C1,
// DEL, bidi, zero-width, tag characters) escaped: the journal keeps them
// raw, as CloudTrail wrote them.
func writeEventsJSON(w *bufio.Writer, raws *state.RawReader, s *state.Store, ids []uint32) error {
	// Each journal line holds a batch of records and is read whole: the
	// records are read in journal order, each line once, then written in
	// the events' order.
	refs := make([]state.EventRef, len(ids))
	byRef := make([]int, len(ids))
	for i, id := range ids {
		refs[i], byRef[i] = s.Events.Event(id).Ref, i
	}
	slices.SortFunc(byRef, func(a, b int) int {
		if c := cmp.Compare(refs[a].Offset, refs[b].Offset); c != 0 {
			return c
		}
		return cmp.Compare(refs[a].Index, refs[b].Index)
	})
	recs := make([][]byte, len(ids))
	for _, i := range byRef {
		raw, err := raws.Raw(refs[i])
		if err != nil {
			return err
		}
		recs[i] = sanitize.AppendEscapedJSON(nil, raw)
	}
	for _, r := range recs {
		if _, err := w.Write(r); err != nil {
			return err
		}
		if err := w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return nil
}
