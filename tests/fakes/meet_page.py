"""A stand-in Google Meet page on 127.0.0.1: the captions DOM the extension reads, driven from the test.

The page has the shape ``extension/platforms/meet.js`` reads (the captions region, one block per speaker
turn with the speaker's name and growing text, the CC button with ``aria-pressed``, a "Leave call" button,
``data-speaking`` on the tile of whoever talks). ``window.fakeMeet`` drives it:

- ``say(speaker, text, wordMs)``: a new caption block whose text grows word by word (a promise);
- ``captions(on)``: the CC button (off removes the captions region, as Meet does);
- ``talking(on)``: whether someone is talking; ``leave()``: the call ends.

Like Meet, only the last few blocks stay on screen.
"""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Meet - abc-defg-hij</title></head>
<body>
  <div data-meeting-title>Acme x Priya</div>
  <div id="tile" data-speaking="false">participant tile</div>
  <button aria-label="Turn off captions" aria-pressed="true" id="cc">CC</button>
  <button aria-label="Leave call" id="leave">Leave</button>
  <div role="region" aria-label="Captions" id="captions"></div>
  <script>
    const region = () => document.getElementById("captions");
    const KEEP = 2;
    window.fakeMeet = {
      async say(speaker, text, wordMs = 60) {
        const block = document.createElement("div");
        block.setAttribute("data-caption-block", "");
        const name = document.createElement("div");
        name.setAttribute("data-caption-speaker", "");
        name.textContent = speaker;
        const body = document.createElement("div");
        body.setAttribute("data-caption-text", "");
        block.append(name, body);
        const r = region();
        if (!r) return;
        r.append(block);
        while (r.children.length > KEEP) r.firstElementChild.remove();
        document.getElementById("tile").dataset.speaking = "true";
        const words = text.split(" ");
        for (let i = 1; i <= words.length; i++) {
          body.textContent = words.slice(0, i).join(" ");
          await new Promise((done) => setTimeout(done, wordMs));
        }
        document.getElementById("tile").dataset.speaking = "false";
      },
      captions(on) {
        const cc = document.getElementById("cc");
        cc.setAttribute("aria-pressed", on ? "true" : "false");
        cc.setAttribute("aria-label", on ? "Turn off captions" : "Turn on captions");
        if (!on && region()) region().remove();
        if (on && !region()) {
          const r = document.createElement("div");
          r.setAttribute("role", "region");
          r.setAttribute("aria-label", "Captions");
          r.id = "captions";
          document.body.append(r);
        }
      },
      talking(on) { document.getElementById("tile").dataset.speaking = on ? "true" : "false"; },
      leave() { document.getElementById("leave").remove(); region() && region().remove(); },
    };
  </script>
</body></html>
"""


@dataclass
class FakeMeet:
    url: str
    server: http.server.ThreadingHTTPServer

    def meeting_url(self, code: str = "abc-defg-hij") -> str:
        return f"{self.url}/fake-meet/{code}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE.encode()
        self.send_response(200 if self.path.startswith("/fake-meet/") else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def fake_meet_start() -> FakeMeet:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return FakeMeet(url=f"http://127.0.0.1:{server.server_port}", server=server)
