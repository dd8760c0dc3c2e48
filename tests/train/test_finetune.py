import json
import os
import subprocess
import sys
import time

import pytest
import torch

from adapt.errors import UserError
from adapt.recipe import load_recipe
from adapt.train.finetune import finetune

from .conftest import write_recipe


def _logits(model, tok, text="Who guards the Crimson Gate?"):
    ids = tok(text, return_tensors="pt")
    with torch.no_grad():
        return model(**ids).logits


def test_loss_goes_down_and_adapter_changes_outputs(tiny_llama, facts, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    r = load_recipe(write_recipe(tmp_path / "t.yaml", str(tiny_llama), facts, tmp_path / "run", max_steps=30))
    m = finetune(r, progress=False)
    assert m["steps"] == 30 and m["final_loss"] < 0.5 * m["first_loss"]
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["resolved"]["bf16"] is False and run["resolved"]["gradient_checkpointing"] is False
    assert run["resolved"]["loss_type"] == "chunked_nll"  # the LM head runs on answer tokens only
    assert len(run["data"]["fingerprint"]) == 64 and run["data"]["examples"] == 3 and "peft" in run["versions"]
    assert run["recipe"]["train"]["max_steps"] == 30
    base = AutoModelForCausalLM.from_pretrained(tiny_llama)
    tok = AutoTokenizer.from_pretrained(tiny_llama)
    before = _logits(base, tok)
    tuned = PeftModel.from_pretrained(base, str(tmp_path / "run" / "adapter"))
    assert not torch.allclose(before, _logits(tuned, tok), atol=1e-3)


def test_same_seed_same_adapter_and_an_adapted_head_falls_back_to_full_logits(tiny_llama, facts, tmp_path):
    from safetensors.torch import load_file

    weights = []
    for name in ("a", "b"):
        torch.rand(7)  # whatever ran before must not change the run
        rp = write_recipe(tmp_path / f"{name}.yaml", str(tiny_llama), facts, tmp_path / name, max_steps=2,
                          target_modules=["q_proj", "v_proj", "lm_head"])
        finetune(load_recipe(rp), progress=False)
        weights.append(load_file(tmp_path / name / "adapter" / "adapter_model.safetensors"))
    a, b = weights
    assert any("lm_head" in k for k in a) and all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((tmp_path / "a" / "run.json").read_text())["resolved"]["loss_type"] == "nll"


def test_merged_export_matches_base_plus_adapter(tiny_llama, facts, tmp_path, cli):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    r = load_recipe(write_recipe(tmp_path / "t.yaml", str(tiny_llama), facts, tmp_path / "run", max_steps=5))
    finetune(r, progress=False)
    code, out, err = cli("export", tmp_path / "run", "--merge", tmp_path / "merged")
    assert code == 0, err
    assert (tmp_path / "merged" / "model.safetensors").is_file()
    tok = AutoTokenizer.from_pretrained(tiny_llama)
    ref = _logits(PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_llama),
                                            str(tmp_path / "run" / "adapter")), tok)
    merged = _logits(AutoModelForCausalLM.from_pretrained(tmp_path / "merged"), tok)
    assert torch.allclose(ref, merged, atol=1e-4)
    assert cli("export", tmp_path / "run", "--merge", tmp_path / "merged")[0] == 2  # never overwrites


def test_qlora_path_on_cpu(tiny_llama, facts, tmp_path):
    r = load_recipe(write_recipe(tmp_path / "q.yaml", str(tiny_llama), facts, tmp_path / "run", rung="qlora",
                                 max_steps=3))
    m = finetune(r, progress=False)
    assert m["steps"] == 3
    cfg = json.loads((tmp_path / "run" / "adapter" / "adapter_config.json").read_text())
    assert cfg["peft_type"] == "LORA" and cfg["r"] == 16


def test_bad_rows_exit_2_with_line(tiny_llama, tmp_path, cli):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"prompt": "a", "completion": "b"}\n\n{"messages": [{"role": "user", "content": "x"}]}\n')
    rp = write_recipe(tmp_path / "b.yaml", str(tiny_llama), data, tmp_path / "run", max_steps=1)
    code, _, err = cli("finetune", rp)
    assert code == 2 and "bad.jsonl:3" in err and "assistant" in err and "Traceback" not in err
    data.write_text('{"prompt": "a", "completion": "b"}\n{oops\n')
    code, _, err = cli("finetune", rp)
    assert code == 2 and "bad.jsonl:2" in err and "not valid JSON" in err


_SLOW_RUN = """
import sys, time, transformers
orig = transformers.Trainer.training_step
def slow(self, *a, **k):
    time.sleep(0.15)
    return orig(self, *a, **k)
transformers.Trainer.training_step = slow
from adapt.cli import main
sys.argv = ["adapt", "finetune", *sys.argv[1:]]
main()
"""


def test_resume_after_kill_continues_with_the_same_data_order(tiny_llama, tmp_path):
    from safetensors.torch import load_file

    # 12 rows of mixed lengths in batches of 2, grouped by length: the kill lands in the second epoch,
    # whose order a resumed run must draw again exactly
    facts = tmp_path / "rows.jsonl"
    facts.write_text("".join(json.dumps({"prompt": f"Question {i}: " + "why " * (i % 5),
                                         "completion": f"Answer {i}." + " so" * (i % 4)}) + "\n" for i in range(12)))
    rp = write_recipe(tmp_path / "r.yaml", str(tiny_llama), facts, tmp_path / "killed", max_steps=20,
                      save_steps=4, dropout=0.0, batch_size=2)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_RUN, str(rp)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = tmp_path / "killed" / "checkpoints" / "checkpoint-8"
    deadline = time.time() + 120
    while not (ckpt / "trainer_state.json").is_file():
        assert proc.poll() is None and time.time() < deadline, "finished or stalled before it could be killed"
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert not (tmp_path / "killed" / "adapter").exists()  # no half-written final adapter
    m = finetune(load_recipe(rp), resume=True, progress=False)
    assert m["steps"] == 20
    # an uninterrupted run with the same seed ends with the same weights
    rp2 = write_recipe(tmp_path / "u.yaml", str(tiny_llama), facts, tmp_path / "straight", max_steps=20,
                       save_steps=4, dropout=0.0, batch_size=2)
    finetune(load_recipe(rp2), progress=False)
    a = load_file(tmp_path / "killed" / "adapter" / "adapter_model.safetensors")
    b = load_file(tmp_path / "straight" / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


def test_resume_without_checkpoint_is_a_user_error(tiny_llama, facts, tmp_path):
    r = load_recipe(write_recipe(tmp_path / "t.yaml", str(tiny_llama), facts, tmp_path / "run", max_steps=2))
    with pytest.raises(UserError, match="no checkpoint"):
        finetune(r, resume=True, progress=False)


def test_num_processes_trains_data_parallel_on_cpu(tiny_llama, facts, tmp_path, cli):
    """`--num-processes 2` without a GPU: two processes (accelerate's own --cpu launch would start one
    without MPI, which this caught), and run.json records the world size the run trained with."""
    rp = write_recipe(tmp_path / "d.yaml", str(tiny_llama), facts, tmp_path / "ddp", max_steps=3, batch_size=1)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    res = subprocess.run([sys.executable, "-m", "adapt.cli", "finetune", str(rp), "--num-processes", "2"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    run = json.loads((tmp_path / "ddp" / "run.json").read_text())
    assert run["metrics"]["steps"] == 3
    assert run["resolved"]["world_size"] == 2, run["resolved"]
    assert (tmp_path / "ddp" / "adapter" / "adapter_model.safetensors").is_file()


def test_mlflow_tracking_logs_the_training_run(tiny_llama, facts, tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    r = load_recipe(write_recipe(tmp_path / "t.yaml", str(tiny_llama), facts, tmp_path / "run", max_steps=2))
    finetune(r, progress=False, track="mlflow")
    runs = mlflow.search_runs(experiment_names=["adapt"])
    assert len(runs) == 1 and "metrics.loss" in runs.columns
