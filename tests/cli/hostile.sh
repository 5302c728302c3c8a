#!/usr/bin/env bash
# hostile.sh CLI: outputs that cannot be written and paths meant to run commands
# (docs/errors.md, "Outputs"). Each check names its class.
set -uo pipefail
cli=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
marker="$work/PWNED"

# 1. A plot path or TMPDIR meant to run a command runs nothing.
"$cli" sweep --vary lora.r=4,8 --plot "$work/x
system 'touch $marker'
#.svg" >/dev/null 2>"$work/err"
[ -e "$marker" ] && fail "a plot path ran a command"
TMPDIR="$work/\$(touch $marker)" "$cli" sweep --vary lora.r=4,8 --plot "$work/ok.svg" >/dev/null 2>&1
[ -e "$marker" ] && fail "TMPDIR ran a command"
echo "ok: no command ran"

# 2. Standard output on a full disk: exit 4 and one line naming it.
if [ -w /dev/full ]; then
  for sub in solve "sweep --vary lora.r=4,8" "params" "simulate" "explain"; do
    # shellcheck disable=SC2086
    "$cli" $sub >/dev/full 2>"$work/err"; rc=$?
    [ $rc -eq 4 ] || fail "$sub > /dev/full exited $rc"
    grep -q "standard output: write failed" "$work/err" || fail "$sub > /dev/full: $(cat "$work/err")"
  done
  # 3. Files written through a temporary name: a failed write leaves nothing.
  "$cli" export -o /dev/full 2>"$work/err"; rc=$?
  [ $rc -eq 4 ] || fail "export -o /dev/full exited $rc"
  [ -c /dev/full ] || fail "/dev/full is no longer a device"
  echo "ok: full disk reported"
fi
"$cli" export -o "$work/missing/dir/x.lp" 2>"$work/err"; rc=$?
[ $rc -eq 4 ] || fail "export to a missing folder exited $rc"
"$cli" simulate --gantt "$work/missing/g.svg" >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 4 ] || fail "--gantt to a missing folder exited $rc"
compgen -G "$work/.lorasplit-*" >/dev/null && fail "a temporary file was left behind"
"$cli" export -o "$work/model.lp" || fail "export -o"
grep -q "Maximize\|maximize\|MAXIMIZE" "$work/model.lp" || fail "export wrote no LP"
compgen -G "$work/.lorasplit-*" >/dev/null && fail "a temporary file was left behind"
echo "ok: outputs are whole or absent"

# 4. The option parser's message quotes user text: escaped and cut like every message.
"$cli" solve "--x$(printf '\033')[31m" 2>"$work/err"; rc=$?
[ $rc -eq 2 ] || fail "an unknown option exited $rc"
grep -q $'\033' "$work/err" && fail "a terminal escape reached stderr"
grep -q '\\x1B' "$work/err" || fail "the escape was not shown as \\x1B: $(cat "$work/err")"
"$cli" solve "--$(head -c 2000 /dev/zero | tr '\0' a)" 2>"$work/err"
[ "$(wc -l <"$work/err")" -eq 1 ] && [ "$(wc -c <"$work/err")" -lt 400 ] || fail "a long option's message was not cut"
echo "ok: parser messages are one printable line"

# 5. A read error is an error, never an empty config (which would solve the seed numbers).
if [ -r /proc/self/mem ]; then
  "$cli" solve --config /proc/self/mem >/dev/null 2>"$work/err"; rc=$?
  [ $rc -eq 2 ] || fail "--config /proc/self/mem exited $rc"
  grep -q "cannot read the file" "$work/err" || fail "--config /proc/self/mem: $(cat "$work/err")"
  echo "ok: read errors reported"
fi

# 6. Out of memory in a sweep is one line and exit 5, never an abort (threads joined).
# (Not under AddressSanitizer, whose shadow memory cannot be mapped under ulimit -v.)
# (No "ldd | grep -q" here: under pipefail grep's early exit can kill ldd with SIGPIPE and
# hide the match. The instrumented binary names __asan_init, statically or dynamically.)
if grep -qa __asan_init "$cli"; then echo "skipped under AddressSanitizer: out of memory"; exit 0; fi
( ulimit -v 400000 2>/dev/null || exit 0
  "$cli" sweep --vary "cxl.flops=log:1e11:1e14:2000000" --plot "$work/p.png" >/dev/null 2>"$work/err"; rc=$?
  if [ $rc -ne 0 ]; then
    [ $rc -eq 5 ] || { echo "FAIL: out of memory exited $rc: $(cat "$work/err")"; exit 1; }
    grep -q "out of memory" "$work/err" || { echo "FAIL: $(cat "$work/err")"; exit 1; }
  fi
  echo "ok: sweep under a memory limit exited $rc"
) || exit 1
