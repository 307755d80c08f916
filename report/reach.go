package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// Reach is one principal's blast radius, from its newest principal.reach
// fact (IAM Access Advisor).
type Reach struct {
	Principal string    `json:"principal"`
	Key       string    `json:"key,omitempty"`
	ReadAt    time.Time `json:"read_at"`
	Status    string    `json:"status"`
	// Error says why there is no report (the call and AWS's words).
	Error    string               `json:"error,omitempty"`
	Allowed  int                  `json:"allowed"`
	Used     int                  `json:"used"`
	Services []state.ServiceReach `json:"services,omitempty"`
}

// ConfigHistory is one resource's AWS Config history as last read.
type ConfigHistory struct {
	Region       string             `json:"region"`
	ResourceType string             `json:"resource_type"`
	ResourceID   string             `json:"resource_id"`
	Name         string             `json:"name,omitempty"`
	ReadAt       time.Time          `json:"read_at"`
	State        string             `json:"state"` // "history", "not recording", "not discovered", "not read"
	Error        string             `json:"error,omitempty"`
	Items        []state.ConfigItem `json:"items,omitempty"`
}

// configItemsShown bounds the items the report lists per resource.
const configItemsShown = 50

func (r *Report) reach(s *state.Store) {
	for _, d := range s.ReachList() {
		v := d.V
		x := Reach{Principal: v.Principal, Key: v.Key, ReadAt: d.At, Status: v.Status, Allowed: len(v.Services), Used: v.UsedCount(), Services: v.Services}
		if v.Error != nil {
			x.Error = v.Error.Call + " (" + v.Error.Class + "): " + v.Error.Error
		}
		r.BlastRadius = append(r.BlastRadius, x)
	}
	for _, d := range s.ConfigHistoryList() {
		v := d.V
		x := ConfigHistory{Region: v.Region, ResourceType: v.ResourceType, ResourceID: v.ResourceID, Name: v.Name, ReadAt: d.At, State: "history", Items: slices.Clone(v.Items)}
		switch {
		case v.Error != nil:
			x.State, x.Error = "not read", v.Error.Call+" ("+v.Error.Class+"): "+v.Error.Error
		case v.Recording != state.ConfigRecording:
			x.State = "not recording"
		case v.NotDiscovered:
			x.State = "not discovered"
		}
		for i := range x.Items {
			x.Items[i].Configuration = "" // the journal keeps it; the report lists the changes
		}
		if len(x.Items) > configItemsShown {
			x.Items = x.Items[:configItemsShown]
		}
		r.ConfigHistory = append(r.ConfigHistory, x)
	}
}

// renderReach writes "Blast radius" and "Configuration history", when read.
func renderReach(sb *strings.Builder, r *Report, st style) {
	e := st.esc
	if len(r.BlastRadius) > 0 {
		sb.WriteString(st.heading(2, "Blast radius"))
		sb.WriteString(st.para("What each principal's policies allow and what it used, from IAM Access Advisor (warroom advisor, b in the console). " +
			"Access Advisor counts every authenticated attempt, denied ones too; CloudTrail is the record of each call."))
		for _, x := range r.BlastRadius {
			head := e(x.Principal)
			if x.Key != "" {
				head += " (key " + e(x.Key) + ")"
			}
			sb.WriteString(st.heading(3, head))
			if x.Error != "" {
				sb.WriteString(st.para("Not read at " + ts(x.ReadAt) + ": " + e(x.Error)))
				continue
			}
			sb.WriteString(st.para(fmt.Sprintf("Read at %s: %d services allowed, %d used.", ts(x.ReadAt), x.Allowed, x.Used)))
			var rows [][]string
			var never []string
			for _, s := range x.Services {
				if !s.Used() {
					never = append(never, e(s.Namespace))
					continue
				}
				var acts []string
				for _, a := range s.Actions {
					if !a.LastUsed.IsZero() {
						acts = append(acts, e(a.Name))
					}
				}
				rows = append(rows, []string{e(s.Namespace), ts(s.LastUsed), e(s.Region), e(s.Entity), strings.Join(acts, ", ")})
			}
			if len(rows) > 0 {
				sb.WriteString(st.table([]string{"service", "last used", "region", "entity", "actions used"}, rows))
			}
			if len(never) > 0 {
				sb.WriteString(st.para("Allowed, never used: " + strings.Join(never, ", ") + "."))
			}
		}
	}
	if len(r.ConfigHistory) > 0 {
		sb.WriteString(st.heading(2, "Configuration history"))
		sb.WriteString(st.para("Each resource's AWS Config items as read (warroom config-history, b on a resource), newest first."))
		for _, x := range r.ConfigHistory {
			head := e(x.ResourceType) + " " + e(x.ResourceID)
			if x.Name != "" {
				head += " (" + e(x.Name) + ")"
			}
			sb.WriteString(st.heading(3, head+" in "+e(x.Region)))
			switch x.State {
			case "not read":
				sb.WriteString(st.para("Not read at " + ts(x.ReadAt) + ": " + e(x.Error)))
				continue
			case "not recording":
				sb.WriteString(st.para("AWS Config is not recording here (read at " + ts(x.ReadAt) + ")."))
				continue
			case "not discovered":
				sb.WriteString(st.para("AWS Config has not discovered it (read at " + ts(x.ReadAt) + ")."))
				continue
			}
			var rows [][]string
			for _, it := range x.Items {
				rows = append(rows, []string{ts(it.CaptureTime), e(it.Status), e(it.StateID)})
			}
			if len(rows) == 0 {
				sb.WriteString(st.para("No configuration item."))
				continue
			}
			sb.WriteString(st.table([]string{"captured", "status", "state id"}, rows))
		}
	}
}
