"""`mobilellm bench --reps N --warmup`: N samples per measurement, their mean
and sample standard deviation (llama-bench's statistics, recomputed here with
Python's `statistics`), and the text table's existing lines kept; and
`mobilellm bench --parallel N,… [--late-prompt L]`: streams that share steps.

    bench_reps.py --mobilellm BIN --work DIR
"""
import argparse
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiny_gguf  # noqa: E402


def bench(binary, model, *extra):
    cmd = [binary, "bench", "-m", str(model), "-t", "1", "--prompt", "8", "--gen", "4", *extra]
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mobilellm", required=True)
    ap.add_argument("--work", required=True, type=Path)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    model = tiny_gguf.write(args.work / "model.gguf")

    out = json.loads(bench(args.mobilellm, model, "--reps", "3", "--warmup", "--json"))
    assert out["reps"] == 3 and out["warmup"] is True, out
    for row in out["rows"]:
        kinds = ["decode"] + (["prefill"] if row["depth"] else [])
        for kind in kinds:
            samples = row[f"{kind}_tokens_per_s_samples"]
            assert len(samples) == 3 and all(s > 0 for s in samples), row
            assert math.isclose(row[f"{kind}_tokens_per_s"], statistics.mean(samples), rel_tol=1e-9), row
            assert math.isclose(row[f"{kind}_tokens_per_s_stdev"], statistics.stdev(samples), rel_tol=1e-9,
                                abs_tol=1e-12), row
        if not row["depth"]:
            assert row["prefill_tokens_per_s_samples"] == [], row

    one = json.loads(bench(args.mobilellm, model, "--json"))
    assert one["reps"] == 1 and all(len(r["decode_tokens_per_s_samples"]) == 1 for r in one["rows"]), one
    assert all(r["decode_tokens_per_s_stdev"] == 0 for r in one["rows"]), one

    plain = bench(args.mobilellm, model)  # the default table, unchanged
    header = [line for line in plain.splitlines() if line.startswith("context")]
    assert header and header[0].split() == ["context", "prefill", "tok/s", "prefill", "s", "decode", "tok/s", "roofline",
                                            "tok/s", "%", "roofline", "KV", "cache", "MiB"], plain
    assert not any(line.startswith("reps ") for line in plain.splitlines()), plain
    spread = bench(args.mobilellm, model, "--reps", "2")
    assert "reps       2 per measurement" in spread and "decode stdev" in spread, spread

    par = json.loads(bench(args.mobilellm, model, "--parallel", "1,2,3", "--late-prompt", "12", "--json"))
    assert [r["streams"] for r in par["rows"]] == [1, 2, 3], par
    assert par["late_prompt"] == 12 and par["late_idle_first_token_s"] > 0, par
    for r in par["rows"]:
        assert r["aggregate_tokens_per_s"] > 0 and r["late_first_token_s"] > 0, r
        # Every stream's prompt and tokens, and the late prompt, go through shared steps.
        assert 1 <= r["mean_batch"] <= r["streams"] + 1, r
    # (Whether they share steps depends on timing here: this model's steps take microseconds, less
    # than starting a thread. The engine and server tests check the batching itself.)
    table = bench(args.mobilellm, model, "--parallel", "1,2")
    assert "aggregate tok/s" in table and "1.00x" in table, table
    refused = subprocess.run([args.mobilellm, "bench", "-m", str(model), "--late-prompt", "4"], capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode != 0 and "--late-prompt needs --parallel" in refused.stderr, refused
    print("ok")


if __name__ == "__main__":
    main()
