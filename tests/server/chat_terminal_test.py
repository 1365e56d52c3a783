"""`mobilellm chat` at a terminal (a pseudo-terminal): what is typed while an
answer is written is neither echoed nor kept, so a Ctrl-D typed then does not
end the next prompt and no text shows twice.
    chat_terminal_test.py MOBILELLM MODEL_DIR"""
import os
import pty
import re
import select
import sys
import time


def read_until(fd, needle, timeout):
    out = b""
    deadline = time.time() + timeout
    while time.time() < deadline and needle not in out:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def read_until_match(fd, pattern, timeout):
    out = b""
    deadline = time.time() + timeout
    while time.time() < deadline and not re.search(pattern, out):
        out += read_until(fd, b"\0never", 0.1)
    return out


def main():
    mobilellm, model = sys.argv[1], sys.argv[2]
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(mobilellm, [mobilellm, "chat", "-m", model, "-n", "500", "--temp", "0", "-t", "1"])
    out = read_until(fd, b"> ", 120)
    assert b"> " in out, out
    os.write(fd, b"Hello!\n")
    read_until(fd, b"Hello!\r\n", 30)
    # The answer is being written once its first letters arrive (the line
    # editor may still write bytes of its own after the echoed line, before
    # the answer starts and the terminal goes quiet).
    started = read_until_match(fd, rb"[A-Za-z0-9]", 120)
    assert re.search(rb"[A-Za-z0-9]", started), started
    os.write(fd, b"typedahead\x04")
    out = read_until(fd, b"> ", 300)
    assert b"> " in out, out
    assert b"typedahead" not in out, "typed text was echoed during the answer: ...%r" % out[-200:]
    # The next prompt is intact: a command typed now is answered, not eaten by a stale Ctrl-D.
    os.write(fd, b"/stats\n")
    out = read_until(fd, b"turns:", 60)
    assert b"turns: 1" in out, out
    assert b"typedahead" not in out, "typed text was kept for the next prompt: ...%r" % out[-200:]
    os.write(fd, b"/quit\n")
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    print("chat at a terminal: ok")


if __name__ == "__main__":
    main()
