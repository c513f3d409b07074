"""Rule-based detectors that run on one utterance: action items, decisions, questions.

They are cheap (precompiled regular expressions over one caption) so the live pipeline can call them on
every final caption; ``analyze_transcript`` adds what needs context (who answered a request, "let's do
that" after a proposal, "Thursday it is" after a request).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date

from .dates import find_due_dates
from .text import STOPWORDS, clean_spoken, content_tokens, first_name, normalize_key, split_sentences, word_list
from .types import ActionItemCandidate, DecisionCandidate, QuestionCandidate, Utterance

# ------------------------------------------------------------------ vocabulary

ACTION_VERBS = frozenset(
    word_list(
        """
        send share email mail forward circulate post publish upload submit file schedule book set setup
        arrange organize organise coordinate plan follow reach ping call contact loop ask check confirm
        verify validate review look investigate dig research explore draft write prepare put create build
        make design mock update revise refresh fix patch ship deploy release launch merge test run implement
        add remove delete clean migrate move configure enable disable install order buy purchase pay invoice
        issue apply process renew sign approve finalize finalise document record capture log track monitor
        measure benchmark analyze analyse pull gather collect compile summarize summarise recap translate
        train onboard hire interview escalate raise open close resolve handle own take get bring talk speak
        sync meet demo present assemble tune shard chase brief notify inform tell let remind invite provide
        give deliver hand assign allocate estimate quote negotiate extend grant reset restore rollback roll
        refactor audit evaluate assess compare map outline scope spec sketch reconcile connect reply respond
        answer fill complete finish wrap kick start work figure find sort nail line return type jot pencil
        block cancel reschedule push flag highlight text introduce double-check doublecheck do have pick
        drop print fetch lock unblock rotate rerun retest reproduce repro triage label tag upgrade downgrade
        refund credit chase shadow mentor coach cover confirm cc bcc reconnect rebook prep clarify turn
        include attach replace switch convert rename consolidate message dm slack nudge escalate expedite
        approve
        """
    )
)
# Verbs that never make an action item on their own ("I'll be quick", "I can see that").
NON_ACTION_VERBS = frozenset(
    word_list(
        """
        be think guess see hear understand know feel believe imagine remember love like say mean bet admit
        assume suppose agree disagree hope wonder want need try come leave stay sit wait keep live stop jump
        walk show explain repeat begin hang use help mention am is are was were been being go pair
        """
    )
)
_IMMEDIATE_RE = re.compile(
    r"^(?:share (?:my|the|your|our) screen|pull (?:it |that |this |them )?up|show (?:you|everyone|the team)\b|"
    r"walk (?:you|everyone|us|them|through)|explain|start (?:with|by|off|us)|begin|go first|hand (?:it |this )?over|"
    r"pass (?:it |this )?(?:over|to|along to you)|introduce (?:myself|ourselves|everyone|you)|repeat|"
    r"clarify|recap(?! email)|summari[sz]e|jump in|be honest|tell you|answer (?:that|your|the question)|"
    r"take (?:a )?notes?|stop sharing|mute|drop off|hop off|let you go|be quick|keep (?:it|this) short|"
    r"play devil|think|see (?:if|what|how|whether|where)|check(?: real quick| quickly)?[.!]?$|wrap (?:up|this up)|"
    r"kick (?:us |it |this )?off|get (?:started|going)|move on|turn (?:it|this) over|say|"
    r"go (?:back|ahead|on|over)\b(?! and)|"
    r"do (?:a quick|introductions|intros|standup|a round)|talk (?:about|through)|start (?:sharing|recording)|"
    r"get (?:this|it) (?:out of the way)|take (?:that|this) (?:offline|back)|note (?:that|it)|"
    r"tell (?:you|everyone|them) (?:what|how|why|that|about)|live with)",
    re.I,
)
_LEADING_ADVERBS_RE = re.compile(
    r"^(?:(?:also|just|quickly|definitely|actually|then|personally|probably|first|now|still|please|certainly|"
    r"totally|absolutely|happily|really|gladly|additionally|immediately|also,|go ahead and|make sure (?:to|that "
    r"(?:I|we) |I |we )|try (?:to|and)|be sure to|take care to|need to|have to|will|'ll)\s+)+",
    re.I,
)
_VAGUE_OBJECT_WORDS = frozenset(
    word_list(
        """
        it that this those them these one over up out back together done ready through along in on off down
        to you for as well too so then sure right away now soon asap sorted handled covered both all the
        everything something anything thing things stuff into at about with of everything i can my side end
        """
    )
)
_TIME_OF_DAY_RE = re.compile(r"\b(?:at\s+(?:\d{1,2}(?::\d\d)?|one|two|three|four|five|six|seven|eight|nine|ten|"
                             r"eleven|twelve|noon|midnight)\b|\d{1,2}(?::\d\d)?\s*(?:am|pm)\b)", re.I)
_PRONOUNS = frozenset({"it", "that", "this", "them", "those", "these"})
# "I can bring the price down", "I can offer two months free": offers in a negotiation, not tasks.
_OFFER_RE = re.compile(
    r"^(?:bring (?:the |that |it |this )?(?:price|increase|cost|number|total)|hold |offer|cap |discount|match |"
    r"waive|throw in|give you (?:a|an|two|three|\w+ months?) |do (?:a|an|\d+|\w+) (?:percent|discount)|go (?:as )?low)",
    re.I,
)
# Words that may precede a commitment inside its clause ("so I'll", "and then we'll", "today I'm going to").
_CLAUSE_LEAD_RE = re.compile(
    r"(?:^|[,.;:!?]\s*|\b(?:and|but|so|then|also|okay|ok|yes|yeah|yep|sure|great|good|perfect|right|well|now|"
    r"first|today|tomorrow|tonight|honestly|actually|otherwise|absolutely|definitely|fine|alright|cool|"
    r"in that case|in the meantime|meanwhile|after that|afterwards|for now|on my side|on our side|from my side|"
    r"if so|thanks|thank you|deal|noted|understood|got it)\s*,?\s*)$",
    re.I,
)
_VAGUE_VERBS = frozenset({"do", "handle", "own", "take", "cover", "sort", "get", "have"})
_HIGH_RE = re.compile(
    r"\b(?:urgent(?:ly)?|asap|a\.s\.a\.p|as soon as possible|critical(?:ly)?|high[- ]priority|top priority|"
    r"highest priority|priority one|p0|p1|immediately|right away|blocker|blocking|blocks everyone|"
    r"time[- ]sensitive|first thing)\b",
    re.I,
)
_LOW_RE = re.compile(
    r"\b(?:when(?:ever)? you (?:get|have) (?:a |the )?(?:chance|minute|sec|second|moment|time)|no rush|"
    r"not urgent|low[- ]priority|lower priority|nice to have|whenever|at some point|if you have (?:the )?time|"
    r"eventually|no hurry|not a priority|not critical|no pressure|when you can)\b",
    re.I,
)
_HYPOTHETICAL_RE = re.compile(
    r"\b(?:what if|in theory|hypothetically|suppose|supposing|imagine|ideally|in an ideal world|if we ever|"
    r"someday|one day|could have|would have|should have|might|would've|could've|should've|"
    r"if we were to|were we to|just an idea|not for (?:this|now)|for later)\b",
    re.I,
)
_PAST_RE = re.compile(
    r"\b(?:already|yesterday|last (?:week|night|month|quarter|year|time|sprint|spring|summer|fall|winter)|"
    r"previously|earlier today|ago|back in|we did|I did|I've|we've)\b",
    re.I,
)
_RECAP_RE = re.compile(
    r"\b(?:to recap|to summari[sz]e|in summary|quick recap|recap:|so to recap|summary:|to sum up|"
    r"action items are|the action items|next steps are|let me recap|just to recap)\b",
    re.I,
)
_CONDITIONAL_RE = re.compile(r"^(?:if|assuming|provided|once|as long as|unless|pending)\b|\bif\b", re.I)

# ------------------------------------------------------------------ triggers

_SELF_RE = re.compile(
    r"\b(?:I(?:'ll|’ll| will| shall)(?P<neg> not)?"
    r"|I(?:'m| am) (?:going to|gonna|planning to|planning on|happy to|glad to|on the hook to|about to)"
    r"|I can(?! ?'t)|I could|I need to|I have to|I've got to|I got to|I gotta|I should|I must|I plan to"
    r"|I intend to|I(?:'d| would) be happy to|I(?:'d| would) love to|happy to|let me|I(?:'ll| will) go ahead and"
    r"|I(?:'m| am) taking|I take|I volunteer to|I(?:'ll| will) make sure to)\s+(?P<rest>.+)",
    re.I,
)
_REQUEST_RE = re.compile(
    r"\b(?:(?:can|could|would|will) you(?:\s+(?:please|also|maybe|just|kindly|guys|all|both))*"
    r"|would you mind|(?:I|we) (?:need|want|would like|'d like|’d like) you to|you(?:'ll| will)? need to"
    r"|you should|make sure you|please(?:\s+(?:also|just|do|go ahead and))*|you(?:'re| are) (?:going to|on)"
    r"|you(?:'ll| will) (?:need to|have to|want to))\s+(?P<rest>.+)",
    re.I,
)
_SOMEONE_RE = re.compile(
    r"\b(?:(?:can|could|would|will) (?:someone|somebody|anyone|anybody)(?:\s+(?:please|also))?"
    r"|(?:someone|somebody) (?:needs to|should|has to|must|will need to|will have to|could))\s+(?P<rest>.+)",
    re.I,
)
_TEAM_RE = re.compile(
    r"\b(?:we(?:'ll|’ll| will| need to| have to| should| must|'ve got to| gotta|'re going to|’re going to"
    r"| are going to|'re gonna)|let's|let’s|let us)\s+(?P<rest>.+)",
    re.I,
)
_MARKER_RE = re.compile(
    r"^\W*(?:action items?|todo|to-do|ai|next steps?|follow[- ]ups?)(?:\s+for\s+(?P<name>[A-Z][\w'-]+))?\s*[:\-–]\s*"
    r"(?P<rest>.+)",
    re.I,
)
_LEADING_DISCOURSE = r"(?i:(?:okay|ok|so|and|also|great|thanks|thank you|good|right|alright|sure|perfect|then|" \
                     r"one more thing|" \
                     r"last thing|oh|yeah|yes|cool|nice|awesome|got it|understood)\b[,.!]?\s*)*"
_VOCATIVE_START_RE = re.compile(r"^\W*" + _LEADING_DISCOURSE + r"(?P<name>[A-Z][\w'-]+)\s*,\s*(?P<rest>.*)$")
_VOCATIVE_END_RE = re.compile(r",\s*(?P<name>[A-Z][\w'-]+)\s*[?.!]*\s*$")
_CLAUSE_SPLIT_RE = re.compile(
    r"(?:,\s*|\s+)(?:and|but|so|then|plus)\s+(?=(?:I'll|I will|I’ll|I'm going to|I can|we'll|let's|I'd|I also)\b)"
    r"|;\s*|,\s+(?=I'll\b|I will\b)",
    re.I,
)
# recap lists: "Riley sends the questionnaire tomorrow, Sam returns it by Wednesday, and I send the proposal"
_RECAP_SPLIT_RE = re.compile(
    r",\s*(?:and\s+)?(?=(?:[A-Z][\w'-]+\s+[a-z]+s\b|I\s+[a-z]+\b))|\s+and\s+(?=[A-Z][\w'-]+\s+[a-z]+s\b)"
)
_RECAP_SELF_RE = re.compile(r"^\W*(?:and\s+)?I\s+(?P<rest>[a-z]+\b.*)$")
_ACK_RE = re.compile(
    r"^\W*(?:(?:yes|yeah|yep|yup|sure|absolutely|definitely|of course|okay|ok|will do|on it|done|no problem|"
    r"got it|sounds good|consider it done|happy to|can do|i will|i can|i'll do it|i'll do that|i'll handle it|"
    r"i'll take it|i can do that|i can take that|that works|perfect|deal|no worries|you got it|roger)\b[\s,.!]*)+$",
    re.I,
)
_COMMON_CAPITALISED = frozenset(
    word_list(
        """
        I Okay Ok So And Also Great Thanks Thank Good Right Alright Sure Perfect Then Yes Yeah Yep Well Hi
        Hello Hey Nice Cool Awesome Understood Got Oh Sorry Please Now Next Last First Team Everyone Guys
        Folks Monday Tuesday Wednesday Thursday Friday Saturday Sunday Honestly Actually Anyway Fine Deal
        Agreed Interesting Fair Look Listen Absolutely Definitely Sounds Hmm Um Uh Anyone Everybody Somebody
        Someone Quick Question Welcome
        """
    )
)


@dataclass
class _ActionMatch:
    kind: str  # self | request | named | someone | team | marker
    assignee: str
    description: str
    vague: bool
    confidence: float
    due: date | None
    priority: str
    clause: str


# ------------------------------------------------------------------ helpers

def _name_index(participants) -> dict[str, str]:
    """lower-cased first name or full name -> the participant's full name."""
    index: dict[str, str] = {}
    for name in participants or ():
        if not name:
            continue
        index[name.lower()] = name
        index.setdefault(first_name(name).lower(), name)
    return index


def _resolve_name(token: str, names: dict[str, str]) -> str | None:
    token = token.strip().rstrip("'s").rstrip("’s")
    if not token:
        return None
    if names:
        return names.get(token.lower())
    if token in _COMMON_CAPITALISED or not token[0].isupper():
        return None
    return token


def _base_verb(word: str) -> str:
    w = word.lower().strip(",.;:!?")
    if w in ACTION_VERBS or w in NON_ACTION_VERBS:
        return w
    for cut, add in (("ies", "y"), ("es", ""), ("s", "")):
        if w.endswith(cut) and w[: len(w) - len(cut)] + add in ACTION_VERBS:
            return w[: len(w) - len(cut)] + add
    return w


def _strip_leading(rest: str) -> str:
    prev = None
    while prev != rest:
        prev = rest
        rest = _LEADING_ADVERBS_RE.sub("", rest).strip()
    return rest


_TRAILING_RE = re.compile(
    r"(?:[\s,]+(?:please|as well|too|also|for you|for me|for us|then|again|if possible|if you can|real quick|"
    r"quickly|okay|ok|right|alright|at the latest|as well then|if that works|if that helps|if you want|"
    r"so you have backups|on your end|on my end|on my side|sound good|does that work|that way|first|"
    r"afterwards|later|either|though|sometime|in the meantime|for now|myself|ourselves|yourself|personally))+"
    r"[\s?.!,]*$",
    re.I,
)
_CUT_RE = re.compile(
    r"(?:,?\s+(?:so that|so|because|since|but|unless|although|though|which|while|whereas|cause|once|"
    r"before I'm|before I am|since then|in case|given that|as long as|assuming)\s+|,\s*(?:right|okay|yeah|and then)\b|"
    r",?\s+who(?:'d|'ll|'s| would| will| can| could| should| might)?\s+|"
    r"\s+-\s+|[.!?]\s).*$",
    re.I,
)


def _remove_spans(text: str, spans: list[tuple[int, int]]) -> str:
    for s, e in sorted(spans, reverse=True):
        before = text[:s]
        before = re.sub(
            r"(?:\s*,)?\s*\b(?:by|on|before|until|till|for|no later than|at|in|within|due|around|sometime|"
            r"some time)\s*(?:the\s+)?$",
            "",
            before,
            flags=re.I,
        )
        after = re.sub(r"^\s*(?:morning|afternoon|evening|night|at the latest|latest)\b", "", text[e:], flags=re.I)
        text = before.rstrip() + (" " if after and not after.startswith((",", ".", "?", "!")) else "") + after.lstrip()
    return text


def _describe(rest: str, *, meeting_date: date, requester: str = "", kind: str = "") -> tuple[str, bool] | None:
    """Turn the words after a trigger into a clean imperative description; None when not an action."""
    rest = _strip_leading(rest.strip())
    if not rest:
        return None
    first = rest.split()[0]
    verb = _base_verb(first)
    low_rest = rest.lower()
    if verb in ("not", "never", "no") or first.lower().endswith("n't"):
        return None
    if _IMMEDIATE_RE.match(low_rest):
        return None
    lets_know = verb == "let" and re.match(r"let \w+(?: \w+)? know\b", low_rest)
    if verb in NON_ACTION_VERBS and not lets_know:
        return None
    # an unknown word right after "I'll" is rarely a verb we can trust ("I'll probably", "I'll admit")
    if verb not in ACTION_VERBS and (
        kind not in ("self", "named", "marker") or first.lower().endswith(("ed", "ly")) or first[0].isupper()
    ):
        return None
    delegated = re.match(r"^have (?:my|our|the|his|her|their|a)?\s*(?:\w+)\s+(?P<verb>[a-z]+)\b(?P<tail>.*)$", rest,
                         re.I)
    if delegated and _base_verb(delegated.group("verb")) in ACTION_VERBS and delegated.group("verb") not in (
        "up", "ready", "done", "over", "back", "in", "on", "to",
    ):
        rest = delegated.group("verb") + delegated.group("tail")  # "I'll have my team gather them"
        verb = _base_verb(delegated.group("verb"))
    # cut trailing clauses and anything after the end of the sentence
    desc = _CUT_RE.sub("", rest).strip()
    # remove due-date phrases and priority cues from the description
    spans = [(s, e) for s, e, _, _ in find_due_dates(desc, meeting_date=meeting_date)]
    desc = _remove_spans(desc, spans)
    desc = _HIGH_RE.sub("", desc)
    desc = _LOW_RE.sub("", desc)
    desc = re.sub(r"\bthis (?:week|afternoon|morning)\b|\bright after (?:this|the)?\s*\w+\b", "", desc, flags=re.I)
    if requester:
        name = first_name(requester)
        desc = re.sub(r"\bme\b", name, desc)
        desc = re.sub(r"\bmy\b", f"{name}'s", desc)
    else:
        desc = re.sub(r"\b(send|give|email|forward|show|mail|text|ping|bring|get)\s+you\s+(?=\w)", r"\1 ", desc,
                      flags=re.I)
        desc = re.sub(r"\s+(?:to|for|with) you\b(?=\s*(?:$|[,.?!]|and\b))", "", desc, flags=re.I)
    prev = None
    while prev != desc:
        prev = desc
        desc = _TRAILING_RE.sub("", desc).strip(" ,;:-?.!")
    desc = re.sub(r"\s{2,}", " ", desc).strip(" ,;:-?.!")
    if not desc:
        return None
    words = desc.split()
    words[0] = _base_verb(words[0]) if _base_verb(words[0]) in ACTION_VERBS else words[0]
    # recap style "ships the patch and sends the ticket" -> "ship ... and send ..."
    for i in range(1, len(words) - 1):
        if words[i - 1].lower() == "and" and words[i].lower().endswith("s"):
            base = _base_verb(words[i])
            if base in ACTION_VERBS and base != words[i].lower():
                words[i] = base
    desc = " ".join(words)
    desc = desc[0].upper() + desc[1:]
    obj = [w.lower().strip(",.!?") for w in words[1:]]
    content = [w for w in obj if w not in _VAGUE_OBJECT_WORDS and w not in STOPWORDS]
    vague = not content or (verb in _VAGUE_VERBS and all(w in _VAGUE_OBJECT_WORDS or w in ("care", "of") for w in obj))
    if verb in ("take", "get") and obj[:1] in (["care"], ["it"], ["that"], ["this"]) and len(content) <= 1:
        vague = True
    return desc, vague


def _priority(text: str) -> str:
    if _LOW_RE.search(text):
        return "low"
    if _HIGH_RE.search(text):
        return "high"
    return "medium"


def _find_vocative(sentence: str, names: dict[str, str], speaker: str) -> str | None:
    for regex in (_VOCATIVE_START_RE, _VOCATIVE_END_RE):
        m = regex.search(sentence)
        if m:
            resolved = _resolve_name(m.group("name"), names)
            if resolved and resolved != speaker:
                return resolved
    return None


def _clauses(sentence: str, *, recap: bool = False) -> list[str]:
    parts = [p.strip() for p in _CLAUSE_SPLIT_RE.split(sentence) if p and p.strip()]
    if recap:
        parts = [q.strip() for p in parts for q in _RECAP_SPLIT_RE.split(p) if q and q.strip()]
    return parts or [sentence]


# ------------------------------------------------------------------ action items

def _match_clause(
    clause: str, *, sentence: str, utt: Utterance, names: dict[str, str], vocative: str | None, meeting_date: date,
    recap: bool = False,
) -> _ActionMatch | None:
    is_question = sentence.rstrip().endswith("?")
    hypothetical = bool(_HYPOTHETICAL_RE.search(clause))
    m = _MARKER_RE.match(clause)
    kind = ""
    assignee = ""
    rest = ""
    confidence = 0.0
    if m:
        rest = m.group("rest")
        named = re.match(r"(?P<name>[A-Z][\w'-]+)\s+(?:to|will|should|needs to|is going to)\s+(?P<rest>.+)", rest)
        if named and _resolve_name(named.group("name"), names):
            assignee = _resolve_name(named.group("name"), names) or ""
            rest = named.group("rest")
        elif m.group("name"):
            assignee = _resolve_name(m.group("name"), names) or m.group("name")
        kind, confidence = "marker", 0.9
    if not kind:
        vm = _VOCATIVE_START_RE.match(clause)
        if vm and _resolve_name(vm.group("name"), names) and _resolve_name(vm.group("name"), names) != utt.speaker:
            after = _strip_leading(vm.group("rest"))
            first = after.split()[0] if after.split() else ""
            if first and _base_verb(first) in ACTION_VERBS and first[0].islower():
                kind, assignee, rest, confidence = "request", _resolve_name(vm.group("name"), names) or "", after, 0.85
    if not kind:
        m = _REQUEST_RE.search(clause)
        if m:
            trigger = m.group(0)[: m.start("rest") - m.start()].lower()
            if trigger.startswith("please") and m.start() > 0 and not re.match(
                r"^\W*" + _LEADING_DISCOURSE + r"(?:[A-Z][\w'-]+,\s*)?$", clause[: m.start()]
            ):
                m = None  # "please" mid-sentence ("if you could please") is not a new request
        if m:
            kind, rest, confidence = "request", m.group("rest"), 0.8
            assignee = vocative or ""
            if is_question and not re.search(r"\b(?:can|could|would|will) you\b", clause, re.I):
                return None
    if not kind:
        m = _SOMEONE_RE.search(clause)
        if m:
            kind, rest, confidence = "someone", m.group("rest"), 0.65
    if not kind:
        m = _SELF_RE.search(clause)
        if m and not _CLAUSE_LEAD_RE.search(clause[: m.start()]):
            m = None  # "a summary I can send to customers" is a relative clause, not a commitment
        if m and not m.group("neg"):
            trigger = m.group(0)[: m.start("rest") - m.start()].lower()
            if trigger.startswith(("i can", "i could")) and (
                _OFFER_RE.match(_strip_leading(m.group("rest")))
                or re.match(r"^\W*(?:if|with|assuming)\b", clause, re.I)
            ):
                return None  # an offer ("If you sign by the 15th, I can offer two months free")
            kind, rest, assignee = "self", m.group("rest"), utt.speaker
            confidence = 0.85
            if "could" in trigger or "should" in trigger:
                confidence = 0.55
            elif any(t in trigger for t in ("need to", "have to", "got to", "gotta", "let me")):
                confidence = 0.7
            elif trigger.startswith("i can"):
                confidence = 0.75
            if is_question:
                return None
    if not kind:
        nm = re.search(
            r"\b(?P<name>[A-Z][\w'-]+)(?:'s| is)?\s+(?P<modal>(?:is )?going to|gonna|will|'ll|to|needs to|has to|"
            r"should|can)\s+(?P<rest>.+)",
            clause,
        )
        if nm and _resolve_name(nm.group("name"), names) and not is_question:
            kind, assignee, rest = "named", _resolve_name(nm.group("name"), names) or "", nm.group("rest")
            confidence = 0.75
        else:
            nm = re.search(r"\b(?P<name>[A-Z][\w'-]+)\s+(?P<rest>[a-z]+s\b.+)", clause)
            if nm and names and _resolve_name(nm.group("name"), names) and not is_question:
                verb = _base_verb(nm.group("rest").split()[0])
                if verb in ACTION_VERBS and verb != nm.group("rest").split()[0].lower():
                    kind, assignee, rest = "named", _resolve_name(nm.group("name"), names) or "", nm.group("rest")
                    confidence = 0.6
    if not kind and recap:
        m = _RECAP_SELF_RE.match(clause)
        if m and _base_verb(m.group("rest").split()[0]) in ACTION_VERBS:
            kind, rest, assignee, confidence = "self", m.group("rest"), utt.speaker, 0.6
    if not kind:
        m = _TEAM_RE.search(clause)
        if m and not is_question and _CLAUSE_LEAD_RE.search(clause[: m.start()]):
            kind, rest, confidence = "team", m.group("rest"), 0.4
    if not kind or (hypothetical and kind in ("self", "team", "someone", "named")):
        return None
    if kind == "request" and not assignee:
        confidence -= 0.1
    # a report of what already happened is not a commitment ("I can tell you we already sent it")
    if kind in ("team", "named") and _PAST_RE.search(clause):
        return None
    requester = utt.speaker if kind in ("request", "someone", "marker") else ""
    described = _describe(rest, meeting_date=meeting_date, requester=requester, kind=kind)
    if described is None:
        return None
    description, vague = described
    if _base_verb(_strip_leading(rest).split()[0]) not in ACTION_VERBS:
        confidence = min(confidence, 0.5)
    if kind == "team" and (vague or re.match(r"(?:go with|do|use|keep|stick|move forward|proceed|go ahead)\b",
                                              description, re.I)):
        return None  # "let's go with X" is a decision, not a task
    dues = find_due_dates(clause, meeting_date=meeting_date)
    due = None
    if dues:
        cued = [d for d in dues if d[3]]
        due = (cued or dues)[0][2]
        if kind != "team":
            confidence += 0.05
    if _CONDITIONAL_RE.search(clause):
        confidence -= 0.1
    return _ActionMatch(kind=kind, assignee=assignee, description=description, vague=vague,
                        confidence=round(max(0.05, min(0.99, confidence)), 2), due=due, priority="medium",
                        clause=clause)


def _action_matches(utt: Utterance, *, meeting_date: date, participants=()) -> list[_ActionMatch]:
    names = _name_index(participants)
    sentences = split_sentences(utt.text)
    matches: list[_ActionMatch] = []
    recap = is_recap(utt.text)
    opening = None  # "Tim, the idempotency is the critical one. Can you add keys...?" addresses Tim throughout
    if sentences:
        m = _VOCATIVE_START_RE.match(sentences[0])
        if m:
            opening = _resolve_name(m.group("name"), names)
            opening = opening if opening != utt.speaker else None
    for si, sentence in enumerate(sentences):
        vocative = _find_vocative(sentence, names, utt.speaker)
        if vocative is None and si > 0:
            prev = sentences[si - 1]
            if len(prev.split()) <= 3:
                vocative = _find_vocative(prev.rstrip(".!") + ",", names, utt.speaker)
            vocative = vocative or opening
        for clause in _clauses(sentence, recap=recap):
            match = _match_clause(clause, sentence=sentence, utt=utt, names=names, vocative=vocative,
                                  meeting_date=meeting_date, recap=recap)
            if match is None:
                continue
            if match.vague and matches and matches[-1].assignee in (match.assignee, ""):
                # "I'll get finance to issue the memo and I'll email it to you by the 30th"
                prev_match = matches[-1]
                if prev_match.due is None and match.due is not None:
                    prev_match.due = match.due
                continue
            matches.append(match)
    # the date may sit in the next sentence ("I'll have my team gather them. Is end of next week okay?")
    if len(matches) == 1 and matches[0].due is None:
        for sentence in sentences:
            if matches[0].clause in sentence or _TIME_OF_DAY_RE.search(sentence):
                continue
            short_by = re.match(r"^\W*by\b", sentence, re.I) and len(sentence.split()) <= 5
            if sentence.rstrip().endswith("?") or short_by:
                dues = find_due_dates(sentence, meeting_date=meeting_date)
                if dues:
                    matches[0].due = dues[0][2]
                    break
    # priority cues may sit in a neighbouring sentence ("It's high priority because it blocks everyone.")
    for match in matches:
        match.priority = _priority(match.clause) if len(matches) > 1 else _priority(utt.text)
    return matches


def _to_candidate(match: _ActionMatch, utt: Utterance) -> ActionItemCandidate:
    return ActionItemCandidate(
        description=match.description,
        assignee_name=match.assignee,
        due_date=match.due,
        priority=match.priority,
        # alone, "I'll do that" says too little; analyze_transcript resolves it from context
        confidence=min(match.confidence, 0.35) if match.vague else match.confidence,
        source_text=utt.text,
        dedupe_key=normalize_key(match.description),
        segment_id=utt.segment_id,
    )


def detect_action_items(utt: Utterance, *, meeting_date: date, participants=()) -> list[ActionItemCandidate]:
    """Action items said in one utterance.

    Who: an explicit name ("Priya will...", "Priya, can you..."), "I'll" -> the speaker, "can you" -> the
    addressee when named (else unassigned), "we"/"someone" -> unassigned. What: a cleaned imperative.
    When: resolved against ``meeting_date``. Vague commitments ("I'll do that") come back with low
    confidence because only the surrounding conversation says what "that" is.
    """
    return [_to_candidate(m, utt) for m in _action_matches(utt, meeting_date=meeting_date, participants=participants)]


def is_acknowledgement(text: str) -> bool:
    """"Will do." / "Sure, happy to." / "On it." — accepts a request without restating it."""
    sentences = split_sentences(text)
    return bool(sentences) and all(_ACK_RE.match(s) for s in sentences[:2]) and len(text.split()) <= 8


def is_recap(text: str) -> bool:
    return bool(_RECAP_RE.search(text))


# ------------------------------------------------------------------ decisions

_DECISION_PATTERNS: list[tuple[re.Pattern, float, bool]] = [
    # (pattern, confidence, strip the trigger from the text)
    (re.compile(r"\b(?:we|they|I|the team|everyone)(?:'ve| have)?(?: all| just| finally)? (?:decided|agreed|settled|"
                r"landed|aligned|committed)(?: internally)?(?: this week| today)?(?: (?:on|to|that|upon))?\b\s*,?\s*",
                re.I), 0.85, True),
    (re.compile(r"\b(?:the |our )?(?:final )?(?:decision|call|verdict|consensus)(?: here)? is(?: to| that)?\b\s*,?\s*",
                re.I), 0.85, True),
    (re.compile(r"\b(?:decision|decided|agreed|resolved)\s*:\s*", re.I), 0.85, True),
    (re.compile(r"\blet's decide\s*:\s*", re.I), 0.85, True),
    (re.compile(r"\b(?:one )?decision I (?:do )?want to make(?: today)?\s*:\s*", re.I), 0.85, True),
    (re.compile(r"\b(?:we're|we are|we'll|we will|I'm|I am)\s+(?:go(?:ing)?|gonna go)\s+(?:to go\s+)?with\b", re.I),
     0.85, False),
    (re.compile(r"\blet's go(?: ahead)? with\b", re.I), 0.85, False),
    (re.compile(r"\b(?:we're|we are|we'll|we will)\s+(?:going to\s+|gonna\s+)?(?:keep(?:ing)?|drop(?:ping)?|"
                r"mov(?:e|ing)|switch(?:ing)?|adopt(?:ing)?|standardiz\w+|leav(?:e|ing)|send(?:ing)?|extend(?:ing)?|"
                r"mak(?:e|ing)|cut(?:ting)?|push(?:ing)?|delay(?:ing)?|postpon\w+|cancel\w*|sunset\w*|"
                r"deprecat\w+|paus(?:e|ing)|stop(?:ping)?|requir(?:e|ing)|offer(?:ing)?|plan(?:ning)? on|"
                r"go(?:ing)? ahead with|proceed(?:ing)? with|mov(?:e|ing) forward (?:with|on)|remov(?:e|ing)|"
                r"cap(?:ping)?|limit(?:ing)?|freez(?:e|ing)|hir(?:e|ing)|launch(?:ing)?|ship(?:ping)?|"
                r"approv(?:e|ing)|sign(?:ing)?|choos(?:e|ing)|pick(?:ing)?|priorit\w+|skip(?:ping)?|"
                r"stick(?:ing)? with|us(?:e|ing))\b", re.I), 0.7, False),
    (re.compile(r"\blet's (?:do|use|keep|stick with|move forward|proceed|go ahead|pull|drop|cap|add|offer|switch|"
                r"standardi[sz]e|adopt|cut|push|skip|defer|postpone|ship|launch|prioriti[sz]e|hold|wait|make|move|"
                r"leave|remove|hire|approve|sign|choose|pick|select|buy|raise|lower|extend|limit|freeze|require|"
                r"allocate|put|run|plan on|start with|go for|commit|not do|not use|not ship|not include|"
                r"include|exclude|stay|target|aim|set|fix the|spend|split|shard)\b", re.I), 0.7, False),
    (re.compile(r"\b(?:is|are|was|were|been|got|get|has been|have been) (?:officially )?(?:approved|signed off|"
                r"greenlit|green-lit|confirmed|locked(?: in)?|final(?:ized|ised)?)\b", re.I), 0.75, False),
    (re.compile(r"\b(?:I'm|I am|we're|we are) approving\b|\bwe approve\b|\bI approve\b|\bsigned off on\b|"
                r"\bgreen ?light(?:ed)?\b|\bgoing forward,|\bfrom now on\b|\bmoving forward,", re.I), 0.8, False),
    (re.compile(r"\b(?:every|all|any)\s+\w+(?:\s+\w+){0,6}\s+(?:must|has to|have to|shall|needs to|need to)\b",
                re.I), 0.6, False),
    (re.compile(r"^(?:\W*(?:okay|ok|so|alright|then|right)[,.]?\s+)*[\w' -]{2,40}\b(?:is|are) (?:in|out)\s*[.!]?$",
                re.I), 0.6, False),
]
_TENTATIVE_RE = re.compile(
    r"\b(?:maybe|might|perhaps|possibly|not sure|unsure|should we|could we|would we|shall we|what if|"
    r"thinking about|think about|consider(?:ing)?|let's (?:not decide|discuss|talk|think|revisit|see|circle|table|"
    r"park|figure|chat|look|get started|start|begin|jump|dive|move on|wrap|recap|review|go around|hear|do standup|"
    r"do a|do introductions|touch base|sync|regroup|reconvene|meet|schedule|check|take a|move fast)|"
    r"haven't decided|not decided|undecided|need to decide|to be decided|tbd|before we decide|still deciding|"
    r"let me think|I'd suggest|I suggest|I propose|I'd rather|I'd like to|I'd push|I think we should|"
    r"we should probably|probably|don't know|no idea|not yet|open question|hasn't been decided|we could|"
    r"I wonder|wondering|if we decide|once we decide|haven't figured|not decide)\b",
    re.I,
)
_PAST_DECISION_RE = re.compile(
    r"\b(?:last (?:week|month|quarter|year|time|sprint|meeting)|previously|back in|earlier this year|"
    r"a while ago|ago|in the past|remember\??)\b",
    re.I,
)
_REFERENT_DECISION_RE = re.compile(
    r"^\W*(?:(?:okay|ok|yes|yeah|great|good|sure|perfect|alright|agreed)[,.!]?\s*)*(?:let's (?:do|go with|go for) "
    r"(?:it|that|this|those)(?: then)?|that's (?:decided|settled|the plan|final)|it's (?:decided|settled)|"
    r"decision made|go for it|approved|done deal|let's make it happen|agreed)\s*[.!]*$",
    re.I,
)
_STRIP_LEAD_RE = re.compile(
    r"^(?:(?:okay|ok|so|alright|all right|great|good|then|yes|yeah|right|and|perfect|fine|well|now|also|"
    r"for now|cool|sounds good|thanks|no|understood|that's decided|one decision on our side)[,.:!]?\s+)+",
    re.I,
)
_STRIP_TRIGGER_RE = re.compile(
    r"^(?:we(?:'re| are| will|'ll)?\s+(?:going to\s+|gonna\s+)?|let's\s+|let us\s+|I'm\s+|I am\s+|"
    r"internally,?\s+)",
    re.I,
)


def _decision_text(clause: str, match: re.Match, strip_trigger: bool) -> str:
    text = clause[match.end():] if strip_trigger else clause
    text = _STRIP_LEAD_RE.sub("", text.strip())
    if not strip_trigger:
        text = _STRIP_TRIGGER_RE.sub("", text)
        text = re.sub(r"^(?:going|gonna)\s+(?:to\s+)?(?:go\s+)?with\b", "go with", text, flags=re.I)
        text = re.sub(r"^(?:going to|gonna)\s+", "", text, flags=re.I)
    text = re.sub(r"\s*,?\s*(?:then|right|okay)\s*[?.!]*$", "", text, flags=re.I)
    text = text.strip(" ,;:-.!")
    return text[:1].upper() + text[1:] if text else ""


def _decision_clauses(sentence: str) -> list[str]:
    parts = re.split(r"(?:,\s*|\s+)(?:so|but|and)\s+(?=(?:let's|we'll|we're|we will|we are|we)\b)|;\s*", sentence,
                     flags=re.I)
    return [p.strip() for p in parts if p and p.strip()]


def detect_decisions(utt: Utterance) -> list[DecisionCandidate]:
    """All decisions in one utterance (``detect_decision`` returns the most confident)."""
    found: list[DecisionCandidate] = []
    sentences = split_sentences(utt.text)
    for si, sentence in enumerate(sentences):
        if sentence.rstrip().endswith("?"):
            continue
        if _REFERENT_DECISION_RE.match(sentence):
            continue  # "Let's do it." needs the proposal before it; analyze_transcript resolves those
        for clause in _decision_clauses(sentence):
            if _TENTATIVE_RE.search(clause) or _PAST_DECISION_RE.search(clause):
                continue
            if re.match(r"^\W*(?:if|when|once|whether|unless)\b", clause, re.I):
                continue
            best: tuple[float, str] | None = None
            for pattern, confidence, strip in _DECISION_PATTERNS:
                m = pattern.search(clause)
                if not m:
                    continue
                text = _decision_text(clause, m, strip)
                if len(content_tokens(text)) < 1:
                    continue
                obj = [w.lower().strip(",.!") for w in text.split()[1:]]
                if (obj and all(w in _VAGUE_OBJECT_WORDS for w in obj)) or len(text.split()) < 2:
                    continue  # "Let's cap it." says too little on its own
                if re.search(r"\b(?:if|assuming|provided|as long as|pending|unless)\b", clause, re.I):
                    confidence -= 0.1
                if best is None or confidence > best[0]:
                    best = (confidence, text)
            if best:
                confidence, text = best
                nxt = sentences[si + 1] if si + 1 < len(sentences) else ""
                if len(text.split()) < 10 and re.match(r"^So\b", nxt) and not nxt.rstrip().endswith("?"):
                    # "Let's move two of those into CS. So 10 in product and 2 in CS." spells the decision out
                    detail = re.sub(r"^So,?\s*", "", nxt).rstrip(".")
                    text = f"{text.rstrip('.')}: {detail}"
                found.append(DecisionCandidate(text=text, confidence=round(confidence, 2), source_text=utt.text,
                                               dedupe_key=normalize_key(text), segment_id=utt.segment_id))
    return found


def detect_decision(utt: Utterance) -> DecisionCandidate | None:
    """A decision stated in the utterance ("we decided/agreed...", "let's go with...", "X is approved"),
    never a tentative one ("maybe we should...", "should we...?")."""
    found = detect_decisions(utt)
    return max(found, key=lambda d: d.confidence) if found else None


_PROPOSAL_RE = re.compile(
    r"\b(?:we could|we can|I can|what if we|how about|I propose|I suggest|I'd suggest|maybe we|why don't we|"
    r"I'd rather|we should|I think we should|the idea is to|my suggestion is|I recommend|we might|"
    r"I'd like to|I'd push for|we'd|I'd go with|I can offer|let's)\b\s*(?P<rest>.*)",
    re.I,
)


def proposal_text(text: str) -> str | None:
    """The proposal a "let's do that" refers to, from the utterance before it."""
    for sentence in reversed(split_sentences(text)):
        if sentence.rstrip().endswith("?") and not re.match(r"^\W*(?:what if|how about|why don't we|should we)\b",
                                                            sentence, re.I):
            continue
        m = _PROPOSAL_RE.search(sentence)
        if m and len(m.group("rest").split()) >= 2:
            prefix = sentence[: m.start()]
            body = m.group("rest")
            if re.search(r"\bif\b", prefix, re.I):
                body = re.sub(r"^\W*", "", prefix.split(",", 1)[0]) + ", " + body if "," in prefix else body
            body = re.sub(r"^(?:just|also|maybe|probably|then)\s+", "", body.strip(), flags=re.I)
            body = body.rstrip(" ?.!")
            return body[:1].upper() + body[1:]
    return None


def is_referent_decision(text: str) -> bool:
    return any(_REFERENT_DECISION_RE.match(s) for s in split_sentences(text))


# ------------------------------------------------------------------ questions

_WH_START_RE = re.compile(
    r"^\W*(?:(?:so|and|but|okay|ok|also|quick question|one more(?: question)?|then)[,:]?\s+)*"
    r"(?:what|how|why|when|where|who|which|whose|whom|can|could|would|will|do|does|did|is|are|was|were|should|"
    r"shall|have|has|had|may|might|any|anything|isn't|aren't|don't|doesn't|didn't|won't|wouldn't|can't)\b",
    re.I,
)
_EMBEDDED_Q_RE = re.compile(
    r"\b(?:I was wondering|I'm wondering|I wonder (?:if|whether|how|what)|do you know|any idea|I'd like to know|"
    r"I want to know|can you tell me|could you tell me|my question is|curious (?:if|whether|how|what|about))\b",
    re.I,
)
_TAG_RE = re.compile(
    r"(?:,|\s)\s*(?:right|you know|okay|ok|yeah|correct|no|isn't it|aren't they|don't you think|huh|eh)\s*\?\s*$",
    re.I,
)
_PROCESS_Q_RE = re.compile(
    r"^\W*(?:(?:okay|so|and|great|alright)[,.]?\s+)*(?:anything else|any(?: other)? questions|questions|"
    r"everyone (?:okay|good|ready|here)|does that make sense|make sense|sound good|sounds good|can you hear me|"
    r"can everyone (?:see|hear)|can you see my screen|is that clear|are we good|all good|ready|who's next|"
    r"who wants to go (?:first|next)|shall we (?:start|begin)|are we ready|(?:no|nothing)\??|is everyone here|"
    r"you there|still there|right|okay|how are you|how's it going|how are things|how was your weekend)"
    r"\W*(?:[A-Z][a-z]+)?\W*\??\s*$",
    re.I,
)
_RHETORICAL_RE = re.compile(r"\b(?:how cool is that|who knows|why not|guess what|you know what|what can I say|"
                            r"who doesn't|isn't that (?:great|nice|cool))\b", re.I)


def _question_kind(sentence: str) -> tuple[bool, float] | None:
    """(is a real question, confidence) for a question-shaped sentence; None when not question-shaped."""
    s = sentence.strip()
    ends_q = s.endswith("?")
    starts = bool(_WH_START_RE.match(s))
    embedded = bool(_EMBEDDED_Q_RE.search(s))
    if not (ends_q or embedded or (starts and not s.endswith((".", "!")))):
        return None
    if _RHETORICAL_RE.search(s) or _PROCESS_Q_RE.match(s):
        return False, 0.4
    if _TAG_RE.search(s) and len(s.split()) >= 3:
        return False, 0.5
    if re.search(r"\b(?:can|could|would|will) you(?:\s+(?:please|also|just))*\s+(\w+)", s, re.I):
        verb = re.search(r"\b(?:can|could|would|will) you(?:\s+(?:please|also|just))*\s+(\w+)", s, re.I).group(1)
        if _base_verb(verb) in ACTION_VERBS and not _IMMEDIATE_RE.match(verb.lower()) and _base_verb(verb) not in (
            "tell", "explain", "walk", "clarify", "confirm", "share", "go"
        ):
            return False, 0.6  # a request phrased as a question
    if ends_q:
        return True, 0.9 if starts else 0.75
    if embedded:
        return True, 0.7
    return True, 0.55


def detect_question(utt: Utterance) -> QuestionCandidate | None:
    """The question(s) asked in an utterance.

    ``is_question`` is False for question-shaped sentences that ask nothing: tags ("..., right?"),
    rhetorical ones, meeting process ("Anything else?") and requests ("Can you send me the deck?").
    """
    real: list[tuple[str, float]] = []
    other: list[tuple[str, float]] = []
    for sentence in split_sentences(utt.text):
        kind = _question_kind(sentence)
        if kind is None:
            continue
        (real if kind[0] else other).append((clean_spoken(sentence), kind[1]))
    if real:
        return QuestionCandidate(text=" ".join(s for s, _ in real[:3]), asker=utt.speaker, is_question=True,
                                 confidence=round(max(c for _, c in real), 2))
    if other:
        return QuestionCandidate(text=" ".join(s for s, _ in other[:3]), asker=utt.speaker, is_question=False,
                                 confidence=round(max(c for _, c in other), 2))
    return None


def merge_candidate(base: ActionItemCandidate, **changes) -> ActionItemCandidate:
    return replace(base, **changes)
