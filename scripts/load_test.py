"""Load test of `adapt serve` (transformers engine) on loopback: a bounded number of concurrent
clients for a bounded time, once with dynamic batching and once one request at a time, same
server code, same run.

    python scripts/load_test.py [--recipe prompt-local] [--clients 16] [--seconds 30] [--batch 8]
    python scripts/load_test.py --chaos [--clients 4] [--seconds 20]

Last line: {"batched": {...}, "single": {...}, "speedup", "errors"}.

--chaos: normal clients alone (p95 before), then normal clients beside chaos clients that send
malformed requests (lone surrogates, bad JSON, wrong types, deep nesting, huge integers, n=3),
drop long streams after the first chunk, and flood the queue with mixed max_tokens; then, with
the chaos stopped, whether the server still answers. Last line: {"normal_errors_during_chaos" (target
0), "p95_ms_before", "p95_ms_during", "answers_after", "health_after", "chaos": {kind: status counts}}.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
QUESTIONS = ["What is the capital of France?", "Name a primary colour.", "What is 2 + 2?", "Who wrote Hamlet?",
             "What is the boiling point of water?", "Name a planet.", "What language is spoken in Brazil?",
             "What is the largest ocean?"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


KEY = "load-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def start_server(recipe: str, batch: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "ADAPT_API_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "adapt.cli", "serve", recipe, "--port", str(port),
                             "--max-batch-size", str(batch)], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 300
    while True:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise SystemExit("server did not start")
        time.sleep(0.5)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:  # a server that ignores SIGTERM is itself a finding; do not hang the test
        proc.kill()
        proc.wait(10)


def run(recipe: str, batch: int, clients: int, seconds: float, max_requests: int, max_tokens: int) -> dict:
    proc, base = start_server(recipe, batch)
    try:
        lat: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        stop_at = time.time() + seconds
        sent = [0]

        def client(i: int) -> None:
            with httpx.Client(base_url=base, timeout=120, headers={"Authorization": "Bearer load-test-key"}) as c:
                while time.time() < stop_at:
                    with lock:
                        if sent[0] >= max_requests:
                            return
                        sent[0] += 1
                    q = QUESTIONS[(i + sent[0]) % len(QUESTIONS)]
                    t0 = time.perf_counter()
                    try:
                        r = c.post("/v1/chat/completions", json={"model": recipe, "max_tokens": max_tokens,
                                                                 "messages": [{"role": "user", "content": q}]})
                        ok = r.status_code == 200 and r.json()["choices"][0]["message"]["content"] is not None
                    except httpx.HTTPError as e:
                        ok, r = False, e
                    with lock:
                        (lat.append(time.perf_counter() - t0) if ok else errors.append(str(getattr(r, "status_code", r))))

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        stop_server(proc)
    return {"requests": len(lat), "errors": len(errors), "rps": round(len(lat) / wall, 3),
            "p50_ms": round(float(np.percentile(lat, 50)) * 1000, 1) if lat else None,
            "p95_ms": round(float(np.percentile(lat, 95)) * 1000, 1) if lat else None, "batch": batch}


def normal_traffic(base: str, recipe: str, clients: int, seconds: float, max_tokens: int) -> tuple[list[float], list[str]]:
    """Well-behaved clients, one request after another, for `seconds`: latencies and errors."""
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.time() + seconds

    def client(i: int) -> None:
        with httpx.Client(base_url=base, timeout=120, headers=AUTH) as c:
            k = 0
            while time.time() < stop_at:
                k += 1
                t0 = time.perf_counter()
                try:
                    r = c.post("/v1/chat/completions", json={
                        "model": recipe, "max_tokens": max_tokens,
                        "messages": [{"role": "user", "content": QUESTIONS[(i + k) % len(QUESTIONS)]}]})
                    ok = r.status_code == 200 and isinstance(r.json()["choices"][0]["message"]["content"], str)
                    err = str(r.status_code)
                except (httpx.HTTPError, ValueError, KeyError) as e:
                    ok, err = False, type(e).__name__
                with lock:
                    (lat.append(time.perf_counter() - t0) if ok else errors.append(err))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, errors


CHAOS_BODIES = {
    "lone_surrogate": b'{"model": "m", "max_tokens": 8, "stream": true, "messages": [{"role": "user", "content": "\\ud800 hi"}]}',
    "bad_json": b'{"model": "m", "messages": [',
    "wrong_types": json.dumps({"model": "m", "max_tokens": "many", "messages": [{"role": "user", "content": 7}]}).encode(),
    "deep_nesting": ('{"model": "m", "messages": ' + "[" * 5000 + "]" * 5000 + "}").encode(),
    "huge_integer": ('{"model": "m", "max_tokens": 1' + "0" * 5000 + ', "messages": [{"role": "user", "content": "x"}]}').encode(),
    "n_3": json.dumps({"model": "m", "n": 3, "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}).encode(),
}


def chaos_traffic(base: str, seconds: float, counts: dict[str, dict[str, int]], lock: threading.Lock) -> None:
    """Malformed requests, dropped long streams and a flood of mixed max_tokens, for `seconds`."""
    stop_at = time.time() + seconds

    def note(kind: str, status: str) -> None:
        with lock:
            counts.setdefault(kind, {}).setdefault(status, 0)
            counts[kind][status] += 1

    def malformed() -> None:
        with httpx.Client(base_url=base, timeout=30, headers={**AUTH, "Content-Type": "application/json"}) as c:
            while time.time() < stop_at:
                for kind, body in CHAOS_BODIES.items():
                    try:
                        note(kind, str(c.post("/v1/chat/completions", content=body).status_code))
                    except httpx.HTTPError as e:
                        note(kind, type(e).__name__)

    def dropped_streams() -> None:
        while time.time() < stop_at:
            try:
                with httpx.Client(base_url=base, timeout=30, headers=AUTH) as c, c.stream(
                        "POST", "/v1/chat/completions", json={"model": "m", "max_tokens": 1024, "stream": True,
                                                              "messages": [{"role": "user", "content": "Tell a long story."}]}) as r:
                    for _ in r.iter_lines():
                        break  # hang up after the first chunk
                note("dropped_stream", str(r.status_code))
            except httpx.HTTPError as e:
                note("dropped_stream", type(e).__name__)

    def flood() -> None:
        with httpx.Client(base_url=base, timeout=120, headers=AUTH) as c:
            k = 0
            while time.time() < stop_at:
                k += 1
                try:
                    r = c.post("/v1/chat/completions", json={"model": "m", "max_tokens": [1, 8, 64, 256][k % 4],
                                                             "messages": [{"role": "user", "content": "Count."}]})
                    note("flood", str(r.status_code))
                except httpx.HTTPError as e:
                    note("flood", type(e).__name__)

    threads = [threading.Thread(target=f) for f in (malformed, dropped_streams, flood, flood, flood, flood)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def chaos(recipe: str, batch: int, clients: int, seconds: float, max_tokens: int) -> dict:
    proc, base = start_server(recipe, batch)
    try:
        before, before_err = normal_traffic(base, recipe, clients, seconds, max_tokens)
        counts: dict[str, dict[str, int]] = {}
        lock = threading.Lock()
        t = threading.Thread(target=chaos_traffic, args=(base, seconds, counts, lock))
        t.start()
        during, during_err = normal_traffic(base, recipe, clients, seconds, max_tokens)
        t.join()
        time.sleep(2)  # let dropped streams and the flood drain
        try:
            health = httpx.get(base + "/health", timeout=10).status_code
            r = httpx.post(base + "/v1/chat/completions", headers=AUTH, timeout=60,
                           json={"model": recipe, "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]})
            answers = r.status_code == 200
        except httpx.HTTPError:
            health, answers = None, False
    finally:
        stop_server(proc)

    def p95(xs: list[float]) -> float | None:
        return round(float(np.percentile(xs, 95)) * 1000, 1) if xs else None

    return {"normal_errors_before": len(before_err), "normal_errors_during_chaos": len(during_err),
            "normal_requests_before": len(before), "normal_requests_during": len(during),
            "p95_ms_before": p95(before), "p95_ms_during": p95(during), "health_after": health,
            "answers_after": answers, "chaos": counts, "clients": clients, "seconds": seconds, "recipe": recipe}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", default="prompt-local")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--max-requests", type=int, default=2000)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--chaos", action="store_true", help="normal traffic beside malformed, dropped and flooding clients")
    a = ap.parse_args()
    if a.chaos:
        res = chaos(a.recipe, a.batch, a.clients, a.seconds, a.max_tokens)
        print(f"normal clients: {res['normal_requests_before']} ok / {res['normal_errors_before']} errors before chaos, "
              f"{res['normal_requests_during']} ok / {res['normal_errors_during_chaos']} errors during; p95 "
              f"{res['p95_ms_before']} ms -> {res['p95_ms_during']} ms; after: health {res['health_after']}, "
              f"answers {res['answers_after']}")
        for kind, statuses in res["chaos"].items():
            print(f"  {kind:16} {statuses}")
        print(json.dumps(res))
        return
    res = {name: run(a.recipe, b, a.clients, a.seconds, a.max_requests, a.max_tokens)
           for name, b in (("single", 1), ("batched", a.batch))}
    print(f"{'':10}{'req/s':>8}{'p50 ms':>10}{'p95 ms':>10}{'requests':>10}{'errors':>8}")
    for k, v in res.items():
        print(f"{k:10}{v['rps']:>8.2f}{v['p50_ms']:>10}{v['p95_ms']:>10}{v['requests']:>10}{v['errors']:>8}")
    print(json.dumps({**res, "speedup": round(res["batched"]["rps"] / res["single"]["rps"], 3),
                      "errors": res["batched"]["errors"] + res["single"]["errors"], "clients": a.clients,
                      "seconds": a.seconds, "max_tokens": a.max_tokens, "recipe": a.recipe}))


if __name__ == "__main__":
    main()
