"""Every frame of the live meeting protocol, as pydantic models.

The socket and the REST endpoints validate with these models, and docs/protocol/*.json is
generated from them (``python -m meetings.live.protocol docs/protocol``); a test keeps the two equal.

Client frames are flat JSON objects with a ``type``. Server events are
``{"type", "event_id", "meeting_id", "at", "data"}``; per-connection replies (``ack``,
``error``, ``pong`` and the ``status`` answering ``hello``) carry no event id.
The older extension dialect (``CAPTION_CHUNK``/``USER_QUERY`` in,
``ACTION_ITEM_DETECTED``/``FACT_CHECK_ALERT``/``AI_RESPONSE`` out) is modelled here too.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from meetpilot.errors import DomainError

PROTOCOL_VERSION = 1
SUPPORTED_VERSIONS = (1,)
SUBPROTOCOL_V1 = "meetpilot.v1"
SUBPROTOCOL_LEGACY = "meetpilot.legacy"

CLIENT_ID_PATTERN = r"^[A-Za-z0-9._:~-]{1,64}$"
MAX_SEQUENCE = 2**53  # what a JavaScript number holds exactly
MAX_AUDIO_SEQUENCE = 2**32 - 1  # the binary audio frame's 4-byte header


class ErrorCode(StrEnum):
    INVALID_JSON = "invalid_json"  # the frame is not a JSON object
    UNKNOWN_TYPE = "unknown_type"  # "type" missing or not one of the protocol's
    INVALID_MESSAGE = "invalid_message"  # fields missing or of the wrong kind (details list them)
    FRAME_TOO_LARGE = "frame_too_large"
    UNSUPPORTED_FRAME = "unsupported_frame"  # binary frames
    UNSUPPORTED_PROTOCOL = "unsupported_protocol"  # hello asked for a version this server does not speak
    FORBIDDEN = "forbidden"  # the role may read this meeting but not stream to it or end it
    RATE_LIMITED = "rate_limited"  # retry after ``retry_after`` seconds
    MEETING_ENDED = "meeting_ended"  # captions for an ended meeting are refused
    OUT_OF_ORDER = "out_of_order"  # a new final caption numbered below one already stored for this client
    DUPLICATE_SEQUENCE = "duplicate_sequence"  # this connection already had this final caption acked
    SEQUENCE_CONFLICT = "sequence_conflict"  # the sequence is taken by a different final caption
    INVALID_AUDIO = "invalid_audio"  # an audio chunk that is not PCM16 (odd byte count, empty, bad base64)
    INTERNAL = "internal"  # a server bug; logged, the connection stays open


class CloseCode:
    UNAUTHENTICATED = 4401  # no or bad credentials (accounts.auth.WebSocketAuthMiddleware)
    FORBIDDEN = 4403  # ?mode=stream asked by a role that may not stream
    NOT_FOUND = 4404  # unknown meeting or another company's meeting: the same code for both
    IDLE_TIMEOUT = 4408  # nothing received for LIVE_IDLE_TIMEOUT_SECONDS


# --- client to server ------------------------------------------------------------------------


MAX_MEETING_SECONDS = 7 * 24 * 3600  # no meeting runs longer; bounds the times a client may send


class _In(BaseModel):
    # Unknown fields are ignored (forward compatibility; htmx's ws-send adds HEADERS).
    # allow_inf_nan=False: json.loads accepts Infinity/NaN, which would poison times and exports.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _no_nul(self) -> _In:
        # PostgreSQL text cannot store NUL: refuse it here rather than fail at the database.
        if any(isinstance(value, str) and "\x00" in value for value in self.__dict__.values()):
            raise ValueError("text must not contain NUL characters")
        return self


class ClientInfo(_In):
    name: str = Field("", max_length=100, description="e.g. meetpilot-chrome")
    version: str = Field("", max_length=50)


class ParticipantInfo(_In):
    """Who is behind this client, when it knows (the extension user's name in the call)."""

    name: str = Field(min_length=1, max_length=200)
    email: str = Field("", max_length=254)


Timestamp = Annotated[
    float | str | None,
    Field(description="Unix time in seconds or milliseconds, or ISO 8601; the server's clock when absent"),
]


class HelloIn(_In):
    """First frame of a connection: who is talking, and where to resume the event stream."""

    type: Literal["hello"]
    protocol: int = Field(PROTOCOL_VERSION, description="protocol version the client speaks")
    client: ClientInfo | None = None
    capabilities: list[Annotated[str, Field(max_length=50)]] = Field(default_factory=list, max_length=20)
    client_id: str | None = Field(
        None, pattern=CLIENT_ID_PATTERN,
        description="stable id of this client install; (client_id, sequence) identifies a caption. "
                    "Defaults to one per API token (or per user for the dashboard).",
    )
    last_event_id: int | None = Field(
        None, ge=0, description="the newest event id this client has seen; events after it are replayed",
    )
    format: Literal["json", "legacy"] = Field("json", description="the frames this connection wants back")
    participant: ParticipantInfo | None = None


class CaptionIn(_In):
    """One caption. Interim captions (is_final false) are replaced by later ones with the same sequence."""

    type: Literal["caption"]
    sequence: int = Field(ge=0, le=MAX_SEQUENCE, description="the client's own number for this caption")
    speaker: str = Field("", max_length=200)
    text: str = Field(min_length=1, max_length=5000)
    timestamp: Timestamp = None
    start: float | None = Field(None, ge=0, le=MAX_MEETING_SECONDS,
                                description="seconds from the meeting start, when the client knows")
    end: float | None = Field(None, ge=0, le=MAX_MEETING_SECONDS)
    is_final: bool = True
    confidence: float | None = Field(None, ge=0, le=1)


class AskIn(_In):
    """A question for the company's knowledge base; answered by an ``answer`` event."""

    type: Literal["ask"]
    id: str | None = Field(None, max_length=64, description="echoed back as answer.data.ask_id")
    question: str = Field(min_length=1, max_length=2000)


class PingIn(_In):
    type: Literal["ping"]
    nonce: str | int | None = Field(None, description="echoed back in the pong")


class EndIn(_In):
    """End the meeting (managers and admins)."""

    type: Literal["end"]


class AudioChunkIn(_In):
    """Audio as JSON: base64 of PCM16 mono 16 kHz little-endian. Binary frames carry the same audio
    with less overhead (a 4-byte big-endian sequence, then the PCM bytes; see docs/protocol.md)."""

    type: Literal["audio_chunk"]
    sequence: int = Field(ge=0, le=MAX_AUDIO_SEQUENCE,
                          description="the client's own number for this chunk, increasing by one per chunk; "
                                      "audio chunks are numbered apart from captions")
    data: str = Field(min_length=1, description="base64 (standard alphabet, padded) of PCM16 mono 16 kHz "
                                                "little-endian: an even number of bytes")
    timestamp: Timestamp = Field(None, description="when the chunk's first sample was captured (Unix seconds or "
                                                   "milliseconds, or ISO 8601, as for captions); read from the "
                                                   "first chunk of this client_id's audio, later chunks follow "
                                                   "on sample by sample")
    speaker: str = Field("", max_length=200, description="who is speaking in this audio, when the client knows "
                                                         "(\"You\" for the user's own microphone); kept for later "
                                                         "chunks of the connection")


class LegacyCaptionData(_In):
    text: str = Field(min_length=1, max_length=5000)
    speaker_name: str = Field("", max_length=200)
    timestamp: Timestamp = None
    sequence_number: int = Field(ge=0, le=MAX_SEQUENCE)
    is_final: bool = True


class LegacyCaptionIn(_In):
    type: Literal["CAPTION_CHUNK"]
    data: LegacyCaptionData


class LegacyQueryData(_In):
    question: str = Field(min_length=1, max_length=2000)


class LegacyQueryIn(_In):
    type: Literal["USER_QUERY"]
    data: LegacyQueryData


ClientMessage = Annotated[
    HelloIn | CaptionIn | AudioChunkIn | AskIn | PingIn | EndIn | LegacyCaptionIn | LegacyQueryIn,
    Field(discriminator="type"),
]
_client_adapter: TypeAdapter[Any] = TypeAdapter(ClientMessage)
CLIENT_TYPES = ("hello", "caption", "audio_chunk", "ask", "ping", "end", "CAPTION_CHUNK", "USER_QUERY")
LEGACY_CLIENT_TYPES = ("CAPTION_CHUNK", "USER_QUERY")


class ProtocolError(DomainError):
    """A frame the server cannot act on; becomes an ``error`` frame, the connection stays open.

    A domain error like any other (the consumer maps every DomainError to an ``error`` frame in one
    place), with what the frame needs on top: the protocol's code, the offending sequence, details."""

    status = 400

    def __init__(self, code: ErrorCode, message: str, *, sequence: int | None = None,
                 details: list[dict[str, Any]] | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, code=str(code))
        self.code = code
        self.message = message
        self.sequence = sequence
        self.details = details
        self.retry_after = retry_after


def _sequence_of(obj: dict[str, Any]) -> int | None:
    value = obj.get("sequence")
    if value is None and isinstance(obj.get("data"), dict):
        value = obj["data"].get("sequence_number")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_client_message(obj: Any) -> BaseModel:
    """Validate one decoded frame. Raises ProtocolError with the precise code."""
    if not isinstance(obj, dict):
        raise ProtocolError(ErrorCode.INVALID_JSON, "A frame must be a JSON object.")
    kind = obj.get("type")
    if kind not in CLIENT_TYPES:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"Unknown message type {kind!r}; expected one of "
                            f"{', '.join(CLIENT_TYPES)}.", sequence=_sequence_of(obj))
    try:
        return _client_adapter.validate_python(obj)
    except ValidationError as exc:
        details = [{"loc": [str(p) for p in err["loc"][1:]], "msg": err["msg"], "type": err["type"]}
                   for err in exc.errors(include_url=False, include_input=False)]
        fields = ", ".join(".".join(d["loc"]) or "(frame)" for d in details)
        raise ProtocolError(ErrorCode.INVALID_MESSAGE, f"Invalid {kind} message: {fields}.",
                            sequence=_sequence_of(obj), details=details)


def parse_client_frame(raw: str) -> BaseModel:
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        raise ProtocolError(ErrorCode.INVALID_JSON, "The frame is not valid JSON.")
    return parse_client_message(obj)


def caption_from_legacy(message: LegacyCaptionIn) -> CaptionIn:
    data = message.data
    return CaptionIn(type="caption", sequence=data.sequence_number, speaker=data.speaker_name, text=data.text,
                     timestamp=data.timestamp, is_final=data.is_final)


# --- server to client: event payloads --------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TranscriptData(_Out):
    segment_id: int
    sequence: int = Field(description="the server's order of this segment in the meeting")
    client_id: str
    client_sequence: int | None
    speaker: str
    participant_id: int | None
    role: str = Field(description="customer | consultant | internal | unknown, as learnt so far")
    text: str
    start: float
    end: float
    is_final: bool
    update: bool = Field(False, description="this segment was announced before: an interim replaced or finalised")
    removed: bool = Field(False, description="an interim segment withdrawn because its final is a duplicate")
    duplicate_of: int | None = None


class ActionItemData(_Out):
    id: int
    description: str
    assignee_name: str
    assignee_participant_id: int | None
    assignee_user_id: int | None
    due_date: date | None
    priority: Literal["high", "medium", "low"]
    status: str
    confidence: float
    # "suggested": under the company's confidence threshold, shown for a person to confirm or dismiss
    review: Literal["confirmed", "suggested", "dismissed"] = "confirmed"
    segment_id: int | None
    source_text: str


class DecisionData(_Out):
    id: int
    text: str
    confidence: float
    review: Literal["confirmed", "suggested", "dismissed"] = "confirmed"
    segment_id: int | None
    source_text: str


class SourceRef(_Out):
    document_id: int | None = None
    chunk_id: int | None = None
    title: str = ""
    page: int | None = None
    snippet: str = ""
    score: float | None = None


class FactCheckData(_Out):
    id: int
    claim: str
    claimed_value: str
    verdict: Literal["correct", "incorrect", "unverifiable"]
    corrected_value: str
    confidence: float
    source: SourceRef | None
    segment_id: int | None
    speaker: str


class SuggestionData(_Out):
    id: int
    kind: Literal["suggestion", "answer"]
    question: str
    answer: str
    sources: list[SourceRef]
    confidence: str
    latency_ms: float | None
    provider: str
    segment_id: int | None = Field(None, description="the caption holding the customer's question")
    asker: str = Field("", description="who asked (speaker name, or the user for ask)")
    ask_id: str | None = Field(None, description="the id the client gave its ask")
    audio_url: str | None = Field(
        None, description="the spoken answer: an API path to GET with the same credentials. Arrives in a "
                          "follow-up event with the same id once synthesized, when a connection of the meeting "
                          "listed \"tts\" in hello.capabilities")


class ParticipantRole(_Out):
    participant_id: int
    name: str
    role: str


class StatusData(_Out):
    kind: Literal["meeting", "roles", "hello", "audio", "load"] = Field(
        description="meeting: the meeting's status changed; roles: speaker roles changed; "
                    "hello: the per-connection answer to hello (sent without an event id); "
                    "audio: this connection's audio transcription fell behind or caught up (no event id); "
                    "load: the server is busy (slow down) or ok again (no event id)")
    meeting_status: Literal["scheduled", "active", "ended"]
    started_at: datetime | None = None
    ended_at: datetime | None = None
    participants: list[ParticipantRole] | None = None
    # hello only
    protocol: int | None = None
    client_id: str | None = None
    format: str | None = None
    can_stream: bool | None = None
    last_event_id: int | None = None
    replay_from: int | None = None
    # audio and load only
    state: Literal["lagging", "busy", "ok"] | None = Field(
        None, description="audio: lagging: transcription is behind real time and audio is queued (never "
                          "dropped); ok: caught up again. load: busy: the server is behind, slow down; ok: "
                          "send at the normal pace again")
    # load only
    retry_after_ms: int | None = Field(None, description="load busy: wait this long before sending interim "
                                                         "captions again (finals are always accepted and acked)")
    send_interims: bool | None = Field(None, description="load: false while busy (send final captions only), "
                                                         "true once ok")
    lag_seconds: float | None = Field(None, description="audio received but not transcribed yet")
    compute_ratio: float | None = Field(None, description="transcription seconds per second of audio so far")
    audio_seconds: float | None = Field(None, description="audio of this stream analysed so far")


EVENT_DATA: dict[str, type[_Out]] = {
    "transcript": TranscriptData,
    "action_item": ActionItemData,
    "decision": DecisionData,
    "fact_check": FactCheckData,
    "suggestion": SuggestionData,
    "answer": SuggestionData,
    "status": StatusData,
}
EVENT_TYPES = tuple(EVENT_DATA)


def event_payload(event_type: str, **data: Any) -> dict[str, Any]:
    """Validate an event's data against its model and return it JSON-ready."""
    return EVENT_DATA[event_type](**data).model_dump(mode="json")


class TranscriptEvent(_Out):
    type: Literal["transcript"]
    event_id: int
    meeting_id: int
    at: datetime
    data: TranscriptData


class ActionItemEvent(_Out):
    type: Literal["action_item"]
    event_id: int
    meeting_id: int
    at: datetime
    data: ActionItemData


class DecisionEvent(_Out):
    type: Literal["decision"]
    event_id: int
    meeting_id: int
    at: datetime
    data: DecisionData


class FactCheckEvent(_Out):
    type: Literal["fact_check"]
    event_id: int
    meeting_id: int
    at: datetime
    data: FactCheckData


class SuggestionEvent(_Out):
    type: Literal["suggestion"]
    event_id: int
    meeting_id: int
    at: datetime
    data: SuggestionData


class AnswerEvent(_Out):
    type: Literal["answer"]
    event_id: int
    meeting_id: int
    at: datetime
    data: SuggestionData


class StatusEvent(_Out):
    """A logged meeting event (event_id set), or the answer to hello (event_id null)."""

    type: Literal["status"]
    event_id: int | None
    meeting_id: int
    at: datetime
    data: StatusData


# --- server to client: per-connection replies -------------------------------------------------


class AckOut(_Out):
    """Sent only after the caption is committed (or recognised as already stored), or once an audio
    chunk is buffered for transcription (``stream: "audio"``)."""

    type: Literal["ack"] = "ack"
    sequence: int
    segment_id: int | None = Field(description="the stored segment (for a duplicate: the one it duplicates); "
                                               "null for audio chunks")
    status: Literal["stored", "updated", "duplicate", "stale", "buffered", "coalesced"] = Field(
        description="stored: new; updated: an interim replaced; duplicate: already stored (by this client or "
                    "another), or an audio chunk already accepted (not fed twice); stale: an interim that "
                    "arrived after its final, ignored; buffered: an audio chunk queued for transcription; "
                    "coalesced: an interim taken while the server is busy: only the newest interim of a "
                    "speaker is stored, shortly after (segment_id null)")
    duplicate: bool = False
    stream: Literal["caption", "audio"] = Field(
        "caption", description="which numbering ``sequence`` belongs to: captions, or audio chunks")


class ErrorOut(_Out):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    sequence: int | None = Field(None, description="the offending caption's sequence, when there is one")
    retry_after: float | None = None
    details: list[dict[str, Any]] | None = None


class PongOut(_Out):
    type: Literal["pong"] = "pong"
    nonce: str | int | None = None
    server_time: float


# --- legacy dialect out -------------------------------------------------------------------


class LegacyActionItemData(_Out):
    id: int
    text: str
    description: str
    assignee: str
    dueDate: str | None  # the old extension's field names (camelCase)
    priority: str
    status: str
    confidence: float
    timestamp: int


class LegacyActionItemOut(_Out):
    type: Literal["ACTION_ITEM_DETECTED"]
    data: LegacyActionItemData


class LegacyFactCheckData(_Out):
    id: int
    claim: str
    verdict: str
    isAccurate: bool
    correction: str
    confidence: float
    sources: list[SourceRef]
    timestamp: int


class LegacyFactCheckOut(_Out):
    type: Literal["FACT_CHECK_ALERT"]
    data: LegacyFactCheckData


class LegacyAnswerData(_Out):
    question: str
    answer: str
    sources: list[SourceRef]
    confidence: str
    kind: Literal["suggestion", "answer"]
    timestamp: int


class LegacyAnswerOut(_Out):
    type: Literal["AI_RESPONSE"]
    data: LegacyAnswerData


class LegacyErrorOut(_Out):
    type: Literal["ERROR"]
    data: ErrorOut


# --- JSON Schemas for the docs ------------------------------------------------------------------

SCHEMA_MODELS: dict[str, tuple[str, type[BaseModel]]] = {
    # file stem: (direction, model)
    "client.hello": ("client", HelloIn),
    "client.caption": ("client", CaptionIn),
    "client.audio_chunk": ("client", AudioChunkIn),
    "client.ask": ("client", AskIn),
    "client.ping": ("client", PingIn),
    "client.end": ("client", EndIn),
    "client.legacy.CAPTION_CHUNK": ("client", LegacyCaptionIn),
    "client.legacy.USER_QUERY": ("client", LegacyQueryIn),
    "server.ack": ("server", AckOut),
    "server.error": ("server", ErrorOut),
    "server.pong": ("server", PongOut),
    "server.transcript": ("server", TranscriptEvent),
    "server.action_item": ("server", ActionItemEvent),
    "server.decision": ("server", DecisionEvent),
    "server.fact_check": ("server", FactCheckEvent),
    "server.suggestion": ("server", SuggestionEvent),
    "server.answer": ("server", AnswerEvent),
    "server.status": ("server", StatusEvent),
    "server.legacy.ACTION_ITEM_DETECTED": ("server", LegacyActionItemOut),
    "server.legacy.FACT_CHECK_ALERT": ("server", LegacyFactCheckOut),
    "server.legacy.AI_RESPONSE": ("server", LegacyAnswerOut),
    "server.legacy.ERROR": ("server", LegacyErrorOut),
}


def protocol_schemas() -> dict[str, dict[str, Any]]:
    """One JSON Schema per message type, keyed by file stem."""
    schemas = {}
    for stem, (direction, model) in SCHEMA_MODELS.items():
        schema = model.model_json_schema(mode="validation" if direction == "client" else "serialization")
        schema["$id"] = f"https://meetpilot.example/protocol/v{PROTOCOL_VERSION}/{stem}.json"
        schemas[stem] = schema
    return schemas


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, schema in protocol_schemas().items():
        path = folder / f"{stem}.json"
        path.write_text(schema_text(schema))
        written.append(path)
    return written


if __name__ == "__main__":  # python -m meetings.live.protocol docs/protocol
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/protocol")):
        print(path)
