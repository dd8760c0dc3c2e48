import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from adapt.pipeline import Pipeline
from adapt.recipe import parse_recipe

KEY = "sk-test-123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(recipe, pipeline=None, api_key=KEY):
    import uvicorn

    from adapt.serve.app import create_app

    app = create_app(recipe, pipeline or Pipeline(recipe), api_key)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(base + "/health").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    return server, t, base, app


@pytest.fixture(scope="module")
def tiny_server(tiny_llama):
    recipe = parse_recipe({"name": "tiny", "rung": "prompt", "model": str(tiny_llama),
                           "serve": {"max_tokens_cap": 16, "max_body_bytes": 4096, "max_prompt_chars": 2000,
                                     "max_batch_size": 8, "batch_wait_ms": 20}})
    server, t, base, app = start_server(recipe)
    yield base, app
    server.should_exit = True
    t.join(5)


def _client(base):
    from openai import OpenAI

    return OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0)


def test_chat_models_and_completions_with_openai_client(tiny_server):
    base, _ = tiny_server
    c = _client(base)
    assert [m.id for m in c.models.list().data] == ["tiny"]
    r = c.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}], max_tokens=5)
    assert r.choices[0].message.role == "assistant" and r.usage.completion_tokens <= 5 and r.usage.prompt_tokens > 0
    comp = c.completions.create(model="tiny", prompt="The capital of", max_tokens=4)
    assert comp.usage.completion_tokens <= 4 and isinstance(comp.choices[0].text, str)


def test_streaming_gives_the_same_text_as_a_plain_answer(tiny_server):
    # (the tiny model writes noise; this question gets noise with spaces, where the streamer cuts pieces)
    base, _ = tiny_server
    c = _client(base)
    msgs = [{"role": "user", "content": "Where is Paris?"}]
    plain = c.chat.completions.create(model="tiny", messages=msgs, max_tokens=24).choices[0].message.content
    pieces, usage = [], None
    for chunk in c.chat.completions.create(model="tiny", messages=msgs, max_tokens=24, stream=True,
                                           stream_options={"include_usage": True}):
        if chunk.usage:
            usage = chunk.usage
        for ch in chunk.choices:
            pieces.append(ch.delta.content or "")
    assert "".join(pieces).strip() == plain and len([p for p in pieces if p]) >= 2
    assert usage is not None and usage.completion_tokens <= 24


def test_auth(tiny_server):
    base, _ = tiny_server
    body = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
    assert httpx.post(base + "/v1/chat/completions", json=body).status_code == 401
    r = httpx.post(base + "/v1/chat/completions", json=body, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert httpx.get(base + "/v1/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert httpx.get(base + "/health").status_code == 200  # health checks need no key


def test_limits_and_malformed_input(tiny_server):
    base, _ = tiny_server
    h = {"Authorization": f"Bearer {KEY}"}
    url = base + "/v1/chat/completions"
    r = httpx.post(url, content=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    for bad in ({"messages": "hi"}, {"messages": [{"role": "wizard", "content": "x"}]},
                {"messages": [{"role": "user", "content": "x"}], "max_tokens": -1},
                {"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}, [1, 2]):
        r = httpx.post(url, json=bad, headers=h)
        assert r.status_code == 400 and "message" in r.json()["error"], bad
    assert httpx.post(url, content=b"x" * 5000, headers=h).status_code == 413
    long = {"messages": [{"role": "user", "content": "y" * 2500}]}
    assert httpx.post(url, json=long, headers=h).status_code == 413
    capped = httpx.post(url, json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 10_000}, headers=h)
    assert capped.status_code == 200 and capped.json()["usage"]["completion_tokens"] <= 16
    assert httpx.get(base + "/health").json()["status"] == "ok"  # still alive


def test_concurrent_requests_are_batched(tiny_server):
    base, app = tiny_server
    c = _client(base)
    before = len(app.state.batcher.batches)

    def ask(i):
        return c.chat.completions.create(model="tiny", messages=[{"role": "user", "content": f"q{i}"}], max_tokens=6)

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(ask, range(16)))
    assert len(results) == 16 and all(r.choices[0].message.content is not None for r in results)
    sizes = list(app.state.batcher.batches)[before:]
    assert sum(sizes) == 16 and max(sizes) > 1


def test_full_queue_answers_503(tiny_llama):
    recipe = parse_recipe({"name": "tiny", "rung": "prompt", "model": str(tiny_llama),
                           "serve": {"max_queue": 1, "max_batch_size": 1, "batch_wait_ms": 0}})
    pipe = Pipeline(recipe)
    slow = pipe.generator.generate
    pipe.generator.generate = lambda *a, **k: time.sleep(0.3) or slow(*a, **k)
    server, t, base, _ = start_server(recipe, pipe)
    try:
        body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda _: httpx.post(base + "/v1/chat/completions", json=body, timeout=30,
                                                       headers={"Authorization": f"Bearer {KEY}"}).status_code, range(8)))
        assert 200 in codes and 503 in codes and set(codes) <= {200, 503}
    finally:
        server.should_exit = True
        t.join(5)


def tiny_rag_recipe(tiny_llama: Path, tmp_path: Path):
    """A rag recipe on the tiny model over two one-line documents, indexed in tmp_path."""
    from adapt.rag.index import build_index

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "leave.md").write_text("# Leave\n\nEmployees get 27 days of paid vacation.\n")
    (docs / "pay.md").write_text("# Pay\n\nSalaries are paid on the 25th.\n")
    build_index(docs, tmp_path / "idx", progress=False)
    recipe = parse_recipe({"name": "tiny-rag", "rung": "rag", "model": str(tiny_llama),
                           "rag": {"index": str(tmp_path / "idx"), "k": 1}})
    return recipe


def test_rag_recipe_returns_sources(tiny_llama, tmp_path):
    recipe = tiny_rag_recipe(tiny_llama, tmp_path)
    server, t, base, _ = start_server(recipe, api_key=None)
    try:
        r = httpx.post(base + "/v1/chat/completions", json={
            "messages": [{"role": "user", "content": "How many vacation days?"}], "max_tokens": 4}).json()
        assert r["sources"][0]["source"] == "leave.md" and "content" in r["choices"][0]["message"]
        assert set(r["sources"][0]) == {"source", "chunk_id", "heading", "location", "score"}
    finally:
        server.should_exit = True
        t.join(5)


def test_cli_refuses_public_bind_without_key(cli, monkeypatch):
    monkeypatch.delenv("ADAPT_API_KEY", raising=False)
    code, _, err = cli("serve", "prompt-local", "--host", "0.0.0.0")
    assert code == 2 and "API key" in err


def test_vllm_command_line(tmp_path):
    from adapt.serve.vllm import vllm_command

    adapter = tmp_path / "runs" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    r = parse_recipe({"name": "llama-lora", "rung": "lora", "model": "meta-llama/Llama-3.1-8B-Instruct",
                      "train": {"data": "x.jsonl", "output_dir": str(tmp_path / "runs"), "r": 32},
                      "serve": {"tensor_parallel_size": 2, "max_model_len": 8192, "gpu_memory_utilization": 0.85}})
    cmd = vllm_command(r, "127.0.0.1", 8001, "k")
    assert cmd[1:3] == ["serve", "meta-llama/Llama-3.1-8B-Instruct"]
    joined = " ".join(cmd)
    for part in ("--tensor-parallel-size 2", "--max-model-len 8192", "--gpu-memory-utilization 0.85",
                 "--enable-lora", f"--lora-modules llama-lora={adapter}", "--max-lora-rank 32",
                 "--port 8001"):
        assert part in joined
    merged = vllm_command(r, "127.0.0.1", 8001, None, merged="/models/merged")
    assert merged[2] == "/models/merged" and "--enable-lora" not in merged and "--served-model-name" in merged


def test_eval_measures_the_served_model_over_http(tiny_server, tmp_path, monkeypatch):
    from adapt.data.suite import Item
    from adapt.eval.harness import evaluate

    base, _ = tiny_server
    monkeypatch.setenv("SERVED_KEY", KEY)
    served = parse_recipe({"name": "served", "rung": "prompt", "generation": {"max_new_tokens": 4},
                           "model": {"base_url": base + "/v1", "model": "tiny", "api_key_env": "SERVED_KEY"},
                           "cost": {"usd_per_1m_input": 1.0, "usd_per_1m_output": 2.0}})
    items = [Item("a", "hi", ["hello"]), Item("b", "who?", [])]
    s = evaluate([served], items, tmp_path / "run", progress=False)
    row = s["recipes"][0]
    assert row["n"] == 2 and row["latency_ms"]["p50"] > 0 and row["cost"]["usd_per_1k_queries"] > 0
