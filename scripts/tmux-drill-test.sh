#!/usr/bin/env bash
# tmux-drill-test.sh: play `warroom drill` the way a person does, in a
# detached tmux session at 120x40, and check what the screen shows.
#
# It builds warroom (or uses $WARROOM_BIN), starts `warroom drill --speed 50`,
# waits for the attacker's events in the stream, sends keys (filter, focus,
# help), captures the pane as plain text and checks it (the status line,
# event rows, no raw escape sequence), then quits with q and a confirm and
# checks the debrief. Exit 0 when every check passes; the failing check and
# the last screen are printed otherwise.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
session="warroom-drill-test-$$"
cleanup() {
	tmux kill-session -t "$session" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

bin=${WARROOM_BIN:-}
if [[ -z "$bin" ]]; then
	bin="$work/warroom"
	(cd "$root" && go build -o "$bin" ./cmd/warroom)
fi

screen="$work/screen.txt"
capture() { tmux capture-pane -p -t "$session" >"$screen"; }
fail() {
	echo "FAIL: $*" >&2
	echo "--- last screen ---" >&2
	cat "$screen" >&2 || true
	echo "--- stderr ---" >&2
	cat "$work/stderr" >&2 || true
	exit 1
}
# wait_for PATTERN WHAT: capture until the screen matches (extended regex).
wait_for() {
	local deadline=$((SECONDS + ${WAIT:-90}))
	while ((SECONDS < deadline)); do
		capture
		if grep -Eq -- "$1" "$screen"; then
			return 0
		fi
		sleep 0.5
	done
	fail "waited in vain for $2 (/$1/)"
}
# wait_gone PATTERN WHAT: capture until the screen no longer matches.
wait_gone() {
	local deadline=$((SECONDS + ${WAIT:-90}))
	while ((SECONDS < deadline)); do
		capture
		if ! grep -Eq -- "$1" "$screen"; then
			return 0
		fi
		sleep 0.5
	done
	fail "waited in vain for $2 (/$1/ still on screen)"
}
check() { grep -Eq -- "$1" "$screen" || fail "$2 (/$1/)"; }
no_escapes() {
	if grep -q $'\x1b' "$screen" || grep -Eq '\[[0-9;]+m|\]52;|\]0;' "$screen"; then
		fail "a raw escape sequence is on screen"
	fi
}

tmux new-session -d -s "$session" -x 120 -y 40 \
	"cd '$work' && '$bin' drill --speed 50 --journal '$work/inc/journal.jsonl' 2>'$work/stderr'; echo \"warroom exited \$?\"; sleep 300"

# The console is up: the status line says LIVE, the drill account and the clock.
wait_for '^ LIVE .* UTC' "the status line" # the account's "drill" label is dropped first when the line is full
check 'Stream' "the stream pane"
check 'Principals' "the principals pane"
check 'Journal' "the journal pane"
no_escapes

# The attacker's first events: the leaked key's user, in event rows.
wait_for 'user/legacy-r' "the attacker's events in the stream"
check '[0-9]{2}:[0-9]{2}:[0-9]{2} [A-Z][A-Za-z]+ ' "event rows (time, event)"
no_escapes

# Filter the stream on the attacker's user.
tmux send-keys -t "$session" /
tmux send-keys -t "$session" -l 'user:legacy-reporting'
tmux send-keys -t "$session" Enter
wait_for '/-ours user:legacy-reporting' "the filter (refining the console's -ours) in the stream's title"
check '[0-9]+ of [0-9,]+' "the filtered count"
no_escapes

# Focus the principals pane and zoom it: only it is on screen.
tmux send-keys -t "$session" 2 z
wait_gone 'Journal ·' "zoom to hide the other panes"
check 'Principals · [0-9]+ users' "the zoomed principals pane"
check '^│ +(user|key|role|root) ' "principal rows"
tmux send-keys -t "$session" z 1
wait_for 'Journal ·' "the panes again after zoom"

# Help for what applies now, then back.
tmux send-keys -t "$session" '?'
wait_for 'Help · what applies now' "the help view"
no_escapes
tmux send-keys -t "$session" '?'
wait_for '1 Stream' "the panes again"

# Quit: q asks first, Cancel is focused; tab to Quit and press it.
tmux send-keys -t "$session" q
wait_for 'Quit warroom\?' "the quit dialog"
sleep 0.6 # the dialog ignores keys for a moment after it opens
tmux send-keys -t "$session" Tab Enter
wait_for 'warroom exited 0' "warroom to exit"
# The debrief may be longer than the window: read the scrollback too.
tmux capture-pane -p -S -300 -t "$session" >"$screen"
check 'Debrief' "the debrief"
check 'verdict \(read back from AWS' "the verdict, read back from AWS"
check 'first attacker call' "the debrief's first attacker call"
check 'what the attacker held' "what the attacker held"
no_escapes
echo "ok: tmux drill test passed"
