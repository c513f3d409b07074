"""Turning what an admin typed (a dashboard form or an API body) into a connection's config and secrets.

Built from the provider's ``ProviderSpec`` fields, so every registered provider gets the same checks:
unknown fields are refused, required ones must be present (a saved secret counts), and each kind is
checked (url, email, choice, list, mapping, bool). Errors come back as one ``Invalid`` whose detail maps
each field name to its message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from integrations.spec import Field, ProviderSpec
from meetpilot.errors import Invalid

MAX_TEXT = 2000


def _as_list(field: Field, value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    cleaned = [str(v).strip() for v in items if str(v).strip()]
    bad = [v for v in cleaned if field.choices and v not in field.choices]
    if bad:
        raise ValueError(f"not one of {', '.join(field.choices)}: {', '.join(bad)}")
    return cleaned


def _as_mapping(value: Any) -> dict[str, str]:
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else {}
    if not isinstance(value, dict) or not all(isinstance(v, str | int) for v in value.values()):
        raise ValueError('enter a JSON object of names to values, e.g. {"a": "b"}')
    return {str(k).strip(): str(v).strip() for k, v in value.items()}


def _clean(field: Field, value: Any) -> Any:
    if field.kind == "bool":
        return value in (True, "on", "true", "1", 1)
    if field.kind == "list":
        return _as_list(field, value)
    if field.kind == "mapping":
        return _as_mapping(value)
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError("enter text")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT} characters")
    if text and field.kind == "url":
        URLValidator(schemes=["https", "http"])(text)
    if text and field.kind == "email":
        EmailValidator()(text)
    if text and field.kind == "choice" and text not in field.choices:
        raise ValueError(f"choose one of {', '.join(field.choices)}")
    return text


def connection_values(*, spec: ProviderSpec, config: Mapping[str, Any], secrets: Mapping[str, Any],
                      saved_secrets: list[str]) -> tuple[dict[str, Any], dict[str, str | None]]:
    """(config, secrets) for ``connection_save``; secrets keep the "empty keeps, None clears" rule."""
    by_name = {f.name: f for f in spec.fields}
    errors: dict[str, str] = {}
    for name in [*config, *secrets]:
        field = by_name.get(name)
        if field is None or field.secret != (name in secrets):
            errors[name] = "not a field of this provider" if field is None else "sent in the wrong place"
    clean_config: dict[str, Any] = {}
    for field in (f for f in spec.fields if not f.secret and f.name in config):
        try:
            value = _clean(field, config[field.name])
        except (ValueError, ValidationError) as exc:
            errors[field.name] = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            continue
        if value not in ("", [], {}, None):
            clean_config[field.name] = value
    clean_secrets: dict[str, str | None] = {}
    for field in (f for f in spec.fields if f.secret and f.name in secrets):
        value = secrets[field.name]
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            errors[field.name] = "enter text"
        else:
            clean_secrets[field.name] = value.strip() if isinstance(value, str) else None
    for field in (f for f in spec.fields if f.required and f.name not in errors):
        present = (field.name in clean_config if not field.secret else
                   bool(clean_secrets.get(field.name)) or (field.name in saved_secrets
                                                           and clean_secrets.get(field.name, "") is not None))
        if not present:
            errors[field.name] = "required"
    if errors:
        raise Invalid(errors, code="invalid_settings")
    return clean_config, clean_secrets


def form_values(spec: ProviderSpec, post: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str | None]]:
    """A dashboard form's POST as (config, secrets) input: ``<name>`` boxes, ``<name>__clear`` checkboxes."""
    config = {f.name: post.get(f.name, "") for f in spec.fields if not f.secret}
    secrets: dict[str, str | None] = {f.name: None if post.get(f"{f.name}__clear") else post.get(f.name, "")
                                      for f in spec.fields if f.secret}
    return config, secrets


def config_display(spec: ProviderSpec, config: Mapping[str, Any]) -> dict[str, str]:
    """Each config field as the form shows it again (mappings as JSON, lists comma-separated)."""
    shown: dict[str, str] = {}
    for field in (f for f in spec.fields if not f.secret):
        value = config.get(field.name, "")
        if field.kind == "mapping":
            shown[field.name] = json.dumps(value, indent=1) if value else ""
        elif field.kind == "list":
            shown[field.name] = ", ".join(value or [])
        else:
            shown[field.name] = "" if value is None else str(value)
    return shown
