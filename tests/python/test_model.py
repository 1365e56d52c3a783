"""mobilellm (the Python package) against the CLI on the same models, the
OpenAI shapes checked with the `openai` package's own types, errors, the GIL,
threads, Ctrl-C and closing."""
import json
import os
import re
import signal
import threading
import time

import numpy as np
import openai.types as oa
import openai.types.chat as oachat
import pytest

import mobilellm

TEXTS = ["Hello, world!", "  spaces\tand\nnewlines  ", "naïve café — 東京 🙂", "<|begin_of_text|>x<|eot_id|>", ""]


def test_version_is_the_clis(cli):
    # The first line; the system info follows (CPU features, kernel tables).
    assert cli("--version").splitlines()[0] == "mobilellm " + mobilellm.__version__


# ---- equality with the CLI (the real model)


@pytest.mark.parametrize("add_bos", [False, True])
@pytest.mark.parametrize("special", [False, True])
def test_tokenize_equals_cli(cli, real, real_path, add_bos, special):
    for text in TEXTS:
        flags = (["--bos"] if add_bos else []) + (["--special"] if special else [])
        expected = [int(t) for t in cli("tokenize", "--tokenizer", real_path, *flags, input=text).split()]
        assert real.tokenize(text, add_bos=add_bos, special=special) == expected, text
        assert real.tokenize(text.encode(), add_bos=add_bos, special=special) == expected


def test_detokenize_equals_cli(cli, real, real_path):
    for text in TEXTS:
        ids = real.tokenize(text, special=True)
        expected = cli("detokenize", "--tokenizer", real_path, input=" ".join(map(str, ids)).encode(), text=False)
        assert real.detokenize(ids) == expected.decode("utf-8", "replace")
        assert real.detokenize(ids) == text


def test_logits_equal_cli(cli, real, real_path, tmp_path):
    ids = real.tokenize("The capital of France is Paris. The capital of Japan is", add_bos=True)
    out = tmp_path / "logits.f32"
    cli("logits", "-m", real_path, "--ids", " ".join(map(str, ids)), "--out", str(out), "-t", "2")
    expected = np.fromfile(out, dtype="<f4").reshape(len(ids), -1)
    got = real.logits(ids)
    assert got.dtype == np.float32 and got.shape == (len(ids), real.n_vocab)
    assert np.array_equal(got, expected)
    assert np.argmax(got[-1]) == real.tokenize(" Tokyo")[0]


def test_greedy_completion_equals_cli(cli, real, real_path):
    for text in ["The capital of France is", "def fibonacci(n):"]:
        ids = real.tokenize(text, add_bos=True)
        prompt_ids = " ".join(map(str, ids))
        cli_text = cli("run", "-m", real_path, "--prompt-ids", prompt_ids, "-n", "24", "--temp", "0", "-t", "2")
        cli_ids = cli("run", "-m", real_path, "--prompt-ids", prompt_ids, "-n", "24", "--temp", "0", "-t", "2",
                      "--print-ids").split()
        out = real.create_completion(ids, max_tokens=24, temperature=0)
        assert out["choices"][0]["text"] + "\n" == cli_text
        assert out["usage"]["completion_tokens"] == len(cli_ids)
        assert out["usage"]["prompt_tokens"] == len(ids)
        assert real(ids, max_tokens=24, temperature=0)["choices"][0]["text"] == out["choices"][0]["text"]
    assert "Paris" in real.create_completion("The capital of France is", max_tokens=8, temperature=0)[
        "choices"][0]["text"]


def test_prompt_lookup_gives_the_same_greedy_answer(cli, real, real_path):
    """Speculative decoding (draft_max) on the real model: the same chat answer as without it, and as the CLI's
    `run --draft prompt`; a request's own "draft_max" turns it off again."""
    text = ("Correct the spelling: Teh printing press was a fascinatng invension. Befor it, books were copyed by "
            "hand, so they were rare and expensiv.")
    messages = [{"role": "user", "content": text}]
    plain = real.create_chat_completion(messages, max_tokens=48, temperature=0)
    with mobilellm.Model(real_path, n_ctx=2048, n_threads=2, draft_max=6) as drafted:
        answer = drafted.create_chat_completion(messages, max_tokens=48, temperature=0)
        assert answer["choices"][0]["message"] == plain["choices"][0]["message"]
        for count in ("prompt_tokens", "completion_tokens"):  # cached_tokens depends on the model's last request
            assert answer["usage"][count] == plain["usage"][count]
        prompt = drafted.create_completion("The capital of France is Paris. The capital of France is",
                                           max_tokens=16, temperature=0)
    expected = real.create_completion("The capital of France is Paris. The capital of France is", max_tokens=16,
                                      temperature=0)
    assert prompt["choices"] == expected["choices"]
    ids = real.tokenize("The capital of France is Paris. The capital of France is", add_bos=True)
    args = ["run", "-m", real_path, "--prompt-ids", " ".join(map(str, ids)), "-n", "16", "--temp", "0", "-t", "2",
            "--print-ids"]
    assert cli(*args, "--draft", "prompt", "--draft-max", "6") == cli(*args)
    with mobilellm.Model(real_path, n_ctx=2048, n_threads=2, draft_max=4, draft_model=real_path) as drafted:
        answer = drafted.create_chat_completion(messages, max_tokens=48, temperature=0)
        assert answer["choices"][0]["message"] == plain["choices"][0]["message"]


# ---- the OpenAI shapes


def validate_chunk(chunk, chat):
    """The openai types of stream chunks. A legacy completions chunk carries
    finish_reason null until the last, as OpenAI's own stream does, which the
    SDK's Completion type (used for whole answers) does not allow: those are
    checked with the finish reason the SDK allows."""
    if chat:
        return oachat.ChatCompletionChunk.model_validate(chunk)
    choices = [dict(c, finish_reason=c["finish_reason"] or "length") for c in chunk["choices"]]
    assert all(c["finish_reason"] in (None, "stop", "length") for c in chunk["choices"])
    return oa.Completion.model_validate(dict(chunk, choices=choices))


def stream_text(chunks, chat):
    text, finish, usage = "", None, None
    for c in chunks:
        validate_chunk(c, chat)
        if c.get("usage"):
            usage = c["usage"]
        for choice in c["choices"]:
            text += (choice["delta"].get("content") or "") if chat else choice["text"]
            finish = choice["finish_reason"] or finish
    return text, finish, usage


def test_completion_shapes(tiny):
    out = tiny.create_completion("Once upon a time", max_tokens=8, temperature=0.8, seed=3, logprobs=2)
    oa.Completion.model_validate(out)
    assert out["object"] == "text_completion"
    lp = out["choices"][0]["logprobs"]
    assert len(lp["tokens"]) == out["usage"]["completion_tokens"] == len(lp["text_offset"])
    assert all(len(t) <= 2 + 1 for t in lp["top_logprobs"])

    # Echoed, the first prompt token has no logprob: null, as OpenAI and vLLM
    # send it (the SDK's type wants a number there).
    out = tiny.create_completion("Once upon a time", max_tokens=8, temperature=0.8, seed=3, logprobs=2, echo=True)
    assert out["choices"][0]["text"].startswith("<|begin_of_text|>Once upon a time")  # the prompt's tokens, decoded
    lp = out["choices"][0]["logprobs"]
    assert len(lp["tokens"]) == out["usage"]["prompt_tokens"] + out["usage"]["completion_tokens"]
    assert lp["token_logprobs"][0] is None and lp["top_logprobs"][0] is None
    again = tiny.create_completion("Once upon a time", max_tokens=8, temperature=0.8, seed=3, logprobs=2, echo=True)
    assert again["choices"] == out["choices"]  # the same seed, the same answer
    lp["token_logprobs"][0], lp["top_logprobs"][0] = 0.0, {}
    oa.Completion.model_validate(out)


@pytest.mark.parametrize("chat", [False, True])
def test_streaming_equals_whole(tiny, chat):
    args = dict(max_tokens=12, temperature=0.7, seed=5, stop=["\n\n"])
    if chat:
        messages = [{"role": "user", "content": "Tell me a story."}]
        whole = tiny.create_chat_completion(messages, **args)
        chunks = list(tiny.create_chat_completion(messages, stream=True, stream_options={"include_usage": True},
                                                  **args))
        expected = whole["choices"][0]["message"]["content"]
    else:
        whole = tiny.create_completion("Tell me a story.", **args)
        chunks = list(tiny.create_completion("Tell me a story.", stream=True,
                                             stream_options={"include_usage": True}, **args))
        expected = whole["choices"][0]["text"]
    text, finish, usage = stream_text(chunks, chat)
    assert text == expected and finish == whole["choices"][0]["finish_reason"]
    assert usage["completion_tokens"] == whole["usage"]["completion_tokens"]
    assert usage["prompt_tokens"] == whole["usage"]["prompt_tokens"]


def test_chat_shapes_and_logprobs(tiny):
    out = tiny.create_chat_completion(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        max_tokens=6, logprobs=True, top_logprobs=3)
    oachat.ChatCompletion.model_validate(out)
    assert out["object"] == "chat.completion"
    assert out["choices"][0]["message"]["role"] == "assistant"
    entries = out["choices"][0]["logprobs"]["content"]
    assert 1 <= len(entries) <= 6 and all(len(e["top_logprobs"]) == 3 for e in entries)


# Bounded, so that the random model's arguments end within max_tokens.
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object",
                   "properties": {"city": {"type": "string", "maxLength": 20},
                                  "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city", "unit"]}}}


@pytest.mark.parametrize("stream", [False, True])
def test_forced_tool_call(tiny, stream):
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    out = tiny.create_chat_completion(messages, tools=[WEATHER], tool_choice="required", max_tokens=200,
                                      temperature=0, stream=stream)
    if stream:
        chunks = list(out)
        for c in chunks:
            validate_chunk(c, True)
        calls = [tc for c in chunks for ch in c["choices"] for tc in ch["delta"].get("tool_calls") or []]
        finish = chunks[-1]["choices"][0]["finish_reason"]
    else:
        oachat.ChatCompletion.model_validate(out)
        calls = out["choices"][0]["message"]["tool_calls"]
        finish = out["choices"][0]["finish_reason"]
    assert finish == "tool_calls" and len(calls) >= 1
    assert calls[0]["function"]["name"] == "get_weather"
    arguments = json.loads(calls[0]["function"]["arguments"])
    assert isinstance(arguments["city"], str) and arguments["unit"] in ("celsius", "fahrenheit")


def test_json_schema_output(tiny):
    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 8},
                                               "size": {"enum": ["S", "M", "L"]}, "ok": {"type": "boolean"}},
              "required": ["name", "size", "ok"], "additionalProperties": False}
    out = tiny.create_chat_completion([{"role": "user", "content": "A person as JSON"}], max_tokens=200,
                                      temperature=0.5, seed=2,
                                      response_format={"type": "json_schema",
                                                       "json_schema": {"name": "person", "schema": schema}})
    oachat.ChatCompletion.model_validate(out)
    assert out["choices"][0]["finish_reason"] == "stop"
    value = json.loads(out["choices"][0]["message"]["content"])
    assert set(value) == {"name", "size", "ok"} and len(value["name"]) <= 8
    assert value["size"] in ("S", "M", "L") and isinstance(value["ok"], bool)


def test_openai_client_objects_are_accepted(tiny):
    message = oachat.ChatCompletionUserMessageParam(role="user", content="Hi")
    out = tiny.create_chat_completion([message], max_tokens=2)
    assert oachat.ChatCompletion.model_validate(out).usage.completion_tokens <= 2


# ---- errors


def test_missing_model_names_the_path(tmp_path):
    missing = str(tmp_path / "no-such-model.gguf")
    with pytest.raises(mobilellm.Error, match=re.escape(missing)):
        mobilellm.Model(missing)
    with pytest.raises(mobilellm.Error, match="mobilellm pull nobody/no-such-model"):
        mobilellm.Model("nobody/no-such-model")


@pytest.mark.parametrize("call, match", [
    (lambda m: m.create_completion("x", temperature=-1), "temperature"),
    (lambda m: m.create_completion("x", max_tokens=-5), "max_tokens"),
    (lambda m: m.create_completion("x", top_p=1.5), "top_p"),
    (lambda m: m.create_completion("x", logprobs=99), "logprobs"),
    (lambda m: m.create_completion([1, 2, 10**9]), "prompt"),
    (lambda m: m.create_completion("x", max_tokens=10**6), "context length"),
    (lambda m: m.create_completion("x", stream_options={"include_usage": True}), "stream"),
    (lambda m: m.create_completion(3.5), "token ids"),
    (lambda m: m.create_chat_completion([]), "messages"),
    (lambda m: m.create_chat_completion([{"role": "wizard", "content": "x"}]), "role"),
    (lambda m: m.create_chat_completion([{"role": "user", "content": "x"}], tool_choice="sometimes"), "tool_choice"),
    (lambda m: m.create_chat_completion([{"role": "user", "content": "x"}], stream=True, max_tokens=0),
     "max_tokens"),
    (lambda m: m.tokenize(12), "str or bytes"),
    (lambda m: m.tokenize(b"\xff\xfe"), "UTF-8"),
    (lambda m: m.detokenize([-1]), "ids"),
    (lambda m: m.logits([]), "empty"),
    (lambda m: m.logits([10**8]), "vocabulary"),
    (lambda m: m.logits(list(range(600))), "context"),
])
def test_bad_arguments_raise_value_error(tiny, call, match):
    with pytest.raises(ValueError, match=match):
        call(tiny)
    assert tiny.create_completion("still fine", max_tokens=1)["usage"]["completion_tokens"] == 1


def test_bad_constructor_arguments(tiny_path):
    with pytest.raises(ValueError, match="n_ctx"):
        mobilellm.Model(tiny_path, n_ctx=-1)
    with pytest.raises(ValueError, match="n_threads"):
        mobilellm.Model(tiny_path, n_threads="4")
    with pytest.raises(mobilellm.Error, match="context"):
        mobilellm.Model(tiny_path, n_ctx=10**7)
    with pytest.raises(ValueError, match="draft_max"):
        mobilellm.Model(tiny_path, draft_max=65)
    with pytest.raises(mobilellm.Error, match="draft model"):
        mobilellm.Model(tiny_path, draft_max=4, draft_model=str(tiny_path) + "-missing")


def test_close_and_context_manager(tiny_path):
    with mobilellm.Model(tiny_path, n_ctx=64) as model:
        assert model.create_completion("a", max_tokens=2)["choices"]
    assert model.closed
    with pytest.raises(ValueError, match="closed"):
        model.create_completion("a")
    with pytest.raises(ValueError, match="closed"):
        model.tokenize("a")
    model.close()  # idempotent


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_close_frees_memory(real_path):
    before = rss_bytes()
    model = mobilellm.Model(real_path, n_ctx=256, n_threads=2)
    model.logits(list(range(1, 200)))
    loaded = rss_bytes()
    model.close()
    after = rss_bytes()
    assert loaded - before > 50 << 20  # weights, cache and logits
    assert after - before < (loaded - before) / 4


# ---- the GIL, threads, Ctrl-C


def test_gil_released_during_generation(tiny):
    ticks = 0
    done = threading.Event()

    def count():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    started = time.monotonic()
    tiny.create_completion("Count", max_tokens=200, temperature=0, stop=None)
    seconds = time.monotonic() - started
    done.set()
    counter.join()
    assert seconds > 0.05, "generation too short to tell"
    assert ticks > seconds * 100 * 0.3  # the counter kept running (about 1000/s when free)


def test_threads_share_a_model(tiny):
    prompts = [[tiny.token_bos] + tiny.tokenize(f"Prompt number {i}") for i in range(8)]
    expected = [tiny.create_completion(p, max_tokens=10, temperature=0)["choices"][0]["text"] for p in prompts]
    results = [None] * len(prompts)
    errors = []

    def work(i):
        try:
            for _ in range(3):
                stream = i % 2 == 0
                out = tiny.create_completion(prompts[i], max_tokens=10, temperature=0, stream=stream)
                results[i] = stream_text(out, False)[0] if stream else out["choices"][0]["text"]
                assert results[i] == expected[i]
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert results == expected


@pytest.mark.parametrize("stream", [False, True])
def test_ctrl_c_interrupts_generation(tiny, stream):
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        out = tiny.create_completion("Go on", max_tokens=400, temperature=0.8, stream=stream)
        if stream:
            for _ in out:
                pass
        time.sleep(30)  # reached only when the generation was faster than the signal
    assert time.monotonic() - started < 20
    timer.join()
    assert tiny.create_completion("after", max_tokens=1)["usage"]["completion_tokens"] == 1


def test_abandoned_stream_stops(tiny):
    stream = tiny.create_completion("Go on", max_tokens=400, stream=True)
    first = next(stream)
    assert first["object"] == "text_completion"
    stream.close()
    out = tiny.create_completion("after", max_tokens=1)  # the model is free again at once
    assert out["usage"]["completion_tokens"] == 1
