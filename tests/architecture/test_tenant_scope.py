"""The tenant scope is switched on in a few named places only (see accounts/tenancy.py).

Everything else runs in its caller's scope: services take the company, assert that the rows they
were handed belong to it and read through ``Model.objects.for_company(company)``. The same goes
for ``scopes_disabled()``: looking across companies happens in a short, named list of places.
"""

from __future__ import annotations

import ast
import fnmatch

import pytest

from accounts import tenancy
from tests.architecture._source import parse, project_files

# Where ``tenant_scope(...)`` may be called, and why.
TENANT_SCOPE_PLACES = {
    "accounts/middleware.py": "each HTTP request (TenantMiddleware)",
    "accounts/tenancy.py": "the definition, and TenantTask: each Celery task",
    "meetings/consumers.py": "each WebSocket connection, from connect",
    "meetings/live/runner.py": "the live analysis job runner, the in-process analogue of TenantTask",
    "ai/sse.py": "streamed responses, iterated after the middleware has returned",
    "workflows/hooks.py": "inbound provider webhooks: the verified path names the company, as a token does",
    "integrations/webhooks/receivers.py": "company event receivers: they run at commit, when the publisher's scope "
                                          "may have closed; the event names its company",
    "workflows/receivers.py": "company event receivers: they run at commit, when the publisher's scope may have "
                              "closed; the event names its company",
}
# Documented bypasses: code that runs outside any request, task or connection on purpose.
BYPASSES = {
    "*/management/commands/*": "management commands",
    "meetings/demo.py": "demo seeding (receivers of the seed_demo command)",
    "knowledge/demo.py": "demo seeding (receivers of the seed_demo command)",
    "bench/*": "benchmark scripts",
    "eval/*": "evaluation scripts",
    "tests/*": "tests",
}
# Where ``scopes_disabled()`` may be called besides the bypasses above, and why.
SCOPES_DISABLED_PLACES = {
    "accounts/tenancy.py": "the definition",
    "accounts/auth.py": "token lookup and a user's memberships: the credential names the company",
    "accounts/selectors.py": "a user's companies span companies by design",
    "accounts/services.py": "joining a company before any scope exists (membership_add, invitation links)",
    "knowledge/services.py": "chunks_reembed: maintenance over every company",
    "meetings/live/backlog.py": "meetings_lagging: ids of meetings whose live analysis no process holds (the sweep)",
}


def calls_to(tree: ast.AST, name: str) -> list[int]:
    """Line numbers of calls to ``name(...)`` or ``anything.name(...)``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if called == name:
                lines.append(node.lineno)
    return sorted(lines)


def allowed(path: str, places: dict[str, str]) -> bool:
    return path in places or any(fnmatch.fnmatch(path, pattern) for pattern in BYPASSES)


def violations(name: str, places: dict[str, str]) -> list[str]:
    found = []
    for path, file in project_files():
        if "/migrations/" in path or path.startswith("tests/architecture/"):
            continue
        source = file.read_text(encoding="utf-8")
        if name not in source or allowed(path, places):
            continue
        found += [f"{path}:{line}" for line in calls_to(ast.parse(source, filename=path), name)]
    return found


# --- the checker itself --------------------------------------------------------------------------

SNIPPET = '''
from accounts import tenancy
from accounts.tenancy import tenant_scope

def tenant_scope_help():  # a definition is not a call
    "tenant_scope(company) in a docstring is not a call either"

def work(company):
    with tenant_scope(company):
        pass
    with tenancy.tenant_scope(company.pk), other():
        pass
    return tenant_scope
'''


def test_the_checker_finds_calls_by_name_and_by_attribute_and_nothing_else():
    assert calls_to(ast.parse(SNIPPET), "tenant_scope") == [9, 11]
    assert calls_to(ast.parse(SNIPPET), "other") == [11]
    assert calls_to(ast.parse("x = 'tenant_scope(1)'  # tenant_scope(2)"), "tenant_scope") == []


@pytest.mark.parametrize(("path", "expected"), [
    ("accounts/middleware.py", True),
    ("knowledge/management/commands/knowledge_reembed.py", True),
    ("meetings/live/runner.py", True),
    ("tests/meetings/factories.py", True),
    ("bench/live.py", True),
    ("meetings/live/session.py", False),
    ("knowledge/services.py", False),
    ("accounts/services.py", False),
    ("meetings/demo_extra.py", False),
])
def test_the_allowed_list_matches_paths_exactly(path, expected):
    assert allowed(path, TENANT_SCOPE_PLACES) is expected


def test_the_checker_walks_the_project():
    paths = {path for path, _ in project_files()}
    assert {"accounts/tenancy.py", "meetings/live/runner.py", "tests/conftest.py"} <= paths
    assert not any(path.startswith((".venv/", "var/")) for path in paths)
    # The definition and the middleware are seen, and are allowed.
    assert calls_to(parse(next(f for p, f in project_files() if p == "accounts/middleware.py")), "tenant_scope")


def test_tenancy_docstring_names_every_allowed_place():
    doc = tenancy.__doc__ or ""
    missing = [place for place in [*TENANT_SCOPE_PLACES, *BYPASSES, *SCOPES_DISABLED_PLACES]
               if place.rstrip("*").rstrip("/") not in doc]
    assert missing == [], f"accounts/tenancy.py's docstring does not name: {missing}"


# --- the rule ---------------------------------------------------------------------------------------


def test_tenant_scope_is_switched_on_only_in_the_allowed_places():
    found = violations("tenant_scope", TENANT_SCOPE_PLACES)
    assert found == [], (
        "tenant_scope(...) called outside the allowed places (services run in their caller's scope; "
        f"see accounts/tenancy.py): {found}"
    )


def test_scopes_are_disabled_only_in_the_documented_places():
    found = violations("scopes_disabled", SCOPES_DISABLED_PLACES)
    assert found == [], f"scopes_disabled() outside the documented places (accounts/tenancy.py): {found}"


# Where an unnarrowed ``scopes_disabled()`` (the database's maintenance role: every company's rows,
# accounts/rls.py) may be called besides the bypasses; everywhere else the block names what it looks
# for (``user_id=`` or ``token_hash=``) and row-level security admits only those rows.
MAINTENANCE_PLACES = {
    "accounts/tenancy.py": "the definition",
    "knowledge/services.py": "chunks_reembed: maintenance over every company",
    "meetings/live/backlog.py": "meetings_lagging: ids of meetings whose owed analysis nobody holds, any company",
}


def unnarrowed_calls(tree: ast.AST) -> list[int]:
    return sorted(node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
                  and getattr(node.func, "id", getattr(node.func, "attr", None)) == "scopes_disabled"
                  and not node.keywords)


def test_the_checker_tells_narrowed_from_unnarrowed_blocks():
    tree = ast.parse("with scopes_disabled():\n    pass\nwith tenancy.scopes_disabled(user_id=1):\n    pass\n"
                     "with scopes_disabled(token_hash=h):\n    pass\n")
    assert unnarrowed_calls(tree) == [1]


def test_lookups_across_companies_name_what_they_look_for():
    found = []
    for path, file in project_files():
        if "/migrations/" in path or path.startswith("tests/") or allowed(path, MAINTENANCE_PLACES):
            continue
        source = file.read_text(encoding="utf-8")
        if "scopes_disabled" in source:
            found += [f"{path}:{line}" for line in unnarrowed_calls(ast.parse(source, filename=path))]
    assert found == [], (
        "scopes_disabled() without user_id= or token_hash= runs as the maintenance role and sees every "
        f"company; name what the block looks for (accounts/tenancy.py): {found}"
    )
