"""Fault injection for `mobilellm convert` (issue 15): SIGINT and SIGKILL at
random points while it overwrites an existing output (--force). Afterwards
the output is the old file or a complete new one (verify passes), never a
partial one; SIGINT leaves no temporary behind; a temporary left by SIGKILL is
never accepted by the loader and is removed by the next convert.
    fault_injection.py --mobilellm BIN --work DIR [--rounds N] [--seed S]"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time


def fingerprint(path):
    with open(path, "rb") as f:
        return hash(f.read())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mobilellm", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--rounds", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    b, work = a.mobilellm, a.work
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    ckpt, out = os.path.join(work, "ckpt"), os.path.join(work, "out.f32")
    subprocess.run([b, "make-random", "-o", ckpt, "--preset", "tiny"], check=True, capture_output=True)
    convert = [b, "convert", "-m", ckpt, "-o", out, "--scheme", "f32", "-t", "1", "--force"]
    start = time.time()
    subprocess.run(convert, check=True, capture_output=True)
    duration = time.time() - start
    complete = fingerprint(out)
    rng = random.Random(a.seed)
    interrupted = left_by_kill = 0
    for i in range(a.rounds):
        sig = signal.SIGINT if i % 2 == 0 else signal.SIGKILL
        p = subprocess.Popen(convert, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0, duration))
        p.send_signal(sig)
        _, err = p.communicate(timeout=120)
        interrupted += p.returncode != 0
        if p.returncode not in (0, -sig):
            sys.exit(f"FAIL round {i}: convert exited {p.returncode} on {sig.name}:\n{err.decode()}")
        # The output is the old or a complete new file: the same bytes, and it verifies.
        if not os.path.exists(out) or fingerprint(out) != complete:
            sys.exit(f"FAIL round {i}: {sig.name} left a changed or no output")
        v = subprocess.run([b, "verify", "-m", out], capture_output=True, text=True)
        if v.returncode != 0:
            sys.exit(f"FAIL round {i}: the output does not verify after {sig.name}:\n{v.stderr}")
        temps = [f for f in os.listdir(work) if ".partial-" in f]
        own = [t for t in temps if t.endswith(f".partial-{p.pid}")]
        if sig == signal.SIGINT and own:  # others may be a killed round's, not yet removed by a convert
            sys.exit(f"FAIL round {i}: SIGINT left {own}")
        left_by_kill += len(temps)
        for t in temps:  # after SIGKILL: never a file the loader takes for a model, unless it was already whole
            path = os.path.join(work, t)
            v = subprocess.run([b, "verify", "-m", path], capture_output=True, text=True)
            if v.returncode == 0 and fingerprint(path) != complete:
                sys.exit(f"FAIL round {i}: the loader accepts the partial file {t}")
    # The next convert removes what the killed ones left.
    subprocess.run(convert, check=True, capture_output=True)
    temps = [f for f in os.listdir(work) if ".partial-" in f]
    if temps:
        sys.exit(f"FAIL: temporaries of killed converts remain: {temps}")
    print(f"convert fault injection: ok ({a.rounds} rounds, {interrupted} interrupted mid-way, "
          f"{left_by_kill} temporaries seen after SIGKILL, convert takes {duration:.2f} s)")


if __name__ == "__main__":
    main()
