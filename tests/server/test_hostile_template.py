"""A checkpoint's chat template is untrusted input (chat/jinja/limits.h).
One that passes a limit while rendering a request gets that request a 400
naming the limit, and the server keeps answering; one that passes a limit
while loading makes `mobilellm serve` exit non-zero with the message."""
import http.client
import json
import os
import shutil
import subprocess

import pytest

from conftest import Server

# Renders normally, except for the message "boom": then it loops 4M times.
RENDER_BOMB = ("{% if messages[-1]['content'] == 'boom' %}{% for i in range(2000) %}{% for j in range(2000) %}"
               "{% endfor %}{% endfor %}{% endif %}"
               "{{ bos_token }}{% for m in messages %}<|header_start|>{{ m['role'] }}<|header_end|>\n\n"
               "{{ m['content'] }}<|eot|>{% endfor %}<|header_start|>assistant<|header_end|>\n\n")
PARSE_BOMB = "{{ " + "[" * 100000 + " }}"


def checkpoint_with_template(model_dir, dest, template):
    """The tiny checkpoint with `template` as its chat template (weights linked, not copied)."""
    os.makedirs(dest)
    for name in os.listdir(model_dir):
        src = os.path.join(model_dir, name)
        if name == "tokenizer_config.json":
            with open(src, encoding="utf-8") as f:
                config = json.load(f)
            config["chat_template"] = template
            with open(os.path.join(dest, name), "w", encoding="utf-8") as f:
                json.dump(config, f)
        elif name.endswith(".safetensors"):
            os.symlink(os.path.abspath(src), os.path.join(dest, name))
        else:
            shutil.copy(src, dest)
    return dest


def post(server, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, json.loads(r.read())


def test_limit_while_serving_is_400_and_server_stays_healthy(mobilellm, model_dir, tmp_path):
    model = checkpoint_with_template(model_dir, str(tmp_path / "bomb"), RENDER_BOMB)
    server = Server(mobilellm, model, ["--threads", "1", "--ctx", "512"])
    try:
        for _ in range(2):
            status, body = post(server, "/v1/chat/completions",
                                {"messages": [{"role": "user", "content": "boom"}], "max_tokens": 2})
            assert status == 400, body
            assert "rendering takes more than 1000000 steps" in body["error"]["message"]
            assert "tokenizer_config.json" in body["error"]["message"]
            status, body = post(server, "/v1/chat/completions",
                                {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "temperature": 0})
            assert status == 200 and body["choices"], body
    finally:
        assert server.stop() == 0, "".join(server.log[-30:])


def test_limit_at_load_exits_nonzero_with_the_message(mobilellm, model_dir, tmp_path):
    model = checkpoint_with_template(model_dir, str(tmp_path / "deep"), PARSE_BOMB)
    r = subprocess.run([mobilellm, "serve", "-m", model, "--host", "127.0.0.1", "--port", "0"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "expressions nest deeper than 200 levels" in r.stderr, r.stderr
    assert "tokenizer_config.json" in r.stderr, r.stderr
