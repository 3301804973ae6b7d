"""Requests per second of `ganforge serve` for a 16-image generate call under concurrent clients (loopback).

    python benchmarks/serve_load.py RUN [--clients 8] [--seconds 20] [--n 16]

Starts ``ganforge serve RUN`` in a subprocess as a user would, waits for /health, then ``--clients``
threads POST ``{"n": N, "seed": i}`` to /generate back to back for ``--seconds``; prints requests/s,
latency percentiles, and the count of non-200 answers (should be 0).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--n", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "ganforge", "serve", args.run, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.25)
        latencies: list[float] = []
        failures = [0]
        lock = threading.Lock()
        stop = time.perf_counter() + args.seconds

        def client(index: int) -> None:
            seed = index
            while time.perf_counter() < stop:
                start = time.perf_counter()
                status = post(f"{base}/generate", {"n": args.n, "seed": seed})
                with lock:
                    latencies.append(time.perf_counter() - start)
                    failures[0] += status != 200
                seed += args.clients

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=10)
    ordered = sorted(latencies)
    median, p95 = 1000 * statistics.median(ordered), 1000 * ordered[int(0.95 * len(ordered))]
    print(f"{len(latencies)} requests of {args.n} images from {args.clients} clients in {elapsed:.1f} s: "
          f"{len(latencies) / elapsed:.1f} requests/s ({len(latencies) * args.n / elapsed:.0f} images/s); "
          f"latency median {median:.0f} ms, p95 {p95:.0f} ms; non-200 answers: {failures[0]}")


if __name__ == "__main__":
    main()
