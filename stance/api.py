"""The HTTP service: FastAPI routes over the one model loaded at start-up.

This is the only module that knows HTTP status codes. ``create_app`` is the factory (uvicorn runs
it with ``factory=True``); it is also the one place that reads the environment
(``STANCE_MODEL_PATH``, ``STANCE_API_KEY``).

Hard to knock over: request bodies are capped before they are read, every field has a limit, and
every failure a client can cause is answered with a 4xx and a JSON body that names the field.
"""

from __future__ import annotations

import hmac
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from stance.errors import StanceError
from stance.model import StanceModel, load_model
from stance.quotes import SpeakerAliases, article_from_html, parse_article
from stance.score import prediction_record, prediction_records, score_article

__all__ = ["LIMITS", "create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_QUOTE_CHARS = 20_000
MAX_ARTICLE_BYTES = 2 * 1024 * 1024
MAX_BATCH_ITEMS = 1_000
MAX_SPEAKER_CHARS = 300
MAX_URL_CHARS = 2_048
# Body caps by route, checked from Content-Length (or while streaming) before anything is parsed.
# They allow for JSON escaping (a non-ASCII character may take 6 bytes as \uXXXX).
BODY_LIMITS = {
    "/predict": 6 * MAX_QUOTE_CHARS + 64 * 1024,
    "/predict/batch": 16 * 1024 * 1024,
    "/extract": 6 * MAX_ARTICLE_BYTES + 64 * 1024,
}
DEFAULT_BODY_LIMIT = 64 * 1024
LIMITS = {
    "quote_chars": MAX_QUOTE_CHARS,
    "article_bytes": MAX_ARTICLE_BYTES,
    "batch_items": MAX_BATCH_ITEMS,
    "body_bytes": BODY_LIMITS,
}
OPEN_PATHS = frozenset({"/health", "/"})
KNOWN_ROUTES = frozenset(
    {"/", "/predict", "/predict/batch", "/extract", "/model", "/health", "/metrics", "/docs",
     "/openapi.json", "/docs/oauth2-redirect", "/redoc"}
)
PAGE = Path(__file__).resolve().parent / "static" / "index.html"


# -- request and response shapes -------------------------------------------------------------
def _clean_text(value: str | None) -> str | None:
    """Refuse text no client means to send: blank, NUL bytes, unpaired surrogates."""
    if value is None:
        return None
    if not value.strip():
        raise ValueError("must not be empty or only white space")
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError("must be valid Unicode (it holds an unpaired surrogate)") from err
    return value


QuoteText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_QUOTE_CHARS,
        description=f"The quote to classify, up to {MAX_QUOTE_CHARS:,} characters.",
        examples=['"We have always been open to talks, but not on those terms," Peskov said.'],
    ),
]
Speaker = Annotated[
    str | None,
    Field(
        default=None,
        max_length=MAX_SPEAKER_CHARS,
        description="Who said it. When absent, a speaker named in the text is used.",
        examples=["Dmitry Peskov"],
    ),
]


class PredictRequest(BaseModel):
    """One quote to classify."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "Negotiating now would only reward the aggressor.", "speaker": "Kaja Kallas"},
                {"text": '"We are ready for dialogue," the Kremlin spokesman said.', "explain": True},
            ]
        }
    )

    text: QuoteText
    speaker: Speaker = None
    explain: bool = Field(default=False, description="Add the n-grams that drove the label.")

    _check_text = field_validator("text", "speaker")(_clean_text)


class BatchItem(BaseModel):
    text: QuoteText
    speaker: Speaker = None

    _check_text = field_validator("text", "speaker")(_clean_text)


class BatchRequest(BaseModel):
    """Up to 1,000 quotes, classified in one vectorised pass."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"text": "We are ready to talk without preconditions.", "speaker": "A. Minister"},
                        {"text": "Three drones were shot down overnight."},
                    ]
                }
            ]
        }
    )

    items: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)
    explain: bool = False


class ExtractRequest(BaseModel):
    """An article as plain text or as HTML (exactly one of the two)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "Kremlin spokesman Dmitry Peskov said on Monday that Moscow was "
                    '"open to negotiations". "But Kyiv has to want them too," he added.',
                    "url": "https://example.org/news/1",
                }
            ]
        }
    )

    text: str | None = Field(default=None, description="The article as text (up to 2 MB).")
    html: str | None = Field(default=None, description="The article as an HTML page (up to 2 MB).")
    url: str | None = Field(default=None, max_length=MAX_URL_CHARS, description="Where it came from.")
    explain: bool = False

    _check_text = field_validator("text", "html", "url")(_clean_text)

    @field_validator("text", "html")
    @classmethod
    def _article_size(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode("utf-8")) > MAX_ARTICLE_BYTES:
            raise ValueError(f"the article is larger than {MAX_ARTICLE_BYTES:,} bytes")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> ExtractRequest:
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of 'text' or 'html'")
        return self


class Explanation(BaseModel):
    feature: str = Field(examples=["ready for"])
    weight: float = Field(description="Push towards the predicted label (positive) or away.")


class PredictionOut(BaseModel):
    text: str
    speaker: str | None
    label: str = Field(examples=["pro"])
    confidence: float = Field(ge=0, le=1)
    probabilities: dict[str, float]
    model_version: str
    explanation: list[Explanation] | None = Field(default=None, description="Only when asked for.")


class BatchResponse(BaseModel):
    predictions: list[PredictionOut]


class QuoteOut(PredictionOut):
    quote: str = Field(description="The words inside the quotation marks.")
    context: str = Field(description="The sentence(s) holding the quote.")
    speaker_role: str | None = Field(examples=["Kremlin spokesman"])
    is_fragment: bool = Field(description="A fragment of reported speech: its context was classified.")
    start: int = Field(description="Offset of the quote in the article text.")
    end: int
    source: str | None
    title: str | None
    date: str | None
    url: str | None


class ExtractResponse(BaseModel):
    quotes: list[QuoteOut]
    article: dict[str, Any] = Field(description="The text the offsets refer to, with title, date and url.")


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    model_version: str


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description="Where the problem is, e.g. ['body', 'text'].")
    msg: str
    type: str


class ErrorBody(BaseModel):
    detail: list[ErrorItem] | str


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong X-API-Key (when the server has one)."},
    413: {"model": ErrorBody, "description": "Request body over the route's limit."},
    422: {"model": ErrorBody, "description": "A field is missing, of the wrong type, or over its limit."},
}


# -- the app ---------------------------------------------------------------------------------
class _Metrics:
    """Prometheus metrics in a registry of this app's own (tests create many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "stance_http_requests_total", "HTTP requests", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "stance_http_request_duration_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.predictions = Counter(
            "stance_predictions_total", "Predictions made, by label", ["label"], registry=self.registry
        )
        self.model = Gauge("stance_model_info", "The loaded model", ["model_version"], registry=self.registry)

    def count_labels(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self.predictions.labels(record["label"]).inc()


def create_app(model_path: str | os.PathLike[str] | None = None, *, api_key: str | None = None) -> FastAPI:
    """The FastAPI app. ``model_path`` defaults to ``$STANCE_MODEL_PATH``, then the shipped model;
    ``api_key`` to ``$STANCE_API_KEY`` (unset: no key needed). The model is loaded by the lifespan,
    so a bad artifact stops start-up with its ModelLoadError."""
    model_path = model_path or os.environ.get("STANCE_MODEL_PATH") or None
    api_key = api_key if api_key is not None else os.environ.get("STANCE_API_KEY") or None
    metrics = _Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model = load_model(model_path)
        app.state.model = model
        app.state.aliases = SpeakerAliases.default()
        metrics.model.labels(model.version).set(1)
        yield

    app = FastAPI(
        title="stance",
        summary="Where does a speaker stand on negotiating? Quotes, speakers and stances.",
        description=(
            "Classify quotes as **pro**- or **anti**-negotiation or **neutral**, and find the quotes "
            "and their speakers in news articles. Limits: a quote up to 20,000 characters, an "
            "article up to 2 MB, a batch up to 1,000 items. When the server has an API key, send it "
            "in `X-API-Key` (all routes but `/health` and `/`)."
        ),
        version=_package_version(),
        lifespan=lifespan,
    )
    _install_error_handlers(app)

    def model_of(request: Request) -> StanceModel:
        return request.app.state.model

    @app.post("/predict", response_model=PredictionOut, responses=ERROR_RESPONSES, tags=["predict"])
    def predict(body: PredictRequest, request: Request) -> Response:
        """Classify one quote (the fast single-quote path)."""
        record = prediction_record(
            model_of(request), body.text, speaker=body.speaker, explain=body.explain,
            aliases=request.app.state.aliases,
        )
        metrics.predictions.labels(record["label"]).inc()
        return _json(record)

    @app.post("/predict/batch", response_model=BatchResponse, responses=ERROR_RESPONSES, tags=["predict"])
    def predict_batch(body: BatchRequest, request: Request) -> Response:
        """Classify up to 1,000 quotes in one vectorised pass."""
        records = prediction_records(
            model_of(request),
            [item.text for item in body.items],
            speakers=[item.speaker for item in body.items],
            explain=body.explain,
            aliases=request.app.state.aliases,
        )
        metrics.count_labels(records)
        return _json({"predictions": records})

    @app.post("/extract", response_model=ExtractResponse, responses=ERROR_RESPONSES, tags=["extract"])
    def extract(body: ExtractRequest, request: Request) -> Response:
        """Find the direct quotes of an article, their speakers and stances."""
        if body.html is not None:
            article = article_from_html(body.html, url=body.url, source=body.url)
        else:
            article = parse_article(body.text or "", source=body.url)
            if body.url and not article.url:
                article = type(article)(**{**_article_fields(article), "url": body.url})
        records = score_article(
            model_of(request), article, aliases=request.app.state.aliases, explain=body.explain
        )
        metrics.count_labels(records)
        return _json({"quotes": records, "article": _article_fields(article)})

    @app.get("/model", tags=["service"], responses=ERROR_RESPONSES)
    def model_card(request: Request) -> dict[str, Any]:
        """The loaded model's card: training data, hyperparameters, cross-validated metrics."""
        return model_of(request).card

    @app.get("/health", response_model=Health, tags=["service"])
    def health(request: Request) -> Response:
        """Liveness: always open, even when an API key is set."""
        return _json({"status": "ok", "model_version": model_of(request).version})

    @app.get("/metrics", tags=["service"], response_class=Response, responses=ERROR_RESPONSES)
    def prometheus() -> Response:
        """Prometheus metrics: requests and latency by route and status, predictions by label."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    app.add_middleware(_Guard, metrics=metrics, api_key=api_key)
    return app


def _article_fields(article: Any) -> dict[str, Any]:
    return {name: getattr(article, name) for name in ("text", "title", "date", "url", "source")}


def _json(content: Any) -> Response:
    return Response(
        json.dumps(content, ensure_ascii=False, allow_nan=False).encode("utf-8", "replace"),
        media_type="application/json",
    )


def _error(status: int, detail: list[dict[str, Any]] | str) -> Response:
    # ASCII-escaped: an error may quote back text that UTF-8 cannot encode.
    body = json.dumps({"detail": detail}, ensure_ascii=True).encode("ascii")
    return Response(body, status_code=status, media_type="application/json")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's default echoes the whole input back (20,000 characters, or an unpaired
        # surrogate that cannot be encoded); name the field and say what was expected instead.
        detail = [
            {
                "loc": [str(part) if not isinstance(part, int) else part for part in error.get("loc", ())],
                "msg": str(error.get("msg", "invalid")),
                "type": str(error.get("type", "value_error")),
            }
            for error in exc.errors()
        ]
        return _error(422, detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = _error(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(StanceError)
    async def stance_error(request: Request, exc: StanceError) -> Response:
        return _error(422, [{"loc": ["body"], "msg": str(exc), "type": "unprocessable"}])


class _Guard:
    """Pure ASGI middleware: API key, body size caps (before the body is read), metrics."""

    def __init__(self, app: ASGIApp, *, metrics: _Metrics, api_key: str | None) -> None:
        self.app = app
        self.metrics = metrics
        self.api_key = api_key.encode() if api_key else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        route = path if path in KNOWN_ROUTES else "unmatched"
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            refusal = self._refusal(scope, path)
            if refusal is None and scope["method"] in ("POST", "PUT", "PATCH"):
                receive, refusal = await self._capped_body(scope, receive, path)
            if refusal is not None:
                await refusal(scope, receive, send_counted)
            else:
                await self.app(scope, receive, send_counted)
        finally:
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)

    def _refusal(self, scope: Scope, path: str) -> Response | None:
        if self.api_key is None or path in OPEN_PATHS:
            return None
        given = b""
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                given = value
                break
        if hmac.compare_digest(given, self.api_key):
            return None
        return _error(401, "missing or wrong X-API-Key header")

    async def _capped_body(
        self, scope: Scope, receive: Receive, path: str
    ) -> tuple[Receive, Response | None]:
        limit = BODY_LIMITS.get(path, DEFAULT_BODY_LIMIT)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return receive, _error(400, "Content-Length is not a number")
                if declared > limit:
                    return receive, _too_large(declared, limit)
                break
        # Read the body here (it is at most `limit` bytes) so a chunked upload without a
        # Content-Length is cut off at the limit too; then hand it to the app unchanged.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return _replay([], disconnected=True), None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return receive, _too_large(size, limit, at_least=True)
            chunks.append(chunk)
            more = message.get("more_body", False)
        return _replay(chunks), None


def _too_large(size: int, limit: int, *, at_least: bool = False) -> Response:
    what = f"at least {size:,}" if at_least else f"{size:,}"
    return _error(
        413,
        [{"loc": ["body"], "msg": f"request body of {what} bytes is over this route's limit of {limit:,} bytes", "type": "too_large"}],
    )


def _replay(chunks: list[bytes], *, disconnected: bool = False) -> Receive:
    body = b"".join(chunks)
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if disconnected or sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _package_version() -> str:
    from stance import __version__

    return __version__
