"""Hostile requests against a real uvicorn server on 127.0.0.1, over raw sockets.

Each request must be answered with a 4xx (or, for what is not HTTP at all, the connection closed)
quickly: no 5xx, no hang, and the server still answers /health after each one and after all of
them. Every loop is bounded in count and every socket has a timeout.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from live_server import LiveServer, live_server

from stance import api
from stance.api import (
    BODY_LIMITS,
    MAX_ARTICLE_BYTES,
    MAX_BATCH_ITEMS,
    MAX_QUOTE_CHARS,
    create_app,
)

BODY_TIMEOUT = 2.0  # the server's, short so that the slow-client case is quick
SOCKET_TIMEOUT = 15.0  # no single exchange may take longer: past it the test fails as a hang
MB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tiny_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tiny_model_path, tmp_path_factory.mktemp("hostile"), body_timeout=BODY_TIMEOUT
    ) as live:
        yield live


# -- raw HTTP ----------------------------------------------------------------------------------
def head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


def post(path: str, body: bytes, content_type: str = "application/json") -> bytes:
    return (
        head("POST", path, f"Content-Type: {content_type}", f"Content-Length: {len(body)}") + body
    )


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: the server closed the connection without a response
    seconds: float


def exchange(port: int, parts: list[bytes], *, pause: float = 0.0) -> Answer:
    """Send `parts` one after the other (stopping early if the server answers first), then read
    the status line. `pause` waits between parts, like a slow client."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as sock:
        for part in parts:
            if select.select([sock], [], [], pause)[0]:
                break  # answered already (e.g. 413 before the body): stop sending
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        return Answer(_read_status(sock), time.monotonic() - started)


def _read_status(sock: socket.socket) -> int | None:
    data = b""
    while b"\r\n" not in data and len(data) < 64 * 1024:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    if not data:
        return None
    status_line = data.split(b"\r\n", 1)[0].decode("latin-1")
    assert status_line.startswith("HTTP/1.1 "), status_line
    return int(status_line.split()[1])


def chunked(*chunks: bytes, end: bool = True) -> list[bytes]:
    framed = [f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks]
    return framed + ([b"0\r\n\r\n"] if end else [])


def deep(key: str, depth: int = 100_000) -> bytes:
    return b'{"%s": ' % key.encode() + b"[" * depth + b"]" * depth + b"}"


# -- the hostile list --------------------------------------------------------------------------
@dataclass(frozen=True)
class Hostile:
    name: str
    parts: Callable[[], list[bytes]]
    expect: frozenset[int | None]
    within: float = 5.0  # seconds
    pause: float = 0.0


PREDICT_LIMIT = BODY_LIMITS["/predict"]
HOSTILE = [
    Hostile(
        "50 MB Content-Length, tiny body",
        lambda: [
            head("POST", "/extract", "Content-Type: application/json", f"Content-Length: {50 * MB}")
            + b'{"text": "x"}'
        ],
        frozenset({413}),
        within=2.0,
    ),
    Hostile(
        "50 MB Content-Length with Expect: 100-continue",
        lambda: [
            head(
                "POST",
                "/predict/batch",
                "Content-Type: application/json",
                f"Content-Length: {50 * MB}",
                "Expect: 100-continue",
            )
        ],
        frozenset({413}),
        within=2.0,
    ),
    Hostile(
        "chunked body that never ends, past the limit",
        lambda: [
            head(
                "POST", "/predict", "Content-Type: application/json", "Transfer-Encoding: chunked"
            ),
            *chunked(b'{"text": "', *[b"x" * 16384] * (PREDICT_LIMIT // 16384 + 8), end=False),
        ],
        frozenset({413}),
    ),
    Hostile(
        "100k-deep JSON to /predict",
        lambda: [post("/predict", deep("text"))],
        frozenset({413, 422}),
    ),
    Hostile(
        "100k-deep JSON to /predict/batch",
        lambda: [post("/predict/batch", deep("items"))],
        frozenset({422}),
    ),
    Hostile(
        "100k-deep JSON to /extract", lambda: [post("/extract", deep("text"))], frozenset({422})
    ),
    Hostile(
        "1 MB header",
        lambda: [head("GET", "/health", "X-Junk: " + "a" * MB)],
        frozenset({400, 431, None}),
    ),
    Hostile(
        "10,000 headers (h11 takes them if they come in one read)",
        lambda: [head("GET", "/health", *[f"X-H{i}: v" for i in range(10_000)])],
        frozenset({200, 400, 431, None}),
    ),
    Hostile("invalid request line", lambda: [b"GARBAGE\r\n\r\n"], frozenset({400, None})),
    Hostile(
        "HTTP/9.9 request line (h11 answers it as 1.1)",
        lambda: [b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n"],
        frozenset({200, 400, 505, None}),
    ),
    Hostile(
        "TLS handshake bytes",
        lambda: [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64],
        frozenset({400, None}),
    ),
    Hostile(
        "Content-Length not a number",
        lambda: [head("POST", "/predict", "Content-Length: lots")],
        frozenset({400, None}),
    ),
    Hostile(
        "negative Content-Length",
        lambda: [head("POST", "/predict", "Content-Length: -1")],
        frozenset({400, None}),
    ),
    Hostile(
        "Content-Length and chunked together (chunked wins: an empty body)",
        lambda: [
            head("POST", "/predict", "Content-Length: 5", "Transfer-Encoding: chunked")
            + b"0\r\n\r\n"
        ],
        frozenset({400, 422, None}),
    ),
    Hostile(
        "invalid UTF-8 body",
        lambda: [post("/predict", b'{"text": "\xff\xfe\xc3\x28"}')],
        frozenset({422}),
    ),
    Hostile(
        "raw NUL inside a JSON string",
        lambda: [post("/predict", b'{"text": "a\x00b"}')],
        frozenset({422}),
    ),
    Hostile("escaped NUL", lambda: [post("/predict", b'{"text": "a\\u0000b"}')], frozenset({422})),
    Hostile(
        "JSON number 1e999 as text",
        lambda: [post("/predict", b'{"text": 1e999}')],
        frozenset({422}),
    ),
    Hostile(
        "JSON number -1e999 as explain",
        lambda: [post("/predict", b'{"text": "ok", "explain": -1e999}')],
        frozenset({422}),
    ),
    Hostile(
        "NaN and Infinity",
        lambda: [post("/predict/batch", b'{"items": [{"text": NaN}], "explain": Infinity}')],
        frozenset({422}),
    ),
    Hostile(
        "a 5,000-digit integer",
        lambda: [post("/predict", b'{"text": ' + b"9" * 5000 + b"}")],
        frozenset({422}),
    ),
    Hostile(
        "unpaired surrogate in a speaker",
        lambda: [post("/predict", b'{"text": "We are ready.", "speaker": "\\udc80"}')],
        frozenset({422}),
    ),
    Hostile(
        "20,001-character quote in a batch",
        lambda: [
            post(
                "/predict/batch",
                json.dumps({"items": [{"text": "x" * (MAX_QUOTE_CHARS + 1)}]}).encode(),
            )
        ],
        frozenset({422}),
    ),
    Hostile(
        "1,001 items",
        lambda: [
            post(
                "/predict/batch",
                json.dumps({"items": [{"text": "a"}] * (MAX_BATCH_ITEMS + 1)}).encode(),
            )
        ],
        frozenset({422}),
    ),
    Hostile(
        "a JSON string, not an object",
        lambda: [post("/extract", b'"just a string"')],
        frozenset({422}),
    ),
    Hostile(
        "form-encoded body",
        lambda: [post("/predict", b"text=hi", "application/x-www-form-urlencoded")],
        frozenset({422}),
    ),
    Hostile(
        "XML body",
        lambda: [post("/predict", b"<text>hi</text>", "application/xml")],
        frozenset({422}),
    ),
    Hostile("made-up method", lambda: [head("BREW", "/predict")], frozenset({405})),
    Hostile(
        "body on a GET over the default cap",
        lambda: [head("GET", "/health", f"Content-Length: {10 * MB}")],
        frozenset({200, 400, None}),
    ),
    Hostile(
        "path with NUL and dot-dots",
        lambda: [head("GET", "/%00/../../etc/passwd")],
        frozenset({404}),
    ),
    Hostile("8 KB path", lambda: [head("GET", "/" + "a" * 8192)], frozenset({404, 414, 400, None})),
    Hostile(
        "slow client: half a body, then nothing",
        lambda: [
            head("POST", "/predict", "Content-Type: application/json", "Content-Length: 1000")
            + b'{"text": "'
            + b"x" * 490
        ],
        frozenset({408}),
        within=BODY_TIMEOUT + 5.0,
    ),
    Hostile(
        "drip-fed body, one byte every 0.3 s",
        lambda: (
            [head("POST", "/predict", "Content-Type: application/json", "Content-Length: 40")]
            + [b"{"]
            + [b" "] * 30
        ),
        frozenset({408}),
        within=BODY_TIMEOUT + 5.0,
        pause=0.3,
    ),
]


def assert_healthy(server: LiveServer) -> None:
    assert server.process.poll() is None, f"the server died:\n{server.errors()[-3000:]}"
    response = httpx.get(f"{server.url}/health", timeout=SOCKET_TIMEOUT)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_hostile_request_gets_a_quick_4xx(server: LiveServer, hostile: Hostile) -> None:
    answer = exchange(server.port, hostile.parts(), pause=hostile.pause)
    assert answer.status in hostile.expect, f"{hostile.name}: got {answer.status}"
    assert answer.seconds < hostile.within, f"{hostile.name}: answered in {answer.seconds:.1f} s"
    assert_healthy(server)


def test_idle_and_half_sent_connections_do_not_block_others(server: LiveServer) -> None:
    # 50 connections that send nothing and 50 that send half a request line and stop.
    sockets = []
    try:
        for k in range(100):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_TIMEOUT)
            if k % 2:
                sock.sendall(b"POST /predict HTT")
            sockets.append(sock)
        started = time.monotonic()
        assert_healthy(server)
        response = httpx.post(
            f"{server.url}/predict", json={"text": "We are ready to talk."}, timeout=SOCKET_TIMEOUT
        )
        assert response.status_code == 200
        assert time.monotonic() - started < 5
    finally:
        for sock in sockets:
            sock.close()


def test_many_concurrent_requests(server: LiveServer) -> None:
    valid = {"text": "We will not sit down with them until they leave.", "explain": True}
    bodies = [valid, {"text": ""}, {"items": [{"text": "Talks now."}] * 50}, {"text": "x" * 30_000}]
    paths = ["/predict", "/predict", "/predict/batch", "/predict"]
    statuses: list[int] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        with httpx.Client(base_url=server.url, timeout=SOCKET_TIMEOUT) as client:
            for i in range(5):
                n = (k + i) % len(bodies)
                status = client.post(paths[n], json=bodies[n]).status_code
                with lock:
                    statuses.append(status)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=40) as pool:
        list(pool.map(worker, range(80)))
    assert len(statuses) == 400
    assert all(status < 500 for status in statuses), sorted(set(statuses))
    assert {200, 422} <= set(statuses)
    assert time.monotonic() - started < 60
    assert_healthy(server)


def test_after_all_of_them_the_server_is_well(server: LiveServer) -> None:
    assert_healthy(server)
    metrics = httpx.get(f"{server.url}/metrics", timeout=SOCKET_TIMEOUT).text
    assert 'status="500"' not in metrics
    assert 'method="BREW"' not in metrics  # made-up methods are counted as "other"
    log = server.errors()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-3000:]


# Articles within the 2 MB limit whose extraction must stay in proportion to their size (in time
# and in memory), each on a server of its own so that a stuck worker thread spoils no other test.
ARTICLE_SECONDS = 60.0  # generous: a 2 MB article of 140,000 quotes takes ~25 s today
HOSTILE_ARTICLES = [
    # A context per quote as long as the paragraph is quadratic: 2 MB would take terabytes.
    pytest.param(
        {"text": ('"no," he said. ' * (MAX_ARTICLE_BYTES // 15))[: MAX_ARTICLE_BYTES - 64]},
        id="one 2 MB paragraph of short quotes",
    ),
    # html.parser (before CPython's gh-135462 fix) rescans for "-->" at each unclosed "<!--".
    pytest.param({"html": "<!--" * 200_000}, id="800 KB of unclosed HTML comments"),
]


@pytest.mark.slow
@pytest.mark.parametrize("payload", HOSTILE_ARTICLES)
def test_a_hostile_article_is_answered_in_bounded_time_and_memory(
    tiny_model_path: Path, tmp_path: Path, payload: dict[str, str]
) -> None:
    with live_server(tiny_model_path, tmp_path, memory_limit=2 * 1024**3) as live:
        try:
            response = httpx.post(f"{live.url}/extract", json=payload, timeout=ARTICLE_SECONDS)
        except httpx.TimeoutException:
            pytest.fail(f"/extract did not answer within {ARTICLE_SECONDS:g} s")
        assert response.status_code < 500, live.errors()[-3000:]
        assert_healthy(live)


def test_slow_articles_do_not_starve_the_other_routes(
    tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # More stuck articles than the default thread pool has threads (40): a batch, a long quote
    # and /health must still be answered, since articles have worker threads of their own.
    release = threading.Event()

    def stuck(*args: object) -> None:
        release.wait(SOCKET_TIMEOUT)

    monkeypatch.setattr(api, "_extract", stuck)
    with TestClient(create_app(tiny_model_path)) as client, ThreadPoolExecutor(50) as pool:
        try:
            for _ in range(45):
                pool.submit(client.post, "/extract", json={"text": "An article."})
            time.sleep(0.5)
            batch = {"items": [{"text": "We are ready to talk."}] * 100}
            long_quote = {"text": "We are ready to talk. " * 100, "explain": True}
            answers = [
                pool.submit(client.post, "/predict/batch", json=batch),
                pool.submit(client.post, "/predict", json=long_quote),
                pool.submit(client.get, "/health"),
            ]
            for answer in answers:
                assert answer.result(timeout=5).status_code == 200
        finally:
            release.set()
