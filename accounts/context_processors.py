from django.conf import settings
from django.urls import NoReverseMatch, reverse

from accounts.permissions import ROLE_PERMISSIONS

# The product's pages in the sidebar; an entry shows once its app provides the URL.
NAV_ITEMS = [
    ("Meetings", "meetings:list"),
    ("Action items", "meetings:action_items"),
    ("Documents", "knowledge:documents"),
    ("Ask", "knowledge:ask"),
    ("Upload", "uploads:new"),
    ("Search", "intelligence:search"),
    ("Chat", "intelligence:chat"),
    ("Analytics", "intelligence:analytics"),
    ("Prompts", "ai:prompts"),
]


def _nav_items() -> list[dict[str, str]]:
    items = []
    for label, name in NAV_ITEMS:
        try:
            items.append({"label": label, "url": reverse(name)})
        except NoReverseMatch:
            continue
    return items


def principal(request):
    p = getattr(request, "principal", None)
    return {
        "principal": p,
        "perms_for_role": {str(x) for x in ROLE_PERMISSIONS.get(p.role, ())} if p else set(),
        "nav_items": _nav_items() if p else [],
        "google_enabled": bool(settings.GOOGLE_CLIENT_ID),
        "microsoft_enabled": bool(settings.MICROSOFT_CLIENT_ID),
    }
