"""The one permission table. Dashboard, API and WebSocket all ask ``has_perm``/``require``."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from accounts.models import Role

if TYPE_CHECKING:
    from accounts.auth import Principal


class Perm(StrEnum):
    VIEW = "view"  # read meetings, transcripts, documents, analytics
    MEETING_EDIT = "meeting.edit"  # create, edit, start, end, upload meetings; stream captions
    DOCUMENT_EDIT = "document.edit"  # upload, re-index, delete documents
    ACTION_ITEM_EDIT = "action_item.edit"  # edit any action item
    ACTION_ITEM_EDIT_OWN = "action_item.edit_own"  # edit action items assigned to you
    ASK = "ask"  # ask questions of the knowledge base and of meetings
    TOKENS_OWN = "tokens.own"  # manage your own API tokens
    MEMBERS_MANAGE = "members.manage"  # invite, change roles, remove members
    INTEGRATIONS_MANAGE = "integrations.manage"
    SETTINGS_MANAGE = "settings.manage"  # company settings, prompts, AI providers
    DATA_MANAGE = "data.manage"  # retention, the audit log, other people's data export and erasure


_MEMBER = {Perm.VIEW, Perm.ACTION_ITEM_EDIT_OWN, Perm.ASK, Perm.TOKENS_OWN}
_MANAGER = _MEMBER | {Perm.MEETING_EDIT, Perm.DOCUMENT_EDIT, Perm.ACTION_ITEM_EDIT}
_ADMIN = set(Perm)

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.MEMBER: frozenset(_MEMBER),
    Role.MANAGER: frozenset(_MANAGER),
    Role.ADMIN: frozenset(_ADMIN),
}


def role_has_perm(role: str, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())


def has_perm(principal: Principal | None, perm: Perm) -> bool:
    return principal is not None and role_has_perm(principal.role, perm)


def require(principal: Principal | None, perm: Perm) -> None:
    """Raise PermissionDenied (403) unless the principal's role grants ``perm``."""
    if not has_perm(principal, perm):
        raise PermissionDenied(f"Your role does not allow this ({perm}).")


def can_edit_action_item(principal: Principal | None, *, assignee_user_id: int | None) -> bool:
    """Managers and admins edit any action item; members only those assigned to them."""
    if has_perm(principal, Perm.ACTION_ITEM_EDIT):
        return True
    return (
        has_perm(principal, Perm.ACTION_ITEM_EDIT_OWN)
        and assignee_user_id is not None
        and principal is not None
        and assignee_user_id == principal.user.pk
    )
