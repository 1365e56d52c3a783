#!/usr/bin/env bash
# The tokenize / detokenize contract of issue 3, through the real binary:
# ids on one line separated by single spaces; detokenize writes exact bytes.
#   cli_test.sh MOBILELLM_BINARY TOKENIZER_DATA_DIR
set -euo pipefail
bin=$1
model=$2/tokenizer.model
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

prompt=$'<|begin_of_text|><|header_start|>user<|header_end|>\n\nWho are you?<|eot|><|header_start|>assistant<|header_end|>\n\n'
want="200000 200005 1556 200006 368 33267 583 650 43 200008 200005 140680 200006 368"
got=$(printf '%s' "$prompt" | "$bin" tokenize --tokenizer "$model" --special)
[ "$got" = "$want" ] || fail "tokenize --special: got '$got'"

# Special-token text is plain text without --special; --bos prepends 200000.
got=$(printf 'Who are you?' | "$bin" tokenize --tokenizer "$model" --bos)
[ "$got" = "200000 33267 583 650 43" ] || fail "tokenize --bos: got '$got'"
got=$(printf '<|eot|>' | "$bin" tokenize --tokenizer "$model")
case " $got " in *" 200008 "*) fail "plain <|eot|> became the special token" ;; esac

# Round trip of bytes, including a multi-byte character split across tokens.
printf 'h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c\n\ttabs  ' > "$tmp/in"
"$bin" tokenize --tokenizer "$model" < "$tmp/in" > "$tmp/ids"
"$bin" detokenize --tokenizer "$model" < "$tmp/ids" > "$tmp/out"
cmp "$tmp/in" "$tmp/out" || fail "detokenize(tokenize(x)) != x"
h=$(printf 'h' | "$bin" tokenize --tokenizer "$model")
printf '%s 0' "$h" | "$bin" detokenize --tokenizer "$model" > "$tmp/half"   # rank 0 is the lone byte 0xC0
[ "$(od -An -tx1 "$tmp/half" | tr -d ' \n')" = "68c0" ] || fail "detokenize does not write exact bytes"

# Errors: invalid UTF-8 in, a bad id, a missing tokenizer.
if printf '\xff' | "$bin" tokenize --tokenizer "$model" 2> "$tmp/err"; then fail "invalid UTF-8 accepted"; fi
grep -q "not valid UTF-8" "$tmp/err" || fail "invalid UTF-8 message: $(cat "$tmp/err")"
if printf '1 x' | "$bin" detokenize --tokenizer "$model" 2> "$tmp/err"; then fail "bad id accepted"; fi
if printf '999999' | "$bin" detokenize --tokenizer "$model" 2> "$tmp/err"; then fail "out-of-range id accepted"; fi
if printf 'a' | "$bin" tokenize --tokenizer "$tmp/none" 2> "$tmp/err"; then fail "missing tokenizer accepted"; fi
echo "tokenizer CLI: all checks passed"
