"""Chat with your meetings: multi-turn questions answered from meetings (and documents), with citations.

A reply happens in three steps so that streaming never holds a database transaction or a tenant
scope across a network wait:
1. ``chat_prepare`` (database): store the question, retrieve numbered sources, reserve the reply row;
2. ``chat_tokens`` (no database): stream the answer, from the routed language model or, without one
   (or when it fails before saying anything), an extractive answer composed of the best sentences
   of the sources; "I don't know" when nothing is similar enough to the question;
3. ``chat_finish`` (database): store the reply with its citations and provider.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import Company, User
from ai import selectors as ai_selectors
from ai.models import ChatMessage, ChatThread, PromptType
from ai.prompts import wrap_data
from ai.routing import Route, route_for
from integrations.llm.providers import ProviderError, stream_text
from knowledge import embeddings
from meetings.intelligence.search import MEETING_SOURCE_TYPES, SearchFilters, SearchHit, search
from meetings.intelligence.timefmt import clock
from meetings.models import Meeting

logger = logging.getLogger(__name__)

I_DONT_KNOW = ("I don't know: I could not find anything about that in your meetings or documents. "
               "Try other words, or ask about a specific meeting.")
HISTORY_MESSAGES = 6
SOURCES_K = 8
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_FOLLOW_UP = re.compile(r"\b(it|that|this|those|these|they|them|he|she|his|her|their|there|then)\b", re.I)
_CITATION = re.compile(r"\[(\d{1,2})\]")


@dataclass
class Source:
    n: int
    hit: SearchHit

    def citation(self) -> dict[str, Any]:
        h = self.hit
        return {"n": self.n, "source_type": h.source_type, "title": h.title, "url": h.url,
                "meeting_id": h.meeting_id, "meeting_title": h.meeting_title, "meeting_date": h.meeting_date,
                "segment_id": h.segment_id, "start_time": h.start_time, "speakers": h.speakers,
                "document_id": h.document_id, "page": h.page, "snippet": h.snippet, "cited": False}

    def as_prompt(self) -> str:
        h = self.hit
        if h.source_type in MEETING_SOURCE_TYPES:
            when = f", at {clock(h.start_time)}" if h.start_time else ""
            head = f"[{self.n}] Meeting \"{h.meeting_title}\" ({h.meeting_date}{when}, {h.source_type})"
        else:
            head = f"[{self.n}] Document \"{h.title}\"" + (f", page {h.page}" if h.page else "")
        return f"{head}:\n{h.text}"


@dataclass
class ChatTurn:
    company_id: int
    thread_id: int
    user_message_id: int
    reply_id: int
    question: str
    sources: list[Source]
    route: Route
    history: list[dict[str, str]] = field(default_factory=list)
    provider: str = ""  # filled in while streaming

    def citations(self, content: str) -> list[dict[str, Any]]:
        cited = {int(n) for n in _CITATION.findall(content)}
        out = []
        for source in self.sources:
            row = source.citation()
            row["cited"] = source.n in cited
            out.append(row)
        return out




# --- threads -------------------------------------------------------------------------------------


def chat_thread_create(*, company: Company, user: User, meeting: Meeting | None = None,
                       title: str = "") -> ChatThread:
    if meeting is not None:
        assert meeting.company_id == company.pk
    thread = ChatThread(company=company, user=user, meeting=meeting,
                        title=(title.strip() or (f"About {meeting.title}" if meeting else ""))[:200])
    thread.full_clean()
    thread.save()
    return thread


def chat_thread_delete(*, company: Company, thread: ChatThread) -> None:
    assert thread.company_id == company.pk
    thread.delete()


# --- one reply -----------------------------------------------------------------------------------


def _retrieval_query(question: str, previous_questions: list[str]) -> str:
    # A follow-up ("and what did they say about it?") is searched together with the question before it.
    if previous_questions and (len(question.split()) <= 6 or _FOLLOW_UP.search(question)):
        return f"{previous_questions[-1]} {question}"
    return question


def chat_prepare(*, company: Company, user: User, thread: ChatThread, question: str,
                 access_levels: set[str] | None = None) -> ChatTurn:
    """Store the question, find the sources and reserve the reply. Call inside the company's scope."""
    assert thread.company_id == company.pk and thread.user_id == user.pk
    question = question.strip()[:4000]
    earlier = list(ai_selectors.chat_message_list(thread=thread).filter(status=ChatMessage.Status.DONE))
    asked = ChatMessage.objects.create(company=company, thread=thread, role=ChatMessage.Role.USER, content=question)
    if not thread.title:
        thread.title = question[:80] + ("…" if len(question) > 80 else "")
    thread.updated_at = timezone.now()
    thread.save(update_fields=["title", "updated_at"])
    query = _retrieval_query(question, [m.content for m in earlier if m.role == ChatMessage.Role.USER])
    filters = SearchFilters(meeting_id=thread.meeting_id) if thread.meeting_id else None
    hits = search(company=company, query=query, filters=filters, k=SOURCES_K, access_levels=access_levels)
    route = route_for(company=company, prompt_type=PromptType.ANSWER)
    reply = ChatMessage.objects.create(company=company, thread=thread, role=ChatMessage.Role.ASSISTANT,
                                       status=ChatMessage.Status.STREAMING, provider=route.label[:100])
    history = [{"role": m.role, "content": m.content[:2000]} for m in earlier[-HISTORY_MESSAGES:]]
    return ChatTurn(company_id=company.pk, thread_id=thread.pk, user_message_id=asked.pk, reply_id=reply.pk,
                    question=question, sources=[Source(n=i + 1, hit=h) for i, h in enumerate(hits)], route=route,
                    history=history)


@dataclass(frozen=True)
class _Sentence:
    source: Source
    speaker: str
    text: str
    at: float | None  # seconds into the meeting, when known


def _sentences(source: Source) -> list[_Sentence]:
    """The sentences of a source that could answer something (statements of five words or more);
    transcript lines keep their speaker and the moment they were said."""
    out: list[_Sentence] = []
    lines_meta = source.hit.lines
    for i, line in enumerate(source.hit.text.split("\n")):
        speaker, body = "", line
        if source.hit.source_type == "transcript" and ": " in line[:80]:
            speaker, body = line.split(": ", 1)
        at = float(lines_meta[i][1]) if i < len(lines_meta) else source.hit.start_time
        for sentence in _SENTENCE_END.split(body.strip()):
            sentence = sentence.strip()
            if len(sentence.split()) >= 5 and not sentence.endswith("?"):
                out.append(_Sentence(source, speaker, sentence, at))
    return out


def extractive_answer(question: str, sources: list[Source]) -> str:
    """The best-matching sentences of the sources, cited; I_DONT_KNOW when none is close enough."""
    candidates = [s for source in sources for s in _sentences(source)][:120]
    if not candidates:
        return I_DONT_KNOW
    vectors = embeddings.embed_sentences([question] + [c.text for c in candidates])
    similarities = vectors[1:] @ vectors[0]
    q_words = set(re.findall(r"\w{4,}", question.lower()))
    scored = []
    for sentence, sim in zip(candidates, similarities, strict=True):
        overlap = len(q_words & set(re.findall(r"\w{4,}", sentence.text.lower()))) / max(1, len(q_words))
        scored.append((float(sim) + 0.15 * overlap, sentence))
    scored.sort(key=lambda row: -row[0])
    threshold = float(getattr(settings, "INTELLIGENCE_CHAT_MIN_SIMILARITY", 0.4))
    chosen: list[_Sentence] = []
    for score, sentence in scored:
        if score < threshold or len(chosen) >= 3:
            break
        if all(sentence.text.lower() != c.text.lower() for c in chosen):
            chosen.append(sentence)
    if not chosen:
        return I_DONT_KNOW
    lines = ["Here is what I found:"]
    for s in chosen:
        h = s.source.hit
        if h.source_type in MEETING_SOURCE_TYPES:
            where = h.meeting_title + (f", {clock(s.at)}" if s.at is not None and h.source_type == "transcript"
                                       else "")
            who = f"{s.speaker} said" if s.speaker else f"From the {h.source_type.replace('_', ' ')}"
            lines.append(f"- {who} ({where}): \u201c{s.text}\u201d [{s.source.n}]")
        else:
            page = f", page {h.page}" if h.page else ""
            lines.append(f"- {h.title}{page}: \u201c{s.text}\u201d [{s.source.n}]")
    return "\n".join(lines)


def _words(text: str) -> Iterator[str]:
    # Stream a finished text in small pieces so every answer looks and behaves the same in the browser.
    yield from re.findall(r"\S+\s*|\s+", text)


def _llm_messages(turn: ChatTurn) -> list[dict[str, str]]:
    sources = "\n\n".join(source.as_prompt() for source in turn.sources)
    return [
        {"role": "system", "content": turn.route.prompt.body},
        *turn.history,
        {"role": "user", "content": f"Sources:\n{wrap_data(sources)}\n\nQuestion: {turn.question}"},
    ]


def chat_tokens(turn: ChatTurn) -> Iterator[str]:
    """The reply as text pieces. Needs no database; sets ``turn.provider``."""
    if not turn.sources:
        turn.provider = "local"
        yield from _words(I_DONT_KNOW)
        return
    if turn.route.spec is not None:
        produced = False
        try:
            for delta in stream_text(turn.route.spec, messages=_llm_messages(turn)):
                produced = True
                yield delta
            turn.provider = turn.route.label
            return
        except ProviderError as exc:
            logger.warning("chat provider %s failed: %s", turn.route.spec.label, exc.reason)
            if produced:
                turn.provider = f"{turn.route.label} (interrupted: {exc.reason})"
                yield f"\n\n[The answer was cut off: {exc.reason}.]"
                return
            turn.provider = f"local (fallback: {turn.route.spec.kind} {exc.reason})"
    else:
        turn.provider = turn.route.label
    yield from _words(extractive_answer(turn.question, turn.sources))


def chat_finish(*, company: Company, turn: ChatTurn, content: str, failed: bool = False) -> ChatMessage:
    """Store the reply. Call inside the company's scope."""
    assert turn.company_id == company.pk
    reply = ChatMessage.objects.for_company(company).get(pk=turn.reply_id)
    reply.content = content
    reply.citations = turn.citations(content)
    reply.provider = (turn.provider or turn.route.label)[:100]
    reply.status = ChatMessage.Status.FAILED if failed else ChatMessage.Status.DONE
    reply.save(update_fields=["content", "citations", "provider", "status"])
    return reply


def chat_reply(*, company: Company, user: User, thread: ChatThread, question: str,
               access_levels: set[str] | None = None) -> ChatMessage:
    """The whole reply at once (no streaming)."""
    turn = chat_prepare(company=company, user=user, thread=thread, question=question, access_levels=access_levels)
    return chat_finish(company=company, turn=turn, content="".join(chat_tokens(turn)))


def turn_start_payload(turn: ChatTurn) -> dict[str, Any]:
    return {"thread_id": turn.thread_id, "user_message_id": turn.user_message_id, "message_id": turn.reply_id,
            "provider": turn.route.label, "citations": [source.citation() for source in turn.sources]}


def message_payload(message: ChatMessage) -> dict[str, Any]:
    return {"id": message.pk, "thread_id": message.thread_id, "role": message.role, "content": message.content,
            "citations": message.citations, "provider": message.provider, "status": message.status,
            "created_at": message.created_at.isoformat()}

