"""The cache is shared with the real huggingface_hub package, both ways, against
the same mock Hub: what `mobilellm pull` writes, huggingface_hub finds offline;
what huggingface_hub downloads, `mobilellm` runs offline."""
import hashlib
import json
import pathlib
import subprocess
import sys
import textwrap
import time

from mock_hub import GOOD_TOKEN


def python(env, code, offline=False):
    e = dict(env, HF_HUB_OFFLINE="1" if offline else "0")
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=e, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def test_huggingface_hub_finds_what_mobilellm_pulled(hub, env, run, checkpoint):
    out = run("pull", "test-org/tiny").stdout.strip()
    n = len(hub.requests())
    found = json.loads(python(env, """
        import json
        from huggingface_hub import snapshot_download, hf_hub_download, try_to_load_from_cache, scan_cache_dir
        snap = snapshot_download("test-org/tiny", local_files_only=True,
                                 allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt"])
        config = hf_hub_download("test-org/tiny", "config.json", local_files_only=True)
        weights = try_to_load_from_cache("test-org/tiny", "model.safetensors")
        info = scan_cache_dir()
        repos = {r.repo_id: sorted(f.file_name for rev in r.revisions for f in rev.files) for r in info.repos}
        print(json.dumps({"snapshot": snap, "config": config, "weights": weights, "repos": repos,
                          "warnings": [str(w) for w in info.warnings]}))
    """, offline=True))
    assert found["snapshot"] == out
    assert pathlib.Path(found["config"]).read_bytes() == checkpoint["config.json"]
    assert pathlib.Path(found["weights"]).read_bytes() == checkpoint["model.safetensors"]
    assert found["repos"]["test-org/tiny"] == sorted(checkpoint)
    assert found["warnings"] == []
    assert len(hub.requests()) == n


def test_huggingface_hub_online_reuses_what_mobilellm_pulled(hub, env, run):
    run("pull", "test-org/tiny")
    storage_before = len(hub.requests("storage"))
    python(env, """
        from huggingface_hub import hf_hub_download
        hf_hub_download("test-org/tiny", "model.safetensors")
    """)
    assert len(hub.requests("storage")) == storage_before  # the blob was already there


def test_mobilellm_runs_what_huggingface_hub_downloaded(hub, env, run, request):
    snap = python(env, """
        from huggingface_hub import snapshot_download
        print(snapshot_download("test-org/tiny"))
    """)
    n = len(hub.requests())
    args = ["--prompt-ids", "1 2 3", "-n", "4", "--temp", "0", "--print-ids"]
    by_name = run("run", "-m", "test-org/tiny", *args, extra_env={"HF_HUB_OFFLINE": "1"}).stdout
    by_path = run("run", "-m", request.config.getoption("--model"), *args).stdout
    assert by_name == by_path
    assert len(hub.requests()) == n
    assert run("pull", "test-org/tiny", extra_env={"HF_HUB_OFFLINE": "1"}).stdout.strip() == snap
    # Online, pull finds every file in place and fetches no bytes.
    storage_before = len(hub.requests("storage"))
    assert "0 downloaded now" in run("pull", "test-org/tiny").stderr
    assert len(hub.requests("storage")) == storage_before


def test_mobilellm_finds_gated_and_gguf_files_huggingface_hub_downloaded(hub, env, run):
    python(env, """
        from huggingface_hub import hf_hub_download, snapshot_download
        hf_hub_download("test-org/tiny-gguf", "tiny-Q8_0.gguf")
        snapshot_download("test-org/gated", token="%s")
        snapshot_download("test-org/pro", allow_patterns=["base/*"])
    """ % GOOD_TOKEN)
    offline = {"HF_HUB_OFFLINE": "1"}
    assert run("pull", "test-org/tiny-gguf:Q8_0", extra_env=offline).stdout.strip().endswith("/tiny-Q8_0.gguf")
    assert run("pull", "test-org/gated", extra_env=offline).stdout.strip().endswith(hub.repos["test-org/gated"].commit)
    assert run("pull", "test-org/pro:base", extra_env=offline).stdout.strip().endswith("/base")
    # Offline, a name without a selector chooses among the cached checkpoints by the same rule: base/ alone.
    assert run("pull", "test-org/pro", extra_env=offline).stdout.strip().endswith("/base")
    p = run("pull", "test-org/pro:instruct", extra_env=offline, check=False)
    assert p.returncode != 0 and "HF_HUB_OFFLINE" in p.stderr


def test_huggingface_hub_waits_for_a_pull_in_progress(hub, env, mobilellm):
    """Both take the same flock on .locks/models--ORG--NAME/<etag>.lock: the blob is fetched once."""
    repo = hub.repos["test-org/tiny"]
    repo.slow["model.safetensors"] = 0.01
    pull = subprocess.Popen([mobilellm, "pull", "test-org/tiny", "--quiet"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    partial = (pathlib.Path(env["HF_HUB_CACHE"]) / "models--test-org--tiny" / "blobs" /
               (repo.sha256("model.safetensors") + ".incomplete"))
    deadline = time.time() + 60
    while time.time() < deadline and not partial.exists():
        time.sleep(0.05)
    assert partial.exists()
    path = python(env, """
        from huggingface_hub import hf_hub_download
        print(hf_hub_download("test-org/tiny", "model.safetensors"))
    """)
    _, err = pull.communicate(timeout=120)
    assert pull.returncode == 0, err
    assert hub.blob_gets[repo.sha256("model.safetensors")] == 1
    assert hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest() == repo.sha256("model.safetensors")
