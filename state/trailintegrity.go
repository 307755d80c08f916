package state

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// TrailIntegrity is one validation of a trail's log files against
// CloudTrail's signed, chained digest files (package trailcheck): intact,
// or where it is broken, and every gap.
type TrailIntegrity struct {
	// Source is what was validated: s3://bucket/prefix or a folder's path.
	Source string    `json:"source"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Intact bool      `json:"intact"`
	// SignaturesChecked is false when the digests' signatures could not be
	// verified (no metadata or no public keys): hashes and links only.
	SignaturesChecked bool       `json:"signatures_checked"`
	Note              string     `json:"note,omitempty"`
	Digests           int        `json:"digests"`
	DigestsValid      int        `json:"digests_valid"`
	Logs              int        `json:"logs"`
	LogsValid         int        `json:"logs_valid"`
	Gaps              []TrailGap `json:"gaps,omitempty"`
	// Problems lists what is invalid or missing (digests, log files, log
	// files no digest lists), the first MaxTrailProblems; MoreProblems
	// counts the rest.
	Problems     []TrailProblem `json:"problems,omitempty"`
	MoreProblems int            `json:"more_problems,omitempty"`
	// Unvouched lists the log files (bucket/key) present that no valid
	// digest vouches for, pending ones included: events read from them are
	// marked. Bounded like Problems.
	Unvouched []string `json:"unvouched,omitempty"`
	// UnvouchedEvents are the event ids of the records read from files no
	// valid digest vouches for (unvouched, invalid), as ingest found them.
	UnvouchedEvents []string `json:"unvouched_events,omitempty"`
	// UnvouchedFrom are the same, by the file (s3://bucket/key or a
	// path) they were read from, for the detail view to name it.
	UnvouchedFrom []UnvouchedFrom `json:"unvouched_from,omitempty"`
	// Failed, when set, says why nothing could be validated (the trails
	// could not be read, the bucket denied, no trail has validation on):
	// never intact.
	Failed string `json:"failed,omitempty"`
	// Unsure, when set, says why the result is neither intact nor broken:
	// no digest delivered yet, so nothing is vouched for nor contradicted.
	Unsure string `json:"unsure,omitempty"`
	// Trails names the trails a console validated (s3://bucket/prefix and
	// the trail's name), for a source that covers an account's trails.
	Trails []string `json:"trails,omitempty"`
}

// MaxTrailProblems bounds TrailIntegrity's lists.
const MaxTrailProblems = 200

// UnvouchedFrom is a log file no valid digest vouches for and the event
// ids of the records read from it.
type UnvouchedFrom struct {
	File   string   `json:"file"`
	Events []string `json:"events"`
}

// TrailGap is a time no digest chain covers.
type TrailGap struct {
	Chain string    `json:"chain"` // account Region trail
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

// TrailProblem is one digest or log file that is not valid.
type TrailProblem struct {
	What   string `json:"what"` // "digest", "log", "unvouched"
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Status string `json:"status"` // "invalid", "missing", "unvouched"
	Why    string `json:"why,omitempty"`
}

// Word is the one-word state: "broken" when something is invalid or
// missing, "unchecked" when it could not be validated (Failed), "unsure"
// when no digest was delivered yet (Unsure), "intact", or "gaps" when only
// gaps stand between the trail and intact.
func (t TrailIntegrity) Word() string {
	switch {
	case len(t.Problems) > 0 || t.MoreProblems > 0:
		return "broken"
	case t.Failed != "":
		return "unchecked"
	case t.Unsure != "":
		return "unsure"
	case t.Intact:
		return "intact"
	case len(t.Gaps) > 0:
		return "gaps"
	}
	return "broken"
}

// Where says briefly where the trail is broken: the first problem, why
// it could not be checked or is unsure, or the first gap.
func (t TrailIntegrity) Where() string {
	if len(t.Problems) > 0 {
		p := t.Problems[0]
		w := p.What + " " + p.Key + " " + p.Status
		if p.Why != "" {
			w += ": " + p.Why
		}
		return w
	}
	if t.Failed != "" {
		return t.Failed
	}
	if t.Unsure != "" {
		return t.Unsure
	}
	if len(t.Gaps) > 0 {
		g := t.Gaps[0]
		return "gap " + g.From.UTC().Format("2006-01-02 15:04") + "–" + g.To.UTC().Format("15:04") + " UTC"
	}
	return ""
}

// Summary is the fact's line in the journal pane.
func (t TrailIntegrity) Summary() string {
	if w := t.Word(); w == "unchecked" || w == "unsure" {
		return fmt.Sprintf("trail %s %s: %s", t.Source, w, t.Where())
	}
	s := fmt.Sprintf("trail %s %s: %d/%d digests, %d/%d log files valid, %s", t.Source, t.Word(),
		t.DigestsValid, t.Digests, t.LogsValid, t.Logs, Plural(len(t.Gaps), "gap"))
	if !t.SignaturesChecked {
		s += ", signatures not checked"
	}
	if w := t.Where(); w != "" && !t.Intact {
		s += "; " + w
	}
	return s
}

// UnvouchedFile reports whether the file a record came from (as ingest
// and the S3 source name it: a path ending in the object's key, or
// s3://bucket/key) is one a trail validation found no digest vouching for.
func (s *Store) UnvouchedFile(file string) bool {
	if len(s.unvouched) == 0 {
		return false
	}
	file = strings.ReplaceAll(file, "\\", "/")
	for i := 0; i < len(file); i++ {
		if file[i] == '/' && s.unvouched[file[i+1:]] {
			return true
		}
	}
	return false
}

// noteUnvouched rebuilds the set UnvouchedFile reads from the latest
// validation of each source: unvouched files by bucket/key and by key.
func (s *Store) noteUnvouched() {
	s.unvouched, s.unvouchedEvents = map[string]bool{}, map[string]string{}
	for _, t := range s.Integrity {
		s.addUnvouched(t.V)
	}
}

func (s *Store) addUnvouched(t TrailIntegrity) {
	for _, id := range t.UnvouchedEvents {
		if _, ok := s.unvouchedEvents[id]; !ok {
			s.unvouchedEvents[id] = ""
		}
	}
	for _, f := range t.UnvouchedFrom {
		for _, id := range f.Events {
			s.unvouchedEvents[id] = f.File
		}
	}
	for _, u := range t.Unvouched {
		s.unvouched[u] = true
		if i := strings.IndexByte(u, '/'); i >= 0 {
			s.unvouched[u[i+1:]] = true
		}
	}
}

// UnvouchedEvent reports whether a trail validation found the record with
// this event id in a file no valid digest vouches for.
func (s *Store) UnvouchedEvent(id string) bool {
	if len(s.unvouchedEvents) == 0 {
		return false
	}
	_, ok := s.unvouchedEvents[id]
	return ok
}

// UnvouchedEventFile is the file UnvouchedEvent found the record in ("",
// true when the validation did not say which).
func (s *Store) UnvouchedEventFile(id string) (string, bool) {
	f, ok := s.unvouchedEvents[id]
	return f, ok
}

// IntegritySources lists the trail sources validated, sorted.
func (s *Store) IntegritySources() []string {
	out := make([]string, 0, len(s.Integrity))
	for k := range s.Integrity {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
