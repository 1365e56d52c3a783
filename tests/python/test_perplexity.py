"""Model.perplexity against `mobilellm perplexity` on the same model and text
(the CLI's numbers are checked against a PyTorch reference in tests/real),
its bad arguments, and Ctrl-C."""
import os
import random
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import mobilellm

README = Path(__file__).resolve().parents[2] / "README.md"
WORDS = ("the of and to in is that it was for on are with as his they be at one have this from or had by hot word "
         "but what some we can out other were all there when up use your how said an each she which do their time "
         "if will way about many then them write would like so these her long make thing see him two has look more "
         "day could go come did number sound no most people my over know water than call first who may down").split()


def words(n, seed=0):
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n))


def cli_perplexity(cli, model, text_file, *flags):
    """The CLI's [i] values and its final PPL and +/-, as the strings it prints."""
    out = cli("perplexity", "-m", model, "-f", str(text_file), "-t", "2", *flags)
    running = re.findall(r"\[\d+\]([0-9.]+),", out)
    final = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", out)
    assert running and final, out
    return running, final.group(1), final.group(2)


def assert_equals_cli(result, expected):
    running, ppl, error = expected
    assert f"{result.ppl:.4f}" == ppl
    assert f"{result.ppl_error:.4f}" == error
    assert [f"{v:.4f}" for v in result.running_ppl] == running


def assert_consistent(result, n_ctx):
    scored = n_ctx - 1 - n_ctx // 2
    chunks = len(result.running_ppl)
    assert result.nll.dtype == np.float64 and result.nll.shape == (chunks, scored)
    assert result.ppl == pytest.approx(np.exp(result.nll.mean()), rel=1e-9)
    assert result.running_ppl[-1] == result.ppl
    assert result.chunk_ppl == pytest.approx(np.exp(result.nll.mean(axis=1)).tolist(), rel=1e-12)
    assert result.n_ctx == n_ctx and result.n_tokens >= 2 * n_ctx and result.seconds > 0


@pytest.mark.parametrize("n_ctx, n_batch, n_chunks", [(64, None, -1), (128, 48, 3), (32, 7, 5)])
def test_equals_cli_tiny(cli, tiny, tiny_path, tmp_path, n_ctx, n_batch, n_chunks):
    text = tmp_path / "text.txt"
    text.write_text(words(700))
    flags = ["--ctx", str(n_ctx), "--chunks", str(n_chunks)] + (["--batch", str(n_batch)] if n_batch else [])
    result = tiny.perplexity(text.read_text(), n_ctx=n_ctx, n_batch=n_batch, n_chunks=n_chunks)
    assert_equals_cli(result, cli_perplexity(cli, tiny_path, text, *flags))
    assert_consistent(result, n_ctx)
    if n_chunks > 0:
        assert len(result.running_ppl) == n_chunks


def test_bytes_like_the_file(cli, tiny, tiny_path, tmp_path):
    """Bytes are read as the CLI reads a file: invalid UTF-8 becomes U+FFFD."""
    data = words(300, seed=1).encode() + b" \xff\xfe broken \xc3 bytes " + words(300, seed=2).encode()
    text = tmp_path / "text.bin"
    text.write_bytes(data)
    expected = cli_perplexity(cli, tiny_path, text, "--ctx", "64")
    assert_equals_cli(tiny.perplexity(data, n_ctx=64), expected)
    assert_equals_cli(tiny.perplexity(bytearray(data), n_ctx=64), expected)


def test_equals_cli_real(cli, real, real_path):
    result = real.perplexity(README.read_text(), n_ctx=128, n_chunks=4)
    assert_equals_cli(result, cli_perplexity(cli, real_path, README, "--ctx", "128", "--chunks", "4"))
    assert_consistent(result, 128)
    assert 1 < result.ppl < 200  # a real model on English text (random weights give about the vocabulary size)


def test_text_too_short_gives_the_clis_message(request, tiny, tiny_path, tmp_path):
    text = tmp_path / "short.txt"
    text.write_text("a few words only")
    done = subprocess.run([request.config.getoption("--mobilellm"), "perplexity", "-m", tiny_path, "-f", str(text),
                           "--ctx", "64"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    message = re.search(r"the text has \d+ tokens; perplexity with a context of 64 needs at least 128", done.stderr)
    assert message, done.stderr
    with pytest.raises(ValueError, match=re.escape(message.group(0))):
        tiny.perplexity(text.read_text(), n_ctx=64)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_ctx": 3}, "n_ctx"),
    ({"n_ctx": 10**9}, "n_ctx"),
    ({"n_ctx": "64"}, "n_ctx"),
    ({"n_batch": 0}, "n_batch"),
    ({"n_batch": 257}, "n_batch"),
    ({"n_chunks": 0}, "n_chunks"),
    ({"n_chunks": -2}, "n_chunks"),
    ({"n_chunks": 1.5}, "n_chunks"),
])
def test_bad_arguments_raise_value_error(tiny, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiny.perplexity(words(400), **kwargs)
    with pytest.raises(ValueError, match="str or bytes"):
        tiny.perplexity(12)
    assert tiny.perplexity(words(400), n_ctx=32, n_chunks=1).ppl > 0  # still usable


def test_n_batch_of_the_model(tiny_path):
    with pytest.raises(ValueError, match="n_batch"):
        mobilellm.Model(tiny_path, n_batch=0)
    with mobilellm.Model(tiny_path, n_ctx=64, n_batch=512, n_threads=2) as model:
        assert model.n_batch == 512
        result = model.perplexity(words(400), n_ctx=64, n_batch=512, n_chunks=1)
        assert len(result.running_ppl) == 1
    with pytest.raises(ValueError, match="closed"):
        model.perplexity(words(400))


def test_ctrl_c_interrupts_perplexity(tiny):
    text = words(20000)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        tiny.perplexity(text, n_ctx=512, n_batch=16)
        time.sleep(30)  # reached only when the scoring was faster than the signal
    assert time.monotonic() - started < 20
    timer.join()
    assert tiny.perplexity(words(400), n_ctx=32, n_chunks=1).ppl > 0
