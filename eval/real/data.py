"""Loading the real meeting data sets and splitting them into meeting-level folds.

Nothing here is tuned: the folds keep a meeting series together (ES2002a-d is one group), so no
detector is ever trained and scored on parts of the same meeting or of the same four-meeting series.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from meetings.analysis.disfluency import without_fillers

REPO = Path(__file__).resolve().parent.parent.parent
AMI_FILE = "ami-es-dev.json"
QMSUM_FILE = "qmsum-val-dev.json"
WHERE_FROM = (
    "The real meeting sets are not in the repository. Point EVAL_DATA_DIR at a folder holding\n"
    f"  {AMI_FILE}   (AMI Meeting Corpus manual annotations 1.6.2, ES series: dialogue acts with\n"
    "                      the 'actions'/'decisions' abstractive summary links, CC BY 4.0)\n"
    f"  {QMSUM_FILE} (QMSum validation split from its GitHub repository, MIT)\n"
    "in the JSON format described in docs/analysis.md (section 'Evaluation data')."
)


class DataMissing(RuntimeError):
    pass


def data_dir() -> Path:
    configured = os.environ.get("EVAL_DATA_DIR")
    return Path(configured) if configured else REPO.parent / "shared" / "datasets"


def _load(name: str) -> object:
    path = data_dir() / name
    if not path.exists():
        raise DataMissing(f"{path} not found.\n{WHERE_FROM}")
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


@dataclass
class Utterance:
    id: str
    speaker: str
    start: float
    end: float
    text: str
    labels: list[str] = field(default_factory=list)


@dataclass
class GoldSentence:
    id: str
    kind: str  # "action" | "decision"
    text: str
    utterances: list[str]


@dataclass
class AmiMeeting:
    meeting: str
    utterances: list[Utterance]
    gold: list[GoldSentence]

    @property
    def series(self) -> str:
        return series_of(self.meeting)


def series_of(meeting: str) -> str:
    """ES2002a -> ES2002: the four meetings of one design team belong to one fold."""
    match = re.match(r"^([A-Za-z]+\d+)[a-d]$", meeting)
    return match.group(1) if match else meeting


def ami_meetings() -> list[AmiMeeting]:
    raw = _load(AMI_FILE)
    return [
        AmiMeeting(
            meeting=m["meeting"],
            utterances=[Utterance(id=u["id"], speaker=u["speaker"], start=float(u["start"]), end=float(u["end"]),
                                  text=u["text"], labels=list(u.get("labels") or [])) for u in m["utterances"]],
            gold=[GoldSentence(id=g["id"], kind=g["kind"], text=g["text"], utterances=list(g["utterances"]))
                  for g in m["gold"]],
        )
        for m in raw  # type: ignore[union-attr]
    ]


def caption_like(meeting: AmiMeeting) -> AmiMeeting:
    """The meeting without what captions and speech recognition drop: each line without transcription marks,
    fillers ("um", "uh") or stuttered repeats, and lines with nothing else ("Um.") left out. Recognition
    errors are not modelled.

    Utterance ids and labels stay, so the same scoring applies; the manual transcripts keep every filler,
    which the product's "said" features read, and captions do not.
    """
    lines = [replace(u, text=without_fillers(u.text)) for u in meeting.utterances]
    return AmiMeeting(meeting=meeting.meeting, utterances=[u for u in lines if u.text], gold=meeting.gold)


def folds(meetings: list[AmiMeeting], k: int = 5) -> list[tuple[list[AmiMeeting], list[AmiMeeting]]]:
    """k (train, test) splits by series, deterministic: series sorted by name, dealt round-robin."""
    series = sorted({m.series for m in meetings})
    groups = {s: i % k for i, s in enumerate(series)}
    out = []
    for fold in range(k):
        test = [m for m in meetings if groups[m.series] == fold]
        train = [m for m in meetings if groups[m.series] != fold]
        out.append((train, test))
    return out


@dataclass
class QmsumMeeting:
    meeting: str
    turns: list[dict]  # {"speaker", "text"}


@dataclass
class QmsumQuery:
    meeting: str
    query: str
    spans: list[tuple[int, int]]  # inclusive turn index ranges


def qmsum() -> tuple[list[QmsumMeeting], list[QmsumQuery]]:
    raw = _load(QMSUM_FILE)
    meetings = [QmsumMeeting(meeting=m["meeting"], turns=list(m["turns"])) for m in raw["meetings"]]  # type: ignore[index]
    queries = [QmsumQuery(meeting=q["meeting"], query=q["query"], spans=[(int(a), int(b)) for a, b in q["spans"]])
               for q in raw["queries"]]  # type: ignore[index]
    return meetings, queries
