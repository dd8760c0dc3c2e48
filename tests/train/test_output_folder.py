"""`adapt finetune` and an output folder that already holds things: validate first, delete only adapt's own."""

import json
import shutil

import pytest
import yaml

from adapt.errors import UserError
from adapt.recipe import load_recipe
from adapt.train.finetune import finetune

from .conftest import write_recipe


def test_a_run_that_fails_validation_deletes_nothing(tiny_llama, tmp_path, cli, monkeypatch):
    # output_dir '.' in a folder where the user keeps their own checkpoints/
    monkeypatch.chdir(tmp_path)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "important.bin").write_bytes(b"precious")
    rp = tmp_path / "k.yaml"
    rp.write_text(yaml.safe_dump({"name": "k", "rung": "lora", "model": str(tiny_llama),
                                  "train": {"from_suite": {"suite": "missing.jsonl"}, "output_dir": "."}}))
    code, _, err = cli("finetune", rp)
    assert code == 2 and "suite not found" in err and "Traceback" not in err
    assert (tmp_path / "checkpoints" / "important.bin").read_bytes() == b"precious"


def test_previous_run_is_refused_and_overwrite_removes_only_what_adapt_wrote(tiny_llama, facts, tmp_path, cli):
    out = tmp_path / "run"
    stale = out / "checkpoints" / "checkpoint-7"
    stale.mkdir(parents=True)
    (stale / "optimizer.pt").write_bytes(b"old run")
    (out / "checkpoints" / "important.bin").write_bytes(b"mine")
    (out / "notes.txt").write_text("mine")
    rp = write_recipe(tmp_path / "t.yaml", str(tiny_llama), facts, out, max_steps=1)

    code, _, err = cli("finetune", rp)
    assert code == 2 and "--overwrite" in err and "--resume" in err and stale.is_dir()
    code, _, err = cli("finetune", rp, "--overwrite", "--resume")
    assert code == 2 and "not both" in err and stale.is_dir()
    # --overwrite with data that fails validation: nothing is deleted yet
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n")
    code, _, err = cli("finetune", write_recipe(tmp_path / "b.yaml", str(tiny_llama), bad, out, max_steps=1),
                       "--overwrite")
    assert code == 2 and "bad.jsonl:1" in err and stale.is_dir()

    code, _, err = cli("finetune", rp, "--overwrite")
    assert code == 0, err
    assert not stale.exists() and (out / "adapter" / "adapter_model.safetensors").is_file()
    assert (out / "checkpoints" / "important.bin").read_bytes() == b"mine" and (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "run.json").read_text())["metrics"]["steps"] == 1


def test_resume_skips_a_checkpoint_cut_short(tiny_llama, facts, tmp_path):
    ckpts = tmp_path / "run" / "checkpoints"
    r = load_recipe(write_recipe(tmp_path / "t.yaml", str(tiny_llama), facts, tmp_path / "run", max_steps=6,
                                 save_steps=2))
    finetune(r, max_steps=4, progress=False)
    assert (ckpts / "checkpoint-4" / "trainer_state.json").is_file()
    # a kill during the save of checkpoint-6: files half-written, trainer_state.json (written last) missing
    torn = ckpts / "checkpoint-6"
    shutil.copytree(ckpts / "checkpoint-4", torn)
    (torn / "trainer_state.json").unlink()
    for f in torn.glob("*.pt"):
        f.write_bytes(f.read_bytes()[:10])
    m = finetune(r, resume=True, progress=False)
    assert m["steps"] == 6 and (torn / "trainer_state.json").is_file()

    # no complete checkpoint at all: a clear error, not a traceback from deep in the Trainer
    for f in ckpts.glob("checkpoint-*/trainer_state.json"):
        f.unlink()
    with pytest.raises(UserError, match="no checkpoint to resume from.*cut short"):
        finetune(r, resume=True, progress=False)
