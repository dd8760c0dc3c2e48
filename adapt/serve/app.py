"""The CPU / no-vLLM engine: an OpenAI-compatible server on FastAPI + uvicorn.

Concurrent requests are grouped into one generate() call (dynamic batching); the model runs in
one worker thread so the event loop stays free to accept, authenticate and queue requests.
Bad input gets an OpenAI-style error object and never reaches the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from adapt.generation import Generation
from adapt.pipeline import Pipeline
from adapt.recipe import Recipe, ServeSpec


class QueueFull(Exception):
    pass


@dataclass
class _Job:
    prompt: Any                       # chat messages, or a raw prompt string for /v1/completions
    max_tokens: int
    temperature: float
    future: asyncio.Future = field(repr=False)


class Batcher:
    """Collects requests for up to `wait_ms` (or `max_batch` of them) and runs them as one batch."""

    def __init__(self, generate: Any, executor: ThreadPoolExecutor, max_batch: int, wait_ms: float,
                 max_queue: int) -> None:
        self.generate, self.executor = generate, executor
        self.max_batch, self.wait_s, self.max_queue = max_batch, wait_ms / 1000, max_queue
        self.queue: asyncio.Queue[_Job] | None = None
        self.batches: list[int] = []  # sizes, for tests and the load test

    def start(self) -> None:
        self.queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def submit(self, prompt: Any, max_tokens: int, temperature: float) -> Generation:
        if self.queue.qsize() >= self.max_queue:
            raise QueueFull
        job = _Job(prompt, max_tokens, temperature, asyncio.get_running_loop().create_future())
        await self.queue.put(job)
        return await job.future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        pending: list[_Job] = []
        while True:
            first = pending.pop(0) if pending else await self.queue.get()
            batch, deadline = [first], loop.time() + self.wait_s
            while len(batch) < self.max_batch:
                timeout = deadline - loop.time()
                try:
                    job = await asyncio.wait_for(self.queue.get(), timeout) if timeout > 0 else self.queue.get_nowait()
                except (asyncio.TimeoutError, asyncio.QueueEmpty):
                    break
                # one generate call shares max_tokens and temperature; others wait for the next batch
                same = (job.max_tokens, job.temperature) == (first.max_tokens, first.temperature)
                (batch if same else pending).append(job)
            self.batches.append(len(batch))
            try:
                outs = await loop.run_in_executor(self.executor, self.generate, [j.prompt for j in batch],
                                                  first.max_tokens, first.temperature)
                for j, o in zip(batch, outs):
                    if not j.future.done():
                        j.future.set_result(o)
            except Exception as e:  # a failed batch fails its requests, never the server
                for j in batch:
                    if not j.future.done():
                        j.future.set_exception(e)


def _error(status: int, message: str, kind: str = "invalid_request_error", headers: dict | None = None) -> Any:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}},
                        status_code=status, headers=headers)


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _messages(body: dict, limit: int) -> list[dict[str, str]]:
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise BadRequest("'messages' must be a non-empty list")
    out = []
    for m in msgs:
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            raise BadRequest("each message needs a role of system, user or assistant")
        content = m.get("content")
        if isinstance(content, list):  # OpenAI content parts: keep the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            raise BadRequest("message content must be a string")
        out.append({"role": m["role"], "content": content})
    if sum(len(m["content"]) for m in out) > limit:
        raise BadRequest(f"prompt longer than {limit} characters", 413)
    return out


def _sampling(body: dict, spec: ServeSpec) -> tuple[int, float]:
    mt = body.get("max_completion_tokens", body.get("max_tokens", 256))
    temp = body.get("temperature", 0.0)
    if mt is None:
        mt = 256
    if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
        raise BadRequest("'max_tokens' must be a positive integer")
    if not isinstance(temp, int | float) or isinstance(temp, bool) or not 0 <= temp <= 2:
        raise BadRequest("'temperature' must be a number between 0 and 2")
    return min(mt, spec.max_tokens_cap), float(temp)


def create_app(recipe: Recipe, pipeline: Pipeline | None = None, api_key: str | None = None) -> Any:
    spec = recipe.serve
    pipe = pipeline or Pipeline(recipe)
    gen = pipe.generator
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adapt-model")
    batcher = Batcher(gen.generate, executor, spec.max_batch_size, spec.batch_wait_ms, spec.max_queue)
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        yield

    app = FastAPI(title=f"adapt serve: {recipe.name}", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.batcher = batcher

    @app.middleware("http")
    async def _guard(request: Request, call_next: Any) -> Any:
        if request.url.path != "/health" and api_key:
            given = request.headers.get("authorization", "")
            token = given[7:] if given.lower().startswith("bearer ") else ""
            if not hmac.compare_digest(token.encode(), api_key.encode()):
                return _error(401, "invalid or missing API key", "authentication_error")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > spec.max_body_bytes:
            return _error(413, f"request body over {spec.max_body_bytes} bytes")
        return await call_next(request)

    async def _body(request: Request) -> dict:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > spec.max_body_bytes:
                raise BadRequest(f"request body over {spec.max_body_bytes} bytes", 413)
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BadRequest("request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object")
        return body

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest) -> Any:
        return _error(exc.status, str(exc))

    @app.exception_handler(QueueFull)
    async def _full(request: Request, exc: QueueFull) -> Any:
        return _error(503, "server busy: request queue is full", "server_error", {"Retry-After": "1"})

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "model": recipe.name}

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": recipe.name, "object": "model", "owned_by": "adapt",
                                            "created": int(time.time())}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await _body(request)
        msgs = _messages(body, spec.max_prompt_chars)
        max_tokens, temp = _sampling(body, spec)
        sources: list[dict] | None = None
        if pipe.retriever is not None:  # RAG recipe: ground the last user question in retrieved passages
            question = next((m["content"] for m in reversed(msgs) if m["role"] == "user"), "")
            hits, _ = await asyncio.get_running_loop().run_in_executor(None, pipe.retrieve, question)
            msgs = pipe.messages(question, hits)
            sources = [{k: h.get(k) for k in ("source", "chunk_id", "heading", "score")} for h in hits]
        rid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.get("stream"):
            if batcher.queue.qsize() >= spec.max_queue:  # refuse before the stream's headers go out
                raise QueueFull
            return StreamingResponse(_stream(rid, msgs, max_tokens, temp, sources,
                                             bool((body.get("stream_options") or {}).get("include_usage"))),
                                     media_type="text/event-stream")
        g = await batcher.submit(msgs, max_tokens, temp)
        out = {"id": rid, "object": "chat.completion", "created": int(time.time()), "model": recipe.name,
               "choices": [{"index": 0, "message": {"role": "assistant", "content": g.text},
                            "finish_reason": "length" if g.output_tokens >= max_tokens else "stop"}],
               "usage": _usage(g)}
        if sources is not None:
            out["sources"] = sources  # an extra field: OpenAI clients ignore it
        return JSONResponse(out)

    async def _stream(rid: str, msgs: list, max_tokens: int, temp: float, sources: list | None,
                      usage: bool) -> AsyncIterator[str]:
        """Tokens as they are generated (one request per generate call: streams skip the batcher)."""
        loop = asyncio.get_running_loop()
        q: asyncio.Queue = asyncio.Queue()

        def work() -> None:
            try:
                g = stream_generate(gen, msgs, max_tokens, temp, lambda piece: loop.call_soon_threadsafe(q.put_nowait, piece))
                loop.call_soon_threadsafe(q.put_nowait, g)
            except Exception as e:  # reported in-band, the server lives on
                loop.call_soon_threadsafe(q.put_nowait, e)

        loop.run_in_executor(executor, work)
        head = {"id": rid, "object": "chat.completion.chunk", "created": int(time.time()), "model": recipe.name}
        yield _sse({**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
        while True:
            item = await q.get()
            if isinstance(item, str):
                yield _sse({**head, "choices": [{"index": 0, "delta": {"content": item}, "finish_reason": None}]})
                continue
            if isinstance(item, Exception):
                yield _sse({"error": {"message": str(item), "type": "server_error"}})
                break
            final = {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            if sources is not None:
                final["sources"] = sources
            yield _sse(final)
            if usage:
                yield _sse({**head, "choices": [], "usage": _usage(item)})
            break
        yield "data: [DONE]\n\n"

    @app.post("/v1/completions")
    async def completions(request: Request) -> Any:
        body = await _body(request)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if not isinstance(prompt, str) or not prompt:
            raise BadRequest("'prompt' must be a non-empty string")
        if len(prompt) > spec.max_prompt_chars:
            raise BadRequest(f"prompt longer than {spec.max_prompt_chars} characters", 413)
        if body.get("stream"):
            raise BadRequest("streaming is supported on /v1/chat/completions")
        max_tokens, temp = _sampling(body, spec)
        g = await batcher.submit(prompt, max_tokens, temp)
        return {"id": f"cmpl-{uuid.uuid4().hex[:24]}", "object": "text_completion", "created": int(time.time()),
                "model": recipe.name, "choices": [{"index": 0, "text": g.text, "finish_reason": "stop"}],
                "usage": _usage(g)}

    return app


def _usage(g: Generation) -> dict[str, int]:
    return {"prompt_tokens": g.input_tokens, "completion_tokens": g.output_tokens,
            "total_tokens": g.input_tokens + g.output_tokens}


def _sse(obj: dict) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"


def stream_generate(gen: Any, messages: Any, max_tokens: int, temperature: float, emit: Any) -> Generation:
    """Run one generation, calling emit(text) for each decoded piece (transformers' TextIteratorStreamer)."""
    from transformers import TextIteratorStreamer

    if not hasattr(gen, "model"):  # not a local model: no token stream, send the whole answer
        g = gen.generate([messages], max_tokens, temperature)[0]
        emit(g.text)
        return g
    streamer = TextIteratorStreamer(gen.tok, skip_prompt=True, skip_special_tokens=True)
    result: dict[str, Generation] = {}
    t = threading.Thread(target=lambda: result.setdefault("g", gen.generate([messages], max_tokens, temperature,
                                                                             streamer=streamer)[0]))
    t.start()
    for piece in streamer:
        if piece:
            emit(piece)
    t.join()
    return result["g"]
