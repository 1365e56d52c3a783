"""Connection handling (issue 15): a busy port is an error, idle and slow
(slowloris) clients cannot keep /health or new requests from being served,
and SIGINT/SIGTERM stop the server gracefully, a second one at once."""
import http.client
import json
import signal
import socket
import subprocess
import threading
import time

import pytest


def health(port, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", "/health")
    r = conn.getresponse()
    r.read()
    return r.status


def test_busy_port_is_an_error(start_server, mobilellm, model_dir):
    first = start_server("--threads", "1")
    p = subprocess.run([mobilellm, "serve", "-m", model_dir, "--host", "127.0.0.1", "--port", str(first.port),
                        "--threads", "1"], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "address already in use" in p.stderr, p.stderr
    assert health(first.port) == 200


def test_idle_connections_do_not_starve_the_server(start_server):
    # More idle connections than the cap: opened, nothing sent.
    s = start_server("--threads", "1", "--max-connections", "40", "--idle-timeout", "2")
    idle = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(100)]
    try:
        start = time.time()
        status = None
        while time.time() - start < 15 and status != 200:
            try:
                status = health(s.port, timeout=10)
            except OSError:  # refused beyond the cap's queue: retry as a client would
                time.sleep(0.2)
        assert status == 200
        # 100 idle connections through a cap of 40 close in three waves of the 2 s idle timeout
        # (about 6 s); the rest is margin for a loaded 2-core CI machine.
        assert time.time() - start < 14, "health took %.1f s" % (time.time() - start)
    finally:
        for c in idle:
            c.close()


def test_slowloris_is_cut_off(start_server):
    s = start_server("--threads", "1", "--max-connections", "20", "--queue", "4", "--request-timeout", "3")
    slow = []
    for _ in range(30):
        c = socket.create_connection(("127.0.0.1", s.port))
        c.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n")
        slow.append(c)
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            for c in slow:
                try:
                    c.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass
            time.sleep(0.5)

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        start = time.time()
        status = None
        while time.time() - start < 20 and status != 200:
            try:
                status = health(s.port, timeout=10)
            except OSError:
                time.sleep(0.2)
        assert status == 200
        # Every slow client is disconnected once its request deadline passes.
        for c in slow:
            c.settimeout(10)
            while c.recv(4096):
                pass
    finally:
        stop.set()
        t.join()
        for c in slow:
            c.close()


def stream_until_end(port, body, events):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/v1/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    events.append(("status", r.status))
    for line in r:
        line = line.strip()
        if line.startswith(b"data: "):
            events.append(("data", line[6:].decode()))


def test_graceful_shutdown_cancels_generations(start_server):
    s = start_server("--threads", "1", "--ctx", "4096")
    events = []
    t = threading.Thread(target=stream_until_end, args=(s.port, {"prompt": "hi", "max_tokens": 4000, "stream": True,
                                                                 "temperature": 0}, events))
    t.start()
    deadline = time.time() + 60
    while sum(1 for e in events if e[0] == "data") < 3 and time.time() < deadline:
        time.sleep(0.05)
    start = time.time()
    s.proc.send_signal(signal.SIGTERM)
    s.proc.wait(15)
    assert time.time() - start < 10
    assert s.proc.returncode == 0, "".join(s.log)
    t.join(10)
    data = [e[1] for e in events if e[0] == "data"]
    assert data[-1] == "[DONE]"
    finishes = [json.loads(d)["choices"][0]["finish_reason"] for d in data[:-1]]
    assert finishes[-1] == "cancelled" and all(f is None for f in finishes[:-1])


def test_second_signal_exits_at_once(start_server):
    s = start_server("--threads", "1", "--request-timeout", "60")
    # A request still being received keeps the graceful stop waiting.
    slow = socket.create_connection(("127.0.0.1", s.port))
    slow.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.5)
    s.proc.send_signal(signal.SIGINT)
    time.sleep(1)
    assert s.proc.poll() is None
    start = time.time()
    s.proc.send_signal(signal.SIGINT)
    s.proc.wait(10)
    assert time.time() - start < 3
    assert s.proc.returncode == 128 + signal.SIGINT
    slow.close()
    s.expected_returncode = 128 + signal.SIGINT
