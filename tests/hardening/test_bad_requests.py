"""Every bad request to the API is a 4xx with the JSON error body, on every operation of the schema.

The operations are read from the live OpenAPI schema, so an endpoint added later is covered too.
Ids in paths point at nothing (a 404 comes after the body is read, so body errors still show).
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from meetpilot.api import api

pytestmark = pytest.mark.django_db

SCHEMA = api.get_openapi_schema()
OPERATIONS = [
    (method.upper(), re.sub(r"\{[^}]+\}", "1", path), next(iter(op.get("requestBody", {}).get("content", {})), None))
    for path, ops in SCHEMA["paths"].items() for method, op in ops.items()
]
WRITES = [op for op in OPERATIONS if op[0] in ("POST", "PATCH", "PUT")]
READS = [op for op in OPERATIONS if op[0] == "GET"]


def _ids(ops):
    return [f"{method} {path}" for method, path, _ in ops]


def _assert_error(response, *statuses: int) -> dict:
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"detail", "code"}, body
    assert body["detail"] and isinstance(body["code"], str)
    return body


def _send(client: Client, method: str, path: str, body: bytes, content_type: str, **extra):
    return client.generic(method, path, data=body, content_type=content_type, **extra)


NO_BOUNDARY = ("multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=" + "x" * 300)


@pytest.mark.parametrize(("method", "path", "reads"), WRITES, ids=_ids(WRITES))
def test_bad_bodies_are_4xx(admin, settings, method, path, reads):
    client = admin.api()

    # multipart/form-data without a (valid) boundary: 400 before anything reads the body
    for content_type in NO_BOUNDARY:
        body = _assert_error(_send(client, method, path, b"--x\r\n\r\n", content_type), 400)
        assert body["code"] == "bad_request"
        assert "multipart" in body["detail"]

    # invalid UTF-8 in a JSON body
    response = _send(client, method, path, b'{"title": "\xff\xfe caf\xe9", "name": "\xc3("}', "application/json")
    if reads == "application/json":
        assert _assert_error(response, 400)["code"] == "bad_request"
    elif reads == "multipart/form-data":
        assert _assert_error(response, 415)["code"] == "unsupported_media_type"
    else:  # the operation reads no body
        assert response.status_code < 500

    # a content type the operation does not read
    response = _send(client, method, path, b"<meeting><title>x</title></meeting>", "application/xml")
    if reads is None:
        assert response.status_code < 500
    else:
        body = _assert_error(response, 415)
        assert body["code"] == "unsupported_media_type"
        assert reads in body["detail"]

    # too many form fields
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fields = "&".join(f"f{i}=v" for i in range(50)).encode()
    response = _send(client, method, path, fields, "application/x-www-form-urlencoded")
    if reads == "multipart/form-data":
        assert _assert_error(response, 400)["code"] == "too_many_fields"
    elif reads == "application/json":
        assert _assert_error(response, 415)["code"] == "unsupported_media_type"
    else:
        assert response.status_code < 500

    # a body over DATA_UPLOAD_MAX_MEMORY_SIZE
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = _send(client, method, path, b'{"title": "' + b"x" * 2000 + b'"}', "application/json")
    assert _assert_error(response, 413)["code"] == "too_large"


@pytest.mark.parametrize("path", ["/api/v1/documents", "/api/v1/meetings/upload", "/api/v1/meetings/import"])
def test_upload_with_bad_form_fields_is_4xx(admin, settings, path):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    client = admin.api()
    # Invalid UTF-8 in a form field is decoded with replacement characters: the request is only missing its file.
    field = b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\n\xff\xfe\r\n--b--\r\n'
    assert _assert_error(_send(client, "POST", path, field, "multipart/form-data; boundary=b"), 422)
    # A body that does not decode (base64 transfer encoding with garbage).
    garbage = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
               b"Content-Transfer-Encoding: base64\r\n\r\n@@@!!\r\n--b--\r\n")
    assert _assert_error(_send(client, "POST", path, garbage, "multipart/form-data; boundary=b"), 400, 422)
    many = b"".join(
        b'--b\r\nContent-Disposition: form-data; name="file%d"; filename="a%d.txt"\r\n\r\nhello\r\n' % (i, i)
        for i in range(5)) + b"--b--\r\n"
    body = _assert_error(_send(client, "POST", path, many, "multipart/form-data; boundary=b"), 400)
    assert body["code"] == "too_many_files"


def test_bad_content_length_is_400(admin):
    for length in ("twelve", "\u00b2", "-1", "1e3"):
        response = _send(admin.api(), "POST", "/api/v1/meetings", b'{"title": "x"}', "application/json",
                         CONTENT_LENGTH=length)
        assert _assert_error(response, 400)["code"] == "bad_request"



@pytest.mark.parametrize(("method", "path", "reads"), READS, ids=_ids(READS))
def test_bad_percent_encoding_in_query_is_not_a_server_error(admin, method, path, reads):
    query = "q=%ff%fe%zz&question=%c3&page=%ff&page_size=%&mode=%e2%82"
    response = admin.api().get(f"{path}?{query}")
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        _assert_error(response, response.status_code)


def test_unsupported_method_answers_json_405(admin):
    response = admin.api().put("/api/v1/meetings", data=b"{}", content_type="application/json")
    assert _assert_error(response, 405)["code"] == "method_not_allowed"
    assert "GET" in response["Allow"] and "POST" in response["Allow"]


def test_json_endpoints_still_read_json(admin):
    client = admin.api()
    created = client.post("/api/v1/meetings", data={"title": "Budget review"}, content_type="application/json")
    assert created.status_code == 201, created.content
    untyped = client.generic("POST", "/api/v1/meetings", data=b'{"title": "Untyped"}', content_type="")
    assert untyped.status_code == 201, untyped.content
    assert client.get("/api/v1/meetings").json()["count"] == 2


def test_dashboard_multipart_without_boundary_is_400_not_500(admin):
    response = admin.browser().generic("POST", "/documents/", data=b"x", content_type="multipart/form-data")
    assert response.status_code == 400
    assert b"multipart" in response.content
