"""Outgoing URLs that admins type in (webhook endpoints, Slack incoming webhooks) must not reach inside.

A URL is refused when its host is this server itself (``SITE_URL``'s host, ``ALLOWED_HOSTS``) or when any
address it resolves to is loopback, private, link-local (cloud metadata at 169.254.169.254), shared, multicast,
reserved or unspecified, unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` is on (self-hosted installs that post to
their own network, and the tests, which receive on 127.0.0.1). The check runs when the URL is saved and again
before every request, since a name can resolve differently later; redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from meetpilot.errors import Invalid


class UnsafeTarget(Invalid):
    """This address is not allowed as a destination."""

    code = "unsafe_url"


def _own_hosts() -> set[str]:
    hosts = {urlsplit(settings.SITE_URL).hostname or ""}
    hosts.update(h.lstrip(".") for h in settings.ALLOWED_HOSTS if h and h != "*")
    return {h.lower() for h in hosts if h}


def _is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_reserved or address.is_unspecified
            or (isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network("100.64.0.0/10")))


def url_check(url: str, *, resolve: bool = True) -> str:
    """The URL if it may be called from the server; raises ``UnsafeTarget`` with a reason an admin reads."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget("Enter a valid URL.") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeTarget("The URL must start with https:// (or http://) and name a host.")
    if parts.username or parts.password:
        raise UnsafeTarget("Put credentials in the signing secret, not in the URL.")
    if getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False):
        return url.strip()
    host = parts.hostname.lower().rstrip(".")
    if host in _own_hosts() or host == "localhost" or host.endswith(".localhost"):
        raise UnsafeTarget("The URL points at this server itself.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    elif resolve:
        try:
            infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UnsafeTarget(f"The host {host} cannot be resolved.") from exc
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    else:
        addresses = []
    if any(_is_internal(a) for a in addresses):
        raise UnsafeTarget(f"The host {host} is a private or internal address, which webhooks may not reach.")
    return url.strip()
