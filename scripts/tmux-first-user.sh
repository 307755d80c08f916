#!/usr/bin/env bash
# tmux-first-user.sh: a first-time user's drill, in a detached tmux session,
# driven only by what the screen says.
#
# It builds warroom (or uses $WARROOM_BIN), serves the drill account with
# `warroom sim` in the background, points the AWS CLI and `warroom console`
# at it with the `export` lines sim prints, and opens the console in tmux at
# $SIZE (default 80x24). Before any key is pressed the screen must advertise
# it: the hint bar at the bottom, or the help that `?` opens (which the hint
# bar advertises). The user reads the help (paging with what its footer
# offers), waits for rows carrying the marks the help's legend gives to an
# attacker's moves, selects a row of the principal that carries most of them
# (↓/j, ↑/k), filters on it (p), marks it suspect (s), opens containment
# (C), types what the plan dialog says to type, runs the plan, waits for the
# verdict (status line, else the journal pane the footer points to), and
# opens :debrief when the console offers it (help or : with tab).
#
# Then it reads the drill back with the AWS CLI (Debian's awscli v1, with
# --endpoint-url) as ground truth: the leaked key's status, and the
# attacker's running instances (key pair "kali" or Name "worker", as
# aws/sim/scenario launches them) in every enabled Region. It fails when the
# console says "contained" while the drill shows an open foothold.
# "not contained" or "unsure" pass: the verdict only has to agree.
#
# It prints the time from the attacker's first marked row on screen to the
# confirmed playbook, the keystrokes sent, and notes on what a newcomer
# could not find on screen. Exit 0 when every check passes.
#
# Environment: SIZE (80x24), SEED (3), SPEED (20), PORT (0: a free one),
# WARROOM_BIN, WAIT (seconds for each screen wait, 90), WAIT_CONTAIN (300).
set -euo pipefail
export LC_ALL=C.UTF-8

root=$(cd "$(dirname "$0")/.." && pwd)
size=${SIZE:-80x24}
cols=${size%x*}
lines=${size#*x}
seed=${SEED:-3}
speed=${SPEED:-20}
port=${PORT:-0}
work=$(mktemp -d)
session="warroom-first-user-$$"
sim_pid=
cleanup() {
	tmux kill-session -t "$session" 2>/dev/null || true
	if [[ -n "$sim_pid" ]]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

bin=${WARROOM_BIN:-}
if [[ -z "$bin" ]]; then
	bin="$work/warroom"
	(cd "$root" && go build -o "$bin" ./cmd/warroom)
fi
py() { python3 "$root/scripts/tmux-first-user-screen.py" "$@"; }

screen="$work/screen.txt"
notes=()
note() {
	notes+=("$*")
	echo "note: $*"
}
capture() { tmux capture-pane -p -t "$session" >"$screen"; }
capture_e() { tmux capture-pane -p -e -t "$session" >"$work/screen-e.txt"; }
fail() {
	echo "FAIL [$size]: $*" >&2
	echo "--- last screen ---" >&2
	cat "$screen" >&2 || true
	echo "--- console stderr ---" >&2
	tail -20 "$work/stderr" >&2 || true
	echo "--- sim stderr ---" >&2
	tail -5 "$work/sim.err" >&2 || true
	exit 1
}
wait_for() {
	local deadline=$((SECONDS + ${3:-${WAIT:-90}}))
	while ((SECONDS < deadline)); do
		capture
		if grep -Eq -- "$1" "$screen"; then
			return 0
		fi
		sleep 0.5
	done
	fail "waited in vain for $2 (/$1/)"
}
footer() { tail -n 1 "$screen"; }
statusline() { head -n 1 "$screen"; }
# footer_has / status_has REGEX: the bottom / top line matches (no pipe:
# grep -q closing it early must not read as a mismatch under pipefail).
footer_has() { grep -Eq -- "$1" <(tail -n 1 "$screen"); }
status_has() { grep -Eq -- "$1" <(head -n 1 "$screen"); }

# Every key sent is counted; typed text counts one key a character.
keys=0
press() {
	tmux send-keys -t "$session" "$@"
	keys=$((keys + $#))
}
type_text() {
	tmux send-keys -t "$session" -l "$1"
	keys=$((keys + ${#1}))
}
# advertised KEY-REGEX WHAT: the key is offered by the hint bar now, or by
# the help read earlier; otherwise a newcomer would not press it.
advertised() {
	capture
	if footer_has "$1"; then
		return 0
	fi
	if [[ -s "$work/help.txt" ]] && grep -Eq -- "$2" "$work/help.txt"; then
		return 0
	fi
	fail "the screen does not advertise the key: /$1/ in the hint bar, /$2/ in help"
}

# The drill account.
"$bin" sim --listen "127.0.0.1:$port" --seed "$seed" --speed "$speed" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 100); do
	grep -q '^leaked key:' "$work/sim.out" 2>/dev/null && break
	kill -0 "$sim_pid" 2>/dev/null || {
		cat "$work/sim.err" >&2
		echo "FAIL: warroom sim exited" >&2
		exit 1
	}
	sleep 0.2
done
grep -q '^leaked key:' "$work/sim.out" || {
	echo "FAIL: warroom sim printed no settings" >&2
	exit 1
}
eval "$(grep '^export ' "$work/sim.out")"
leaked=$(sed -n 's/^leaked key: //p' "$work/sim.out")
endpoint=$AWS_ENDPOINT_URL
awsq() { aws --endpoint-url "$endpoint" --output text "$@"; }
exports=$(grep '^export ' "$work/sim.out" | sed 's/^export //' | tr '\n' ' ')

tmux new-session -d -s "$session" -x "$cols" -y "$lines" \
	"cd '$work' && env $exports '$bin' console --journal '$work/inc/journal.jsonl' 2>'$work/stderr'; echo \"warroom exited \$?\"; sleep 300"
started=$SECONDS

wait_for '^ LIVE ' "the console's status line"

# 1. The hint bar offers help: read all of it, paging as its footer says.
advertised '\? help' '^$'
press '?'
wait_for 'Help' "the help view"
: >"$work/help.txt"
prev=
for _ in $(seq 1 30); do
	capture
	sed '1,2d;$d' "$screen" >>"$work/help.txt"
	cur=$(cat "$screen")
	[[ "$cur" == "$prev" ]] && break
	prev=$cur
	footer_has 'pgdn page down' || break
	press PgDn
	sleep 0.3
done
footer_has 'esc close' || fail "the help does not say how to close it"
press Escape
wait_for '1 [Ss]tream' "the panes again"

grep -Eq '[│ ]p +filter on this event.s principal' "$work/help.txt" || fail "help does not say how to filter on a principal"
grep -Eq '[│ ]s +mark or clear suspect' "$work/help.txt" || fail "help does not say how to mark a suspect"
grep -Eq '[│ …]C +plan: contain a suspect' "$work/help.txt" || fail "help does not say how to contain"
grep -Eq '↓/j +down' "$work/help.txt" || fail "help does not say how to move down"
mapfile -t attack_marks < <(py marks "$work/help.txt")
((${#attack_marks[@]} > 0)) || fail "help's legend names no mark for an attacker's moves"
echo "help: the legend marks an attacker's moves with: ${attack_marks[*]}"
has_debrief=no
grep -Eq ':debrief' "$work/help.txt" && has_debrief=help

# 2. Watch the stream for rows carrying those marks; the principal with the
# most kinds of them is the attacker a newcomer would pick. The attacker's
# first moves come in a burst that can scroll past between two looks: when
# marked rows have been on screen for a while and no principal stands out,
# page down through the older rows (pgdn, in help), then follow again (f).
declare -A first_marked=() kinds=()
suspect=
marked=0 # rows with a mark seen yet (bash 5.0's set -u refuses ${#a[@]} of an empty array)
# look: read the stream's rows on screen into first_marked and kinds.
look() {
	capture
	local now=$SECONDS mark principal key m
	while IFS=$'\t' read -r mark principal key; do
		[[ -z "$principal" ]] && continue
		m=${mark//[ ·»-]/}
		if [[ -n "$m" && -z "${first_marked[$principal]:-}" ]]; then
			first_marked[$principal]=$now
			marked=1
		fi
		for m in "${attack_marks[@]}"; do
			if [[ "$mark" == *"$m"* && "${kinds[$principal]:-}" != *"$m"* ]]; then
				kinds[$principal]+=$m
			fi
		done
	done < <(py rows "$screen")
	((marked)) || return 0
	for p in "${!kinds[@]}"; do
		if ((${#kinds[$p]} >= 2)) && { [[ -z "$suspect" ]] || ((${#kinds[$p]} > ${#kinds[$suspect]})); }; then
			suspect=$p
		fi
	done
}
deadline=$((SECONDS + ${WAIT:-90} + 60))
scanned=$SECONDS
while ((SECONDS < deadline)); do
	look
	[[ -n "$suspect" ]] && break
	if ((marked && SECONDS - scanned > 8)); then
		advertised 'pgdn' '[│ ]pgdn +page down'
		for _ in 1 2 3 4 5 6; do
			press PgDn
			sleep 0.3
			look
			[[ -n "$suspect" ]] && break
		done
		advertised 'f follow' '[│ ]f +follow newest'
		press f
		scanned=$SECONDS
		[[ -n "$suspect" ]] && break
	fi
	sleep 0.5
done
[[ -n "$suspect" ]] || fail "no principal's rows carry two kinds of the attacker's marks (${attack_marks[*]})"
t0=${first_marked[$suspect]}
echo "attacker (from the marks on screen): $suspect, marks ${kinds[$suspect]}, first marked row at +$((t0 - started))s"

# 3. Select one of its rows: ↓/j and ↑/k, reading the highlighted row.
for _ in $(seq 1 40); do
	capture
	capture_e
	sel=$(py selected "$work/screen-e.txt")
	mapfile -t principals < <(py rows "$screen" | cut -f2)
	if ((sel >= 0)) && [[ "${principals[$sel]:-}" == "$suspect" ]]; then
		break
	fi
	target=-1
	for i in "${!principals[@]}"; do
		if [[ "${principals[$i]}" == "$suspect" ]]; then
			target=$i
			break
		fi
	done
	if ((target < 0 || sel < 0 || target > sel)); then
		advertised '↓/j' '↓/j +down'
		press j
	else
		advertised '↑/k' '↑/k +up'
		press k
	fi
	sleep 0.3
done
((sel >= 0)) && [[ "${principals[$sel]:-}" == "$suspect" ]] || fail "could not select a row of $suspect"

# 4. Filter on it, mark it suspect, open containment.
advertised 'p principal' '[│ ]p +filter on this event.s principal'
press p
wait_for '/.*principal:' "the principal filter in the stream's title"
advertised 's suspect' '[│ ]s +mark or clear suspect'
press s
wait_for 'suspect mark journaled|»' "the suspect mark"
advertised 'C contain' '[│ …]C +plan: contain a suspect'
press C
wait_for 'Run plan' "the plan dialog" "${WAIT_CONTAIN:-300}"
sleep 1 # a newcomer reads the dialog (it ignores keys for a moment after it opens)
capture
confirm=$(grep -Eo 'type [^ ]+ to confirm' "$screen" | head -n 1 | sed -E 's/^type (.+) to confirm$/\1/' || true)
if [[ -n "$confirm" ]]; then
	[[ "$confirm" != *…* ]] || fail "the dialog cuts what to type: $confirm"
	type_text "$confirm"
	sleep 0.3
fi
for _ in 1 2 3; do
	capture
	grep -q '\[Run plan\]' "$screen" && break
	advertised 'tab.* switch button' '[│ ]tab/←/→ +switch button'
	press Tab
	sleep 0.3
done
grep -q '\[Run plan\]' "$screen" || fail "Run plan never has the focus"
advertised 'enter press the focused button' 'enter +press the focused button'
press Enter
t1=$SECONDS
keys_at_confirm=$keys
echo "playbook confirmed: +$((t1 - t0))s after the attacker's first marked row, $keys keystrokes"

# 5. The verdict: the status line, else where the footer points.
verdict_re='(✓ contained|✗ not contained|\? unsure)'
# It runs while the status line says "▶ running" (or the flash line still
# says "running Contain"). A capture can come back empty or mid-redraw under
# load: it is over only after two whole screens in a row say so.
running() { [[ ! -s "$screen" ]] || footer_has 'running Contain' || status_has '▶ (running|[0-9]+ plans running)'; }
deadline=$((SECONDS + ${WAIT_CONTAIN:-300}))
quiet=0
while ((SECONDS < deadline && quiet < 2)); do
	capture
	if running; then quiet=0; else quiet=$((quiet + 1)); fi
	sleep 1
done
((quiet >= 2)) || fail "the playbook still runs after ${WAIT_CONTAIN:-300}s"
finished=$SECONDS
echo "playbook done after $((finished - t1))s: $(footer)"
verdict=
if status_has "$verdict_re"; then
	verdict=$(statusline | grep -Eo -m1 "$verdict_re" | sed -E 's/^[^ ]+ //')
	echo "status line: $verdict"
else
	note "the status line at $size does not show the verdict (cut off)"
	footer_has 'journal' || note "the footer does not say where the outcome is: $(footer)"
	advertised '4 journal' '1-4 +focus'
	press 4
	wait_for 'verdict on [^:]+: (not contained|contained|unsure)' "a verdict in the journal pane"
	verdict=$(grep -Eo 'verdict on [^:]+: (not contained|contained|unsure)' "$screen" | tail -n 1 | sed -E 's/.*: //')
	echo "journal pane: $verdict"
fi

# 6. :debrief, if the console offers it (help, or : and tab).
if [[ $has_debrief == no ]]; then
	advertised ': commands' '[│ ]: +command line'
	press :
	type_text deb
	press Tab
	sleep 0.5
	capture
	if footer_has ':debrief'; then
		has_debrief=completion
	else
		press Escape
	fi
else
	press :
	type_text debrief
fi
debrief=
if [[ $has_debrief != no ]]; then
	press Enter
	wait_for 'Debrief' "the debrief"
	for _ in $(seq 1 20); do
		capture
		if grep -Eq 'verdict( \(read back[^)]*\))?: ' "$screen"; then
			break
		fi
		footer_has 'pgdn' || break
		press PgDn
		sleep 0.3
	done
	debrief=$(grep -Eo 'verdict( \(read back[^)]*\))?: (not contained|contained|unsure)' "$screen" | tail -n 1 | sed -E 's/.*: //' || true)
	[[ -n "$debrief" ]] || fail "the debrief shows no verdict"
	echo "debrief: $debrief"
	verdict=$debrief
	press Escape
else
	note "the console offers no :debrief (help and : with tab); the verdict is the one the screen shows"
fi

# 7. Ground truth, read with the AWS CLI.
user=$(awsq iam get-access-key-last-used --access-key-id "$leaked" --query UserName)
key_status=$(awsq iam list-access-keys --user-name "$user" --query "AccessKeyMetadata[?AccessKeyId=='$leaked'].Status")
regions=$(awsq ec2 describe-regions --query 'Regions[].RegionName')
mkdir -p "$work/regions"
# shellcheck disable=SC2016 # the backquotes are JMESPath's
printf '%s\n' $regions | xargs -P 6 -I{} sh -c 'aws --endpoint-url "$0" --output text --region {} ec2 describe-instances \
	--filters Name=instance-state-name,Values=running \
	--query "Reservations[].Instances[].[InstanceId,KeyName,Tags[?Key==\`Name\`]|[0].Value]" >"$1/{}" || echo "describe-instances failed in {}" >"$1/{}.err"' \
	"$endpoint" "$work/regions"
if ls "$work/regions/"*.err >/dev/null 2>&1; then
	cat "$work/regions/"*.err >&2
	fail "the AWS CLI could not read every Region"
fi
attacker_running=$(cat "$work/regions/"* | awk -F'\t' '$2 == "kali" || $3 == "worker"' | wc -l)
nregions=$(printf '%s\n' $regions | wc -l)
echo "drill (AWS CLI): leaked key $leaked of user $user is $key_status; $attacker_running attacker instances running in $nregions enabled Regions"

open=no
if [[ "$key_status" != "Inactive" || "$attacker_running" -gt 0 ]]; then
	open=yes
fi
# "contained" only when the drill agrees; open footholds never "contained".
if [[ "$verdict" == "contained" && $open == yes ]]; then
	fail "the verdict says contained, the drill disagrees: key $key_status, $attacker_running attacker instances running"
fi

# 8. Quit, as the hint bar says.
advertised 'q quit' '[│ ]q +quit'
press q
wait_for 'Quit warroom\?' "the quit dialog"
sleep 0.6
press Tab Enter
wait_for 'warroom exited 0' "warroom to exit"

echo "result [$size seed $seed speed $speed]: verdict $verdict, drill open=$open; first marked attacker row to confirmed playbook $((t1 - t0))s; keystrokes $keys_at_confirm to the confirmed playbook, $keys in all"
for n in "${notes[@]}"; do
	echo "result note: $n"
done
echo "ok: tmux first-user test passed"
