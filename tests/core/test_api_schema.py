"""The OpenAPI schema documents the errors every operation gives, and /api/docs works under our CSP."""

import re

import pytest

from apps.core.apicontract import ERROR_SCHEMA_NAME

ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}


@pytest.fixture
def openapi(client, db):
    return client.get("/api/openapi.json").json()


def operations(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_it_defines_one_error_shape(openapi):
    error = openapi["components"]["schemas"][ERROR_SCHEMA_NAME]
    assert error["required"] == ["message", "extra"]
    assert error["properties"]["message"]["type"] == "string"
    assert error["properties"]["extra"]["type"] == "object"


def test_it_documents_the_4xx_each_operation_can_give(openapi):
    for method, path, operation in operations(openapi):
        responses = operation["responses"]
        label = f"{method.upper()} {path}"
        expected = {"400"}
        if operation.get("security"):
            expected |= {"401", "403", "404"}
        if operation.get("parameters") or "requestBody" in operation:
            expected.add("422")
        if "requestBody" in operation:
            expected |= {"413", "415"}
        assert expected <= set(responses), f"{label} documents {sorted(responses)}"
        for status in expected:
            content = responses[status].get("content", {}).get("application/json", {})
            assert content.get("schema") == ERROR_REF, f"{label} {status}"


def test_it_keeps_a_402_an_operation_declares_and_adds_the_rest():
    from ninja import NinjaAPI, Schema

    from apps.accounts.auth import BearerTokenAuth
    from apps.core.apicontract import ErrorOut, document_error_responses

    class Started(Schema):
        job_id: int

    api = NinjaAPI(urls_namespace="test-402", auth=[BearerTokenAuth()])

    @api.post("/work/{id}/", response={202: Started, 402: ErrorOut})
    def start_work(request, id: int):
        return 202, {"job_id": id}

    schema = document_error_responses(api.get_openapi_schema(path_prefix="/"))
    responses = schema["paths"]["/work/{id}/"]["post"]["responses"]
    assert {"202", "400", "401", "402", "403", "404", "409", "422"} == {str(status) for status in responses}
    for status in ("402", "400", "404"):
        assert responses[int(status)]["content"]["application/json"]["schema"] == ERROR_REF


def test_it_documents_the_entry_fields_and_their_decimal_strings(openapi):
    entry = openapi["components"]["schemas"]["EntryOut"]["properties"]
    for name in ("metric_value", "metric_before", "metric_after"):
        text = next(option for option in entry[name]["anyOf"] if option.get("type") == "string")
        assert text["pattern"].startswith("^-?[0-9]")
    assert entry["evidence"]["type"] == "array"
    evidence = openapi["components"]["schemas"]["EvidenceOut"]["properties"]
    assert {"kind", "title", "url", "size_bytes", "content_type"} <= set(evidence)


def test_it_serves_the_docs_from_our_own_static_files_under_a_strict_csp(client, db):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page and "/static/ninja/swagger-ui.css" in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page
    # Every script is a file from our origin, or a JSON data block: nothing for the CSP to block.
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S):
        assert 'src="/static/' in attributes or 'type="application/json"' in attributes, attributes
        assert 'type="application/json"' in attributes or not body.strip()
    assert "script-src 'self';" in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
