"""HTTP throughput and latency of `stance serve` against a trivial FastAPI endpoint, side by side.

    python bench/serve.py [--seconds 10] [--connections 16] [--rounds 3] [--model PATH]
                          [--http h11|httptools] [--loop auto|asyncio|uvloop]

Both servers run under uvicorn with the same settings (one worker, no access log, the same loop
and HTTP implementation, printed at the start; by default those of `stance serve`: h11, and
uvloop where it is installed). The trivial server's POST /predict reads the body and returns a
constant prediction. Each is loaded in turn by the same client (wrk, when installed: Debian's
`wrk`; otherwise a keep-alive asyncio client in this script) for the same time, alternating for
several rounds; the medians and the ratio stance / trivial are printed. The client runs on the
machine's other core. Then /predict/batch with 100 quotes per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# At module level, not inside trivial_app: with postponed annotations FastAPI resolves
# `request: Request` in the module's globals, and a local import would make it a query parameter
# (every request a 422: the baseline would be measuring validation errors).
from fastapi import FastAPI, Request
from fastapi.responses import Response

ROOT = Path(__file__).resolve().parent.parent
CONSTANT = json.dumps(
    {
        "text": "constant",
        "speaker": None,
        "label": "neutral",
        "confidence": 0.5,
        "probabilities": {"anti": 0.25, "neutral": 0.5, "pro": 0.25},
        "model_version": "trivial",
    }
).encode()


def trivial_app():
    """The baseline: a FastAPI POST /predict that reads its body and returns a constant."""
    app = FastAPI()

    @app.post("/predict")
    async def predict(request: Request) -> Response:
        await request.body()
        return Response(CONSTANT, media_type="application/json")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server failed to start: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server on port {port} did not answer /health within 60 s")


def quotes(n: int) -> list[str]:
    """``n`` of the embedded training statements, shuffled with a fixed seed."""
    from stance.data import read_labelled_csv
    from training.train import default_data_files

    texts = read_labelled_csv(default_data_files()).texts
    random.Random(0).shuffle(texts)
    return texts[:n]


def wrk_script(bodies: list[bytes], path: str) -> str:
    lines = ["local bodies = {"]
    lines += [f"  {json.dumps(body.decode())}," for body in bodies]
    lines += [
        "}",
        "local i = 0",
        "request = function()",
        "  i = i % #bodies + 1",
        '  local headers = {["Content-Type"] = "application/json"}',
        f'  return wrk.format("POST", "{path}", headers, bodies[i])',
        "end",
    ]
    return "\n".join(lines)


def run_wrk(url: str, script: str, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "--latency",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    return {
        "rps": rps,
        "p50": _ms(out, "50%"),
        "p99": _ms(out, "99%"),
        "errors": errors,
        "requests": total,
    }


def _ms(out: str, pct: str) -> float:
    match = re.search(rf"^\s*{re.escape(pct)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


async def _async_load(
    port: int, path: str, bodies: list[bytes], seconds: int, connections: int
) -> dict[str, float]:
    """A keep-alive HTTP/1.1 client on raw asyncio streams (no client library in the way)."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = offset
        while time.perf_counter() < stop:
            body = bodies[i % len(bodies)]
            i += 1
            request = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                errors += 1
        writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(connections)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
        "errors": errors,
        "requests": len(latencies),
    }


def load(
    port: int, path: str, bodies: list[bytes], seconds: int, connections: int
) -> dict[str, float]:
    if shutil.which("wrk"):
        return run_wrk(
            f"http://127.0.0.1:{port}{path}", wrk_script(bodies, path), seconds, connections
        )
    return asyncio.run(_async_load(port, path, bodies, seconds, connections))


def _resolved(setting: str, value: str) -> str:
    """What uvicorn's "auto" becomes here: the fast implementation when it is installed."""
    if value != "auto":
        return value
    fast = {"http": "httptools", "loop": "uvloop"}[setting]
    try:
        __import__(fast)
    except ImportError:
        return {"http": "h11", "loop": "asyncio"}[setting]
    return fast


def summarize(name: str, runs: list[dict[str, float]]) -> dict[str, float]:
    med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    med["errors"] = sum(run["errors"] for run in runs)
    print(
        f"  {name:<28} {med['rps']:9.0f} req/s   p50 {med['p50']:6.2f} ms   "
        f"p99 {med['p99']:6.2f} ms   errors {int(med['errors'])}   "
        f"(median of {len(runs)} runs of {int(med['requests'])} requests)"
    )
    return med


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--trivial-server":
        import uvicorn

        uvicorn.run(
            trivial_app(),
            host="127.0.0.1",
            port=int(sys.argv[2]),
            log_level="warning",
            access_log=False,
            http=sys.argv[3],
            loop=sys.argv[4],
        )
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default=None)
    parser.add_argument("--http", default="h11", choices=["h11", "httptools"])
    parser.add_argument("--loop", default="auto", choices=["auto", "asyncio", "uvloop"])
    args = parser.parse_args()

    stance_port, trivial_port = free_port(), free_port()
    serve = [
        sys.executable,
        "-m",
        "stance.cli",
        "serve",
        "--port",
        str(stance_port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--http",
        args.http,
        "--loop",
        args.loop,
    ]
    if args.model:
        serve += ["--model", args.model]
    servers = [
        start(serve, stance_port),
        start(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--trivial-server",
                str(trivial_port),
                args.http,
                args.loop,
            ],
            trivial_port,
        ),
    ]
    try:
        texts = quotes(500)
        bodies = [json.dumps({"text": t}).encode() for t in texts]
        client = "wrk" if shutil.which("wrk") else "asyncio keep-alive client"
        print(
            f"client: {client}, {args.connections} connections, {args.seconds} s a run, "
            f"{args.rounds} rounds alternating; both servers: uvicorn, 1 worker, "
            f"http {_resolved('http', args.http)}, loop {_resolved('loop', args.loop)}"
        )
        # Warm both up so the first round is not paying for imports and first-call caches.
        load(stance_port, "/predict", bodies, 2, args.connections)
        load(trivial_port, "/predict", bodies, 2, args.connections)
        trivial_runs, stance_runs = [], []
        for _ in range(args.rounds):
            trivial_runs.append(
                load(trivial_port, "/predict", bodies, args.seconds, args.connections)
            )
            stance_runs.append(
                load(stance_port, "/predict", bodies, args.seconds, args.connections)
            )
        print("POST /predict, one quote per request:")
        trivial = summarize("trivial FastAPI endpoint", trivial_runs)
        ours = summarize("stance serve /predict", stance_runs)
        print(
            f"  ratio stance/trivial: throughput {ours['rps'] / trivial['rps']:.2f}, "
            f"p99 latency {ours['p99'] / trivial['p99']:.2f}"
        )
        batch_bodies = [
            json.dumps({"items": [{"text": t} for t in texts[k : k + 100]]}).encode()
            for k in range(0, 400, 100)
        ]
        batch = summarize(
            "stance /predict/batch x100",
            [
                load(stance_port, "/predict/batch", batch_bodies, args.seconds, 4)
                for _ in range(args.rounds)
            ],
        )
        print(f"  = {batch['rps'] * 100:,.0f} quotes/s through /predict/batch (4 connections)")
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
