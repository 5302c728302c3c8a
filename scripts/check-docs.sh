#!/usr/bin/env bash
# Checks that the documentation cannot go stale silently (run by ctest as docs.current):
#  1. every test named in docs/*.md and README.md (`Suite.Name`) exists;
#  2. README's Layout section names every public header and every folder of src/;
#  3. every "docs/model.md §N" cited in the code is a section of docs/model.md.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
while read -r t; do
  suite=${t%%.*} name=${t#*.}
  grep -rqE "TEST(_F|_P)?\\($suite, *$name\\)" tests || { echo "docs name a test that does not exist: $t"; status=1; }
done < <(grep -rhoE '`[A-Z][A-Za-z0-9]+\.[A-Z][A-Za-z0-9]+`' docs README.md | tr -d '`' | sort -u)
layout=$(awk '/^## Layout/{on=1; next} /^## /{on=0} on' README.md)
for h in include/lorasplit/*.hpp; do
  base=$(basename "$h" .hpp)
  grep -qw "$base" <<<"$layout" || { echo "README's Layout does not name the header $h"; status=1; }
done
for d in src/*/; do
  grep -qF "src/$(basename "$d")/" <<<"$layout" || { echo "README's Layout does not name the folder $d"; status=1; }
done
while read -r sec; do
  grep -qE "^#{2,3} ${sec//./\\.}[. ]" docs/model.md || { echo "the code cites docs/model.md §$sec, which does not exist"; status=1; }
done < <(grep -rhoE 'model\.md §[0-9]+(\.[0-9]+)?' src include apps tests python bench fuzz | sed 's/.*§//' | sort -u)
# 4. every figure of the README's opening paragraph (from "Judged in exact arithmetic" to
#    the pointer to docs/PERFORMANCE.md) is listed in PERFORMANCE.md's "Figures the README
#    quotes", with the measurement behind it.
quoted=$(awk '/^## Figures the README quotes/{on=1; next} /^## /{on=0} on' docs/PERFORMANCE.md | grep '^| ' | cut -d'|' -f2)
intro=$(awk '/Judged in exact arithmetic/{on=1} on{print} /side-by-side runs\)/{on=0}' README.md | tr '\n' ' ')
[ -n "$intro" ] || { echo "README's performance paragraph not found (check-docs.sh looks for it)"; status=1; }
while read -r fig; do
  [ -z "$fig" ] && continue
  grep -qF "| $fig |" <<<"$(sed 's/^/|/; s/$/|/' <<<"$quoted")" ||
    { echo "README quotes '$fig', which docs/PERFORMANCE.md's 'Figures the README quotes' does not list"; status=1; }
done < <(grep -oE '[0-9][0-9.,]*( to [0-9][0-9.,]*)? (µs|ms|%|times)' <<<"$intro" | sort -u)
[ $status -eq 0 ] && echo "docs are current"
exit $status
