"""The OpenAPI document is the contract: schemathesis generates requests for every operation
from it — valid ones, and ones that break it — with and without the registry owner's
token, against an app serving a real release and the demo unit registry, and checks every
answer: no server error, the status, content type, headers and body as documented,
requests that break the schema refused, a 405 naming the methods of the path, and a hint
in every problem.

Bounded: a few examples per operation (``EXAMPLES``) plus schemathesis' coverage cases
(boundary values, missing and wrong types, undeclared methods), one test per operation so
pytest-xdist spreads them.

One check is left out, on purpose: ``positive_data_acceptance`` expects every request the
schema allows to succeed, but the server also checks what a schema cannot say — that a
takstkode or kommune exists, that a unit may move under another, that a change is not
empty — and answers those with 400 or 404 problems (which the other checks still look at).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from helsestat.api import create_app
from helsestat.reference.units import SYSTEM
from helsestat.reference.units.auth import create_user
from helsestat.settings import Settings
from helsestat.store.db.database import create_engine_for, migrate, session_factory
from helsestat.synth.units import load_demo
from lakes import claims_release

EXAMPLES = 5


def problem_has_a_hint(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every error answer is a problem with a non-empty hint."""
    if response.status_code < 400:
        return None
    assert response.headers.get("content-type", [""])[0].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body.get("hint"), f"{response.status_code} {body.get('code')}: no hint"
    assert body["status"] == response.status_code
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
    problem_has_a_hint,
]

# The schema is read from an app with no data: it does not depend on what is published.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    schema = schemathesis.openapi.from_dict(create_app(Settings(demo_mode=True)).openapi())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    """An app with a release from synthetic claims and the demo unit registry, and the
    registry owner's token (module scope: each xdist worker builds its own)."""
    root = tmp_path_factory.mktemp("schemathesis")
    lake = claims_release(root, rows=3000, seed=12)
    url = f"sqlite:///{(root / 'reference.db').as_posix()}"
    engine = create_engine_for(url)
    migrate(engine)
    with session_factory(engine).begin() as session:
        load_demo(session, seed=12, hf_limit=3, lan_limit=1)
        token = create_user(session, SYSTEM, "nhn-owner", "owner", None, log2_n=10).token
    engine.dispose()
    settings = Settings(
        demo_mode=True,
        data_dir=lake.root,
        database_url=url,
        auth_failure_limit=1000,  # the cases without a valid token must not lock the others out
    )
    yield create_app(settings), token


@pytest.fixture(params=["anonymous", "owner"])
def headers(request: pytest.FixtureRequest, served: tuple[FastAPI, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {served[1]}"} if request.param == "owner" else {}


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_answers_as_documented(
    case: Case, served: tuple[FastAPI, str], headers: dict[str, str]
) -> None:
    app, _ = served
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)
