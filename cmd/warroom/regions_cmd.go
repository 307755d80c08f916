package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/aws/regions"
	"github.com/warroom-ir/warroom/aws/sweep"
	"github.com/warroom-ir/warroom/state"
)

func init() { moreCommands = append(moreCommands, newRegionsCmd) }

// mapEntry is one swept resource as the region map shows it.
type mapEntry struct {
	Region   string         `json:"region"`
	Kind     string         `json:"kind"`
	Resource state.Resource `json:"resource"`
	// Creator is the CloudTrail event that created the resource, when the
	// journal holds it.
	Creator *state.Creator `json:"creator,omitempty"`
	// New: created after the incident began. Attacker: created by a suspect
	// key's family or a suspect principal.
	New      bool `json:"new,omitempty"`
	Attacker bool `json:"attacker,omitempty"`
}

// regionMap is the region map: the Regions, each Region × kind sweep, and
// every resource with its creator.
type regionMap struct {
	Regions   []state.Region `json:"regions"`
	Began     time.Time      `json:"began,omitzero"`
	Sweeps    []state.Sweep  `json:"sweeps"`
	Resources []mapEntry     `json:"resources"`
}

// attacker says whether a creator is the attacker: its key is in the
// family of a suspect key, or its principal is a suspect.
func attacker(sp *state.SuspectSet, c state.Creator) bool { return sp.Has(c.AccessKeyID, c.Principal) }

func buildMap(list []state.Region, sweeps []state.Sweep, c *state.Creators, began time.Time, sp *state.SuspectSet) regionMap {
	m := regionMap{Regions: list, Began: began, Sweeps: sweeps, Resources: []mapEntry{}}
	for _, sw := range sweeps {
		for _, r := range sw.Resources {
			me := mapEntry{Region: sw.Region, Kind: sw.Kind, Resource: r}
			cr, ok := c.Of(sw.Region, r)
			if ok {
				me.Creator = &cr
				me.Attacker = attacker(sp, cr)
			}
			me.New = state.NewSince(began, r, cr, ok)
			m.Resources = append(m.Resources, me)
		}
	}
	return m
}

func newRegionsCmd(e *env) *cobra.Command {
	var (
		f           awsFlags
		of          orgFlags
		path        string
		output      string
		kinds       []string
		suspects    []string
		concurrency int
	)
	c := &cobra.Command{
		Use:   "regions",
		Short: "Sweep every enabled Region for instances, spot requests, key pairs, security groups and functions",
		Long: `regions reads the account's Regions (with opt-in status), then sweeps every enabled
Region for each resource kind (` + strings.Join(sweep.KindNames(), ", ") + `)
and prints the region map: Regions × kinds with counts, then every resource that is new
since the incident began or was made by a suspect key.

Who created each resource comes from the CloudTrail events in the journal (RunInstances,
RequestSpotInstances, ImportKeyPair, CreateFunction …): ingest or stream them first. A
resource made by a suspect key (marked in the journal, or given with --suspect) or by any
key it minted is marked ATTACKER.

The Region list and each Region × kind sweep are journaled when they differ from what
the journal already holds, so running it again records only the difference. A Region that is denied or not enabled
shows as such, and the rest of the sweep goes on; the exit code is then 1.`,
		Example: `  warroom regions --journal incident/journal.jsonl --suspect AKIAEXAMPLE
  warroom regions --output json | jq '.resources[] | select(.attacker)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			for _, s := range suspects {
				if !strings.HasPrefix(s, "arn:") && !inventory.ValidKeyID(s) {
					return usageErr(fmt.Errorf("--suspect %q: give an access key id or a principal ARN", s))
				}
			}
			ctx := cmd.Context()
			a, err := startRead(ctx, e, &f, path, "regions")
			if err != nil {
				return err
			}
			// What the journal already holds: only what changed is journaled again.
			s, _, err := replayJournal(e, a.rec.Path())
			if err != nil {
				a.finish()
				return err
			}
			home := a.sess.HomeRegion()
			list, err := regions.List(ctx, a.sess.EC2(home), home)
			if err != nil {
				a.finish()
				return &exitError{code: exitProblem, err: err}
			}
			if len(s.Regions) == 0 || len(regions.Diff(s.Regions, list)) > 0 {
				if _, err := a.rec.Record(state.KindRegions, state.Regions{Regions: list}); err != nil {
					a.finish()
					return usageErr(err)
				}
			}
			sweeps, err := sweep.Run(ctx, a.sess, regions.Enabled(list), sweep.Options{Kinds: kinds, Concurrency: concurrency})
			if err != nil {
				a.finish()
				return usageErr(err)
			}
			journaled := 0
			for _, sw := range sweeps {
				if old, ok := s.Sweeps[state.SweepKey{Region: sw.Region, Kind: sw.Kind}]; ok && !sweep.Changed(old.V, sw) {
					continue
				}
				if _, err := a.rec.Record(state.KindSweep, sw); err != nil {
					a.finish()
					return usageErr(err)
				}
				journaled++
			}
			if err := readMembers(ctx, e.stderr, a, &of); err != nil {
				a.finish()
				return err
			}
			if err := a.finish(); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "%d of %d Region × kind sweeps changed and were journaled\n", journaled, len(sweeps))
			raws := state.NewRawReader(a.rec.Path())
			defer raws.Close()
			creators, problems := state.FindCreators(s.Events, raws.Raw)
			for _, p := range problems {
				fmt.Fprintf(e.stderr, "warning: creator not read: %s\n", cell(p.Error(), 200))
			}
			m := buildMap(list, sweeps, creators, s.Incident.Began, s.SuspectSet(suspects...))
			if output == "json" {
				err = writeJSON(e.stdout, m)
			} else {
				err = printRegionMap(e.stdout, m)
			}
			if err != nil {
				return usageErr(err)
			}
			failed := 0
			for _, sw := range sweeps {
				if sw.Error != nil {
					failed++
				}
			}
			if failed > 0 {
				fmt.Fprintf(e.stderr, "%d of %d Region × kind sweeps failed\n", failed, len(sweeps))
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	f.register(c)
	of.register(c, &f)
	journalFlag(c, &path, "journal to record to (default: a new incident folder here)")
	c.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	c.Flags().StringSliceVar(&kinds, "kinds", nil, "sweep only these kinds (default: all)")
	c.Flags().StringArrayVar(&suspects, "suspect", nil, "mark resources made by this key (and every key it minted) or principal ARN as ATTACKER; repeatable")
	c.Flags().IntVar(&concurrency, "concurrency", 16, "Region × kind sweeps in flight")
	return c
}

// printRegionMap writes the Regions × kinds matrix and the resources that
// are new or the attacker's.
func printRegionMap(w io.Writer, m regionMap) error {
	var errs []error
	type count struct{ all, fresh, attacker int }
	counts := map[state.SweepKey]*count{}
	for _, me := range m.Resources {
		k := state.SweepKey{Region: me.Region, Kind: me.Kind}
		if counts[k] == nil {
			counts[k] = &count{}
		}
		c := counts[k]
		c.all++
		if me.New {
			c.fresh++
		}
		if me.Attacker {
			c.attacker++
		}
	}
	byKey := map[state.SweepKey]state.Sweep{}
	for _, sw := range m.Sweeps {
		byKey[state.SweepKey{Region: sw.Region, Kind: sw.Kind}] = sw
	}
	kinds := sweep.KindNames()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "REGION\tSTATUS")
	for _, k := range kinds {
		fmt.Fprint(tw, "\t"+strings.ToUpper(k[strings.IndexByte(k, ':')+1:]))
	}
	fmt.Fprintln(tw)
	for _, r := range m.Regions {
		fmt.Fprintf(tw, "%s\t%s", cell(r.Name, 30), cell(r.OptInStatus, 24))
		for _, k := range kinds {
			key := state.SweepKey{Region: r.Name, Kind: k}
			sw, swept := byKey[key]
			switch {
			case !r.Enabled():
				fmt.Fprint(tw, "\t·")
			case !swept:
				fmt.Fprint(tw, "\t-")
			case sw.Error != nil:
				fmt.Fprint(tw, "\t✗ "+sw.Error.Class)
			default:
				c := counts[key]
				if c == nil {
					fmt.Fprint(tw, "\t0")
					continue
				}
				s := fmt.Sprint(c.all)
				if c.fresh > 0 {
					s += fmt.Sprintf(" (%d new", c.fresh)
					if c.attacker > 0 {
						s += fmt.Sprintf(", %d attacker", c.attacker)
					}
					s += ")"
				} else if c.attacker > 0 {
					s += fmt.Sprintf(" (%d attacker)", c.attacker)
				}
				if c.fresh > 0 || c.attacker > 0 {
					s = "▲ " + s
				}
				fmt.Fprint(tw, "\t"+s)
			}
		}
		fmt.Fprintln(tw)
	}
	errs = append(errs, tw.Flush())
	fmt.Fprintln(w)
	if !m.Began.IsZero() {
		fmt.Fprintf(w, "new = created after %s\n", when(m.Began))
	}

	shown := 0
	for _, me := range m.Resources {
		if !me.New && !me.Attacker {
			continue
		}
		if shown == 0 {
			fmt.Fprintln(tw, "REGION\tKIND\tID\tNAME\tSTATE\tCREATED\tBY\tKEY\tMARKS\tDETAIL")
		}
		shown++
		by, key, created := "?", "", me.Resource.Created
		if me.Creator != nil {
			by, key = me.Creator.Principal, me.Creator.AccessKeyID
			if created.IsZero() {
				created = me.Creator.Time
			}
		}
		marks := strings.TrimSpace(mark(me.Attacker, "ATTACKER ") + mark(me.New, "NEW"))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cell(me.Region, 20), me.Kind, cell(me.Resource.ID, 80),
			cell(me.Resource.Name, 40), cell(me.Resource.State, 20), when(created), cell(by, 80), cell(key, 32), marks,
			cell(detail(me.Resource), 120))
	}
	if shown == 0 {
		fmt.Fprintln(w, "no resource is new since the incident began or made by a suspect key")
	}
	errs = append(errs, tw.Flush())
	for _, sw := range m.Sweeps {
		if sw.Error != nil {
			fmt.Fprintf(w, "✗ %s %s: %s\n", cell(sw.Region, 20), sw.Kind, cell(sw.Error.Error, 200))
		}
	}
	return errors.Join(errs...)
}

// detail is a resource's attributes as one line, the protection flags first.
func detail(r state.Resource) string {
	var parts []string
	for _, k := range []string{"termination_protection", "stop_protection"} {
		if r.Attrs[k] == "true" {
			parts = append(parts, "! "+strings.ReplaceAll(k, "_", " "))
		}
	}
	for _, k := range []string{"type", "key_pair", "spot_request", "request_type", "instance", "runtime", "role", "open_to_world", "public_ip"} {
		if v := r.Attrs[k]; v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}
