"""Malformed requests: each gets its HTTP status and an OpenAI-shaped error
body, and none of them hurts the server (it answers normally afterwards)."""
import http.client
import json

import pytest

CHAT = "/v1/chat/completions"
COMP = "/v1/completions"
USER = [{"role": "user", "content": "hi"}]


def chat(**fields):
    return json.dumps({"model": "tiny", "messages": USER, **fields})


def comp(**fields):
    return json.dumps({"model": "tiny", "prompt": "hi", **fields})


# (name, method, path, body, status, error type, param or None)
CASES = [
    ("not json", "POST", CHAT, "{not json", 400, "invalid_request_error", None),
    ("truncated json", "POST", CHAT, '{"messages": [', 400, "invalid_request_error", None),
    ("empty body", "POST", CHAT, "", 400, "invalid_request_error", None),
    ("json array body", "POST", CHAT, "[1, 2]", 400, "invalid_request_error", "body"),
    ("deep nesting", "POST", CHAT, "[" * 5000 + "]" * 5000, 400, "invalid_request_error", None),
    ("invalid utf-8", "POST", CHAT, b'{"messages": [{"role": "user", "content": "\xff"}]}', 400, "invalid_request_error", None),
    ("no messages", "POST", CHAT, json.dumps({"model": "tiny"}), 400, "invalid_request_error", "messages"),
    ("messages not a list", "POST", CHAT, json.dumps({"messages": "hi"}), 400, "invalid_request_error", "messages"),
    ("empty messages", "POST", CHAT, json.dumps({"messages": []}), 400, "invalid_request_error", "messages"),
    ("message not an object", "POST", CHAT, json.dumps({"messages": ["hi"]}), 400, "invalid_request_error", "messages[0]"),
    ("unknown role", "POST", CHAT, json.dumps({"messages": [{"role": "wizard", "content": "x"}]}), 400,
     "invalid_request_error", "messages[0].role"),
    ("content a number", "POST", CHAT, json.dumps({"messages": [{"role": "user", "content": 5}]}), 400,
     "invalid_request_error", "messages[0].content"),
    ("image part", "POST", CHAT, json.dumps({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}),
     400, "invalid_request_error", "messages[0].content[0].type"),
    ("temperature string", "POST", CHAT, chat(temperature="hot"), 400, "invalid_request_error", "temperature"),
    ("temperature too high", "POST", CHAT, chat(temperature=2.5), 400, "invalid_request_error", "temperature"),
    ("negative temperature", "POST", CHAT, chat(temperature=-1), 400, "invalid_request_error", "temperature"),
    ("temperature beyond a double", "POST", CHAT, chat()[:-1] + ', "temperature": 1e999}', 400, "invalid_request_error",
     "temperature"),
    ("top_p beyond a double", "POST", CHAT, chat()[:-1] + ', "top_p": -1e999}', 400, "invalid_request_error", "top_p"),
    ("max_tokens beyond a double", "POST", COMP, comp()[:-1] + ', "max_tokens": 1e400}', 400, "invalid_request_error",
     "max_tokens"),
    ("seed beyond a double", "POST", CHAT, chat()[:-1] + ', "seed": 1e400}', 400, "invalid_request_error", "seed"),
    ("NaN literal", "POST", CHAT, chat()[:-1] + ', "temperature": NaN}', 400, "invalid_request_error", None),
    ("top_p zero", "POST", CHAT, chat(top_p=0), 400, "invalid_request_error", "top_p"),
    ("top_p above one", "POST", CHAT, chat(top_p=1.5), 400, "invalid_request_error", "top_p"),
    ("max_tokens zero", "POST", CHAT, chat(max_tokens=0), 400, "invalid_request_error", "max_tokens"),
    ("max_tokens negative", "POST", CHAT, chat(max_tokens=-5), 400, "invalid_request_error", "max_tokens"),
    ("max_tokens fractional", "POST", CHAT, chat(max_tokens=2.5), 400, "invalid_request_error", "max_tokens"),
    ("max_tokens huge", "POST", CHAT, chat(max_tokens=10**30), 400, "invalid_request_error", "max_tokens"),
    ("max_completion_tokens string", "POST", CHAT, chat(max_completion_tokens="9"), 400, "invalid_request_error",
     "max_completion_tokens"),
    ("answer beyond context", "POST", CHAT, chat(max_tokens=100000), 400, "invalid_request_error", "max_tokens"),
    ("n two", "POST", CHAT, chat(n=2), 400, "invalid_request_error", "n"),
    ("stop number", "POST", CHAT, chat(stop=5), 400, "invalid_request_error", "stop"),
    ("five stops", "POST", CHAT, chat(stop=["a", "b", "c", "d", "e"]), 400, "invalid_request_error", "stop"),
    ("seed string", "POST", CHAT, chat(seed="1"), 400, "invalid_request_error", "seed"),
    ("stream string", "POST", CHAT, chat(stream="yes"), 400, "invalid_request_error", "stream"),
    ("ignore_eos not a boolean", "POST", COMP, comp(ignore_eos="yes"), 400, "invalid_request_error",
     "ignore_eos"),
    ("stream_options without stream", "POST", CHAT, chat(stream_options={"include_usage": True}), 400,
     "invalid_request_error", "stream_options"),
    ("tools not a list", "POST", CHAT, chat(tools={}), 400, "invalid_request_error", "tools"),
    ("tool without name", "POST", CHAT, chat(tools=[{"type": "function", "function": {}}]), 400,
     "invalid_request_error", "tools[0].function.name"),
    ("tool_choice unknown", "POST", CHAT, chat(tool_choice="sometimes"), 400, "invalid_request_error", "tool_choice"),
    ("tool_choice without tools", "POST", CHAT, chat(tool_choice="required"), 400, "invalid_request_error",
     "tool_choice"),
    ("tool_choice names a missing tool", "POST", CHAT,
     chat(tools=[{"type": "function", "function": {"name": "a"}}],
          tool_choice={"type": "function", "function": {"name": "b"}}), 400, "invalid_request_error", "tool_choice"),
    ("bad tool schema", "POST", CHAT,
     chat(tools=[{"type": "function", "function": {"name": "a", "parameters": {"type": "blob"}}}], tool_choice="required"),
     400, "invalid_request_error", "tools"),
    ("response_format unknown", "POST", CHAT, chat(response_format={"type": "yaml"}), 400, "invalid_request_error",
     "response_format.type"),
    ("json_schema without schema", "POST", CHAT, chat(response_format={"type": "json_schema", "json_schema": {"name": "x"}}),
     400, "invalid_request_error", "response_format.json_schema.schema"),
    ("unsupported schema", "POST", CHAT,
     chat(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": "http://e/x"}}}),
     400, "invalid_request_error", "response_format.json_schema.schema"),
    ("top_logprobs without logprobs", "POST", CHAT, chat(top_logprobs=2), 400, "invalid_request_error", "top_logprobs"),
    ("top_logprobs too many", "POST", CHAT, chat(logprobs=True, top_logprobs=50), 400, "invalid_request_error",
     "top_logprobs"),
    ("prompt too long", "POST", CHAT,
     json.dumps({"messages": [{"role": "user", "content": "word " * 3000}]}), 400, "invalid_request_error", "messages"),
    ("no prompt", "POST", COMP, json.dumps({"model": "tiny"}), 400, "invalid_request_error", "prompt"),
    ("prompt object", "POST", COMP, json.dumps({"prompt": {"a": 1}}), 400, "invalid_request_error", "prompt"),
    ("empty prompt list", "POST", COMP, json.dumps({"prompt": []}), 400, "invalid_request_error", "prompt"),
    ("empty token list", "POST", COMP, json.dumps({"prompt": [[]]}), 400, "invalid_request_error", "prompt[0]"),
    ("token id out of range", "POST", COMP, json.dumps({"prompt": [1, 999999]}), 400, "invalid_request_error", "prompt"),
    ("negative token id", "POST", COMP, json.dumps({"prompt": [[5, -1]]}), 400, "invalid_request_error", "prompt[0]"),
    ("mixed prompt list", "POST", COMP, json.dumps({"prompt": ["a", 5]}), 400, "invalid_request_error", "prompt[1]"),
    ("max_tokens 0 without echo", "POST", COMP, comp(max_tokens=0), 400, "invalid_request_error", "max_tokens"),
    ("logprobs too many", "POST", COMP, comp(logprobs=30), 400, "invalid_request_error", "logprobs"),
    ("logprobs boolean", "POST", COMP, comp(logprobs=True), 400, "invalid_request_error", "logprobs"),
    ("echo string", "POST", COMP, comp(echo="true"), 400, "invalid_request_error", "echo"),
    ("best_of two", "POST", COMP, comp(best_of=2), 400, "invalid_request_error", "best_of"),
    ("suffix", "POST", COMP, comp(suffix="x"), 400, "invalid_request_error", "suffix"),
    ("stream several prompts", "POST", COMP, json.dumps({"prompt": ["a", "b"], "stream": True}), 400,
     "invalid_request_error", "prompt"),
    ("completion beyond context", "POST", COMP, comp(max_tokens=4000), 400, "invalid_request_error", "max_tokens"),
    ("prompt ids beyond context", "POST", COMP, json.dumps({"prompt": [17] * 3000, "max_tokens": 1}), 400,
     "invalid_request_error", "prompt"),
    ("tokenize without prompt", "POST", "/tokenize", json.dumps({}), 400, "invalid_request_error", "prompt"),
    ("detokenize bad ids", "POST", "/detokenize", json.dumps({"tokens": [1, "x"]}), 400, "invalid_request_error",
     "tokens"),
    ("detokenize out of range", "POST", "/detokenize", json.dumps({"tokens": [10**9]}), 400, "invalid_request_error",
     "tokens"),
    ("unknown path", "GET", "/v2/nothing", None, 404, "not_found_error", None),
    ("wrong method", "GET", CHAT, None, 404, "not_found_error", None),
    ("body over the limit", "POST", CHAT, "x" * (2 << 20), 413, "request_too_large", None),
]


def request(server, method, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    data = body.encode() if isinstance(body, str) else body
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data is not None else {})
    r = conn.getresponse()
    return r.status, r.read()


@pytest.mark.parametrize("name,method,path,body,status,error_type,param", CASES, ids=[c[0] for c in CASES])
def test_malformed(server, name, method, path, body, status, error_type, param):
    got, raw = request(server, method, path, body)
    assert got == status, raw[:300]
    error = json.loads(raw)["error"]
    assert error["type"] == error_type
    assert isinstance(error["message"], str) and error["message"]
    if param is not None:
        assert error["param"] == param


def test_server_still_answers(server):
    status, raw = request(server, "POST", COMP, comp(max_tokens=2, temperature=0))
    assert status == 200 and json.loads(raw)["choices"]
