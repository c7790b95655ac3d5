"""The HTTP API of every task, fuzzed from its own OpenAPI schema with schemathesis: no 5xx,
every answer (and its status code) as the schema documents it, malformed requests answered
4xx, and the service still healthy afterwards.

Each operation gets ``EXAMPLES`` schema-valid requests and, where it takes a body,
``EXAMPLES`` schema-breaking ones (schemathesis' negative mode). ``RNNKIT_FUZZ_EXAMPLES``
raises the count for a longer run (docs/reliability.md records one).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

import rnnkit
from rnnkit.serving import ServeLimits, create_app
from tests.reliability.conftest import TASKS

EXAMPLES = int(os.environ.get("RNNKIT_FUZZ_EXAMPLES", "60"))
LIMITS = ServeLimits(max_text_length=50, max_batch_size=4, max_generate_length=20)
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


def fuzz(operation, mode: GenerationMode, statuses: Counter) -> None:

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case) -> None:
        response = case.call()
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)
        # schemathesis' own negative_data_rejection counts 413 (over the limits) as accepting
        if mode == GenerationMode.NEGATIVE:
            assert 400 <= response.status_code < 500, (response.status_code, case.body)

    call()


@pytest.mark.parametrize("task", TASKS)
def test_the_api_answers_every_generated_request_as_documented(task, exported_models):
    app = create_app(rnnkit.load(exported_models[task], runtime="onnx"), "onnx", LIMITS)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    statuses: Counter = Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        fuzz(operation, GenerationMode.POSITIVE, statuses)
        if operation.body:  # an operation without inputs has no malformed request
            fuzz(operation, GenerationMode.NEGATIVE, statuses)
    assert sum(statuses.values()) >= 2 * EXAMPLES
    assert not [code for code in statuses if code >= 500], statuses
    assert statuses[200] > 0 and statuses[422] > 0, statuses
    print(f"{task}: {sum(statuses.values())} requests, status codes {dict(statuses)}")
    healthy = TestClient(app)
    assert healthy.get("/health").json() == {"status": "ok"}
    assert healthy.get("/info").json()["task"] == task
