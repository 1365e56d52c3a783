"""A bounded load test on loopback: 32 concurrent clients for 30 seconds, a
mix of streamed and whole chat and completion requests. Passes when the
server never crashes, answers nothing but 200 and deliberate-overload 503s,
keeps its memory bounded, and every response is well-formed. Prints p50/p99
latency and throughput (for BENCHMARKS.md); MOBILELLM_LOAD_REPORT=FILE also
writes them as JSON."""
import http.client
import json
import os
import random
import threading
import time

CLIENTS = 32
SECONDS = 30
RSS_LIMIT_MB = 1024

PROMPTS = ["Hello!", "Tell me about the sea.", "What is two plus two?", "Write a haiku about autumn leaves.",
           "List three colors.", "Why is the sky blue? Explain briefly."]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def one_request(port, rng):
    kind = rng.choice(["chat", "chat_stream", "completion", "completion_stream"])
    stream = kind.endswith("stream")
    body = {"model": "tiny", "max_tokens": rng.randint(4, 16), "stream": stream}
    if rng.random() < 0.25:  # sampled; top_k keeps the sampler's work small on a random model's flat logits
        body.update(temperature=0.7, top_k=40, seed=rng.randint(0, 1000))
    else:
        body["temperature"] = 0
    if kind.startswith("chat"):
        path = "/v1/chat/completions"
        body["messages"] = [{"role": "user", "content": rng.choice(PROMPTS)}]
    else:
        path = "/v1/completions"
        body["prompt"] = rng.choice(PROMPTS)
    if stream:
        body["stream_options"] = {"include_usage": True}
    start = time.time()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    raw = r.read()
    latency = time.time() - start
    conn.close()
    if r.status == 503:
        assert r.getheader("Retry-After") and json.loads(raw)["error"]["code"] == "queue_full"
        return r.status, latency, 0
    assert r.status == 200, (r.status, raw[:300])
    if not stream:
        out = json.loads(raw)
        choice = out["choices"][0]
        assert choice["finish_reason"] in ("stop", "length")
        assert isinstance(choice["message"]["content"] if kind == "chat" else choice["text"], str)
        return 200, latency, out["usage"]["completion_tokens"]
    events = [e for e in raw.decode().split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"
    chunks = [json.loads(e[6:]) for e in events[:-1]]
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert len(finishes) == 1 and finishes[0] in ("stop", "length")
    return 200, latency, chunks[-1]["usage"]["completion_tokens"]


def test_load(start_server):
    server = start_server("--parallel", "4", "--queue", "16", "--threads", "2", "--ctx", "1024")
    results, failures = [], []
    lock = threading.Lock()
    deadline = time.time() + SECONDS

    def client(seed):
        rng = random.Random(seed)
        while time.time() < deadline:
            try:
                outcome = one_request(server.port, rng)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                with lock:
                    failures.append(repr(e))
                continue
            with lock:
                results.append(outcome)
            if outcome[0] == 503:
                time.sleep(0.2)

    rss = [rss_mb(server.pid())]
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    started = time.time()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        rss.append(rss_mb(server.pid()))
    elapsed = time.time() - started

    assert not failures, failures[:5]
    assert server.proc.poll() is None, "the server died"
    ok = [r for r in results if r[0] == 200]
    overloaded = len(results) - len(ok)
    latencies = sorted(r[1] for r in ok)
    tokens = sum(r[2] for r in ok)
    report = {
        "clients": CLIENTS, "seconds": round(elapsed, 1), "requests_ok": len(ok), "requests_503": overloaded,
        "p50_s": round(latencies[len(latencies) // 2], 3), "p99_s": round(latencies[int(len(latencies) * 0.99)], 3),
        "requests_per_s": round(len(ok) / elapsed, 2), "tokens_per_s": round(tokens / elapsed, 1),
        "rss_start_mb": round(rss[0], 1), "rss_max_mb": round(max(rss), 1),
    }
    print("load test:", json.dumps(report))
    if os.environ.get("MOBILELLM_LOAD_REPORT"):
        with open(os.environ["MOBILELLM_LOAD_REPORT"], "w") as f:
            json.dump(report, f, indent=2)
    assert len(ok) >= CLIENTS
    assert max(rss) < RSS_LIMIT_MB
    # Bounded, not growing: the last third of the run holds no more than the middle did, plus slack.
    third = len(rss) // 3
    assert max(rss[2 * third:]) < max(rss[third:2 * third]) + 64
