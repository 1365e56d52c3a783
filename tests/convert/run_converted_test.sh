#!/usr/bin/env bash
# A converted model file is used as a new user would: `run -p TEXT` reads the
# tokenizer the file carries; a file converted without tokenizer files gives
# a clear error (non-zero exit) unless --tokenizer is passed.
#   run_converted_test.sh MOBILELLM TOKENIZER_DIR
set -euo pipefail
mobilellm=$1
tokenizer=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; cat "$work/err" 2>/dev/null; exit 1; }

"$mobilellm" make-random -o "$work/with" --preset tiny --tokenizer "$tokenizer" 2>/dev/null
"$mobilellm" make-random -o "$work/without" --preset tiny 2>/dev/null
"$mobilellm" convert -m "$work/with" -o "$work/with.bf16" --scheme bf16 2>/dev/null
"$mobilellm" convert -m "$work/without" -o "$work/without.bf16" --scheme bf16 2>/dev/null

"$mobilellm" run -m "$work/with.bf16" -p "Hello" -n 3 --temp 0 >"$work/out" 2>"$work/err" || fail "run on a model file with its tokenizer"
grep -q '^Hello' "$work/out" || fail "the prompt text was not echoed"
grep -q 'RANDOM weights' "$work/err" || fail "no note that the weights are random"

if "$mobilellm" run -m "$work/without.bf16" -p "Hello" -n 3 >"$work/out" 2>"$work/err"; then
  fail "a text prompt on a model file without a tokenizer was accepted"
fi
grep -q 'carries no tokenizer (tokenizer.json, tokenizer.model or GGUF tokenizer.* metadata): pass --tokenizer PATH' "$work/err" || fail "unclear error"
"$mobilellm" run -m "$work/without.bf16" -p "Hello" -n 3 --tokenizer "$tokenizer" >/dev/null 2>"$work/err" ||
  fail "--tokenizer did not stand in for the missing one"
"$mobilellm" run -m "$work/without.bf16" --prompt-ids "1 2 3" -n 3 --print-ids >/dev/null 2>"$work/err" ||
  fail "an id prompt needs no tokenizer"
echo "run on converted files: ok"
