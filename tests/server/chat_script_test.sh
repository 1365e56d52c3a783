#!/usr/bin/env bash
# `mobilellm chat` driven from a pipe, as a script would: every line is one
# user message, only the answers reach stdout (one line each), commands work,
# and the stats of each answer go to stderr.
#   chat_script_test.sh MOBILELLM MODEL_DIR
set -euo pipefail
mobilellm=$1
model=$2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; exit 1; }

printf 'Hello!\n/stats\n/reset\n/stats\nSummarize our conversation.\n' |
  "$mobilellm" chat -m "$model" -n 6 --temp 0 --system "Be brief." >"$out" 2>"$err" || fail "exit code $?"

[ "$(wc -l <"$out")" -eq 2 ] || fail "expected two answers on stdout, one line each"
[ "$(grep -c '^\[6 tokens, .* tok/s, length limit\]$' "$err")" -eq 2 ] || fail "expected a speed line after each answer"
grep -q '(conversation cleared)' "$err" || fail "/reset did not answer"
stats=$(grep '^context:' "$err")
[ "$(echo "$stats" | wc -l)" -eq 2 ] || fail "expected two /stats reports"
echo "$stats" | head -1 | grep -Eq '^context: [1-9][0-9]* of' || fail "first /stats should show the conversation in the context"
echo "$stats" | tail -1 | grep -q '^context: 0 of' || fail "/stats after /reset should show an empty context"
grep -q 'RANDOM weights' "$err" || fail "no note that the weights are random"

# Greedy answers are reproducible: the same script gives the same text.
first=$(head -1 "$out")
again=$(printf 'Hello!\n' | "$mobilellm" chat -m "$model" -n 6 --temp 0 --system "Be brief." 2>/dev/null)
[ "$first" = "$again" ] || fail "the same greedy conversation gave \"$again\", then \"$first\""
# An unknown /command is refused, not sent to the model (//text sends /text);
# /reset also clears the turn and token counters.
printf 'Hello!\n/bogus\n/reset\n/stats\n//slash\n' |
  "$mobilellm" chat -m "$model" -n 3 --temp 0 >"$out" 2>"$err" || fail "exit code $?"
grep -q 'unknown command /bogus' "$err" || fail "/bogus was not refused"
[ "$(wc -l <"$out")" -eq 2 ] || fail "expected two answers (Hello! and //slash), /bogus must not be answered"
grep -q 'turns: 0, tokens generated: 0' "$err" || fail "/reset did not clear the turn counter"
echo "chat script: ok"
