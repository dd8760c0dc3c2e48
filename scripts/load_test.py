"""Load test of `adapt serve` (transformers engine) on loopback: a bounded number of concurrent
clients for a bounded time, once with dynamic batching and once one request at a time, same
server code, same run.

    python scripts/load_test.py [--recipe prompt-local] [--clients 16] [--seconds 30] [--batch 8]

Last line: {"batched": {...}, "single": {...}, "speedup", "errors"}.
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


def run(recipe: str, batch: int, clients: int, seconds: float, max_requests: int, max_tokens: int) -> dict:
    port = free_port()
    env = {**os.environ, "ADAPT_API_KEY": "load-test-key"}
    proc = subprocess.Popen([sys.executable, "-m", "adapt.cli", "serve", recipe, "--port", str(port),
                             "--max-batch-size", str(batch)], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 300
        while True:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.5)
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
        proc.terminate()
        proc.wait(30)
    return {"requests": len(lat), "errors": len(errors), "rps": round(len(lat) / wall, 3),
            "p50_ms": round(float(np.percentile(lat, 50)) * 1000, 1) if lat else None,
            "p95_ms": round(float(np.percentile(lat, 95)) * 1000, 1) if lat else None, "batch": batch}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", default="prompt-local")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--max-requests", type=int, default=2000)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    a = ap.parse_args()
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
