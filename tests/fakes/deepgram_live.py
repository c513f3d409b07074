"""A fake of Deepgram's real-time endpoint on 127.0.0.1: a real WebSocket server speaking its protocol.

It "transcribes" a script instead of speech. The audio the tests send is a clock (``clock_audio``):
every sample holds the number of the 10 ms block it belongs to, so the server reads from a socket's
first bytes where in the stream that socket's audio begins, exactly as a real engine would hear
replayed words again. As audio arrives it answers like Deepgram: interim ``Results`` while an
utterance is heard, a final one (``is_final`` and ``speech_final``) 0.3 s after it ends, then
``UtteranceEnd``; times are relative to the socket's own audio, and voices are numbered by their first
appearance on that socket. On ``CloseStream`` it finalises what it heard, sends ``Metadata`` and closes.

Programmable failures: ``reject_status`` answers the upgrade with that HTTP status (429, 401...);
``drop_after_seconds`` cuts the first socket(s) off (TCP shutdown, no close frame) after that much audio.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

BYTES_PER_SECOND = 32000
DROP_GRACE_SECONDS = 1.0
BLOCK_SAMPLES = 160  # 10 ms


def clock_audio(seconds: float, *, start: float = 0.0) -> bytes:
    """PCM16 whose samples tell where they are: the number of their 10 ms block (mod 32768)."""
    first = round(start * 16000)
    index = np.arange(first, first + round(seconds * 16000))
    return ((index // BLOCK_SAMPLES) % 32768).astype("<i2").tobytes()


@dataclass(frozen=True)
class Said:
    speaker: str
    text: str
    start: float  # stream seconds
    end: float

    def words(self) -> list[tuple[str, float, float]]:
        tokens = self.text.split()
        step = (self.end - self.start) / len(tokens)
        return [
            (token, round(self.start + i * step, 3), round(self.start + (i + 0.8) * step, 3))
            for i, token in enumerate(tokens)
        ]


@dataclass
class SocketLog:
    path: str
    authorization: str
    offset: float | None = None  # where its audio began in the stream
    audio_bytes: int = 0
    keepalives: int = 0
    closed_by_client: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)


class FakeDeepgramLive:
    def __init__(
        self,
        script: list[Said],
        *,
        reject_status: int | None = None,
        drop_after_seconds: float | None = None,
        drops: int = 1,
        final_delay: float = 0.3,
    ) -> None:
        from websockets.sync.server import serve

        self.script = script
        self.reject_status = reject_status
        self.drop_after_seconds = drop_after_seconds
        self.drops_left = drops
        self.final_delay = final_delay
        self.requests: list[str] = []  # every upgrade asked for, refused ones too
        self.sockets: list[SocketLog] = []
        self._lock = threading.Lock()
        self._server = serve(self._handle, "127.0.0.1", 0, process_request=self._process_request)
        self.port = self._server.socket.getsockname()[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/listen"

    def stop(self) -> None:
        self._server.shutdown()

    def _process_request(self, connection, request):
        self.requests.append(request.path)
        if self.reject_status is not None:
            return connection.respond(
                self.reject_status, "Too Many Requests\n" if self.reject_status == 429 else "Refused\n"
            )
        return None

    def _handle(self, connection) -> None:
        log = SocketLog(path=connection.request.path, authorization=connection.request.headers.get("Authorization", ""))
        with self._lock:
            self.sockets.append(log)
            drop = self.drop_after_seconds is not None and self.drops_left > 0
            if drop:
                self.drops_left -= 1
        state = {"finalized": set(), "final_end": 0.0, "numbers": {}, "interim": {}}
        for message in connection:
            if isinstance(message, bytes):
                if log.offset is None and len(message) >= 2:
                    log.offset = int.from_bytes(message[:2], "little", signed=True) * BLOCK_SAMPLES / 16000
                log.audio_bytes += len(message)
                if drop and log.audio_bytes / BYTES_PER_SECOND >= self.drop_after_seconds:
                    # Let the client take in the results already sent before the line goes dead: the test
                    # is about replaying from the last final, not about a final lost in flight.
                    time.sleep(DROP_GRACE_SECONDS)
                    connection.socket.shutdown(socket.SHUT_RDWR)  # the network drops: no close frame
                    return
                self._progress(connection, log, state, closing=False)
                continue
            kind = json.loads(message).get("type")
            if kind == "KeepAlive":
                log.keepalives += 1
            elif kind == "CloseStream":
                log.closed_by_client = True
                self._progress(connection, log, state, closing=True)
                self._send(
                    connection,
                    log,
                    {
                        "type": "Metadata",
                        "request_id": "fake",
                        "duration": log.audio_bytes / BYTES_PER_SECOND,
                        "channels": 1,
                    },
                )
                connection.close()
                return

    def _progress(self, connection, log: SocketLog, state: dict, *, closing: bool) -> None:
        offset = log.offset or 0.0
        heard = log.audio_bytes / BYTES_PER_SECOND  # socket seconds
        for index, said in enumerate(self.script):
            if index in state["finalized"]:
                continue
            words = [w for w in said.words() if w[1] >= offset - 0.005 and w[2] - offset <= heard]
            if not words:
                continue
            ended = said.end + self.final_delay - offset <= heard
            if ended or closing:
                state["finalized"].add(index)
                end = min(heard, said.end + self.final_delay - offset)
                start = state["final_end"]
                state["final_end"] = end
                self._send(
                    connection,
                    log,
                    self._result(said, words, offset, state, start=start, duration=end - start, final=True),
                )
                self._send(
                    connection, log, {"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": words[-1][2] - offset}
                )
            elif state["interim"].get(index) != len(words):
                state["interim"][index] = len(words)
                if len(words) == 1:
                    self._send(
                        connection, log, {"type": "SpeechStarted", "channel": [0, 1], "timestamp": words[0][1] - offset}
                    )
                self._send(
                    connection,
                    log,
                    self._result(
                        said,
                        words,
                        offset,
                        state,
                        start=state["final_end"],
                        duration=heard - state["final_end"],
                        final=False,
                    ),
                )

    def _result(
        self, said: Said, words, offset: float, state: dict, *, start: float, duration: float, final: bool
    ) -> dict[str, Any]:
        number = state["numbers"].setdefault(said.speaker, len(state["numbers"]))
        return {
            "type": "Results",
            "channel_index": [0, 1],
            "start": round(start, 3),
            "duration": round(duration, 3),
            "is_final": final,
            "speech_final": final,
            "from_finalize": False,
            "channel": {
                "alternatives": [
                    {
                        "transcript": " ".join(w[0] for w in words),
                        "confidence": 0.97,
                        "words": [
                            {
                                "word": w[0].lower().strip(".,?!"),
                                "punctuated_word": w[0],
                                "start": round(w[1] - offset, 3),
                                "end": round(w[2] - offset, 3),
                                "confidence": 0.97,
                                "speaker": number,
                                "speaker_confidence": 0.8,
                            }
                            for w in words
                        ],
                    }
                ]
            },
            "metadata": {"request_id": "fake", "model_info": {"name": "nova-3"}},
        }

    def _send(self, connection, log: SocketLog, message: dict[str, Any]) -> None:
        log.sent.append(message)
        connection.send(json.dumps(message))
