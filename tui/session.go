package tui

import (
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// glyphEnded marks a session that ended, in the journal pane and the
// status line.
const glyphEnded = "✕"

// drivers are the commands whose sessions drive an incident from a console.
var drivers = map[string]bool{"console": true, "drill": true}

// driverPart is the status line's word that the console driving the
// incident has left: the latest console session journaled its end (a
// follower otherwise watches a screen that no one drives). "" while that
// session runs, and when no console ever attached.
func driverPart(s *state.Store) string {
	for i := len(s.Sessions) - 1; i >= 0; i-- {
		if !drivers[s.Sessions[i].V.Command] {
			continue
		}
		end, ok := s.SessionEnd(i)
		if !ok {
			return ""
		}
		reason := end.V.Reason
		if end.V.Error != "" {
			reason += ": " + end.V.Error
		}
		return glyphEnded + " driver " + clean(actorName(end.By)) + " left " + end.At.UTC().Format("15:04:05") + " (" + clean(reason) + ")"
	}
	return ""
}

// actorName is an actor as the journal pane names it: user@host.
func actorName(a journal.Actor) string {
	return a.User + suffix("@", a.Host)
}
