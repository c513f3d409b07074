"""The OpenAPI schema names every component once: two schema classes with one name would share a
``#/components/schemas/<name>`` and one operation would be documented with the other's shape."""

from __future__ import annotations

import typing
from collections import defaultdict

from pydantic import BaseModel

from meetpilot.api import api


def _models(annotation, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in found:
        found.add(annotation)
        for field in annotation.model_fields.values():
            _models(field.annotation, found)
    for argument in typing.get_args(annotation):
        _models(argument, found)


def test_schema_component_names_are_unique():
    found: set[type[BaseModel]] = set()
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    _models(model, found)
                for model in (operation.response_models or {}).values():
                    _models(model, found)
    by_name: dict[str, set[str]] = defaultdict(set)
    for model in found:
        by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
    assert len(found) > 50
    assert {name: places for name, places in by_name.items() if len(places) > 1} == {}


def test_every_operation_documents_the_shared_errors():
    schema = api.get_openapi_schema()
    assert schema["components"]["schemas"]["ErrorOut"]["required"] == ["detail", "code"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert {"400", "401", "429"} <= set(responses), (method, path)
            if "requestBody" in operation:
                assert {"413", "415", "422"} <= set(responses), (method, path)
            error_ref = {"$ref": "#/components/schemas/ErrorOut"}
            assert responses["429"]["content"]["application/json"]["schema"] == error_ref
    search = schema["paths"]["/api/v1/meetings/search"]["get"]["responses"]["200"]
    assert search["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/MeetingSearchOut"


def test_create_operations_link_to_their_reads():
    paths = api.get_openapi_schema()["paths"]
    links = paths["/api/v1/meetings"]["post"]["responses"]["201"]["links"]
    assert links["meetings_api_meeting_get"] == {"operationId": "meetings_api_meeting_get",
                                                 "parameters": {"meeting_id": "$response.body#/id"}}
    assert "meetings_api_action_item_create" in links  # sub-resources of the created meeting too
    assert "meetings_api_participant_update" not in links  # needs a second id the response lacks
    operation_ids = {op["operationId"] for item in paths.values() for op in item.values()}
    all_links = [link for item in paths.values() for op in item.values() for r in op["responses"].values()
                 for link in r.get("links", {}).values()]
    assert len(all_links) >= 20
    assert {link["operationId"] for link in all_links} <= operation_ids
