#!/bin/sh
# Red-team pass over warroom's output paths (issue 13, point 7): plants
# hostile text of every class in CloudTrail records files and in the drill
# account, runs every output path and prints, per path, the cases tried,
# caught and failed. Exit status is non-zero when a case was not caught.
#
#   scripts/redteam.sh            # from anywhere in the repository
set -u
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -tags redteam -run '^TestRedTeam$' -count=1 -v ./cmd/warroom >"$out" 2>&1
status=$?
grep -v '^=== RUN\|^--- PASS\|^PASS$\|^ok ' "$out"
exit $status
