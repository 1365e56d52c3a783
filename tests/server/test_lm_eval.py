"""lm-eval's `local-completions` model runs a multiple-choice task defined in
this repository (lm_eval/) end to end against `mobilellm serve`, with the
server's own tokenizer endpoints (no download). Its log-likelihoods must equal
the ones computed directly from `mobilellm logits` for the same tokens, and
its accuracy must equal the accuracy those direct numbers give."""
import glob
import json
import os
import pathlib
import subprocess
import sys
import urllib.request

import numpy as np

TASK_DIR = pathlib.Path(__file__).parent / "lm_eval"


def tokenize(server, text):
    req = urllib.request.Request(server.url + "/tokenize",
                                 data=json.dumps({"prompt": text, "add_special_tokens": False}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())["tokens"]


def encode_pair(server, context, continuation):
    """lm-eval's TemplateLM._encode_pair for a causal model."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tokenize(server, context + continuation)
    context_enc = tokenize(server, context)
    return context_enc, whole[len(context_enc):]


def direct_loglikelihood(mobilellm, model_dir, tmp_path, context_enc, continuation_enc):
    ids = context_enc + continuation_enc
    out = tmp_path / "logits.bin"
    subprocess.run([mobilellm, "logits", "-m", model_dir, "--ids", " ".join(map(str, ids)), "--out", str(out), "--force", "-t", "1"],
                   check=True, capture_output=True)
    logits = np.fromfile(out, dtype=np.float32).reshape(len(ids), -1).astype(np.float64)
    logp = logits - logits.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    total, greedy = 0.0, True
    for i in range(len(context_enc), len(ids)):
        total += logp[i - 1, ids[i]]
        greedy &= int(np.argmax(logits[i - 1])) == ids[i]
    return total, greedy


def test_lm_eval_local_completions(server, mobilellm, model_dir, tmp_path):
    out_dir = tmp_path / "lm_eval_out"
    env = dict(os.environ, HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"),
               TOKENIZERS_PARALLELISM="false")
    cmd = [os.path.join(os.path.dirname(sys.executable), "lm_eval"), "run", "--model", "local-completions",
           "--model_args", f"model=tiny,base_url={server.url}/v1/completions,tokenizer_backend=remote,"
                           "tokenized_requests=True,max_retries=1",
           "--tasks", "mobilellm_tiny_mc", "--include_path", str(TASK_DIR),
           "--output_path", str(out_dir), "--log_samples"]
    run = subprocess.run(cmd, cwd=TASK_DIR, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    results = json.loads(pathlib.Path(glob.glob(str(out_dir / "*" / "results_*.json"))[0]).read_text())
    samples = [json.loads(line) for line in
               pathlib.Path(glob.glob(str(out_dir / "*" / "samples_mobilellm_tiny_mc_*.jsonl"))[0]).read_text().splitlines()]
    assert len(samples) == 8

    correct = 0
    for sample in samples:
        direct = []
        for i, resp in enumerate(sample["resps"]):
            args = sample["arguments"][f"gen_args_{i}"]
            context_enc, continuation_enc = encode_pair(server, args["arg_0"], args["arg_1"])
            logprob, greedy = direct_loglikelihood(mobilellm, model_dir, tmp_path, context_enc, continuation_enc)
            served_logprob, served_greedy = float(resp[0][0]), resp[0][1] == "True"
            assert abs(served_logprob - logprob) < 1e-3 * max(1.0, abs(logprob)), (sample["doc_id"], i, served_logprob, logprob)
            assert served_greedy == greedy
            direct.append(logprob)
        correct += int(np.argmax(direct)) == int(sample["target"])
    assert results["results"]["mobilellm_tiny_mc"]["acc,none"] == correct / len(samples)
