#!/usr/bin/env python3
"""`mobilellm serve` against llama.cpp's llama-server, both driven by the same HTTP client.

    .venv/bin/python bench/llamacpp/compare_server.py --ours MODEL.q4g32 --gguf MODEL.q4_0.gguf \\
        [--llama-server ~/.cache/mobilellm/llama-cpp-0.3.16/build/bin/llama-server] [--mobilellm build/bin/mobilellm] \\
        [--threads 2] [--parallel 1,2,4,8] [--prompt 32] [--gen 64] [--late-prompt 16] [--reps 2] \\
        [--tokenizer DIR] [--batch-size B] [--json OUT]

llama-server comes from bench/llamacpp/build_llama_bench.sh (on an AMX CPU with ggml's AMX path:
this script reads its load log for "AMX model buffer"); the GGUF of the same shape and weights from
bench/llamacpp/write_gguf.py. Each repetition starts both servers in turn (the order alternates
from one repetition to the next; never both at once):

    mobilellm serve -m OURS --parallel S --ctx C -t T [-b B]
    llama-server -m GGUF --parallel S --cont-batching -c S*C -t T -tb T

with S = the largest N + 1 slots (the late request below gets a slot at once) and C tokens of
context per slot. Against each, for every N of --parallel:

  idle   one request of --late-prompt tokens, max_tokens 1, on the idle server: its time to first token;
  N      N streaming /v1/completions requests at once, each a prompt of --prompt random token ids
         (fixed by the repetition, N and stream; the same for both servers, never seen before by
         either, so neither reuses a cached prompt) and max_tokens --gen, greedy, "ignore_eos": true;
  late   once every stream has 3 tokens, one more request like `idle` (another prompt): its time to
         first token while the N streams decode.

Reported per server and N, as `mobilellm bench --parallel` defines them: aggregate tok/s = the sum
over streams of (its tokens after its first) / (its last - its first token time), and its ratio to
N = 1 on the same server in the same repetition; the mean and longest gap between two tokens of a
stream; the late request's time to first token against idle. A stream is one token per streamed
chunk (both servers send one per token unless the text ends inside a UTF-8 character); every
stream must produce --gen tokens (the final usage says so) or the run stops with an error.
llama.cpp's threads wait as its build makes them (OpenMP settings are removed from its environment).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_llama_bench import WAIT_SETTINGS, cpu_description  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """One server process, its port and its log."""

    def __init__(self, name: str, cmd: list[str], port: int | None, env: dict | None = None):
        self.name, self.cmd = name, cmd
        self.log = tempfile.NamedTemporaryFile("w+", prefix=f"{name}-", suffix=".log", delete=False)
        print("$", shlex.join(cmd), flush=True)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.port = port
        deadline = time.time() + 600
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{name} exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}")
            if self.port is None:  # ours prints the port it picked
                m = re.search(r"listening on http://[\d.]+:(\d+)", self.log_text())
                self.port = int(m.group(1)) if m else None
            if self.port is not None and self.healthy():
                return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"{name} did not become ready:\n{self.log_text()[-3000:]}")

    def log_text(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def healthy(self) -> bool:
        try:
            c = http.client.HTTPConnection(HOST, self.port, timeout=5)
            c.request("GET", "/health")
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        os.unlink(self.log.name)


def start_ours(a, slots: int, context: int) -> Server:
    cmd = [a.mobilellm, "serve", "-m", a.ours, "--host", HOST, "--port", "0", "--parallel", str(slots),
           "--ctx", str(context), "-t", str(a.threads), "--queue", str(slots)]
    if a.batch_size:
        cmd += ["-b", str(a.batch_size)]
    if a.tokenizer:
        cmd += ["--tokenizer", a.tokenizer]
    return Server("mobilellm", cmd, None)


def start_llama(a, slots: int, context: int) -> Server:
    port = free_port()
    cmd = [a.llama_server, "-m", a.gguf, "--host", HOST, "--port", str(port), "--parallel", str(slots),
           "--cont-batching", "-c", str(slots * context), "-t", str(a.threads), "-tb", str(a.threads), "--no-webui"]
    env = {k: v for k, v in os.environ.items() if k not in WAIT_SETTINGS}
    return Server("llama-server", cmd, port, env)


def stream_completion(port: int, prompt: list[int], max_tokens: int, on_token=None) -> tuple[float, list[float], int]:
    """Streams a greedy completion: when it was sent, each token chunk's arrival, the completion tokens."""
    body = json.dumps({"prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}, "ignore_eos": True})
    c = http.client.HTTPConnection(HOST, port, timeout=3600)
    sent = time.perf_counter()
    c.request("POST", "/v1/completions", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        raise SystemExit(f"HTTP {r.status}: {r.read()[:500]!r}")
    times, usage = [], None
    while line := r.readline():
        if not line.startswith(b"data: "):
            continue
        now = time.perf_counter()
        data = line[6:].strip()
        if data == b"[DONE]":
            break
        chunk = json.loads(data)
        if chunk.get("usage"):
            usage = chunk["usage"]["completion_tokens"]
        choices = chunk.get("choices") or []
        if choices and choices[0].get("finish_reason") is None:
            times.append(now)
            if on_token:
                on_token(len(times))
    c.close()
    if usage is None:
        raise SystemExit("the stream ended without usage")
    return sent, times, usage


def random_prompt(n: int, vocab: int, seed: int) -> list[int]:
    # Ordinary ids: above the few special tokens at the bottom of small vocabularies, below the
    # special tokens at the top of the Llama-4 one.
    rng = random.Random(seed)
    return [rng.randrange(100, min(vocab, 200000)) for _ in range(n)]


def measure(port: int, a, vocab: int, n: int, rep: int) -> dict:
    seed = 1000 * rep + 100 * n
    sent, times, _ = stream_completion(port, random_prompt(a.late_prompt, vocab, seed + 98), 1)
    idle_first = times[0] - sent
    warmed = threading.Semaphore(0)
    results: list = [None] * n

    def stream(i: int) -> None:
        results[i] = stream_completion(port, random_prompt(a.prompt, vocab, seed + i), a.gen,
                                       lambda count: count == 3 and warmed.release())

    threads = [threading.Thread(target=stream, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for _ in range(n):
        warmed.acquire()
    sent, times, _ = stream_completion(port, random_prompt(a.late_prompt, vocab, seed + 99), 1)
    late_first = times[0] - sent
    for t in threads:
        t.join()
    if any(r[1][-1] < times[0] for r in results):
        print(f"warning: N = {n}: a stream ended before the late request's first token; raise --gen", flush=True)
    aggregate, gaps = 0.0, []
    for _, times, tokens in results:
        if tokens != a.gen:
            raise SystemExit(f"a stream produced {tokens} tokens, not {a.gen}: the server stopped early")
        if len(times) > 1:
            aggregate += (len(times) - 1) / (times[-1] - times[0])
        gaps += [y - x for x, y in zip(times, times[1:])]
    return {"streams": n, "aggregate_tok_s": aggregate,
            "mean_gap_ms": 1e3 * statistics.mean(gaps) if gaps else 0.0, "max_gap_ms": 1e3 * max(gaps, default=0.0),
            "mean_first_token_s": statistics.mean(r[1][0] - r[0] for r in results),
            "idle_first_token_s": idle_first, "late_first_token_s": late_first,
            "token_chunks_per_stream": statistics.mean(len(r[1]) for r in results)}


def gguf_vocab(path: str) -> int:
    import gguf
    return len(gguf.GGUFReader(path).fields["tokenizer.ggml.tokens"].data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ours", required=True, help="our model (e.g. convert --scheme q4g32 of the checkpoint)")
    ap.add_argument("--gguf", required=True, help="the same shape and weights for llama.cpp (write_gguf.py)")
    ap.add_argument("--mobilellm", default=str(ROOT / "build/bin/mobilellm"))
    ap.add_argument("--llama-server", default=str(Path.home() / ".cache/mobilellm/llama-cpp-0.3.16/build/bin/llama-server"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", default="1,2,4,8", help="concurrent streams, comma-separated (default 1,2,4,8)")
    ap.add_argument("--prompt", type=int, default=32, help="prompt tokens of each stream (default 32)")
    ap.add_argument("--gen", type=int, default=64, help="tokens each stream generates (default 64)")
    ap.add_argument("--late-prompt", type=int, default=16, help="prompt tokens of the late request (default 16)")
    ap.add_argument("--batch-size", type=int, default=0, help="ours: serve -b (default: serve's own)")
    ap.add_argument("--tokenizer", help="ours: serve --tokenizer, for a model that carries none (make-random without "
                    "--tokenizer); the server needs one to answer")
    ap.add_argument("--reps", type=int, default=2, help="repetitions; the servers' order alternates (default 2)")
    ap.add_argument("--json", help="also write the results to this file")
    a = ap.parse_args()
    streams = [int(x) for x in a.parallel.split(",")]
    if min(streams) < 1 or a.prompt < 1 or a.gen < 4 or a.late_prompt < 1 or a.reps < 1:
        ap.error("--parallel ≥ 1, --prompt ≥ 1, --gen ≥ 4, --late-prompt ≥ 1, --reps ≥ 1")
    slots = max(streams) + 1
    context = max(a.prompt + a.gen, a.late_prompt + 1) + 16
    vocab = gguf_vocab(a.gguf)

    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; CPU: {cpu_description()}")
    print(f"load average at the start: {load_start}")
    starters = {"mobilellm": start_ours, "llama-server": start_llama}
    runs: dict[str, list[list[dict]]] = {name: [] for name in starters}
    amx = None
    for rep in range(a.reps):
        order = list(starters) if rep % 2 == 0 else list(reversed(starters))
        for name in order:
            server = starters[name](a, slots, context)
            try:
                if name == "llama-server":
                    m = re.search(r"AMX model buffer size = .*", server.log_text())
                    amx = m.group(0) if m else "no AMX model buffer in its load log"
                stream_completion(server.port, random_prompt(8, vocab, 1), 4)  # warm-up: weights paged in
                runs[name].append([measure(server.port, a, vocab, n, rep) for n in streams])
            finally:
                server.stop()
        print(f"repetition {rep + 1} of {a.reps} done", flush=True)
    load_end = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end: {load_end}")
    print(f"llama-server weights: {amx}")
    report(a, streams, runs)
    if a.json:
        Path(a.json).write_text(json.dumps({
            "cpu": cpu_description(), "load_average": [load_start, load_end], "llama_server_weights": amx,
            "args": vars(a), "runs": runs}, indent=1))


def report(a, streams: list[int], runs: dict) -> None:
    """One row per server and N; each cell lists the repetitions (1 / 2 / ...)."""
    def cells(name: str, i: int, f) -> str:
        return " / ".join(f(rows[i], rows) for rows in runs[name])

    print(f"\n{a.prompt}-token prompts, {a.gen} tokens each, greedy; late request: {a.late_prompt} tokens; "
          f"{a.threads} threads; repetitions separated by /")
    head = ["server", "N", "aggregate tok/s", "x one stream", "mean gap ms", "max gap ms", "late TTFT s (idle)",
            "late / idle"]
    table = [head]
    for i, n in enumerate(streams):
        for name in runs:
            one = [next((r for r in rows if r["streams"] == 1), None) for rows in runs[name]]
            table.append([
                name, str(n),
                cells(name, i, lambda r, rows: f"{r['aggregate_tok_s']:.2f}"),
                " / ".join(f"{rows[i]['aggregate_tok_s'] / o['aggregate_tok_s']:.2f}" if o else "-"
                           for rows, o in zip(runs[name], one)),
                cells(name, i, lambda r, rows: f"{r['mean_gap_ms']:.0f}"),
                cells(name, i, lambda r, rows: f"{r['max_gap_ms']:.0f}"),
                cells(name, i, lambda r, rows: f"{r['late_first_token_s']:.3f} ({r['idle_first_token_s']:.3f})"),
                cells(name, i, lambda r, rows: f"{r['late_first_token_s'] / r['idle_first_token_s']:.2f}"),
            ])
    widths = [max(len(row[c]) for row in table) for c in range(len(head))]
    for row in table:
        print("  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip())
    print("\nours / llama-server, aggregate tok/s:")
    for i, n in enumerate(streams):
        ratios = [o[i]["aggregate_tok_s"] / l[i]["aggregate_tok_s"] for o, l in zip(runs["mobilellm"], runs["llama-server"])]
        print(f"  N = {n}: " + " / ".join(f"{x:.2f}x" for x in ratios))


if __name__ == "__main__":
    main()
