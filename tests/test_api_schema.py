"""Property-based run of the REST API against its own OpenAPI schema (schemathesis): for requests
generated from the schema, valid and invalid, no response is a server error, and every response
matches its documented status codes, content type and schema."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from tabayyun.ingest import ingest
from tabayyun.store import open_storage
from tabayyun.web import create_app

from conftest import Workspaces

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# The schema does not depend on the data: the app opens an empty workspace when this module is collected
# and `sample_workspace` fills it before the first generated request (schemathesis's lazy fixture
# loader does not work with this pytest).
WORKSPACES = Workspaces()
FOLDER = Path(tempfile.mkdtemp(prefix="tabayyun-schema-"))
WORKSPACE = WORKSPACES.new(FOLDER, "run")
APP = create_app(WORKSPACE, token="")
# Fetching URLs is tested against a real server in test_api.py; generated hosts lead nowhere here.
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP).exclude(path="/api/v1/ingest/urls")


@pytest.fixture(scope="module", autouse=True)
def sample_workspace(sample_dir):
    storage = open_storage(WORKSPACE)
    if not storage.count():
        ingest(storage, [str(sample_dir)], workers=1, embed=False)
    storage.close()
    yield
    APP.state.jobs.close()
    APP.state.pool.close()
    WORKSPACES.drop_all()
    shutil.rmtree(FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          phases=[Phase.explicit, Phase.generate])
def test_api_conforms_to_its_schema(case):
    case.call_and_validate(checks=CHECKS)


def test_schema_documents_every_route(workspace_address):
    app = create_app(workspace_address("empty"), token="")
    paths = app.openapi()["paths"]
    expected = {"/health", "/jobs/{job_id}", "/documents", "/documents/{doc_id}", "/search", "/entities",
                "/quotes", "/stories", "/stories/{story_id}", "/timeline", "/duplicates", "/sources",
                "/sources/{outlet}", "/ingest/files", "/ingest/records", "/ingest/urls", "/check", "/export",
                "/claimreview", "/report"}
    assert {f"/api/v1{p}" for p in expected} <= paths.keys()
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("description"), f"{method.upper()} {path} is not documented"
