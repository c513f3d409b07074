"""The Chrome extension as this server hands it out: the repository's ``extension/`` folder, zipped, with
this server's address written into it (``config.js``, the host permission and the connect page's match)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

EXTENSION_DIR = Path(settings.BASE_DIR) / "extension"
# Tokens the connect page creates are named "Chrome extension (<browser>)".
EXTENSION_TOKEN_PREFIX = "Chrome extension: "
# Not part of what a browser loads: the unit tests.
_LEFT_OUT = ("test/",)


def server_origin(server_url: str) -> str:
    parts = urlsplit(server_url)
    return f"{parts.scheme}://{parts.netloc}"


def _match_pattern(origin: str) -> str:
    # Chrome match patterns carry no port: the scheme and host are enough.
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.hostname}/*"


def extension_manifest(*, server_url: str, extra_content_matches: dict[str, list[str]] | None = None) -> dict:
    """The manifest for a build that talks to ``server_url``. ``extra_content_matches`` adds pages to a
    platform's content script (``{"meet": [...]}``): used to point a build at a test meeting page."""
    manifest = json.loads((EXTENSION_DIR / "manifest.json").read_text())
    pattern = _match_pattern(server_origin(server_url))
    if pattern not in manifest["host_permissions"]:
        manifest["host_permissions"].append(pattern)
    for script in manifest["content_scripts"]:
        if script["js"] == ["connect.js"]:
            script["matches"] = sorted({*script["matches"], pattern.replace("/*", "/extension/connect/*")})
        for platform, matches in (extra_content_matches or {}).items():
            if f"platforms/{platform}.js" in script["js"]:
                script["matches"] = [*script["matches"], *matches]
    return manifest


def extension_files(*, server_url: str, extra_content_matches: dict[str, list[str]] | None = None
                    ) -> dict[str, bytes]:
    """Every file of the build, by its path inside the extension."""
    files: dict[str, bytes] = {}
    for path in sorted(EXTENSION_DIR.rglob("*")):
        name = path.relative_to(EXTENSION_DIR).as_posix()
        if path.is_file() and not name.startswith(_LEFT_OUT):
            files[name] = path.read_bytes()
    manifest = extension_manifest(server_url=server_url, extra_content_matches=extra_content_matches)
    files["manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
    files["config.js"] = (
        "// Written by the MeetPilot server this extension was downloaded from.\n"
        f"self.MEETPILOT_CONFIG = {{\n  serverUrl: {json.dumps(server_origin(server_url))},\n}};\n"
    ).encode()
    return files


def extension_zip(*, server_url: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in extension_files(server_url=server_url).items():
            archive.writestr(f"meetpilot-extension/{name}", data)
    return buffer.getvalue()


def extension_version() -> str:
    return json.loads((EXTENSION_DIR / "manifest.json").read_text())["version"]
