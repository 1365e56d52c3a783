"""Fixtures for the hub tests: the mobilellm binary, a tiny checkpoint, and a
fresh mock Hub with its repos and an empty cache per test."""
import os
import pathlib
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from mock_hub import MockHub, Repo  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--mobilellm", required=True)
    parser.addoption("--model", required=True, help="a tiny checkpoint directory (make-random --preset tiny)")


@pytest.fixture(scope="session")
def mobilellm(request):
    return os.path.abspath(request.config.getoption("--mobilellm"))


@pytest.fixture(scope="session")
def checkpoint(request):
    folder = pathlib.Path(request.config.getoption("--model"))
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture
def hub(checkpoint):
    mock = MockHub()
    files = dict(checkpoint)
    files["README.md"] = b"# tiny\n"
    files[".gitattributes"] = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    mock.add(Repo("test-org/tiny", files))
    mock.add(Repo("test-org/gated", {"config.json": checkpoint["config.json"], "model.safetensors": b"w" * 4096},
                  gated=True))
    pro = {"README.md": b"# pro\n"}
    for variant in ("base", "instruct"):
        pro.update({variant + "/" + name: data for name, data in checkpoint.items()})
    mock.add(Repo("test-org/pro", pro))
    gguf = {name: os.urandom(3000 + i) for i, name in enumerate(
        ["tiny-Q4_K_M.gguf", "tiny-Q8_0.gguf", "tiny-F16-00001-of-00002.gguf", "tiny-F16-00002-of-00002.gguf",
         "mmproj-tiny-F16.gguf"])}
    mock.add(Repo("test-org/tiny-gguf", gguf))
    yield mock
    mock.close()


@pytest.fixture
def env(hub, tmp_path):
    """The environment of a user whose Hub is the mock and whose cache is empty."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    e.update({"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(tmp_path / "hf-home"),
              "HF_HUB_CACHE": str(tmp_path / "cache"), "HF_HUB_DISABLE_TELEMETRY": "1",
              "HF_HUB_DISABLE_PROGRESS_BARS": "1", "no_proxy": "*", "NO_PROXY": "*"})
    return e


@pytest.fixture
def run(mobilellm, env):
    def call(*args, extra_env=None, timeout=120, check=True, input_text=None):
        e = dict(env, **(extra_env or {}))
        e = {k: v for k, v in e.items() if v is not None}  # None: unset
        p = subprocess.run([mobilellm, *args], env=e, capture_output=True, text=True, timeout=timeout,
                           input=input_text)
        if check and p.returncode != 0:
            raise AssertionError("mobilellm %s failed (%d):\n%s" % (" ".join(args), p.returncode, p.stderr))
        return p
    return call
