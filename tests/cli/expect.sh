#!/usr/bin/env bash
# expect.sh EXIT_STATUS REGEX STDERR_LINES -- COMMAND...
# Runs COMMAND; passes iff it exits with EXIT_STATUS, its stdout+stderr match REGEX
# (extended grep over the whole output, newlines included), and its stderr has exactly STDERR_LINES lines ("-" to skip).
set -u
want_status=$1 regex=$2 want_lines=$3
shift 3
[ "$1" = "--" ] && shift
case "$regex" in *$'\n'*) echo "expect.sh: the pattern contains a newline (grep would split it); use [[:space:]]"; exit 1 ;; esac
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
status=$?
fail=0
if [ "$status" != "$want_status" ]; then echo "exit status $status, expected $want_status"; fail=1; fi
if ! cat "$out" "$err" | grep -Ezq -- "$regex"; then echo "output does not match /$regex/"; fail=1; fi
if [ "$want_lines" != "-" ]; then
  lines=$(wc -l <"$err")
  if [ "$lines" != "$want_lines" ]; then echo "stderr has $lines lines, expected $want_lines"; fail=1; fi
fi
if [ $fail = 1 ]; then
  echo "--- stdout"; head -c 4000 "$out"; echo "--- stderr"; cat "$err"
  exit 1
fi
echo "ok: $*"
