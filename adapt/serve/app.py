"""The CPU / no-vLLM engine: an OpenAI-compatible server on FastAPI + uvicorn.

Concurrent requests are grouped into one generate() call (dynamic batching); the model runs in
one worker thread so the event loop stays free to accept, authenticate and queue requests.

Robustness rules, each learnt from a failure:
- every request is validated completely (types, UTF-8, token count) BEFORE it is queued, so bad
  input gets an OpenAI-style 400 and never reaches the model;
- whatever the model thread raises, every waiting request is answered (futures resolved, streams
  ended in `finally`), and a failed batch is retried member by member so one bad request fails alone;
- a client that hangs up cancels its generation (a StoppingCriteria reads its flag);
- the queue cap counts every admitted request until the worker is done with it;
- /health answers 503 once the model thread or the batcher is gone.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hmac
import json
import queue
import threading
import time
import uuid
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from typing import Any, AsyncIterator, Callable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from adapt.backends import Generation, Generator
from adapt.errors import UserError
from adapt.pipeline import Pipeline, Prepared
from adapt.recipe import Recipe, ServeSpec

DISCONNECT_POLL_S = 0.1  # how often a waiting request checks whether its client hung up


class QueueFull(Exception):
    pass


class ClientGone(Exception):
    pass


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.param, self.code = status, param, code


class ModelThread(Executor):
    """The one thread that runs every model call, in order.

    Its own small executor (rather than a ThreadPoolExecutor) so that /health can ask whether the
    thread is alive. It catches everything a job raises, so a job can fail but never kill it."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="adapt-model", daemon=True)
        self.thread.start()

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        if not self.alive():  # a job queued now would never run, and its request would wait forever
            raise RuntimeError("the model thread is not running")
        f: Future = Future()
        self._jobs.put((f, fn, args, kwargs))
        return f

    def _loop(self) -> None:
        while True:
            f, fn, args, kwargs = self._jobs.get()
            if fn is None:  # shutdown
                return
            if not f.set_running_or_notify_cancel():
                continue
            try:
                f.set_result(fn(*args, **kwargs))
            except BaseException as e:  # noqa: BLE001 - handed to the waiting request, the thread lives on
                f.set_exception(e)

    def alive(self) -> bool:
        return self.thread.is_alive()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._jobs.put((None, None, (), {}))
        if wait:
            self.thread.join()


@dataclass
class _Job:
    prompt: Any                       # chat messages, or a raw prompt string for /v1/completions
    max_tokens: int
    temperature: float
    future: asyncio.Future = field(repr=False)
    # set (from the event loop) when the client hangs up; read by the model thread's StoppingCriteria
    cancelled: threading.Event = field(default_factory=threading.Event, repr=False)


class Batcher:
    """Collects requests for up to `wait_ms` (or `max_batch` of them) and runs them as one batch.

    `outstanding` counts every admitted request (queued, set aside for a later batch, generating,
    or streaming) until the model thread is done with it; `max_queue` caps that plain count."""

    def __init__(self, gen: Generator, executor: Executor, max_batch: int, wait_ms: float, max_queue: int) -> None:
        self.gen, self.executor = gen, executor
        self.max_batch, self.wait_s, self.max_queue = max_batch, wait_ms / 1000, max_queue
        self.queue: asyncio.Queue[_Job] | None = None
        self.task: asyncio.Task | None = None
        self.outstanding = 0
        self.batches: collections.deque[int] = collections.deque(maxlen=1024)  # recent sizes, for tests

    def start(self) -> None:
        self.queue = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._run())

    def alive(self) -> bool:
        return self.task is not None and not self.task.done()

    # admission: only the event loop thread touches `outstanding`, so no lock is needed
    def admit(self) -> None:
        if self.outstanding >= self.max_queue:
            raise QueueFull
        self.outstanding += 1

    def release(self) -> None:
        self.outstanding -= 1

    async def submit(self, prompt: Any, max_tokens: int, temperature: float,
                     request: Request | None = None) -> Generation:
        if not self.alive():  # nobody would ever answer: fail now instead of holding a slot forever
            raise BadRequest("the server's batching task has stopped; restart the server", status=503,
                             code="server_unavailable")
        self.admit()
        job = _Job(prompt, max_tokens, temperature, asyncio.get_running_loop().create_future())
        self.queue.put_nowait(job)
        while True:
            done, _ = await asyncio.wait({job.future}, timeout=DISCONNECT_POLL_S)
            if done:
                return job.future.result()
            if request is not None and await request.is_disconnected():
                job.cancelled.set()  # the batch drops it, or stops generating it
                job.future.cancel()
                raise ClientGone

    def _call(self, batch: list[_Job]) -> list[Generation]:
        """In the model thread: one generate() call that stops the rows whose clients are gone."""
        return self.gen.generate([j.prompt for j in batch], batch[0].max_tokens, batch[0].temperature,
                                 cancelled=lambda: [j.cancelled.is_set() for j in batch])

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        pending: list[_Job] = []
        while True:
            first = pending.pop(0) if pending else await self.queue.get()
            if first.cancelled.is_set():  # its client left while it waited
                self.release()
                continue
            batch, deadline = [first], loop.time() + self.wait_s
            while len(batch) < self.max_batch:
                timeout = deadline - loop.time()
                try:
                    job = await asyncio.wait_for(self.queue.get(), timeout) if timeout > 0 else self.queue.get_nowait()
                except (asyncio.TimeoutError, asyncio.QueueEmpty):
                    break
                if job.cancelled.is_set():
                    self.release()
                    continue
                # one generate call shares max_tokens and temperature; others wait for the next batch
                same = (job.max_tokens, job.temperature) == (first.max_tokens, first.temperature)
                (batch if same else pending).append(job)
            self.batches.append(len(batch))
            try:
                await self._answer(loop, batch)
            finally:
                for _ in batch:
                    self.release()

    async def _answer(self, loop: asyncio.AbstractEventLoop, batch: list[_Job]) -> None:
        try:
            outs = await loop.run_in_executor(self.executor, self._call, batch)
        except Exception as e:
            if len(batch) == 1:  # a failed request fails alone, never the server
                _settle(batch[0].future, exc=e)
                return
            # one bad member must not fail the others: retry them one at a time
            for j in batch:
                if not j.cancelled.is_set():
                    await self._answer(loop, [j])
            return
        for j, o in zip(batch, outs):
            _settle(j.future, result=o)  # a cancelled job's future is cancelled: its output is dropped


def _settle(future: asyncio.Future, result: Any = None, exc: BaseException | None = None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


def _error(status: int, message: str, kind: str = "invalid_request_error", headers: dict | None = None,
           param: str | None = None, code: str | None = None) -> Any:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}},
                        status_code=status, headers=headers)


def _text(value: Any, what: str, param: str) -> str:
    """A string the tokenizer can take. JSON may carry lone surrogates ("\\ud800") that are no
    Unicode text and make tokenizers raise, so anything not encodable as UTF-8 is refused here."""
    if not isinstance(value, str):
        raise BadRequest(f"{what} must be a string", param=param)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"{what} is not valid Unicode text (lone surrogate?)", param=param) from None
    return value


def _messages(body: dict, limit: int) -> list[dict[str, str]]:
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise BadRequest("'messages' must be a non-empty list", param="messages")
    out = []
    for i, m in enumerate(msgs):
        param = f"messages[{i}]"
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            raise BadRequest("each message needs a role of system, user or assistant", param=param)
        content = m.get("content")
        if isinstance(content, list):  # OpenAI content parts: text ones only
            texts = []
            for p in content:
                if not isinstance(p, dict) or p.get("type", "text") != "text":
                    raise BadRequest("only text content parts are supported", param=f"{param}.content")
                texts.append(_text(p.get("text"), "a text content part's 'text'", f"{param}.content"))
            content = "".join(texts)
        out.append({"role": m["role"], "content": _text(content, "message content", f"{param}.content")})
    if sum(len(m["content"]) for m in out) > limit:
        raise BadRequest(f"prompt longer than {limit} characters", 413, param="messages")
    return out


def _sampling(body: dict, spec: ServeSpec) -> tuple[int, float, list[str]]:
    mt = body.get("max_completion_tokens", body.get("max_tokens", 256))
    temp = body.get("temperature", 0.0)
    if mt is None:
        mt = 256
    if temp is None:
        temp = 0.0
    if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
        raise BadRequest("'max_tokens' must be a positive integer", param="max_tokens")
    if not isinstance(temp, int | float) or isinstance(temp, bool) or not 0 <= temp <= 2:
        raise BadRequest("'temperature' must be a number between 0 and 2", param="temperature")
    n = body.get("n", 1)
    if n is not None and (n != 1 or isinstance(n, bool)):
        raise BadRequest("only n=1 is supported", param="n")
    stop = body.get("stop")
    stops = [] if stop is None else [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or len(stops) > 4:
        raise BadRequest("'stop' must be a string or a list of up to 4 strings", param="stop")
    stops = [_text(s, "each 'stop' entry", "stop") for s in stops]
    return min(mt, spec.max_tokens_cap), float(temp), [s for s in stops if s]


def _cut(text: str, stops: list[str]) -> int | None:
    """Where the earliest stop string starts in `text`, or None."""
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(hits) if hits else None


def _finish(g: Generation, text: str, max_tokens: int, stops: list[str]) -> tuple[str, str]:
    """The answer cut at its first stop string, and OpenAI's finish_reason."""
    cut = _cut(text, stops)
    if cut is not None:
        return text[:cut], "stop"
    return text, "length" if g.output_tokens >= max_tokens else "stop"


class _StopText:
    """Cuts a streamed answer at its first stop string. A stop string may straddle two pieces, so
    the last len(longest stop) - 1 characters are held back until the next piece shows them safe."""

    def __init__(self, stops: list[str]) -> None:
        self.stops, self.buf, self.hit = stops, "", False
        self.keep = max((len(s) for s in stops), default=1) - 1

    def feed(self, piece: str) -> str:
        self.buf += piece
        cut = _cut(self.buf, self.stops)
        if cut is not None:
            out, self.buf, self.hit = self.buf[:cut], "", True
            return out
        split = len(self.buf) - self.keep
        out, self.buf = self.buf[:split], self.buf[split:]
        return out

    def flush(self) -> str:
        out, self.buf = self.buf, ""
        return out


LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _host_name(host: str) -> str | None:
    """The name part of a Host header ("[::1]:8000" -> "::1"); None when malformed."""
    if host.startswith("["):
        name, sep, rest = host[1:].partition("]")
        return name if sep and (not rest or (rest[0] == ":" and rest[1:].isdigit())) else None
    name, _, port = host.partition(":")
    return name if not port or port.isdigit() else None


def _local_only(request: Request) -> str | None:
    """Without an API key the server trusts whoever reaches it, so it must be reached only from this
    machine. A web page can still point a hostile DNS name at 127.0.0.1 (DNS rebinding) or post from
    a foreign origin: so the Host must be a loopback name and an Origin, if any, a loopback origin.
    Returns why the request is refused, or None."""
    name = _host_name(request.headers.get("host", ""))
    if name is None or name.lower() not in LOOPBACK_NAMES:
        return "without an API key this server answers only loopback Host names (127.0.0.1, localhost, [::1])"
    origin = request.headers.get("origin")
    if origin is not None:
        try:
            oname = urlsplit(origin).hostname
        except ValueError:
            oname = None
        if not oname or oname.lower() not in LOOPBACK_NAMES:
            return "cross-origin requests are refused without an API key"
    return None


class _Guard:
    """Refuses requests before they reach a route. A plain ASGI middleware, not @app.middleware("http"):
    Starlette's BaseHTTPMiddleware wraps `receive` so that request.is_disconnected() never sees a
    client hang up, and the server needs that to stop generating for it."""

    def __init__(self, app: Any, check: Callable[[Request], Any]) -> None:
        self.app, self.check = app, check

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            refused = self.check(Request(scope))
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _context_limit(gen: Generator, spec: ServeSpec) -> int | None:
    """The most tokens (prompt + answer) the model can attend to."""
    limits = [x for x in (spec.max_model_len, gen.context_length) if x]
    return min(limits) if limits else None


def create_app(recipe: Recipe, pipeline: Pipeline | None = None, api_key: str | None = None) -> Any:
    spec = recipe.serve
    pipe = pipeline or Pipeline(recipe)
    gen = pipe.generator
    if gen is None:
        raise UserError(f"recipe '{recipe.name}' (rung {recipe.rung}) answers without a model: nothing to serve")
    worker = ModelThread()
    batcher = Batcher(gen, worker, spec.max_batch_size, spec.batch_wait_ms, spec.max_queue)
    context = _context_limit(gen, spec)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        yield
        worker.shutdown(wait=False)

    app = FastAPI(title=f"adapt serve: {recipe.name}", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.batcher, app.state.worker = batcher, worker

    def _guard(request: Request) -> Any:
        """The response that refuses this request, or None to let it through."""
        if not api_key:
            refused = _local_only(request)
            if refused:
                return _error(403, refused, "permission_error")
        elif request.url.path != "/health":
            given = request.headers.get("authorization", "")
            token = given[7:] if given.lower().startswith("bearer ") else ""
            if not hmac.compare_digest(token.encode(), api_key.encode()):
                return _error(401, "invalid or missing API key", "authentication_error")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > spec.max_body_bytes:
            return _error(413, f"request body over {spec.max_body_bytes} bytes")
        return None

    app.add_middleware(_Guard, check=_guard)

    async def _body(request: Request) -> dict:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > spec.max_body_bytes:
                raise BadRequest(f"request body over {spec.max_body_bytes} bytes", 413)
        try:
            body = json.loads(raw)
        # ValueError: bad JSON, bad UTF-8, or an integer too long to convert; RecursionError: deep nesting
        except (ValueError, RecursionError):
            raise BadRequest("request body is not valid JSON (or nests too deep, or holds a too long number)") from None
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object")
        return body

    def _fit(prompt: Any, max_tokens: int, param: str) -> int:
        """Refuse a prompt over the model's context; shorten max_tokens to the room left."""
        try:
            n = gen.count_tokens(prompt)
        except Exception as e:  # the model's chat template refuses this conversation (roles, order)
            raise BadRequest(f"the model's chat template refuses these messages: {e}", param=param) from None
        if n is None or context is None:
            return max_tokens
        if n >= context:
            raise BadRequest(f"the prompt is {n} tokens; this model's context holds {context}", param=param,
                             code="context_length_exceeded")
        return min(max_tokens, context - n)

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest) -> Any:
        return _error(exc.status, str(exc), param=exc.param, code=exc.code)

    @app.exception_handler(QueueFull)
    async def _full(request: Request, exc: QueueFull) -> Any:
        return _error(503, "server busy: request queue is full", "server_error", {"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _failed(request: Request, exc: Exception) -> Any:  # e.g. the generation failed: JSON, not plain text
        return _error(500, f"generation failed: {type(exc).__name__}: {exc}", "server_error")

    @app.exception_handler(ClientGone)
    async def _gone(request: Request, exc: ClientGone) -> Any:
        return _error(499, "client closed the request", "server_error")  # nobody reads it

    @app.get("/health")
    async def health() -> Any:
        if not (worker.alive() and batcher.alive()):  # nothing would ever answer a request
            return _error(503, "the model worker is not running", "server_error")
        return {"status": "ok", "model": recipe.name}

    @app.get("/v1/models")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": recipe.name, "object": "model", "owned_by": "adapt",
                                            "created": int(time.time())}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await _body(request)
        msgs = _messages(body, spec.max_prompt_chars)
        max_tokens, temp, stops = _sampling(body, spec)
        stream = body.get("stream")
        if stream not in (None, True, False):
            raise BadRequest("'stream' must be a boolean", param="stream")
        # the pipeline ask and eval answer through: the recipe's system prompt unless the client sends
        # one, and for a rag recipe passages retrieved for the last user turn (off the event loop)
        try:
            prepared = await asyncio.get_running_loop().run_in_executor(None, pipe.prepare, msgs)
        except UserError as e:
            raise BadRequest(str(e), param="messages") from None
        msgs = prepared.messages
        sources = [h.brief() for h in prepared.sources] if pipe.retriever is not None else None
        max_tokens = _fit(msgs, max_tokens, "messages")
        rid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        # extra fields (OpenAI clients ignore them): the passages, and what the recipe's guard did
        extra = {"sources": sources} if sources is not None else {}
        if stream:
            options = body.get("stream_options") or {}
            if not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool):
                raise BadRequest("stream_options must be an object whose include_usage is true or false",
                                 param="stream_options")
            usage = bool(options.get("include_usage"))
            if prepared.gated:  # the abstain phrase, at once: no model call, no queue slot
                q: asyncio.Queue = asyncio.Queue()
                gated = pipe.gated(prepared)
                q.put_nowait(gated.text)
                q.put_nowait(gated.generation)
                return StreamingResponse(_events(rid, q, threading.Event(), max_tokens, stops,
                                                 {**extra, "guard": gated.guard}, usage, None),
                                         media_type="text/event-stream")
            held = pipe.guard is not None and pipe.guard.spec.support
            if pipe.guard is not None and not held:  # a gate-only guard: past the gate, the answer stands
                extra["guard"] = "passed"
            # everything that can fail is checked above: from admit() on, only _stream gives the slot back
            batcher.admit()  # refuse before the stream's headers go out
            return StreamingResponse(_stream(rid, msgs, max_tokens, temp, stops, extra, usage,
                                             prepared if held else None),
                                     media_type="text/event-stream")
        if prepared.gated:
            ans = pipe.gated(prepared)
            g, text, reason = ans.generation, ans.text, "stop"
        else:
            g = await batcher.submit(msgs, max_tokens, temp, request)
            text, reason = _finish(g, g.text, max_tokens, stops)
            ans = pipe.guarded(prepared, replace(g, text=text))
            text = ans.text
        if ans.guard is not None:
            extra["guard"] = ans.guard
        out = {"id": rid, "object": "chat.completion", "created": int(time.time()), "model": recipe.name,
               "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                            "finish_reason": reason}],
               "usage": _usage(g), **extra}
        return JSONResponse(out)

    def _stream(rid: str, msgs: list, max_tokens: int, temp: float, stops: list[str], extra: dict,
                usage: bool, held: Prepared | None) -> AsyncIterator[str]:
        """Tokens as they are generated (one request per generate call: streams skip the batcher).

        The generation starts now, while the request is admitted, and gives its queue slot back when
        the model thread is done with it, whether or not the response is ever read. `held`: the guard
        checks the whole answer before any of it goes out, so it is sent in one piece at the end."""
        loop = asyncio.get_running_loop()
        q: asyncio.Queue = asyncio.Queue()
        cancelled = threading.Event()

        def work() -> None:
            try:
                g = gen.stream(msgs, max_tokens, temp, lambda piece: loop.call_soon_threadsafe(q.put_nowait, piece),
                               cancelled.is_set)
                loop.call_soon_threadsafe(q.put_nowait, g)
            except Exception as e:  # reported in-band, the server lives on
                loop.call_soon_threadsafe(q.put_nowait, e)

        try:
            loop.run_in_executor(worker, work).add_done_callback(lambda _: batcher.release())
        except BaseException:
            batcher.release()
            raise
        return _events(rid, q, cancelled, max_tokens, stops, extra, usage, held)

    async def _events(rid: str, q: asyncio.Queue, cancelled: threading.Event, max_tokens: int, stops: list[str],
                      extra: dict, usage: bool, held: Prepared | None) -> AsyncIterator[str]:
        head = {"id": rid, "object": "chat.completion.chunk", "created": int(time.time()), "model": recipe.name}

        def piece(delta: dict, reason: str | None = None) -> dict:
            return {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}

        def chunk(delta: dict) -> str:
            return _sse(piece(delta))

        cut = _StopText(stops)
        kept: list[str] = []  # the answer so far, while the guard holds it back
        try:
            yield chunk({"role": "assistant", "content": ""})
            while True:
                item = await q.get()
                if isinstance(item, str):
                    if cut.hit:
                        continue  # past a stop string: generation is being stopped, send nothing more
                    text = cut.feed(item)
                    if cut.hit:
                        cancelled.set()
                    if text and held is not None:
                        kept.append(text)
                    elif text:
                        yield chunk({"content": text})
                    continue
                if isinstance(item, Exception):
                    yield _sse({"error": {"message": str(item), "type": "server_error", "param": None, "code": None}})
                    break
                rest = cut.flush()
                if held is not None:
                    ans = pipe.guarded(held, replace(item, text="".join(kept) + rest))
                    rest = ans.text
                    extra = {**extra, "guard": ans.guard}
                if rest:
                    yield chunk({"content": rest})
                reason = "stop" if cut.hit or item.output_tokens < max_tokens else "length"
                yield _sse({**piece({}, reason), **extra})
                if usage:
                    yield _sse({**head, "choices": [], "usage": _usage(item)})
                break
            yield "data: [DONE]\n\n"
        finally:
            cancelled.set()  # the client hung up (or the answer is done): stop generating for it

    @app.post("/v1/completions")
    async def completions(request: Request) -> Any:
        body = await _body(request)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if not isinstance(prompt, str) or not prompt:
            raise BadRequest("'prompt' must be a non-empty string", param="prompt")
        prompt = _text(prompt, "'prompt'", "prompt")
        if len(prompt) > spec.max_prompt_chars:
            raise BadRequest(f"prompt longer than {spec.max_prompt_chars} characters", 413, param="prompt")
        if body.get("stream"):
            raise BadRequest("streaming is supported on /v1/chat/completions", param="stream")
        max_tokens, temp, stops = _sampling(body, spec)
        max_tokens = _fit(prompt, max_tokens, "prompt")
        g = await batcher.submit(prompt, max_tokens, temp, request)
        text, reason = _finish(g, g.text, max_tokens, stops)
        return {"id": f"cmpl-{uuid.uuid4().hex[:24]}", "object": "text_completion", "created": int(time.time()),
                "model": recipe.name, "choices": [{"index": 0, "text": text, "finish_reason": reason}],
                "usage": _usage(g)}

    return app


def _usage(g: Generation) -> dict[str, int]:
    return {"prompt_tokens": g.input_tokens, "completion_tokens": g.output_tokens,
            "total_tokens": g.input_tokens + g.output_tokens}


def _sse(obj: dict) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"
