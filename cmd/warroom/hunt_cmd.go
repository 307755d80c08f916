package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/athena"
	"github.com/warroom-ir/warroom/aws/org"
	"github.com/warroom-ir/warroom/hunt"
	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
)

func init() { moreCommands = append(moreCommands, newHuntCmd) }

// defaultTableRegions are the region partition's values when
// --table-regions is not given: every commercial Region, the opt-in ones
// too. An attacker works where no one looks (a leaked key's miners in
// ap-southeast-3), and the organisation trail writes every Region an
// account enabled: a Region left out of the enum is never read by any
// query, while one with no files costs nothing.
var defaultTableRegions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
	"ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "sa-east-1",
	// opt-in Regions
	"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
	"ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
	"me-central-1", "me-south-1", "mx-central-1"}

// huntConfig is a hunt's Athena side: where the table is, how to run.
type huntConfig struct {
	table          hunt.Table
	workgroup      string
	outputLocation string
	create         bool           // --create-table: make the database and table when missing
	spec           hunt.TableSpec // what the table is made from
}

// huntResult is what a hunt did.
type huntResult struct {
	QueryID      string  `json:"query_id"`
	Region       string  `json:"region"`
	Account      string  `json:"account"`
	SQL          string  `json:"sql"`
	Partitions   string  `json:"partitions"`
	BytesScanned int64   `json:"bytes_scanned"`
	CostUSD      float64 `json:"cost_usd"`
	Found        int     `json:"found"`
	New          int     `json:"new"`
	Held         int     `json:"already_held"`
	Problems     int     `json:"problems"`
	TableCreated bool    `json:"table_created,omitempty"`
}

// summary is the result in one line (the console's flash line).
func (r huntResult) summary() string {
	return fmt.Sprintf("%d found, %d new, %d already held; %s scanned ($%.5f); query %s",
		r.Found, r.New, r.Held, humanBytes(r.BytesScanned), r.CostUSD, r.QueryID)
}

// humanBytes is n in B, KB, MB, GB or TB (powers of 1000, as Athena bills).
func humanBytes(n int64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	v, i := float64(n), 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// requestToken is a fresh ClientRequestToken: a retried start is the
// same query, a new hunt a new one.
func requestToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// runHunt runs a compiled hunt in Athena (region, account) and journals
// what it finds through sink; progress, when set, hears each stage. The
// console's :hunt and the command line both come here.
func runHunt(ctx context.Context, cfg huntConfig, q *hunt.Query, api athena.API, region, account string,
	sink hunt.Sink, progress func(string)) (huntResult, error) {
	say := func(format string, args ...any) {
		if progress != nil {
			progress(fmt.Sprintf(format, args...))
		}
	}
	res := huntResult{Region: region, Account: account, SQL: q.SQL, Partitions: q.Partitions.String()}
	c := &athena.Client{API: api, Region: region, Account: account, Workgroup: cfg.workgroup, OutputLocation: cfg.outputLocation}
	say("checking table %s.%s", cfg.table.Database, cfg.table.Name)
	ok, err := c.TableExists(ctx, cfg.table.Database, cfg.table.Name)
	if err != nil {
		return res, err
	}
	if !ok {
		if !cfg.create {
			return res, fmt.Errorf("athena:GetTableMetadata in %s (account %s): table %s.%s does not exist; "+
				"make it with --create-table --bucket BUCKET --org-id o-… --accounts ID,…", region, account, cfg.table.Database, cfg.table.Name)
		}
		spec := cfg.spec
		spec.Table = cfg.table
		db, err := hunt.CreateDatabase(cfg.table)
		if err != nil {
			return res, err
		}
		ddl, err := hunt.CreateTable(spec)
		if err != nil {
			return res, err
		}
		for _, stmt := range []string{db, ddl} {
			say("creating %s.%s", cfg.table.Database, cfg.table.Name)
			id, err := c.Start(ctx, stmt, requestToken())
			if err != nil {
				return res, err
			}
			if _, err := c.Wait(ctx, id); err != nil {
				return res, err
			}
		}
		res.TableCreated = true
	}
	say("starting the query")
	id, err := c.Start(ctx, q.SQL, requestToken())
	if err != nil {
		return res, err
	}
	res.QueryID = id
	say("query %s running", id)
	st, err := c.Wait(ctx, id)
	res.BytesScanned, res.CostUSD = st.BytesScanned, st.Cost()
	if err != nil {
		return res, err
	}
	j := &hunt.Journal{Sink: sink, Source: hunt.Source(id)}
	err = c.Results(ctx, id, func(rows [][]*string) error {
		if err := j.Page(ctx, rows); err != nil {
			return err
		}
		say("query %s: %d rows read", id, j.Found)
		return nil
	})
	if ferr := j.Flush(ctx); err == nil {
		err = ferr
	}
	res.Found, res.New, res.Held, res.Problems = j.Found, j.New, j.Held, j.Problems
	return res, err
}

// huntFlags are the hunt's flags besides AWS's.
type huntFlags struct {
	athena                     bool
	database, table            string
	workgroup, outputLocation  string
	createTable, org           bool
	bucket, prefix, orgID      string
	accounts, tableRegions     []string
	tableFrom                  string
	since, until, output, path string
	dryRun                     bool
}

// config is the flags as a huntConfig.
func (h *huntFlags) config() (huntConfig, error) {
	cfg := huntConfig{table: hunt.Table{Database: h.database, Name: h.table}, workgroup: h.workgroup,
		outputLocation: h.outputLocation, create: h.createTable}
	if err := cfg.table.Check(); err != nil {
		return cfg, err
	}
	if h.outputLocation != "" && !strings.HasPrefix(h.outputLocation, "s3://") {
		return cfg, fmt.Errorf("--output-location %q: want s3://BUCKET/PREFIX/", h.outputLocation)
	}
	if h.createTable {
		cfg.spec = hunt.TableSpec{Bucket: h.bucket, Prefix: h.prefix, OrgID: h.orgID, Accounts: h.accounts, Regions: h.tableRegions}
		if h.tableFrom != "" {
			t, err := time.Parse("2006-01-02", h.tableFrom)
			if err != nil {
				return cfg, fmt.Errorf("--table-from %q: want a date, 2024-01-31", h.tableFrom)
			}
			cfg.spec.From = t
		}
		cfg.spec.Table = cfg.table
		if h.org && (len(h.accounts) == 0 || h.orgID == "") {
			return cfg, nil // checked once Organizations has filled them
		}
		if err := cfg.spec.Check(); err != nil {
			return cfg, fmt.Errorf("--create-table: %w", err)
		}
	}
	return cfg, nil
}

// filter is the hunt's filter: the expression, with --since and --until
// as since: and until: terms.
func (h *huntFlags) filter(args []string) (*state.Filter, error) {
	expr := strings.Join(args, " ")
	if h.since != "" {
		expr += " since:" + h.since
	}
	if h.until != "" {
		expr += " until:" + h.until
	}
	f, err := state.ParseFilter(expr)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return f, nil
}

func newHuntCmd(e *env) *cobra.Command {
	var (
		h  huntFlags
		af awsFlags
	)
	c := &cobra.Command{
		Use:   "hunt --athena 'FILTER'",
		Short: "Search the organisation trail in Athena and journal what matches",
		Long: `hunt compiles a filter (the language of events and the console's /, with account:)
into Athena SQL over the organisation trail's table (AWS's CloudTrail table with partition
projection on account, Region and day), restricts the scan to the partitions the filter
implies (account:, region:, since:/until:), runs it, and journals the matching records as
ingest does: secrets redacted, records the journal already holds left out, each events
fact marked with its source "athena:QUERYID". The console, replay and report then see
them like any other event.

It prints the SQL, the bytes Athena scanned and their cost ($5 per TB, 10 MB minimum per
query), and the records found, journaled and already held. --dry-run prints only the SQL
and the partitions, and calls nothing. family:, ours, impersonation, minted and conflict
need the journal and cannot be hunted: they are refused by name.

--create-table makes the database and the table when GetTableMetadata says the table does
not exist (it never changes one that does): it needs --bucket, --org-id and --accounts
(the account partition's values) — or --org, which reads both from Organizations —, and
takes --table-regions and --table-from.

Exit status: 0 when records were found, 1 when nothing matched, 2 when the hunt could not
run (bad filter or flags, a failed or throttled call, a failed query: named with its call,
Region and account).`,
		Example: `  warroom hunt --athena --journal incident/journal.jsonl --since 2d 'key:AKIAEXAMPLE'
  warroom hunt --athena --dry-run 'account:111122223333 region:eu-west-1 event:CreateAccessKey since:7d'
  warroom hunt --athena --create-table --bucket org-trail --org-id o-abcdefghij --accounts 111122223333,444455556666 \
      --output-location s3://athena-results/warroom/ -j incident/journal.jsonl 'user:alice'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHuntCmd(cmd.Context(), e, &h, &af, args)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&h.athena, "athena", false, "hunt in Amazon Athena (the one engine there is)")
	fl.StringVar(&h.database, "database", "warroom", "Athena (Glue) database of the trail's table")
	fl.StringVar(&h.table, "table", "cloudtrail_org", "the organisation trail's table")
	fl.StringVar(&h.workgroup, "workgroup", "primary", "Athena workgroup")
	fl.StringVar(&h.outputLocation, "output-location", "", "s3:// location for query results (default: the workgroup's)")
	fl.BoolVar(&h.createTable, "create-table", false, "create the database and table when the table does not exist")
	fl.StringVar(&h.bucket, "bucket", "", "the organisation trail's S3 bucket (--create-table)")
	fl.StringVar(&h.prefix, "prefix", "", "the trail's S3 key prefix, if it has one (--create-table)")
	fl.StringVar(&h.orgID, "org-id", "", "the organisation's id, o-… (--create-table)")
	fl.StringSliceVar(&h.accounts, "accounts", nil, "account ids of the account partition (--create-table)")
	fl.BoolVar(&h.org, "org", false, "with --create-table: --accounts and --org-id from Organizations (ListAccounts, DescribeOrganization), unless given")
	fl.StringSliceVar(&h.tableRegions, "table-regions", defaultTableRegions, "Regions of the region partition (--create-table)")
	fl.StringVar(&h.tableFrom, "table-from", "", "first day of the date partition, 2024-01-31 (--create-table; default 2020-01-01)")
	fl.StringVar(&h.since, "since", "", "only events at or after this time (adds since: to the filter)")
	fl.StringVar(&h.until, "until", "", "only events at or before this time (adds until: to the filter)")
	fl.BoolVar(&h.dryRun, "dry-run", false, "print the SQL and the partitions only; call nothing")
	fl.StringVarP(&h.output, "output", "o", "text", "text or json")
	journalFlag(c, &h.path, "journal to append to; created when missing")
	af.register(c)
	return c
}

func runHuntCmd(ctx context.Context, e *env, h *huntFlags, af *awsFlags, args []string) error {
	if !h.athena {
		return usageErr(errors.New("say where to hunt: --athena (the organisation trail's table in Amazon Athena)"))
	}
	if h.output != "text" && h.output != "json" {
		return usageErr(fmt.Errorf("--output must be text or json, not %q", h.output))
	}
	f, err := h.filter(args)
	if err != nil {
		return usageErr(err)
	}
	cfg, err := h.config()
	if err != nil {
		return usageErr(err)
	}
	q, err := hunt.Compile(f, cfg.table, time.Now())
	if err != nil {
		return usageErr(err)
	}
	if h.dryRun {
		if h.output == "json" {
			return writeJSON(e.stdout, map[string]string{"sql": q.SQL, "partitions": q.Partitions.String()})
		}
		fmt.Fprintf(e.stdout, "-- partitions: %s\n%s\n", q.Partitions, q.SQL)
		return nil
	}
	sess, id, err := af.session(ctx, e)
	if err != nil {
		return err
	}
	// --org: the account partition and the organisation id from
	// Organizations, as the management account (or a delegated
	// administrator) reads them; what was given is kept.
	if h.org && h.createTable {
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		if len(h.accounts) == 0 {
			list, err := org.List(cctx, sess.Organizations())
			if err != nil {
				cancel()
				return usageErr(fmt.Errorf("--org: %w (without Organizations access, give --accounts and --org-id)", err))
			}
			for _, a := range list {
				h.accounts = append(h.accounts, a.ID)
			}
		}
		if h.orgID == "" {
			if h.orgID, err = org.ID(cctx, sess.Organizations()); err != nil {
				cancel()
				return usageErr(fmt.Errorf("--org: %w (give --org-id)", err))
			}
		}
		cancel()
		if cfg, err = h.config(); err != nil {
			return usageErr(err)
		}
		if err := cfg.spec.Check(); err != nil {
			return usageErr(fmt.Errorf("--create-table: %w", err))
		}
	}
	// The journal's events, so that what it holds is not journaled again.
	seen := state.NewSeen()
	if h.path != "" {
		if fi, err := os.Stat(h.path); err == nil && fi.Size() > 0 {
			s, _, err := replayJournal(e, h.path)
			if err != nil {
				return err
			}
			seen = s.Events.Seen()
		}
	}
	rec, err := openIncident(e, h.path)
	if err != nil {
		return err
	}
	defer rec.Close()
	if _, err := rec.Record(state.KindSessionStarted, sessionFact("hunt", sess, id)); err != nil {
		return usageErr(err)
	}
	if h.output == "text" {
		fmt.Fprintf(e.stdout, "-- partitions: %s\n%s\n\n", q.Partitions, q.SQL)
	}
	region := sess.HomeRegion()
	res, err := runHunt(ctx, cfg, q, sess.Athena(region), region, id.AccountID, &hunt.RecorderSink{Rec: rec, Seen: seen}, nil)
	if serr := rec.Sync(); err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		if res.Found > 0 {
			fmt.Fprintf(e.stderr, "stopped after %d records (%d journaled)\n", res.Found, res.New)
		}
		return usageErr(fmt.Errorf("hunt: %s", sanitize.Terminal(err.Error())))
	}
	if h.output == "json" {
		if err := writeJSON(e.stdout, res); err != nil {
			return usageErr(err)
		}
	} else {
		if res.TableCreated {
			fmt.Fprintf(e.stdout, "created table %s.%s\n", cfg.table.Database, cfg.table.Name)
		}
		fmt.Fprintf(e.stdout, "query %s in %s (account %s): %s scanned, $%.5f ($5/TB, 10 MB minimum)\n",
			res.QueryID, res.Region, res.Account, humanBytes(res.BytesScanned), res.CostUSD)
		fmt.Fprintf(e.stdout, "%d records found: %d journaled in %s, %d already held", res.Found, res.New, rec.Path(), res.Held)
		if res.Problems > 0 {
			fmt.Fprintf(e.stdout, ", %d rows could not be read (in the journal's skipped list)", res.Problems)
		}
		fmt.Fprintln(e.stdout)
	}
	if res.Found == 0 {
		fmt.Fprintln(e.stderr, "nothing found")
		return &exitError{code: exitProblem, quiet: true}
	}
	return nil
}
