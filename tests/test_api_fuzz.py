"""Property-based fuzz of the OpenAPI schema: schemathesis generates valid and invalid requests for
every documented operation and checks each answer with its default checks: no 5xx, a documented
status code, a declared content type and headers, a body that matches the declared response
model, invalid data refused and valid data accepted.

The app runs in process with its lifespan (the model is loaded), on the tiny test model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stance.api import create_app

# The schema does not depend on the model (building the app loads nothing: the lifespan does),
# so it is read once here; the requests go to the fixture's app, which has its model loaded.
# (schemathesis.pytest.from_fixture would be the lazy way, but its loader sets the removed
# `Node._nodeid` and fails under pytest 9.)
schema = schemathesis.openapi.from_dict(create_app().openapi())

# Bounded and reproducible: a fixed number of examples per operation, the same ones every run.
FUZZ_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture(scope="module")
def app(tiny_model_path: Path) -> Iterator[FastAPI]:
    app = create_app(tiny_model_path)
    with TestClient(app) as client:  # runs the lifespan: the model is loaded
        assert client.get("/health").status_code == 200
        yield app


@schema.parametrize()
@FUZZ_SETTINGS
def test_no_server_error_and_responses_match_the_schema(
    case: schemathesis.Case, app: FastAPI
) -> None:
    case.call_and_validate(app=app, base_url="http://testserver", timeout=30)


def test_the_fuzzed_schema_is_the_one_served(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.get("/openapi.json").json() == schema.raw_schema


# -- the /predict fast path answers exactly as the FastAPI route would ---------------------------
# _FastPredict serves application/json bodies that validate; any other JSON media type (here
# application/problem+json) goes through FastAPI's own parsing and the route. Same body, same
# answer, whatever the bytes: pydantic's JSON parser must never accept what json.loads would not.
_chars = st.characters(categories=("Lu", "Ll", "Nd", "Po", "Zs", "Cc", "Cs"))
_texts = st.text(_chars, max_size=20)
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=5,
)
_words = st.text(st.characters(categories=("Lu", "Ll", "Nd", "Po")), min_size=1, max_size=30)
_bodies = st.fixed_dictionaries(  # well-formed, as a client would send
    {"text": _words}, optional={"speaker": st.none() | _words, "explain": st.booleans()}
) | st.fixed_dictionaries(  # anything goes
    {"text": _texts | _values},
    optional={"speaker": _texts | _values, "explain": _values, "x": _values},
)


@st.composite
def _raw_bodies(draw: st.DrawFn) -> bytes:
    body = draw(_bodies)
    encoded = json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # now and then a stray byte somewhere
        at = draw(st.integers(0, len(encoded)))
        encoded = encoded[:at] + bytes([draw(st.integers(0, 255))]) + encoded[at:]
    return encoded


EDGE_BODIES = [
    b'{"text": "a", "text": "b"}',
    b'\xef\xbb\xbf{"text": "a"}',
    '{"text": "a"}'.encode("utf-16"),
    b'{"text": "\\ud800"}',
    b'{"text": "\\ud83d\\ude00 ok"}',
    b'{"text": "\xed\xa0\x80"}',
    b'{"text": "a\x01b"}',
    b'{"text": "a", "x": NaN}',
    b'{"text": "a", "x": 1e999}',
    b'{"text": "a", "x": ' + b"9" * 5000 + b"}",
    b'{"text": "a", "x": ' + b"[" * 3000 + b"]" * 3000 + b"}",
    b'{"text": "a", "explain": 1}',
    b'{"text": "a", "speaker": null, "explain": false}',
    b'{"text": "a\\u0000"}',
    b'\x0c{"text": "a"}',
    b"",
]


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _both_ways(client: TestClient, body: bytes) -> None:
    fast = client.post("/predict", content=body, headers={"content-type": "application/json"})
    route = client.post(
        "/predict", content=body, headers={"content-type": "application/problem+json"}
    )
    assert fast.status_code < 500
    assert (fast.status_code, fast.content) == (route.status_code, route.content)


@pytest.mark.parametrize("body", EDGE_BODIES)
def test_fast_path_matches_the_route_on_edge_cases(client: TestClient, body: bytes) -> None:
    _both_ways(client, body)


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(body=_raw_bodies())
def test_fast_path_matches_the_route(client: TestClient, body: bytes) -> None:
    _both_ways(client, body)
