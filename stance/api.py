"""The HTTP service: FastAPI routes over the one model loaded at start-up.

This is the only module that knows HTTP status codes. ``create_app`` is the factory (uvicorn runs
it with ``factory=True``); it is also the one place that reads the environment
(``STANCE_MODEL_PATH``, ``STANCE_API_KEY``).

Hard to knock over: request bodies are capped (in size and in time) before they are read, every
field has a limit, and every failure a client can cause is answered with a 4xx and a JSON body
that names the field. Fast where it counts: the guard runs in front of FastAPI (StanceAPI.__call__)
and answers a valid POST /predict itself, without FastAPI's per-request machinery; the route
documents it and answers everything else.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from stance.errors import StanceError
from stance.model import StanceModel, load_model
from stance.quotes import SpeakerAliases, article_from_html, find_attribution, parse_article
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
# They allow for JSON escaping: a character may take 12 bytes (an emoji as \ud83d\ude00), a byte
# of UTF-8 at most 6 (a control character as \u0001).
BODY_LIMITS = {
    "/predict": 12 * MAX_QUOTE_CHARS + 64 * 1024,
    "/predict/batch": 16 * 1024 * 1024,
    "/extract": 6 * MAX_ARTICLE_BYTES + 64 * 1024,
}
DEFAULT_BODY_LIMIT = 64 * 1024
BODY_TIMEOUT = 30.0  # seconds for a whole request body to arrive, then 408
LIMITS = {
    "quote_chars": MAX_QUOTE_CHARS,
    "article_bytes": MAX_ARTICLE_BYTES,
    "batch_items": MAX_BATCH_ITEMS,
    "body_bytes": BODY_LIMITS,
    "body_seconds": BODY_TIMEOUT,
}
ARTICLE_THREADS = 4  # articles extracted at once; more wait their turn
INLINE_CHARS = 500  # a quote up to this long is classified on the event loop, longer in a thread
OPEN_PATHS = frozenset({"/health", "/"})
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CLIENT_GONE = 499  # the metrics' status for a request whose client left before sending its body
KNOWN_ROUTES = frozenset(
    {
        "/",
        "/predict",
        "/predict/batch",
        "/extract",
        "/model",
        "/health",
        "/metrics",
        "/docs",
        "/openapi.json",
        "/docs/oauth2-redirect",
        "/redoc",
    }
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


# What _clean_text enforces, spelt out for the OpenAPI schema so that clients (and fuzzers) can
# tell a blank string or one holding NUL is refused: some character that is not white space
# (Python's str.isspace, listed because regex engines disagree on \s) and no NUL anywhere.
_SPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
TEXT_PATTERN = rf"^[^\u0000]*[^\u0000{_SPACE}][^\u0000]*$"
_TEXT_SCHEMA = {"pattern": TEXT_PATTERN}

QuoteText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_QUOTE_CHARS,
        description=f"The quote to classify, up to {MAX_QUOTE_CHARS:,} characters, not blank.",
        examples=['"We have always been open to talks, but not on those terms," Peskov said.'],
        json_schema_extra=_TEXT_SCHEMA,
    ),
]
Speaker = Annotated[
    str | None,
    Field(
        default=None,
        max_length=MAX_SPEAKER_CHARS,
        description="Who said it. When absent, a speaker named in the text is used.",
        examples=["Dmitry Peskov"],
        json_schema_extra=_TEXT_SCHEMA,
    ),
]


# Request models are strict: a field takes the JSON type the schema gives it, nothing coerced
# (0 or "yes" is not a boolean, 5 is not a speaker).
class PredictRequest(BaseModel):
    """One quote to classify."""

    model_config = ConfigDict(
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "text": "Negotiating now would only reward the aggressor.",
                    "speaker": "Kaja Kallas",
                },
                {
                    "text": '"We are ready for dialogue," the Kremlin spokesman said.',
                    "explain": True,
                },
            ]
        },
    )

    text: QuoteText
    speaker: Speaker = None
    explain: bool = Field(default=False, description="Add the n-grams that drove the label.")

    _check_text = field_validator("text", "speaker")(_clean_text)


class BatchItem(BaseModel):
    model_config = ConfigDict(strict=True)

    text: QuoteText
    speaker: Speaker = None

    _check_text = field_validator("text", "speaker")(_clean_text)


class BatchRequest(BaseModel):
    """Up to 1,000 quotes, classified in one vectorised pass."""

    model_config = ConfigDict(
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "text": "We are ready to talk without preconditions.",
                            "speaker": "A. Minister",
                        },
                        {"text": "Three drones were shot down overnight."},
                    ]
                }
            ]
        },
    )

    items: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)
    explain: bool = False


class ExtractRequest(BaseModel):
    """An article as plain text or as HTML (exactly one of the two)."""

    model_config = ConfigDict(
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "text": "Kremlin spokesman Dmitry Peskov said on Monday that Moscow was "
                    '"open to negotiations". "But Kyiv has to want them too," he added.',
                    "url": "https://example.org/news/1",
                }
            ],
            # Exactly one of the two, as a string (null counts as absent).
            "oneOf": [
                {"required": ["text"], "properties": {"text": {"type": "string"}}},
                {"required": ["html"], "properties": {"html": {"type": "string"}}},
            ],
        },
    )

    text: str | None = Field(
        default=None,
        max_length=MAX_ARTICLE_BYTES,
        description="The article as text (up to 2 MB in UTF-8).",
        json_schema_extra=_TEXT_SCHEMA,
    )
    html: str | None = Field(
        default=None,
        max_length=MAX_ARTICLE_BYTES,
        description="The article as an HTML page (up to 2 MB in UTF-8).",
        json_schema_extra=_TEXT_SCHEMA,
    )
    url: str | None = Field(
        default=None,
        max_length=MAX_URL_CHARS,
        description="Where it came from.",
        json_schema_extra=_TEXT_SCHEMA,
    )
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
    is_fragment: bool = Field(
        description="A fragment of reported speech: its context was classified."
    )
    start: int = Field(description="Offset of the quote in the article text.")
    end: int
    source: str | None
    title: str | None
    date: str | None
    url: str | None


class ArticleOut(BaseModel):
    text: str = Field(description="The article's body text: the quotes' offsets count in it.")
    title: str | None
    date: str | None = Field(description="ISO 8601 when it could be read, else as written.")
    url: str | None
    source: str | None


class ExtractResponse(BaseModel):
    quotes: list[QuoteOut]
    article: ArticleOut


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    model_version: str


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description="Where the problem is, e.g. ['body', 'text'].")
    msg: str
    type: str


class ErrorBody(BaseModel):
    detail: list[ErrorItem] | str


_RESPONSE_DOCS: dict[int, str] = {
    400: "The request cannot be read (a Content-Length that is not a number).",
    408: "The request body did not arrive in time.",
    401: "Missing or wrong X-API-Key (when the server has one).",
    413: "Request body over the route's limit.",
    422: "A field is missing, of the wrong type, or over its limit; or the body is not JSON.",
}


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody, "description": _RESPONSE_DOCS[code]} for code in codes}


# What each kind of route can answer besides its 200 (the guard's refusals, FastAPI's validation).
POST_RESPONSES = _responses(400, 401, 408, 413, 422)
GET_RESPONSES = _responses(401)


# -- the app ---------------------------------------------------------------------------------
class _Metrics:
    """Prometheus metrics in a registry of this app's own (tests create many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "stance_http_requests_total",
            "HTTP requests",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "stance_http_request_duration_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.predictions = Counter(
            "stance_predictions_total",
            "Predictions made, by label",
            ["label"],
            registry=self.registry,
        )
        self.model = Gauge(
            "stance_model_info", "The loaded model", ["model_version"], registry=self.registry
        )

        # labels() costs a lock and a tuple per call: keep the children once made.
        self._requests: dict[tuple[str, str, str], Any] = {}
        self._latency: dict[str, Any] = {}
        self._labels: dict[str, Any] = {}

    def count_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, str(status))
        counter = self._requests.get(key) or self._requests.setdefault(
            key, self.requests.labels(*key)
        )
        counter.inc()
        histogram = self._latency.get(route) or self._latency.setdefault(
            route, self.latency.labels(route)
        )
        histogram.observe(seconds)

    def count_label(self, label: str) -> None:
        counter = self._labels.get(label) or self._labels.setdefault(
            label, self.predictions.labels(label)
        )
        counter.inc()

    def count_labels(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            self.count_label(record["label"])


class StanceAPI(FastAPI):
    """FastAPI with the guard in front: every HTTP request meets _Guard first (key, body caps,
    metrics, the /predict fast path), and only then FastAPI's own machinery."""

    guard: _Guard | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.guard is not None and scope["type"] == "http":
            await self.guard(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def call_inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        """FastAPI's own handling of a request the guard has let through."""
        await super().__call__(scope, receive, send)


def create_app(
    model_path: str | os.PathLike[str] | None = None,
    *,
    api_key: str | None = None,
    body_timeout: float = BODY_TIMEOUT,
) -> FastAPI:
    """The FastAPI app. ``model_path`` defaults to ``$STANCE_MODEL_PATH``, then the shipped model;
    ``api_key`` to ``$STANCE_API_KEY`` (unset: no key needed). A request body that has not fully
    arrived after ``body_timeout`` seconds is answered 408. The model is loaded by the lifespan,
    so a bad artifact stops start-up with its ModelLoadError."""
    model_path = model_path or os.environ.get("STANCE_MODEL_PATH") or None
    api_key = api_key if api_key is not None else os.environ.get("STANCE_API_KEY") or None
    metrics = _Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model = load_model(model_path)
        app.state.model = model
        app.state.aliases = SpeakerAliases.default()
        app.state.article_threads = anyio.CapacityLimiter(ARTICLE_THREADS)
        metrics.model.labels(model.version).set(1)
        # The extractor compiles its larger patterns on first use (~90 ms): pay that here, not in
        # the first request.
        find_attribution('"Ready," the minister said.', aliases=app.state.aliases)
        # The model is a few hundred thousand objects that live as long as the process: out of
        # the garbage collector's sight, a full collection no longer stalls a request for them.
        gc.collect()
        gc.freeze()
        yield

    app = StanceAPI(
        title="stance",
        summary="Where does a speaker stand on negotiating? Quotes, speakers and stances.",
        description=(
            "Classify quotes as **pro**- or **anti**-negotiation or **neutral**, and find the "
            "quotes and their speakers in news articles. Limits: a quote up to 20,000 characters, "
            "an article up to 2 MB, a batch up to 1,000 items. When the server has an API key, "
            "send it in `X-API-Key` (all routes but `/health` and `/`)."
        ),
        version=_package_version(),
        lifespan=lifespan,
    )
    _install_error_handlers(app)

    def model_of(request: Request) -> StanceModel:
        return request.app.state.model

    @app.post("/predict", response_model=PredictionOut, responses=POST_RESPONSES, tags=["predict"])
    async def predict(body: PredictRequest, request: Request) -> Response:
        """Classify one quote (the fast single-quote path)."""
        # Valid requests usually never get here: _FastPredict answers them with the same
        # function. This route answers the rest (422s, odd content types) and documents it.
        return await _predict(request.app.state, body, metrics)

    @app.post(
        "/predict/batch", response_model=BatchResponse, responses=POST_RESPONSES, tags=["predict"]
    )
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

    @app.post(
        "/extract", response_model=ExtractResponse, responses=POST_RESPONSES, tags=["extract"]
    )
    async def extract(body: ExtractRequest, request: Request) -> Response:
        """Find the direct quotes of an article, their speakers and stances."""
        state = request.app.state
        # Articles have worker threads of their own: slow ones wait for each other instead of
        # taking every thread that /predict/batch and long quotes need.
        work = partial(_extract, state, body, metrics)
        return await anyio.to_thread.run_sync(work, limiter=state.article_threads)

    @app.get("/model", tags=["service"], responses=GET_RESPONSES)
    def model_card(request: Request) -> dict[str, Any]:
        """The loaded model's card: training data, hyperparameters, cross-validated metrics."""
        return model_of(request).card

    @app.get("/health", response_model=Health, tags=["service"])
    async def health(request: Request) -> Response:  # async: answers even when threads are busy
        """Liveness: always open, even when an API key is set."""
        return _json({"status": "ok", "model_version": model_of(request).version})

    @app.get("/metrics", tags=["service"], response_class=Response, responses=GET_RESPONSES)
    def prometheus() -> Response:
        """Prometheus metrics: requests and latency by route and status, predictions by label."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    app.guard = _Guard(
        app.call_inner,
        metrics=metrics,
        api_key=api_key,
        body_timeout=body_timeout,
        fast_predict=partial(_fast_predict, app.state, metrics),
    )
    return app


def _inline(body: PredictRequest) -> bool:
    """Whether a quote is classified right on the event loop (a short one, not to be explained:
    tens of microseconds, less than the hop to a worker thread) rather than in the thread pool,
    where a long one cannot stall other requests."""
    return len(body.text) <= INLINE_CHARS and not body.explain


def _predict_record(state: Any, metrics: _Metrics, body: PredictRequest) -> dict[str, Any]:
    record = prediction_record(
        state.model, body.text, speaker=body.speaker, explain=body.explain, aliases=state.aliases
    )
    metrics.count_label(record["label"])
    return record


async def _predict(state: Any, body: PredictRequest, metrics: _Metrics) -> Response:
    """POST /predict's answer through the FastAPI route."""
    work = partial(_predict_record, state, metrics, body)
    return _json(work() if _inline(body) else await run_in_threadpool(work))


def _fast_predict(state: Any, metrics: _Metrics, body: bytes) -> bytes | None:
    """POST /predict's answer, as JSON bytes, when ``body`` is a valid request to classify on the
    event loop (`_inline`): the common case, answered without FastAPI. None for anything else
    (not JSON, a field the model refuses, a long quote, ``explain``): the FastAPI route answers
    those, so every error keeps one shape. Pydantic's JSON parser accepts less than
    ``json.loads`` (no NaN, no lone surrogates), never more that matters: what it refuses is
    left to the route (tests/test_api_fuzz.py checks this)."""
    try:
        request = PredictRequest.model_validate_json(body)
    except ValidationError:
        return None
    if not _inline(request):
        return None
    try:
        return _dumps(_predict_record(state, metrics, request))
    except StanceError:  # the route's exception handler gives it its 422
        return None


def _extract(state: Any, body: ExtractRequest, metrics: _Metrics) -> Response:
    """POST /extract's answer (in a worker thread)."""
    if body.html is not None:
        article = article_from_html(body.html, url=body.url, source=body.url)
    else:
        article = parse_article(body.text or "", source=body.url)
        if body.url and not article.url:
            article = type(article)(**{**_article_fields(article), "url": body.url})
    records = score_article(state.model, article, aliases=state.aliases, explain=body.explain)
    metrics.count_labels(records)
    return _json({"quotes": records, "article": _article_fields(article)})


def _article_fields(article: Any) -> dict[str, Any]:
    return {name: getattr(article, name) for name in ("text", "title", "date", "url", "source")}


def _dumps(content: Any) -> bytes:
    try:
        return orjson.dumps(content)
    except TypeError:  # text orjson will not encode (an unpaired surrogate): the slow, lenient way
        return json.dumps(content, ensure_ascii=False).encode("utf-8", "replace")


def _json(content: Any) -> Response:
    return Response(_dumps(content), media_type="application/json")


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
                "loc": [
                    str(part) if not isinstance(part, int) else part
                    for part in error.get("loc", ())
                ],
                "msg": str(error.get("msg", "invalid")),
                "type": str(error.get("type", "value_error")),
            }
            for error in exc.errors()
        ]
        return _error(422, detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
            # FastAPI's answer to a body json.loads cannot take for a reason other than syntax
            # (not UTF-8, nested too deep, an integer of more than 4,300 digits): a 400 naming no
            # field. It is malformed JSON like any other: the same 422 as a syntax error.
            detail = [
                {
                    "loc": ["body"],
                    "msg": f"the body is not valid JSON: {exc.__cause__}",
                    "type": "json_invalid",
                }
            ]
            return _error(422, detail)
        response = _error(exc.status_code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(StanceError)
    async def stance_error(request: Request, exc: StanceError) -> Response:
        return _error(422, [{"loc": ["body"], "msg": str(exc), "type": "unprocessable"}])


class _Guard:
    """In front of FastAPI: API key, body size caps and a time limit (before the app sees the
    body), metrics, and the fast path of POST /predict."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: _Metrics,
        api_key: str | None,
        body_timeout: float,
        fast_predict: Callable[[bytes], bytes | None],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.api_key = api_key.encode() if api_key else None
        self.body_timeout = body_timeout
        self.fast_predict = fast_predict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        method = scope["method"]
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            refusal = self._refusal(scope, path)
            if refusal is None and method in ("POST", "PUT", "PATCH"):
                body = await self._capped_body(scope, receive, path)
                if body is None:
                    status = CLIENT_GONE
                    return
                if isinstance(body, Response):
                    refusal = body
                else:
                    receive = _replay(body, receive)
            if refusal is not None:
                await refusal(scope, receive, send_counted)
            elif (
                path == "/predict"
                and method == "POST"
                and _is_json(scope)
                and (answer := self.fast_predict(body)) is not None
            ):
                await send_counted(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(answer)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": answer})
            else:
                await self.app(scope, receive, send_counted)
        finally:
            # Labels from a closed set: made-up paths or methods cannot grow the registry.
            self.metrics.count_request(
                path if path in KNOWN_ROUTES else "unmatched",
                method if method in KNOWN_METHODS else "other",
                status,
                time.perf_counter() - started,
            )

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
    ) -> bytes | Response | None:
        """The whole body; or a refusal (too large, too slow); or None when the client left."""
        limit = BODY_LIMITS.get(path, DEFAULT_BODY_LIMIT)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return _error(
                        400,
                        [
                            {
                                "loc": ["header", "content-length"],
                                "msg": "not a number",
                                "type": "int_parsing",
                            }
                        ],
                    )
                if declared > limit:
                    return _too_large(declared, limit)
                break
        # Read the body here (it is at most `limit` bytes) so a chunked upload without a
        # Content-Length is cut off at the limit too, and a client that stops half-way through
        # is answered instead of holding the request open; then hand it to the app unchanged.
        chunks: list[bytes] = []
        size = 0
        more = True
        try:
            async with asyncio.timeout(self.body_timeout):
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        return _too_large(size, limit, at_least=True)
                    chunks.append(chunk)
                    more = message.get("more_body", False)
        except TimeoutError:
            msg = f"the body did not arrive within {self.body_timeout:g} s ({size:,} bytes came)"
            return _error(408, [{"loc": ["body"], "msg": msg, "type": "timeout"}])
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(size: int, limit: int, *, at_least: bool = False) -> Response:
    what = f"at least {size:,}" if at_least else f"{size:,}"
    return _error(
        413,
        [
            {
                "loc": ["body"],
                "msg": f"request body of {what} bytes is over the route's limit of {limit:,} bytes",
                "type": "too_large",
            }
        ],
    )


def _is_json(scope: Scope) -> bool:
    """Whether the Content-Type is application/json (what FastAPI parses as JSON, less +json)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.partition(b";")[0].strip().lower() == b"application/json"
    return False


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, as one message; then the client's own channel (for disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _package_version() -> str:
    from stance import __version__

    return __version__
