"""`mobilellm serve` through the official `openai` client (and raw HTTP where
the client hides what is tested): chat, streaming, tools, JSON output,
completions with echo and logprobs, the tokenizer endpoints, metrics, cache
reuse, cancellation on disconnect, overload and API keys.

The checkpoint is tiny and random: answers are gibberish, so the tests check
shapes, consistency and the guarantees the server makes, not content.
"""
import http.client
import json
import re
import socket
import subprocess
import time
import urllib.request

import openai
import pytest

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city",
    "parameters": {"type": "object",
                   "properties": {"city": {"type": "string", "maxLength": 20},
                                  "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                                  "days": {"type": "integer"}},
                   "required": ["city", "unit"]}}}
CLOCK = {"type": "function", "function": {
    "name": "get_time",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string", "maxLength": 10}},
                   "required": ["zone"]}}}


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=300)


def get(server, path):
    with urllib.request.urlopen(server.url + path, timeout=60) as r:
        return r.status, r.read().decode()


def post(server, path, body):
    req = urllib.request.Request(server.url + path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read())


def metric(server, name):
    _, text = get(server, "/metrics")
    m = re.search(r"^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def check_weather_args(call):
    assert call.function.name == "get_weather"
    args = json.loads(call.function.arguments)
    assert isinstance(args, dict)
    assert set(args) <= {"city", "unit", "days"} and {"city", "unit"} <= set(args)
    assert isinstance(args["city"], str) and len(args["city"]) <= 20
    assert args["unit"] in ("celsius", "fahrenheit")
    if "days" in args:
        assert isinstance(args["days"], int)


def test_models(client, model_dir):
    models = client.models.list()
    assert [m.id for m in models.data] == [model_dir.rstrip("/").split("/")[-1]]


def test_chat(client):
    r = client.chat.completions.create(
        model="tiny", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}],
        max_tokens=8, temperature=0)
    choice = r.choices[0]
    assert r.object == "chat.completion" and r.id.startswith("chatcmpl-")
    assert choice.message.role == "assistant" and isinstance(choice.message.content, str)
    assert choice.finish_reason in ("stop", "length")
    assert 1 <= r.usage.completion_tokens <= 8
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_chat_prompt_is_the_llama4_format(server):
    # Spec §5's known vector: the chat format with the generation prompt.
    out = post(server, "/tokenize", {"messages": [{"role": "user", "content": "Who are you?"}]})
    assert out["tokens"] == [200000, 200005, 1556, 200006, 368, 33267, 583, 650, 43, 200008, 200005, 140680, 200006, 368]


def test_streamed_chat_equals_whole(client):
    args = dict(model="tiny", messages=[{"role": "user", "content": "Tell me a story"}], max_tokens=12, temperature=0)
    whole = client.chat.completions.create(**args)
    chunks = list(client.chat.completions.create(**args, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [whole.choices[0].finish_reason]
    assert not chunks[-1].choices and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_chat_logprobs(client):
    r = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "Hi"}], max_tokens=5,
                                       temperature=0, logprobs=True, top_logprobs=3)
    content = r.choices[0].logprobs.content
    assert 1 <= len(content) <= 5
    for entry in content:
        assert entry.logprob <= 0 and len(entry.top_logprobs) == 3
        assert entry.top_logprobs[0].logprob == entry.logprob  # greedy: the chosen token is the most likely
        if not entry.token.startswith("bytes:"):
            assert bytes(entry.bytes) == entry.token.encode()


def test_forced_tool_call(client):
    r = client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[WEATHER, CLOCK], tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=200, temperature=0.8, seed=3)
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.id.startswith("call_")
    check_weather_args(call)


def test_forced_tool_call_streamed(client):
    chunks = list(client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "Weather in Oslo?"}], tools=[WEATHER, CLOCK],
        tool_choice={"type": "function", "function": {"name": "get_weather"}}, max_tokens=200, temperature=0.8,
        seed=5, stream=True))
    calls = {}
    for c in chunks:
        for d in c.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(d.index, {"name": "", "arguments": ""})
            entry["name"] += d.function.name or ""
            entry["arguments"] += d.function.arguments or ""
    assert list(calls) == [0]
    assert calls[0]["name"] == "get_weather"
    args = json.loads(calls[0]["arguments"])
    assert args["unit"] in ("celsius", "fahrenheit")
    assert [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason] == ["tool_calls"]
    assert not any(c.choices[0].delta.content for c in chunks)


def test_required_tool_choice_calls_one_of_the_tools(client):
    r = client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "Time in Tokyo?"}], tools=[WEATHER, CLOCK],
        tool_choice="required", max_tokens=200, temperature=0.8, seed=11)
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name in ("get_weather", "get_time")
    assert isinstance(json.loads(call.function.arguments), dict)


def test_auto_tool_choice_is_well_formed(client):
    r = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "Weather?"}],
                                       tools=[WEATHER], max_tokens=10, temperature=0)
    m = r.choices[0].message
    assert (m.content is not None) != bool(m.tool_calls)
    for call in m.tool_calls or []:
        json.loads(call.function.arguments)


def test_tool_results_in_history(client):
    r = client.chat.completions.create(model="tiny", max_tokens=4, temperature=0, tools=[WEATHER], messages=[
        {"role": "user", "content": "Weather in Rome?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\", \"unit\": \"celsius\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temperature\": 21}"}])
    assert r.choices[0].finish_reason in ("stop", "length", "tool_calls")


def test_json_object_response_format(client):
    r = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "JSON please"}],
                                       response_format={"type": "json_object"}, max_tokens=300, temperature=0.7,
                                       seed=2)
    if r.choices[0].finish_reason == "stop":
        assert isinstance(json.loads(r.choices[0].message.content), dict)
    else:  # cut by max_tokens: still a valid JSON prefix
        assert r.choices[0].message.content.lstrip().startswith("{")


def test_json_schema_response_format(client):
    schema = {"type": "object", "properties": {"answer": {"type": "string", "maxLength": 8},
                                               "confidence": {"type": "number"},
                                               "ok": {"type": "boolean"}},
              "required": ["answer", "ok"], "additionalProperties": False}
    r = client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": "Answer in JSON"}], max_tokens=200, temperature=0.7,
        seed=4, response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema, "strict": True}})
    assert r.choices[0].finish_reason == "stop"
    out = json.loads(r.choices[0].message.content)
    assert set(out) <= {"answer", "confidence", "ok"} and {"answer", "ok"} <= set(out)
    assert isinstance(out["answer"], str) and len(out["answer"]) <= 8 and isinstance(out["ok"], bool)


def test_completions_echo_logprobs(client):
    r = client.completions.create(model="tiny", prompt="The capital of France is", max_tokens=3, echo=True,
                                  logprobs=2, temperature=0)
    choice = r.choices[0]
    lp = choice.logprobs
    n = r.usage.prompt_tokens + r.usage.completion_tokens
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) == n
    assert lp.tokens[0] == "<|begin_of_text|>"
    assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None
    assert all(isinstance(x, float) and x <= 0 for x in lp.token_logprobs[1:])
    assert all(isinstance(t, dict) and len(t) == 2 for t in lp.top_logprobs[1:])
    assert all(lp.token_logprobs[i] <= max(lp.top_logprobs[i].values()) for i in range(1, n))
    assert lp.text_offset[0] == 0 and lp.text_offset == sorted(lp.text_offset)
    assert choice.text.startswith("<|begin_of_text|>The capital of France is")


def test_completions_echo_without_generation(client):
    r = client.completions.create(model="tiny", prompt=[[200000, 791, 6037, 374]], max_tokens=0, echo=True,
                                  logprobs=1, temperature=0)
    lp = r.choices[0].logprobs
    assert r.usage.completion_tokens == 0 and r.usage.prompt_tokens == 4
    assert len(lp.tokens) == 4 and lp.token_logprobs[0] is None
    assert r.choices[0].finish_reason == "length"


def test_completions_prompt_forms(client):
    r = client.completions.create(model="tiny", prompt=["one", "two"], max_tokens=2, temperature=0)
    assert [c.index for c in r.choices] == [0, 1]
    r = client.completions.create(model="tiny", prompt=[[200000, 17], [200000, 18, 19]], max_tokens=2, temperature=0)
    assert len(r.choices) == 2 and r.usage.prompt_tokens == 5
    r = client.completions.create(model="tiny", prompt=[200000, 17, 18], max_tokens=2, temperature=0)
    assert len(r.choices) == 1 and r.usage.prompt_tokens == 3


def test_completions_stream(client):
    args = dict(model="tiny", prompt="Once upon a time", max_tokens=6, temperature=0)
    whole = client.completions.create(**args)
    chunks = list(client.completions.create(**args, stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == whole.choices[0].text
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == \
        [whole.choices[0].finish_reason]


def test_stop_string(client):
    base = client.completions.create(model="tiny", prompt="Counting:", max_tokens=16, temperature=0).choices[0].text
    stop = base[len(base) // 2:len(base) // 2 + 3]
    if not stop.strip():
        pytest.skip("the random model wrote only whitespace")
    r = client.completions.create(model="tiny", prompt="Counting:", max_tokens=16, temperature=0, stop=[stop])
    assert r.choices[0].text == base[:base.index(stop)]
    assert r.choices[0].finish_reason == "stop"


def test_cache_reuse_gives_the_same_tokens(client, server, mobilellm, model_dir):
    # Greedy continuation of a prompt, then a prompt that extends what the slot
    # holds (prompt + answer): its cache is reused and its answer must equal a
    # fresh run's, computed here by `mobilellm run` in another process.
    prompt = [200000, 5765, 3215, 374, 264, 1296, 11]
    first = client.completions.create(model="tiny", prompt=prompt, max_tokens=6, temperature=0, logprobs=0)
    answer = [int(t) for t in post(server, "/tokenize", {"prompt": first.choices[0].text, "add_special_tokens": False})["tokens"]]
    extended = prompt + answer
    r = client.completions.create(model="tiny", prompt=extended, max_tokens=6, temperature=0)
    assert r.usage.prompt_tokens_details.cached_tokens > 0
    fresh = subprocess.run([mobilellm, "run", "-m", model_dir, "--prompt-ids", " ".join(map(str, extended)), "-n", "6",
                            "--temp", "0", "-t", "1", "--print-ids"], capture_output=True, text=True, check=True)
    fresh_ids = [int(x) for x in fresh.stdout.split()]
    assert r.choices[0].text == post(server, "/detokenize", {"tokens": fresh_ids})["prompt"]


def test_tokenizer_endpoints(server):
    info = json.loads(get(server, "/tokenizer_info")[1])
    assert info["bos_token"] == "<|begin_of_text|>" and info["model_max_length"] == 2048
    eos = post(server, "/tokenize", {"prompt": info["eos_token"], "add_special_tokens": False})["tokens"]
    assert len(eos) == 1 and eos[0] in (200001, 200007, 200008)
    out = post(server, "/tokenize", {"prompt": "Hello world", "add_special_tokens": True})
    assert out["tokens"][0] == 200000 and out["count"] == len(out["tokens"]) and out["max_model_len"] == 2048
    assert post(server, "/detokenize", {"tokens": out["tokens"]})["prompt"] == "<|begin_of_text|>Hello world"


def test_health_and_metrics(server, client):
    assert get(server, "/health") == (200, '{"status":"ok"}')
    before = metric(server, "mobilellm_generation_tokens_total")
    client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "count"}], max_tokens=3,
                                   temperature=0)
    assert metric(server, "mobilellm_generation_tokens_total") >= before + 1
    _, text = get(server, "/metrics")
    assert re.search(r'^mobilellm_requests_total\{endpoint="/v1/chat/completions",status="200"\} [1-9]', text, re.M)
    assert re.search(r'^mobilellm_request_duration_seconds_bucket\{endpoint="/v1/chat/completions",le="\+Inf"\} [1-9]',
                     text, re.M)
    assert "mobilellm_time_to_first_token_seconds_count" in text and "mobilellm_queue_depth 0" in text


def open_stream(server, max_tokens=100000):
    """A streaming chat request on a raw socket, read up to its first token."""
    body = json.dumps({"model": "tiny", "messages": [{"role": "user", "content": "Go on forever"}],
                       "max_tokens": max_tokens, "temperature": 0, "stream": True})
    s = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    s.sendall(("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    seen = b""
    while seen.count(b"data: ") < 2:
        seen += s.recv(4096)
    return s


def wait_for(condition, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_disconnect_cancels_the_generation(server):
    cancelled = metric(server, "mobilellm_cancelled_generations_total")
    s = open_stream(server, max_tokens=1500)
    s.close()
    assert wait_for(lambda: metric(server, "mobilellm_cancelled_generations_total") == cancelled + 1)
    assert wait_for(lambda: metric(server, "mobilellm_slots_busy") == 0)


def test_full_queue_answers_503(start_server):
    busy = start_server("--parallel", "1", "--queue", "0", "--threads", "1", "--ctx", "2048")
    s = open_stream(busy, max_tokens=1500)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", busy.port, timeout=60)
        conn.request("POST", "/v1/completions", json.dumps({"prompt": "x", "max_tokens": 1}),
                     {"Content-Type": "application/json"})
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 503 and r.getheader("Retry-After") == "1"
        assert body["error"]["code"] == "queue_full"
        assert metric(busy, 'mobilellm_rejected_requests_total{reason="queue_full"}') == 1
    finally:
        s.close()
    # The slot frees once the stream is cancelled; then requests are served again.
    assert wait_for(lambda: metric(busy, "mobilellm_slots_busy") == 0)
    client = openai.OpenAI(base_url=busy.url + "/v1", api_key="x", max_retries=0)
    assert client.completions.create(model="tiny", prompt="x", max_tokens=1).choices


def test_api_key(start_server):
    locked = start_server("--api-key", "s3cret", "--threads", "1", "--ctx", "512")
    conn = http.client.HTTPConnection("127.0.0.1", locked.port, timeout=60)
    conn.request("GET", "/v1/models")
    r = conn.getresponse()
    assert r.status == 401 and json.loads(r.read())["error"]["type"] == "authentication_error"
    wrong = openai.OpenAI(base_url=locked.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        wrong.models.list()
    assert e.value.status_code == 401 and e.value.body["type"] == "authentication_error"
    right = openai.OpenAI(base_url=locked.url + "/v1", api_key="s3cret", max_retries=0)
    assert right.models.list().data
    assert get(locked, "/health")[0] == 200  # health stays open for probes
