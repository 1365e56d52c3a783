#!/usr/bin/env python3
"""Golden test: our `mobilellm` CLI against the transformers reference written by
tools/reference/make_fixtures.py (see its manifest.json).

  compare.py --manifest M --fixture NAME --mobilellm BIN --work DIR --mode logits|greedy|names

logits: `mobilellm logits -m CKPT --ids "..." --out F` (with the default thread count and kernels,
        then -t 1, -t 3, and MOBILELLM_ISA forced to every kernel table this build and CPU run) must give max |ours - ref| <= tolerance * max |ref| and the same argmax at every
        position. make_fixtures guarantees every reference top-1/top-2 gap is at least twice the
        tolerance, so the argmax check is never stricter than the error bound.
greedy: `mobilellm run -m CKPT --prompt-ids "..." -n N --temp 0 --print-ids` must print exactly the
        reference continuation (one line of space-separated ids on stdout).
names:  the fixture names given after --fixture (the list CMake registers) equal the manifest's.
Only the standard library and numpy: runs with the project's .venv python.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np


# The kernel tables the logits test also forces one by one (MOBILELLM_ISA); one that this build or
# CPU lacks is skipped, so an AVX-512 machine tests AVX-512 and every machine tests scalar.
ISAS = ("scalar", "avx2", "avx512", "amx", "neon")
ISA_MISSING = "not compiled into this build or not supported by this CPU"


def run(cmd: list[str], env: dict[str, str] | None = None, allow: str | None = None):
    """Runs cmd; exits the test on failure, or returns None when stderr contains `allow`."""
    shown = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    print("$ " + (shown + " " if shown else "") + " ".join(f'"{c}"' if " " in c else c for c in cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if p.stderr.strip():
        print("  stderr: " + p.stderr.strip().replace("\n", "\n  stderr: "))
    if p.returncode != 0 and allow and allow in p.stderr:
        return None
    if p.returncode != 0:
        print(f"FAIL: exit status {p.returncode}")
        if p.stdout.strip():
            print("  stdout: " + p.stdout.strip()[:2000])
        sys.exit(1)
    return p


def ids_arg(ids: list[int]) -> str:
    return " ".join(str(i) for i in ids)


def describe_config(ckpt: Path) -> str:
    if not (ckpt / "config.json").is_file():
        return f"{ckpt.name} (no config.json)"
    c = json.loads((ckpt / "config.json").read_text())
    keys = ("layer_types", "no_rope_layers", "sliding_window", "attention_chunk_size", "floor_scale",
            "attn_temperature_tuning", "use_qk_norm", "rope_parameters", "rope_theta", "rope_scaling")
    return "; ".join(f"{k}={json.dumps(c[k])}" for k in keys if k in c)


def check_logits(fx: dict, root: Path, tol: float, binary: str, work: Path, threads: str | None,
                 isa: str | None) -> bool:
    ckpt = root / fx["checkpoint"]
    t, vocab = fx["logits_shape"]
    ref = np.fromfile(root / fx["logits_file"], dtype="<f4").reshape(t, vocab).astype(np.float64)
    variant = f"threads {threads or 'default'}, isa {isa or 'default'}"
    out = work / f"{fx['name']}.t{threads or 'default'}.{isa or 'default'}.logits.f32"
    out.unlink(missing_ok=True)
    cmd = [binary, "logits", "-m", str(ckpt), "--ids", ids_arg(fx["prompt_ids"]), "--out", str(out)]
    if threads:
        cmd += ["-t", threads]
    if run(cmd, {"MOBILELLM_ISA": isa} if isa else None, allow=ISA_MISSING if isa else None) is None:
        print(f"{fx['name']} ({variant}): skipped, {isa} is {ISA_MISSING}")
        return True
    raw = np.fromfile(out, dtype="<f4")
    if raw.size != t * vocab:
        print(f"FAIL: {out} holds {raw.size} floats, expected {t} x {vocab} = {t * vocab}")
        return False
    ours = raw.reshape(t, vocab).astype(np.float64)
    if not np.isfinite(ours).all():
        bad = np.argwhere(~np.isfinite(ours))
        print(f"FAIL: non-finite logits, first at position {bad[0][0]} token {bad[0][1]}")
        return False
    amax = np.abs(ref).max()
    err_pos = np.abs(ours - ref).max(axis=1)
    err = err_pos.max()
    arg_ok = ours.argmax(axis=1) == ref.argmax(axis=1)
    ok = err <= tol * amax and arg_ok.all()
    print(f"{fx['name']} ({variant}): max |err| = {err:.3e} = {err / amax:.2e} x max|ref| "
          f"(max|ref| {amax:.3f}, allowed {tol:.0e}); argmax equal at {arg_ok.sum()}/{t} positions -> "
          f"{'ok' if ok else 'FAIL'}")
    if not ok:
        bad = [int(i) for i in np.nonzero((err_pos > tol * amax) | ~arg_ok)[0]]
        print(f"  failing positions: {bad}")
        print(f"  first failing position {bad[0]}: error {err_pos[bad[0]]:.3e}, ours argmax "
              f"{int(ours[bad[0]].argmax())} vs ref {int(ref[bad[0]].argmax())}")
        print("  error / max|ref| by position: " + " ".join(f"{i}:{e / amax:.1e}" for i, e in enumerate(err_pos)))
        print(f"  config: {describe_config(ckpt)}")
        print(f"  covers: {fx['covers']}")
        if ckpt.is_dir():
            diagnose(ckpt, fx["prompt_ids"], ours, amax, tol)
    return ok


def diagnose(ckpt: Path, ids: list[int], ours: np.ndarray, amax: float, tol: float) -> None:
    """Which single broken feature of the literal spec forward (tools/reference/spec_forward.py)
    comes closest to our logits: usually names the bug."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "reference"))
    try:
        import spec_forward
    except ImportError as e:  # the diagnosis is a courtesy; the verdict above stands
        print(f"  (no diagnosis: {e})")
        return
    c, w = spec_forward.load(ckpt)
    scores = []
    for ab in spec_forward.applicable_ablations(c, w):
        e = np.abs(spec_forward.forward(c, w, ids, ablate=ab) - ours).max() / amax
        scores.append((e, ab))
    scores.sort()
    print("  diagnosis: distance of our logits to the spec forward with one feature broken (x max|ref|):")
    for e, ab in scores[:4]:
        verdict = "  <- matches: likely this bug" if e <= tol else ""
        print(f"    {e:.1e}  {ab}: {spec_forward.ABLATIONS[ab]}{verdict}")


def check_greedy(fx: dict, root: Path, binary: str) -> bool:
    ckpt = root / fx["checkpoint"]
    ok = True
    for case in fx["greedy"]:
        p = run([binary, "run", "-m", str(ckpt), "--prompt-ids", ids_arg(case["prompt_ids"]), "-n",
                 str(case["n"]), "--temp", "0", "--print-ids"])
        lines = [l for l in p.stdout.splitlines() if l.strip()]
        try:
            got = [int(x) for x in lines[0].split()] if len(lines) == 1 else None
        except ValueError:
            got = None
        if got is None:
            print(f"FAIL: expected one line of ids on stdout, got {p.stdout!r}")
            ok = False
            continue
        want = case["ids"]
        if got == want:
            print(f"{fx['name']}: greedy from a {len(case['prompt_ids'])}-token prompt, {case['n']} tokens: ok")
            continue
        ok = False
        first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        print(f"FAIL {fx['name']}: greedy from a {len(case['prompt_ids'])}-token prompt differs at new token "
              f"{first} (absolute position {len(case['prompt_ids']) + first})")
        print(f"  want {want}\n  got  {got}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", type=Path, required=True)
    ap.add_argument("--fixture", nargs="+", required=True)
    ap.add_argument("--mobilellm")
    ap.add_argument("--work", type=Path)
    ap.add_argument("--mode", choices=("logits", "greedy", "names"), required=True)
    args = ap.parse_args()
    manifest = json.loads(args.manifest.read_text())
    root = args.manifest.parent
    fixtures = {f["name"]: f for f in manifest["fixtures"]}
    if args.mode == "names":
        if sorted(args.fixture) != sorted(fixtures):
            print(f"FAIL: tests/golden/CMakeLists.txt registers {sorted(args.fixture)}, "
                  f"the manifest has {sorted(fixtures)}")
            return 1
        print(f"fixtures: {sorted(fixtures)}")
        return 0
    (name,) = args.fixture
    if name not in fixtures:
        print(f"FAIL: fixture {name} not in {args.manifest}")
        return 1
    fx = fixtures[name]
    print(f"{name}: {fx['description']}")
    if args.mode == "logits":
        args.work.mkdir(parents=True, exist_ok=True)
        tol = manifest["tolerance"]["max_abs_error_rel"]
        variants = [(None, None), ("1", None), ("3", None)] + [(None, isa) for isa in ISAS]
        ok = all(check_logits(fx, root, tol, args.mobilellm, args.work, t, isa) for t, isa in variants)
    else:
        ok = check_greedy(fx, root, args.mobilellm)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
