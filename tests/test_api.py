from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stance.api import MAX_ARTICLE_BYTES, MAX_BATCH_ITEMS, MAX_QUOTE_CHARS, create_app
from stance.errors import ModelLoadError

ARTICLE = (
    "Kremlin spokesman Dmitry Peskov said on Monday that Moscow remained "
    '"open to negotiations".\n\n'
    "\u201cWe are ready to sit down at the table,\u201d Peskov told reporters. "
    "\u201cBut Kyiv has to want it too.\u201d\n\n"
    "Three drones were shot down over the region overnight, officials said."
)
PREDICTION_KEYS = {"text", "speaker", "label", "confidence", "probabilities", "model_version"}


@pytest.fixture(scope="module")
def client(tiny_model_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tiny_model_path)) as test_client:
        yield test_client


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["model_version"].startswith("stance-")


def test_model_card(client: TestClient) -> None:
    card = client.get("/model").json()
    assert card["labels"] == ["anti", "neutral", "pro"] and "artifact_sha256" in card


def test_predict_with_callers_speaker(client: TestClient) -> None:
    response = client.post(
        "/predict", json={"text": "We are ready to talk tomorrow.", "speaker": "Ana Lind"}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == PREDICTION_KEYS
    assert body["speaker"] == "Ana Lind"
    assert body["label"] in {"pro", "anti", "neutral"}
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-9


def test_predict_finds_the_speaker_in_the_text(client: TestClient) -> None:
    body = client.post(
        "/predict", json={"text": '"We are ready for dialogue," Peskov said.'}
    ).json()
    assert body["speaker"] == "Dmitry Peskov"


def test_predict_explain(client: TestClient) -> None:
    body = client.post(
        "/predict", json={"text": "No talks until they leave.", "explain": True}
    ).json()
    assert body["explanation"] and set(body["explanation"][0]) == {"feature", "weight"}


_LONG = "We are ready to talk, " * 30 + '" Peskov said.'


@pytest.mark.parametrize(
    "body",
    [
        {"text": '"We are ready for dialogue," Peskov said.'},  # the guard's fast path
        {"text": "No talks until they leave.", "speaker": "Ana Lind"},  # the fast path
        {"text": _LONG},  # over INLINE_CHARS: the route, in a worker thread
        {"text": "No talks until they leave.", "explain": True},  # explained: the route
    ],
    ids=["short", "speaker given", "long", "explain"],
)
def test_the_fast_path_answers_as_the_route_does(client: TestClient, body: dict) -> None:
    fast = client.post("/predict", json=body)
    # Another JSON media type is parsed by FastAPI and answered by the route itself.
    route = client.post(
        "/predict", content=json.dumps(body), headers={"content-type": "application/problem+json"}
    )
    assert fast.status_code == route.status_code == 200
    assert fast.headers["content-type"] == route.headers["content-type"] == "application/json"
    assert fast.json() == route.json()


def _counter(metrics: str, line_start: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_fast_path_requests_and_labels_are_counted(client: TestClient) -> None:
    request = 'stance_http_requests_total{method="POST",route="/predict",status="200"}'
    before = client.get("/metrics").text
    labels = [
        client.post("/predict", json={"text": f"Talks, round {i}."}).json()["label"]
        for i in range(5)
    ]
    after = client.get("/metrics").text
    assert _counter(after, request) - _counter(before, request) == 5
    for label in set(labels):
        counted = f'stance_predictions_total{{label="{label}"}}'
        assert _counter(after, counted) - _counter(before, counted) == labels.count(label)


def test_batch_matches_single(client: TestClient) -> None:
    items = [
        {"text": "We are ready to talk."},
        {"text": "Talks now would reward the aggressor.", "speaker": "X"},
    ]
    batch = client.post("/predict/batch", json={"items": items}).json()["predictions"]
    assert len(batch) == 2 and batch[1]["speaker"] == "X"
    for item, got in zip(items, batch, strict=True):
        single = client.post("/predict", json=item).json()
        assert got["label"] == single["label"]
        assert abs(got["confidence"] - single["confidence"]) < 1e-9


def test_extract_text(client: TestClient) -> None:
    response = client.post("/extract", json={"text": ARTICLE, "url": "https://example.org/a"})
    assert response.status_code == 200
    body = response.json()
    quotes = body["quotes"]
    assert [q["quote"] for q in quotes] == [
        "open to negotiations",
        "We are ready to sit down at the table,",
        "But Kyiv has to want it too.",
    ]
    assert [q["speaker"] for q in quotes] == ["Dmitry Peskov"] * 3
    assert quotes[0]["speaker_role"] == "Kremlin spokesman"
    assert quotes[0]["is_fragment"] and not quotes[1]["is_fragment"]
    text = body["article"]["text"]
    for quote in quotes:
        assert set(quote) >= PREDICTION_KEYS
        assert quote["quote"].split()[0] in text[quote["start"] : quote["end"]]
        assert quote["url"] == "https://example.org/a"


def test_extract_html(client: TestClient) -> None:
    html = (
        "<html><head><title>Talks</title></head><body><nav>Home | World</nav>"
        "<article><h1>Talks</h1>"
        + "".join(f"<p>{p}</p>" for p in ARTICLE.split("\n\n"))
        + "</article><footer>Contact</footer></body></html>"
    )
    body = client.post("/extract", json={"html": html}).json()
    assert "Dmitry Peskov" in {q["speaker"] for q in body["quotes"]}


def test_metrics(client: TestClient) -> None:
    client.post("/predict", json={"text": "We are ready to talk."})
    text = client.get("/metrics").text
    assert 'stance_http_requests_total{method="POST",route="/predict",status="200"}' in text
    assert "stance_http_request_duration_seconds_bucket" in text
    assert "stance_predictions_total{label=" in text
    assert 'stance_model_info{model_version="stance-' in text


def test_docs_and_page(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/predict", "/predict/batch", "/extract", "/model", "/health", "/metrics"} <= set(
        schema["paths"]
    )
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "<script" in page.text and "http://" not in page.text.replace("http://www.w3.org", "")


def error_fields(response) -> list[str]:
    detail = response.json()["detail"]
    return (
        [".".join(str(p) for p in item["loc"]) for item in detail]
        if isinstance(detail, list)
        else []
    )


@pytest.mark.parametrize(
    ("path", "payload", "status", "field"),
    [
        ("/predict", {"text": "x" * (MAX_QUOTE_CHARS + 1)}, 422, "body.text"),
        ("/predict", {"text": ""}, 422, "body.text"),
        ("/predict", {"text": "   \n "}, 422, "body.text"),
        ("/predict", {"text": 42}, 422, "body.text"),
        ("/predict", {"text": ["a"]}, 422, "body.text"),
        ("/predict", {"speaker": "x"}, 422, "body.text"),
        ("/predict", {"text": "ok", "speaker": 5}, 422, "body.speaker"),
        ("/predict", {"text": "ok", "explain": "perhaps"}, 422, "body.explain"),
        ("/predict", {"text": "nul \u0000 byte"}, 422, "body.text"),
        ("/predict", [1, 2], 422, "body"),
        ("/predict/batch", {"items": []}, 422, "body.items"),
        ("/predict/batch", {"items": [{"text": "a"}] * (MAX_BATCH_ITEMS + 1)}, 422, "body.items"),
        ("/predict/batch", {"items": [{"text": "a"}, {"text": ""}]}, 422, "body.items.1.text"),
        ("/predict/batch", {"items": "a"}, 422, "body.items"),
        ("/extract", {}, 422, "body"),
        ("/extract", {"text": "a", "html": "<p>a</p>"}, 422, "body"),
        ("/extract", {"text": "é" * (MAX_ARTICLE_BYTES // 2 + 1)}, 422, "body.text"),
        ("/extract", {"text": "ok", "url": "u" * 3000}, 422, "body.url"),
    ],
)
def test_bad_requests_get_4xx_naming_the_field(
    client: TestClient, path: str, payload: object, status: int, field: str
) -> None:
    response = client.post(path, json=payload)
    assert response.status_code == status, response.text
    assert field in error_fields(response), response.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"text": "unterminated', "application/json"),
        (b'{"text": "\\ud800 lone surrogate"}', "application/json"),
        (b'{"text": "\\udfff"}', "application/json"),
        (b"\xff\xfe not utf-8", "application/json"),
        (b"text=hello", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
        (b"null", "application/json"),
    ],
)
def test_malformed_bodies_get_4xx(client: TestClient, body: bytes, content_type: str) -> None:
    response = client.post("/predict", content=body, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500, response.text
    assert "detail" in response.json()


def test_unknown_route_and_method(client: TestClient) -> None:
    assert client.get("/nope").status_code == 404
    assert client.get("/predict").status_code == 405
    assert client.delete("/health").status_code == 405


def test_oversized_body_is_refused_from_content_length_without_reading(
    tiny_model_path: Path,
) -> None:
    app = create_app(tiny_model_path)
    sent: list[dict] = []

    async def receive() -> dict:
        raise AssertionError("the body must not be read")

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/extract",
        "raw_path": b"/extract",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(50 * 1024 * 1024).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["detail"][0]["loc"] == ["body"]


def test_chunked_body_over_the_limit_is_cut_off(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(40):
            yield b"x" * 8192
        yield b'"}'

    response = client.post(
        "/predict", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "limit" in response.json()["detail"][0]["msg"]


@pytest.fixture(scope="module")
def keyed_client(tiny_model_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tiny_model_path, api_key="s3cret")) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("post", "/predict", {}, 401),
        ("post", "/predict", {"X-API-Key": "wrong"}, 401),
        ("post", "/predict", {"X-API-Key": "s3cret"}, 200),
        ("get", "/model", {}, 401),
        ("get", "/metrics", {}, 401),
        ("get", "/docs", {}, 401),
        ("get", "/health", {}, 200),
        ("get", "/", {}, 200),
    ],
)
def test_api_key(
    keyed_client: TestClient, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    kwargs = {"json": {"text": "We are ready to talk."}} if method == "post" else {}
    assert getattr(keyed_client, method)(path, headers=headers, **kwargs).status_code == status


def test_api_key_from_environment(tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCE_API_KEY", "from-env")
    with TestClient(create_app(tiny_model_path)) as keyed:
        assert keyed.get("/model").status_code == 401
        assert keyed.get("/model", headers={"X-API-Key": "from-env"}).status_code == 200


@pytest.mark.parametrize("damage", ["missing", "tampered"])
def test_bad_model_stops_start_up(tiny_model_path: Path, tmp_path: Path, damage: str) -> None:
    import shutil

    from stance.model import card_path_for

    target = tmp_path / "m.joblib"
    if damage == "tampered":
        shutil.copy(tiny_model_path, target)
        shutil.copy(card_path_for(tiny_model_path), card_path_for(target))
        target.write_bytes(target.read_bytes() + b"!")
    with pytest.raises(ModelLoadError), TestClient(create_app(target)):
        pass


def test_model_path_from_environment(
    tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANCE_MODEL_PATH", str(tiny_model_path))
    with TestClient(create_app()) as env_client:
        assert env_client.get("/health").status_code == 200
