"""Continuous batching in `mobilellm serve`: requests served at once share
forward steps, and each one's answer is what it gets alone. The tiny
checkpoint is converted to q4g32 (int4 matrices, int8 KV cache), whose rows
are exact whatever the batch, and served with prompt chunks of 8 tokens, so
long prompts take several steps beside the others' tokens.
"""
import concurrent.futures
import json
import re
import subprocess
import urllib.request

import openai
import pytest

from conftest import Server
from test_openai_client import open_stream, wait_for

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string", "maxLength": 8}, "ok": {"type": "boolean"}},
          "required": ["answer", "ok"], "additionalProperties": False}
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}},
                                          "required": ["city"]}}}
LONG = "A long prompt that runs on, sentence after sentence, well past the sliding window. " * 4


@pytest.fixture(scope="module")
def q4_server(mobilellm, model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("q4") / "tiny.q4g32"
    subprocess.run([mobilellm, "convert", "-m", model_dir, "-o", str(out), "--scheme", "q4g32"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(mobilellm, str(out), ["--tokenizer", model_dir, "--parallel", "8", "--batch-size", "8",
                                          "--threads", "2", "--ctx", "1024"])
    yield server
    assert server.stop() == 0, "".join(server.log[-50:])


def metrics(server):
    with urllib.request.urlopen(server.url + "/metrics", timeout=60) as r:
        text = r.read().decode()
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(mobilellm_\w+) (\S+)$", text, re.M)}


# Eight requests of different lengths and settings: greedy and seeded sampling,
# a stop string, logprobs, echo, a JSON schema, a forced tool call, a long prompt.
REQUESTS = [
    ("chat", dict(messages=[{"role": "user", "content": "Hi"}], max_tokens=30, temperature=0)),
    ("chat", dict(messages=[{"role": "user", "content": LONG}], max_tokens=20, temperature=0)),
    ("chat", dict(messages=[{"role": "user", "content": "Sample me"}], max_tokens=25, temperature=0.9, seed=11,
                  logprobs=True, top_logprobs=2)),
    ("completion", dict(prompt="Once upon a time", max_tokens=2, temperature=0)),
    ("completion", dict(prompt="Echo this back", max_tokens=12, temperature=0.7, seed=5, echo=True, logprobs=2,
                        stop=["e"])),
    ("chat", dict(messages=[{"role": "user", "content": "Answer in JSON"}], max_tokens=60, temperature=0.7, seed=4,
                  response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA}})),
    ("chat", dict(messages=[{"role": "user", "content": "Weather in Oslo?"}], max_tokens=60, temperature=0.8, seed=5,
                  tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "get_weather"}})),
    ("completion", dict(prompt=LONG + " And then", max_tokens=17, temperature=0)),
]


def answer(client, kind, args):
    if kind == "chat":
        r = client.chat.completions.create(model="tiny", **args)
        c = r.choices[0]
        calls = [(t.function.name, t.function.arguments) for t in c.message.tool_calls or []]
        lp = [(e.token, e.logprob) for e in c.logprobs.content] if c.logprobs else None
        return c.message.content, calls, lp, c.finish_reason, r.usage.completion_tokens
    r = client.completions.create(model="tiny", **args)
    c = r.choices[0]
    lp = (c.logprobs.tokens, c.logprobs.token_logprobs) if c.logprobs else None
    return c.text, lp, c.finish_reason, r.usage.completion_tokens


def test_batched_answers_equal_answers_alone(q4_server):
    client = openai.OpenAI(base_url=q4_server.url + "/v1", api_key="x", max_retries=0, timeout=300)
    alone = [answer(client, kind, args) for kind, args in REQUESTS]
    before = metrics(q4_server)
    with concurrent.futures.ThreadPoolExecutor(len(REQUESTS)) as pool:
        together = list(pool.map(lambda r: answer(client, *r), REQUESTS))
    after = metrics(q4_server)
    for i, (a, b) in enumerate(zip(alone, together)):
        assert a == b, f"request {i}"
    steps = after["mobilellm_batch_steps_total"] - before["mobilellm_batch_steps_total"]
    sequences = after["mobilellm_batch_sequences_total"] - before["mobilellm_batch_sequences_total"]
    assert sequences / steps > 1.5, (sequences, steps)  # they shared steps
    assert after["mobilellm_batch_tokens"] <= 8 + len(REQUESTS)  # a prompt chunk of 8 at most, one token each else
    assert after["mobilellm_slots_busy"] == 0
    assert after["mobilellm_kv_cache_bytes"] > 0


def test_disconnect_in_the_middle_of_a_batch(q4_server):
    client = openai.OpenAI(base_url=q4_server.url + "/v1", api_key="x", max_retries=0, timeout=300)
    others = REQUESTS[:3] + REQUESTS[7:]
    alone = [answer(client, kind, args) for kind, args in others]
    cancelled = metrics(q4_server)["mobilellm_cancelled_generations_total"]
    with concurrent.futures.ThreadPoolExecutor(len(others)) as pool:
        s = open_stream(q4_server, max_tokens=500)  # read up to its first token
        futures = [pool.submit(answer, client, kind, args) for kind, args in others]
        s.close()  # the client goes away while the others run
        together = [f.result() for f in futures]
    assert together == alone
    m = metrics(q4_server)
    assert m["mobilellm_cancelled_generations_total"] == cancelled + 1
    assert m["mobilellm_slots_busy"] == 0


def completion_ids(server, prompt_ids, max_tokens, stream=False):
    """A greedy /v1/completions request with a token-id prompt (no BOS added)."""
    body = json.dumps({"model": "tiny", "prompt": prompt_ids, "max_tokens": max_tokens, "temperature": 0,
                       "stream": stream}).encode()
    req = urllib.request.Request(server.url + "/v1/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return r.read()


def test_kv_cache_bytes_fall_back_when_requests_end(q4_server):
    # Every slot keeps what its last request ran, for prompt-prefix reuse, so
    # the idle value is that of the contents held: one short request per slot,
    # token-id prompts that share no prefix with anything, so the least
    # recently used slot takes each one and every slot gets one.
    short = [[1000 + 10 * i, 17, 29, 31] for i in range(8)]

    def one_short_request_per_slot():
        for ids in short:
            completion_ids(q4_server, ids, 4)
        m = metrics(q4_server)
        assert m["mobilellm_slots_busy"] == 0
        return m["mobilellm_kv_cache_bytes"]

    idle = one_short_request_per_slot()
    assert idle > 0
    # Eight long requests at once, one of them a client that disconnects
    # after its first token: the slots hold far more while they run and after.
    long_prompts = [[2000 + 37 * i + 11 * t for t in range(300)] for i in range(7)]
    with concurrent.futures.ThreadPoolExecutor(len(long_prompts)) as pool:
        s = open_stream(q4_server, max_tokens=600)
        futures = [pool.submit(completion_ids, q4_server, ids, 40, i % 2 == 0) for i, ids in enumerate(long_prompts)]
        s.close()
        for f in futures:
            f.result()
    assert wait_for(lambda: metrics(q4_server)["mobilellm_slots_busy"] == 0)
    held = metrics(q4_server)["mobilellm_kv_cache_bytes"]
    assert held > 10 * idle, (held, idle)
    # The same short requests again: each slot's long contents are cut back,
    # and the bytes are the idle value again, to the byte.
    assert one_short_request_per_slot() == idle


def test_speculative_requests_beside_plain_ones(q4_server):
    """Each request twice at once, with prompt lookup ("draft_max") and without: greedy answers are the same,
    sampled ones are well-formed (their tokens differ: the rejection rule draws differently), and /metrics
    counts the proposals."""
    client = openai.OpenAI(base_url=q4_server.url + "/v1", api_key="x", max_retries=0, timeout=300)
    before = metrics(q4_server)
    with concurrent.futures.ThreadPoolExecutor(2 * len(REQUESTS)) as pool:
        plain = [pool.submit(answer, client, kind, args) for kind, args in REQUESTS]
        drafted = [pool.submit(answer, client, kind, dict(args, extra_body={"draft_max": 7})) for kind, args in REQUESTS]
        plain, drafted = [f.result() for f in plain], [f.result() for f in drafted]
    for i, ((kind, args), a, b) in enumerate(zip(REQUESTS, plain, drafted)):
        if args.get("temperature") == 0:
            assert a == b, f"request {i}"
        else:
            assert b[-2] in ("stop", "length", "tool_calls") and b[-1] > 0, f"request {i}"
    after = metrics(q4_server)
    proposed = after["mobilellm_draft_tokens_total"] - before["mobilellm_draft_tokens_total"]
    accepted = after["mobilellm_draft_accepted_tokens_total"] - before["mobilellm_draft_accepted_tokens_total"]
    assert 0 < accepted <= proposed
    assert 0 < after["mobilellm_draft_acceptance_rate"] <= 1
    assert after["mobilellm_tokens_per_decode_pass"] > 1
    with pytest.raises(openai.BadRequestError, match="draft_max"):
        client.completions.create(model="tiny", prompt="x", max_tokens=2, extra_body={"draft_max": 65})
