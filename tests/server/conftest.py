"""Starts `mobilellm serve` for the server tests and stops it cleanly.

Every test module gets servers through `start_server`: the server listens on a
free loopback port (it prints the port), the fixture waits for /health and,
at the end, stops it with SIGTERM and checks that it exited cleanly (under
the sanitizer build that also means no leak report).
"""
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest


def pytest_addoption(parser):
    parser.addoption("--mobilellm", required=True, help="path of the mobilellm executable")
    parser.addoption("--model", required=True, help="checkpoint directory (tiny, with the real tokenizer)")


class Server:
    def __init__(self, mobilellm, model, args):
        self.log = []
        self.expected_returncode = 0
        self.proc = subprocess.Popen(
            [mobilellm, "serve", "-m", model, "--host", "127.0.0.1", "--port", "0", *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.port = None
        ready = threading.Event()

        def read_log():
            for line in self.proc.stderr:
                self.log.append(line)
                m = re.search(r"listening on http://[\d.]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        self._reader = threading.Thread(target=read_log, daemon=True)
        self._reader.start()
        if not ready.wait(60) or self.port is None:
            self.stop()
            raise RuntimeError("the server did not start:\n" + "".join(self.log))
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5) as r:
                    if r.status == 200:
                        return
            except urllib.error.HTTPError as e:
                assert e.code == 503, e.code  # loading
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("the server exited:\n" + "".join(self.log))
            time.sleep(0.1)
        raise RuntimeError("the server did not become ready")

    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("the server did not stop on SIGTERM")
        self._reader.join(5)
        return self.proc.returncode


@pytest.fixture(scope="session")
def start_server(request):
    mobilellm = request.config.getoption("--mobilellm")
    model = request.config.getoption("--model")
    servers = []

    def start(*args):
        s = Server(mobilellm, model, list(args))
        servers.append(s)
        return s

    yield start
    for s in servers:
        code = s.stop()
        assert code == s.expected_returncode, "server exited with %s:\n%s" % (code, "".join(s.log[-50:]))


@pytest.fixture(scope="session")
def server(start_server):
    """The shared server: 2 slots, a small body limit for the 413 test."""
    return start_server("--parallel", "2", "--threads", "1", "--max-body", str(1 << 20), "--ctx", "2048")


@pytest.fixture(scope="session")
def model_dir(request):
    return request.config.getoption("--model")


@pytest.fixture(scope="session")
def mobilellm(request):
    return request.config.getoption("--mobilellm")
