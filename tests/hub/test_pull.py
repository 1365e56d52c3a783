"""`mobilellm pull` and `-m ORG/NAME` against the mock Hub: the protocol, the
cache layout, gated and missing repos, integrity, resume, Ctrl-C, concurrent
pulls, retries and selectors."""
import hashlib
import json
import os
import pathlib
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request

from mock_hub import GOOD_TOKEN, git_blob_id


def folder(env, repo):
    return pathlib.Path(env["HF_HUB_CACHE"]) / ("models--" + repo.replace("/", "--"))


def snapshot_files(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def test_pull_writes_the_huggingface_hub_layout(hub, env, run, checkpoint):
    repo = hub.repos["test-org/tiny"]
    out = run("pull", "test-org/tiny").stdout.strip()
    base = folder(env, "test-org/tiny")
    snapshot = base / "snapshots" / repo.commit
    assert pathlib.Path(out) == snapshot
    assert (base / "refs" / "main").read_text() == repo.commit
    # The checkpoint's files and nothing else (no README, no .gitattributes).
    assert snapshot_files(snapshot) == sorted(checkpoint)
    for name, data in checkpoint.items():
        link = snapshot / name
        etag = repo.sha256(name) if name in repo.lfs else git_blob_id(data)
        assert os.readlink(link) == "../../blobs/" + etag, name
        assert link.read_bytes() == data
    assert not list((base / "blobs").glob("*.incomplete"))


def test_progress_is_plain_lines_off_a_terminal_and_quiet_is_silent(hub, env, run, checkpoint):
    err = run("pull", "test-org/tiny").stderr
    size = len(checkpoint["model.safetensors"])
    assert "model.safetensors: %.1f MB\n" % (size / 1e6) in err
    assert "\r" not in err
    assert "model.safetensors: %.1f MB in " % (size / 1e6) in err
    assert run("pull", "test-org/pro", "--quiet").stderr == ""


def test_token_never_leaves_the_hub_host(hub, env, run):
    run("pull", "test-org/tiny", extra_env={"HF_TOKEN": GOOD_TOKEN})
    hub_requests = hub.requests("hub")
    storage_requests = hub.requests("storage")
    assert hub_requests and storage_requests
    assert all(h.get("authorization") == "Bearer " + GOOD_TOKEN for _, _, _, h in hub_requests)
    assert all("authorization" not in h for _, _, _, h in storage_requests)
    # The Hub's HEAD answers for LFS files redirect to the other host name.
    assert all(h["host"].startswith("localhost:") for _, _, _, h in storage_requests)


def test_the_storage_host_may_redirect_again(hub, env, run):
    repo = hub.repos["test-org/tiny"]
    repo.storage_hop = True
    run("pull", "test-org/tiny", extra_env={"HF_TOKEN": GOOD_TOKEN})
    paths = [path for _, _, path, _ in hub.requests("storage") if repo.sha256("model.safetensors") in path]
    assert len(paths) == 2 and paths[1].endswith("&hop=1")
    assert all("authorization" not in h for _, _, _, h in hub.requests("storage"))
    link = folder(env, "test-org/tiny") / "snapshots" / repo.commit / "model.safetensors"
    assert hashlib.sha256(link.read_bytes()).hexdigest() == repo.sha256("model.safetensors")


def test_a_renamed_repo_is_followed_on_the_hub_with_the_token(hub, env, run, checkpoint):
    hub.renamed["old-org/tiny"] = "test-org/tiny"
    hub.repos["test-org/tiny"].files["sub dir/a file#1.json"] = b"{}"
    out = run("pull", "old-org/tiny", "--include", "*.json", extra_env={"HF_TOKEN": GOOD_TOKEN}).stdout.strip()
    assert "models--old-org--tiny" in out  # cached under the name the user gave, as huggingface_hub does
    assert (pathlib.Path(out) / "sub dir" / "a file#1.json").read_bytes() == b"{}"
    followed = [(path, h) for _, _, path, h in hub.requests("hub") if path.startswith(("/test-org/", "/api/models/test-org/"))]
    assert followed and all(h.get("authorization") == "Bearer " + GOOD_TOKEN for _, h in followed)
    assert any("/sub%20dir/a%20file%231.json" in path for path, _ in followed)


def test_proxies_from_the_environment(hub, env, run):
    run("pull", "test-org/tiny", extra_env={"http_proxy": hub.proxy_url, "no_proxy": None, "NO_PROXY": None})
    proxied = {urllib.parse.urlsplit(path).netloc.split(":")[0] for _, _, path, _ in hub.requests("proxy")}
    assert proxied == {"127.0.0.1", "localhost"}  # the Hub and the storage host, both through the proxy


def test_second_pull_downloads_nothing(hub, env, run):
    run("pull", "test-org/tiny")
    before = len(hub.requests("storage"))
    p = run("pull", "test-org/tiny")
    assert len(hub.requests("storage")) == before
    assert "0 downloaded now" in p.stderr


def test_run_by_repo_name_offline_matches_the_local_checkpoint(hub, env, run, request):
    model_dir = request.config.getoption("--model")
    run("pull", "test-org/tiny", "--quiet")
    n = len(hub.requests())
    args = ["--prompt-ids", "1 2 3", "-n", "4", "--temp", "0", "--print-ids"]
    by_name = run("run", "-m", "test-org/tiny", *args, extra_env={"HF_HUB_OFFLINE": "1"}).stdout
    by_path = run("run", "-m", model_dir, *args).stdout
    assert by_name == by_path and by_name.strip()
    assert len(hub.requests()) == n  # offline: not one request


def test_offline_and_not_cached_names_the_pull_to_run(hub, env, run):
    p = run("run", "-m", "test-org/tiny", "--prompt-ids", "1", "-n", "1", extra_env={"HF_HUB_OFFLINE": "1"}, check=False)
    assert p.returncode != 0
    assert "mobilellm pull test-org/tiny" in p.stderr and "HF_HUB_OFFLINE" in p.stderr
    assert hub.requests() == []


def test_m_downloads_a_missing_model_first(hub, env, run):
    p = run("run", "-m", "test-org/tiny", "--prompt-ids", "1 2", "-n", "2", "--temp", "0", "--print-ids")
    assert "pulling it" in p.stderr
    assert len(p.stdout.split()) == 2
    assert (folder(env, "test-org/tiny") / "refs" / "main").exists()


def test_a_local_path_wins_over_a_repo_name(hub, env, mobilellm, request, tmp_path):
    local = tmp_path / "work" / "test-org" / "tiny"
    local.mkdir(parents=True)
    for p in pathlib.Path(request.config.getoption("--model")).iterdir():
        (local / p.name).write_bytes(p.read_bytes())
    p = subprocess.run([mobilellm, "run", "-m", "test-org/tiny", "--prompt-ids", "1",
                        "-n", "1", "--print-ids"], cwd=tmp_path / "work", env=dict(env, HF_HUB_OFFLINE="1"),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert hub.requests() == []


def test_gated_without_token_says_how_to_get_access(hub, env, run):
    p = run("pull", "test-org/gated", check=False)
    assert p.returncode != 0
    assert "gated" in p.stderr
    assert "accept the license at %s/test-org/gated" % hub.endpoint in p.stderr
    assert "HF_TOKEN" in p.stderr and "--token" in p.stderr
    assert "You must have access to it" in p.stderr  # the Hub's X-Error-Message


def test_gated_with_a_token_without_access(hub, env, run):
    p = run("pull", "test-org/gated", "--token", "hf_wrong", check=False)
    assert p.returncode != 0
    assert "no access" in p.stderr and "request access" in p.stderr
    assert "%s/test-org/gated" % hub.endpoint in p.stderr
    assert "not in the authorized list" in p.stderr


def test_gated_with_a_token_from_each_source(hub, env, run, tmp_path):
    run("pull", "test-org/gated", "--token", GOOD_TOKEN)
    run("pull", "test-org/gated", extra_env={"HF_TOKEN": GOOD_TOKEN, "HF_HUB_CACHE": str(tmp_path / "c2")})
    token_file = tmp_path / "token"
    token_file.write_text(GOOD_TOKEN + "\n")
    run("pull", "test-org/gated", extra_env={"HF_TOKEN_PATH": str(token_file), "HF_HUB_CACHE": str(tmp_path / "c3")})
    home = tmp_path / "home2"
    home.mkdir()
    (home / "token").write_text(GOOD_TOKEN)
    p = run("pull", "test-org/gated", extra_env={"HF_HOME": str(home), "HF_HUB_CACHE": None})
    assert p.stdout.startswith(str(home / "hub" / "models--test-org--gated"))


def test_missing_repo_and_revision(hub, env, run):
    p = run("pull", "test-org/nope", check=False)  # 401 RepoNotFound: missing, or private
    assert p.returncode != 0 and "no such model repo" in p.stderr and "private" in p.stderr
    assert "gated" not in p.stderr
    p = run("pull", "test-org/nope", "--token", GOOD_TOKEN, check=False)  # 404 RepoNotFound
    assert p.returncode != 0 and "test-org/nope: no such model repo on " + hub.endpoint in p.stderr
    p = run("run", "-m", "test-org/nope", "--prompt-ids", "1", check=False)  # perhaps a mistyped local path
    assert p.returncode != 0 and "no such file or directory, and test-org/nope: no such model repo" in p.stderr
    p = run("pull", "test-org/tiny", "--revision", "v9", check=False)
    assert p.returncode != 0 and "revision" in p.stderr and "not found" in p.stderr


def test_not_a_repo_name(run):
    p = run("pull", "not a repo", check=False)
    assert p.returncode != 0 and "ORG/NAME" in p.stderr


def test_corrupt_download_never_reaches_the_cache(hub, env, run):
    repo = hub.repos["test-org/tiny"]
    repo.corrupt.add("model.safetensors")
    p = run("pull", "test-org/tiny", check=False)
    assert p.returncode != 0
    assert "model.safetensors" in p.stderr and "sha256" in p.stderr and "corrupt" in p.stderr
    base = folder(env, "test-org/tiny")
    blobs = base / "blobs"
    assert not (blobs / repo.sha256("model.safetensors")).exists()
    assert not list(blobs.glob("*.incomplete"))
    assert not (base / "snapshots" / repo.commit / "model.safetensors").exists()
    assert not (base / "snapshots" / repo.commit / "config.json").exists()  # no half model either


def test_more_bytes_than_announced_is_an_error(hub, env, run):
    repo = hub.repos["test-org/tiny"]
    repo.announced_size["model.safetensors"] = len(repo.files["model.safetensors"]) - 1
    p = run("pull", "test-org/tiny", check=False)
    assert p.returncode != 0 and "model.safetensors" in p.stderr and "more than" in p.stderr
    blobs = folder(env, "test-org/tiny") / "blobs"
    assert not (blobs / repo.sha256("model.safetensors")).exists()
    assert not list(blobs.glob("*.incomplete"))


def test_a_broken_connection_is_resumed_with_range(hub, env, run):
    repo = hub.repos["test-org/tiny"]
    repo.break_once.add("model.safetensors")
    run("pull", "test-org/tiny")
    size = len(repo.files["model.safetensors"])
    gets = [h for _, _, path, h in hub.requests("storage") if repo.sha256("model.safetensors") in path]
    assert len(gets) == 2
    assert "range" not in gets[0]
    assert gets[1]["range"] == "bytes=%d-" % (size // 2)
    blob = folder(env, "test-org/tiny") / "blobs" / repo.sha256("model.safetensors")
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == repo.sha256("model.safetensors")


def _start_slow_pull(hub, env, mobilellm, repo_id="test-org/tiny"):
    repo = hub.repos[repo_id]
    repo.slow["model.safetensors"] = 0.02
    proc = subprocess.Popen([mobilellm, "pull", repo_id], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    partial = folder(env, repo_id) / "blobs" / (repo.sha256("model.safetensors") + ".incomplete")
    deadline = time.time() + 60
    while time.time() < deadline and (not partial.exists() or partial.stat().st_size < 1 << 20):
        time.sleep(0.05)
    assert partial.exists() and partial.stat().st_size >= 1 << 20
    return proc, partial


def test_a_killed_pull_resumes_where_it_stopped(hub, env, run, mobilellm):
    repo = hub.repos["test-org/tiny"]
    proc, partial = _start_slow_pull(hub, env, mobilellm)
    proc.kill()
    proc.wait()
    have = partial.stat().st_size
    base = folder(env, "test-org/tiny")
    assert not (base / "blobs" / repo.sha256("model.safetensors")).exists()
    assert not (base / "snapshots" / repo.commit / "model.safetensors").exists()
    repo.slow.clear()
    run("pull", "test-org/tiny")
    last = [h for _, _, path, h in hub.requests("storage") if repo.sha256("model.safetensors") in path][-1]
    assert last["range"] == "bytes=%d-" % have
    link = base / "snapshots" / repo.commit / "model.safetensors"
    assert hashlib.sha256(link.read_bytes()).hexdigest() == repo.sha256("model.safetensors")


def test_ctrl_c_stops_cleanly_and_leaves_no_visible_blob(hub, env, mobilellm):
    repo = hub.repos["test-org/tiny"]
    proc, partial = _start_slow_pull(hub, env, mobilellm)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGINT
    assert "interrupted" in err
    base = folder(env, "test-org/tiny")
    assert partial.exists()  # kept for the next pull to resume
    assert not (base / "blobs" / repo.sha256("model.safetensors")).exists()
    assert not (base / "snapshots" / repo.commit / "model.safetensors").exists()


def test_two_pulls_at_once_download_each_blob_once(hub, env, mobilellm):
    repo = hub.repos["test-org/tiny"]
    repo.slow["model.safetensors"] = 0.002
    procs = [subprocess.Popen([mobilellm, "pull", "test-org/tiny", "--quiet"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    assert outs[0][0] == outs[1][0]
    assert hub.blob_gets[repo.sha256("model.safetensors")] == 1
    link = folder(env, "test-org/tiny") / "snapshots" / repo.commit / "model.safetensors"
    assert hashlib.sha256(link.read_bytes()).hexdigest() == repo.sha256("model.safetensors")


def test_retries_after_503_and_honours_retry_after_on_429(hub, env, run):
    hub.repos["test-org/tiny"].fail_api_once = 503
    run("pull", "test-org/tiny", "--quiet")
    hub.repos["test-org/pro"].fail_api_once = 429
    start = time.time()
    run("pull", "test-org/pro", "--quiet")
    assert time.time() - start >= 1.0  # Retry-After: 1
    api = [path for _, _, path, _ in hub.requests("hub") if path.startswith("/api/models/test-org/pro/revision/")]
    assert len(api) == 2


def test_gguf_selectors(hub, env, run):
    base = folder(env, "test-org/tiny-gguf")
    commit = hub.repos["test-org/tiny-gguf"].commit
    assert run("pull", "test-org/tiny-gguf").stdout.strip().endswith("/tiny-Q4_K_M.gguf")  # llama.cpp's default
    assert run("pull", "test-org/tiny-gguf:q8_0").stdout.strip().endswith("/tiny-Q8_0.gguf")
    assert run("pull", "test-org/tiny-gguf:tiny-Q8_0.gguf").stdout.strip().endswith("/tiny-Q8_0.gguf")
    assert run("pull", "test-org/tiny-gguf:F16").stdout.strip().endswith("/tiny-F16-00001-of-00002.gguf")
    assert snapshot_files(base / "snapshots" / commit) == [
        "tiny-F16-00001-of-00002.gguf", "tiny-F16-00002-of-00002.gguf", "tiny-Q4_K_M.gguf", "tiny-Q8_0.gguf"]
    p = run("pull", "test-org/tiny-gguf:Q2_K", check=False)
    assert p.returncode != 0 and "Q2_K" in p.stderr and "tiny-Q4_K_M.gguf" in p.stderr
    # Offline, the selector is resolved in the cached snapshot.
    p = run("pull", "test-org/tiny-gguf:Q8_0", extra_env={"HF_HUB_OFFLINE": "1"})
    assert p.stdout.strip() == str(base / "snapshots" / commit / "tiny-Q8_0.gguf")


def test_subfolder_layout(hub, env, run, checkpoint):
    commit = hub.repos["test-org/pro"].commit
    snapshot = folder(env, "test-org/pro") / "snapshots" / commit
    assert run("pull", "test-org/pro").stdout.strip() == str(snapshot / "instruct")
    assert snapshot_files(snapshot) == sorted("instruct/" + n for n in checkpoint)
    assert run("pull", "test-org/pro:base").stdout.strip() == str(snapshot / "base")
    assert os.readlink(snapshot / "base" / "config.json").startswith("../../../blobs/")
    p = run("run", "-m", "test-org/pro:base", "--prompt-ids", "1", "-n", "1", "--print-ids",
            extra_env={"HF_HUB_OFFLINE": "1"})
    assert p.stdout.strip()


def test_include_globs(hub, env, run):
    commit = hub.repos["test-org/tiny"].commit
    run("pull", "test-org/tiny", "--include", "*.md", "--include", "config.json")
    assert snapshot_files(folder(env, "test-org/tiny") / "snapshots" / commit) == ["README.md", "config.json"]
    p = run("pull", "test-org/tiny", "--include", "*.bin", check=False)
    assert p.returncode != 0 and "--include" in p.stderr


def test_every_model_command_takes_a_repo_name(hub, env, run, request, tmp_path):
    model_dir = request.config.getoption("--model")
    run("pull", "test-org/tiny", "--quiet")
    offline = {"HF_HUB_OFFLINE": "1"}
    # The same results as from the checkpoint directory itself.
    for source, out in (("test-org/tiny", tmp_path / "a"), (model_dir, tmp_path / "b")):
        run("logits", "-m", source, "--ids", "1 2 3", "--out", str(out) + ".logits", extra_env=offline)
        run("convert", "-m", source, "-o", str(out) + ".f32", "--scheme", "f32", extra_env=offline)
    assert (tmp_path / "a.logits").read_bytes() == (tmp_path / "b.logits").read_bytes()
    ids = [run("run", "-m", str(tmp_path / name), "--prompt-ids", "1 2 3", "-n", "4", "--temp", "0", "--print-ids").stdout
           for name in ("a.f32", "b.f32")]
    assert ids[0] == ids[1] and ids[0].strip()
    chat = [run("chat", "-m", source, "-n", "4", "--temp", "0", extra_env=offline, input_text="Hello!\n").stdout
            for source in ("test-org/tiny", model_dir)]
    assert chat[0] == chat[1] and chat[0].strip()
    bench = run("bench", "-m", "test-org/tiny", "--prompt", "8", "--gen", "2", "--json", extra_env=offline).stdout
    assert '"model"' in bench


def test_serve_reports_the_repo_name_as_its_model(hub, env, run, mobilellm):
    run("pull", "test-org/tiny", "--quiet")
    proc = subprocess.Popen([mobilellm, "serve", "-m", "test-org/tiny", "--host", "127.0.0.1", "--port", "0"],
                            env=dict(env, HF_HUB_OFFLINE="1"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        port = None
        for line in proc.stderr:
            m = re.search(r"listening on http://[\d.]+:(\d+)", line)
            if m:
                port = int(m.group(1))
            if "ready" in line:
                break
        assert port, "the server did not start"
        with urllib.request.urlopen("http://127.0.0.1:%d/v1/models" % port, timeout=30) as r:
            models = json.load(r)
        assert [m["id"] for m in models["data"]] == ["test-org/tiny"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
