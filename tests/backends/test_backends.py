import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adapt.errors import UserError
from adapt.backends import chat
from adapt.backends.local import LocalGenerator
from adapt.backends.openai import OpenAIGenerator
from adapt.models import load_causal_lm
from adapt.recipe import ModelSpec


def test_batched_left_padding_matches_one_at_a_time(tiny_llama):
    gen = LocalGenerator(*load_causal_lm(str(tiny_llama), dev="cpu"))
    qs = [chat("hi", None), chat("What is the capital of France? Tell me at length please.", "Be brief."),
          chat("Zorblat", None)]
    batched = gen.generate(qs, max_new_tokens=12)
    single = [gen.generate([q], max_new_tokens=12)[0] for q in qs]
    assert [b.text for b in batched] == [s.text for s in single]
    assert [b.input_tokens for b in batched] == [s.input_tokens for s in single]
    assert batched[1].input_tokens > batched[0].input_tokens
    for g in batched:
        assert 1 <= g.output_tokens <= 12 and 0 < g.ttft_s <= g.latency_s


class _FakeOpenAI(BaseHTTPRequestHandler):
    calls: list[dict] = []
    fail_first = 1
    send_usage = True
    body = None  # a broken stream to send instead of the answer
    cut = False  # send `body` as one chunk of a chunked response, then hang up mid-message

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).calls.append({"auth": self.headers.get("Authorization"), **body})
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(429)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        q = body["messages"][-1]["content"]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if type(self).cut:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if type(self).body is not None:
            body = type(self).body
            self.wfile.write(b"%x\r\n%s\r\n" % (len(body), body) if type(self).cut else body)
            return
        for piece in ["echo: ", q]:
            self.wfile.write(f"data: {json.dumps({'choices': [{'delta': {'content': piece}}]})}\n\n".encode())
        if type(self).send_usage:
            usage = {"prompt_tokens": 7, "completion_tokens": 3}
            self.wfile.write(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def fake_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    _FakeOpenAI.calls, _FakeOpenAI.fail_first, _FakeOpenAI.send_usage, _FakeOpenAI.body = [], 1, True, None
    _FakeOpenAI.cut = False
    yield f"http://127.0.0.1:{srv.server_port}/v1"
    srv.shutdown()


def test_openai_backend_streams_retries_and_authenticates(fake_server, monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-test")
    spec = ModelSpec(base_url=fake_server, model="m1", api_key_env="FAKE_KEY")
    gen = OpenAIGenerator.from_spec(spec)
    out = gen.generate([chat("one", None), chat("two", None)], max_new_tokens=5)
    assert [o.text for o in out] == ["echo: one", "echo: two"]
    assert out[0].input_tokens == 7 and out[0].output_tokens == 3 and out[0].ttft_s <= out[0].latency_s
    assert len(_FakeOpenAI.calls) == 3  # one 429, retried
    assert all(c["auth"] == "Bearer sk-test" and c["model"] == "m1" and c["max_tokens"] == 5
               for c in _FakeOpenAI.calls)


def test_missing_api_usage_is_a_flagged_estimate_not_zero(fake_server, monkeypatch):
    import adapt.backends.openai

    monkeypatch.setattr(adapt.backends.openai, "_ESTIMATOR", [None])  # 4 characters a token, no model needed
    _FakeOpenAI.send_usage, _FakeOpenAI.fail_first = False, 0
    out = OpenAIGenerator(fake_server, "m").generate([chat("What is the capital of France?", "Be brief.")], 5)[0]
    assert out.usage_estimated and out.text == "echo: What is the capital of France?"
    assert out.input_tokens == -(-len("Be brief.\nWhat is the capital of France?") // 4)
    assert out.output_tokens == -(-len(out.text) // 4)


def test_openai_backend_missing_key_env(monkeypatch):
    monkeypatch.delenv("NOPE_KEY", raising=False)
    with pytest.raises(UserError, match="NOPE_KEY"):
        OpenAIGenerator.from_spec(ModelSpec(base_url="http://127.0.0.1:9/v1", model="m", api_key_env="NOPE_KEY"))


def test_openai_backend_unreachable_is_reported():
    gen = OpenAIGenerator("http://127.0.0.1:9/v1", "m", max_retries=1, timeout_s=1)
    with pytest.raises(UserError, match="cannot reach"):
        gen.generate([chat("x", None)], 4)


@pytest.mark.parametrize("body, says", [
    (b'data: {"error": {"message": "model overloaded"}}\n\n', "model overloaded"),
    (b"data: <html>gateway</html>\n\n", "not JSON"),
    (b"data: [1, 2]\n\n", "not a JSON object"),
    (b"<html>not a stream</html>", "no stream events"),
])
def test_a_broken_stream_is_a_clear_error_not_an_empty_answer(fake_server, body, says):
    _FakeOpenAI.fail_first, _FakeOpenAI.body = 0, body
    with pytest.raises(UserError, match=says):
        OpenAIGenerator(fake_server, "m", max_retries=0).generate([chat("x", None)], 4)


def test_a_stream_cut_after_text_was_shown_is_not_sent_again(fake_server):
    """A retry would stream the answer a second time to whoever is reading it."""
    _FakeOpenAI.fail_first, _FakeOpenAI.cut = 0, True
    _FakeOpenAI.body = b'data: {"choices": [{"delta": {"content": "half an ans"}}]}\n\n'  # then the server hangs up
    shown = []
    gen = OpenAIGenerator(fake_server, "m", max_retries=3)
    with pytest.raises(UserError, match="broke after part of the answer"):
        gen.stream(chat("x", None), 4, 0.0, shown.append)
    assert shown == ["half an ans"] and len(_FakeOpenAI.calls) == 1
