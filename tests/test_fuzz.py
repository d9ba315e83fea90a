"""API fuzzing (issue #9): schemathesis generates requests from the app's own OpenAPI description
(every operation, a bounded number of examples each) and checks that none is answered with a
server error and that every documented answer matches its declared schema."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from server.app import create_app  # noqa: E402
from server.config import REPO_ROOT, Settings  # noqa: E402


@schemathesis.serializer("application/sparql-query")
def _sparql_query(ctx, value):  # type: ignore[no-untyped-def]
    """The direct POST of the SPARQL protocol: the query text as the body."""
    return value.encode("utf-8") if isinstance(value, str) else str(value).encode("utf-8")


EXPORTS = Path(tempfile.mkdtemp(prefix="romagraph-fuzz-export-"))
APP = create_app(Settings(root=REPO_ROOT, validate_on_start=False, query_timeout=2.0,
                          query_workers=1, export_dir=EXPORTS))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_api_operations(case):  # type: ignore[no-untyped-def]
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
