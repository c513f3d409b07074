"""The learned action-item / decision detector: committed weights, reproduction of their recorded figures,
live == after-meeting scores, and hard utterances from real meetings (AMI Meeting Corpus, University of
Edinburgh / IDIAP / TNO et al., CC BY 4.0)."""

from datetime import date

import numpy as np
import pytest

from meetings.analysis import learned
from meetings.analysis.disfluency import readable, strip_disfluencies, words_to_digits
from meetings.analysis.items import extract_items, imperative
from meetings.analysis.types import Utterance

MEETING = date(2025, 5, 22)


def U(speaker, text, start=0.0, end=0.0):
    return Utterance(speaker=speaker, text=text, start=start, end=end)


# ES2002a, project finance: the price is said with numbers in words, the decision spread over B's turns.
FINANCE = [
    U("B", "Just down here? Yeah.", 595.0, 596.0),
    U("B", "Okay.", 596.0, 596.5),
    U("B", "Um what are we doing next? Uh um.", 597.0, 599.0),
    U("B", "Okay, uh we now need to discuss the project finance.", 599.0, 602.0),
    U("B", "Um so according to the brief um we're gonna be selling this remote control for twenty five Euro,",
      602.0, 608.0),
    U("B", "um and we're aiming to make fifty million Euro.", 608.0, 611.0),
    U("B", "Um so we're gonna be selling this on an international scale.", 611.0, 614.0),
    U("B", "And uh we don't want it to cost any more than uh twelve fifty Euros, so fifty percent of the selling "
           "price.", 614.0, 620.0),
    U("D", "'Kay.", 620.0, 620.5),
    U("D", "Um, can we just go over that again?", 621.0, 623.0),
]
# ES2002a, the close: tasks handed out by role, in disfluent speech.
CLOSE = [
    U("B", "Okay", 50.42, 50.99),  # the meeting's first words: the close comes 15 minutes later
    U("C", "Uh.", 976.66, 976.73),
    U("B", "Right, well um", 977.17, 978.62),
    U("B", "so just to wrap up", 978.62, 979.73),
    U("B", "the next meeting's gonna be in thirty minutes.", 979.73, 981.67),
    U("B", "So that's about um about ten to twelve by my watch.", 981.67, 985.49),
    U("B", "Um so inbetween now and then, um as the industrial designer, you're gonna be working on you know the "
           "actual working design of it", 985.49, 994.81),
    U("A", "Yep.", 993.88, 994.02),
    U("B", "so y you know what you're doing there.", 994.81, 996.69),
    U("B", "Um for user interface, technical functions,", 996.69, 1000.99),
    U("B", "I guess that's you know like what we've been talking about,", 1000.99, 1003.16),
    U("B", "what it'll actually do.", 1003.16, 1004.08),
    U("B", "Um and uh marketing executive,", 1004.08, 1008.75),
    U("B", "you'll be just thinking about what it actually what, you know, what requirements it has to has to "
           "fulfil", 1010.02, 1016.48),
    U("B", "and you'll all get instructions emailed to you, I guess.", 1016.48, 1019.31),
    U("D", "Okay.", 1019.67, 1020.01),
]
# ES2002b: "I'll go first." is a turn in the meeting, not a task.
TURN_TAKING = [
    U("B", "Right um,", 204.57, 205.48),
    U("B", "time for presentations then.", 205.48, 206.79),
    U("B", "Who would like to go first?", 206.79, 208.0),
    U("C", "I'll go first.", 210.36, 210.79),
    U("D", "Sure.", 211.03, 211.28),
    U("B", "Okay, cool.", 211.13, 211.83),
    U("C", "Alright um,", 217.21, 218.22),
]


# ---------------------------------------------------------------- committed weights


def test_weights_are_small_credited_and_carry_their_figures():
    size = sum(f.stat().st_size for f in learned.WEIGHTS_DIR.iterdir())
    assert size < 5_000_000
    meta = learned.committed_model().meta
    assert "AMI Meeting Corpus" in meta["credit"] and "CC BY 4.0" in meta["credit"]
    for kind in learned.KINDS:
        assert 0.0 < meta["thresholds"][kind] < 1.0
        cal = meta["calibration"][kind]
        assert cal["x"] == sorted(cal["x"]) and cal["y"] == sorted(cal["y"])
        assert meta["dev_figures"][kind]["f1"] > 0


@pytest.fixture
def check_meetings():
    """The real dev meetings the committed weights recorded their figures on, and those figures."""
    from eval.real.data import DataMissing, ami_meetings

    try:
        meetings = ami_meetings()
    except DataMissing:
        pytest.skip("AMI ES dev data set not found (EVAL_DATA_DIR, default ../shared/datasets)")
    recorded = learned.committed_model().meta["check_meetings"]
    check = [m for m in meetings if m.meeting in recorded["meetings"]]
    assert len(check) == len(recorded["meetings"])
    return check, recorded["figures"]


def test_committed_weights_reproduce_their_recorded_figures(check_meetings):
    from eval.real.scoring import utterance_prf
    from eval.real.train_detector import to_utterances

    check, figures = check_meetings
    scored = {m.meeting: learned.score_utterances(to_utterances(m)) for m in check}
    for kind in learned.KINDS:
        pred = {m.meeting: {m.utterances[i].id for i in learned.pick(scored[m.meeting], kind)} for m in check}
        prf = utterance_prf(check, pred, kind)
        want = figures[kind]
        assert prf.predicted == pytest.approx(want["predicted"], abs=2)
        assert prf.f1 == pytest.approx(want["f1"], abs=0.03)


def test_caption_like_meetings_say_the_same_without_fillers():
    from eval.real.data import AmiMeeting, GoldSentence, caption_like
    from eval.real.data import Utterance as AmiUtterance

    lines = ["Um {vocalsound} so you're gonna uh be working on the the design", "Um.", "Yeah, okay."]
    meeting = AmiMeeting(
        meeting="ES2002a",
        utterances=[AmiUtterance(id=f"u{i}", speaker="A", start=i, end=i + 1, text=t, labels=["action"] * (i == 0))
                    for i, t in enumerate(lines)],
        gold=[GoldSentence(id="g0", kind="action", text="design", utterances=["u0"])],
    )
    captions = caption_like(meeting)
    assert [(u.id, u.text, u.labels) for u in captions.utterances] == [
        ("u0", "so you're gonna be working on the design", ["action"]), ("u2", "Yeah, okay.", [])]
    assert captions.gold == meeting.gold and meeting.utterances[0].text == lines[0]


def test_committed_weights_hold_on_captions_without_fillers(check_meetings):
    """Manual transcripts keep every "um"; captions drop them. The figures must not hang on the fillers."""
    from eval.real.data import caption_like
    from eval.real.scoring import utterance_prf
    from eval.real.train_detector import to_utterances

    transcripts, figures = check_meetings
    check = [caption_like(m) for m in transcripts]
    assert sum(len(m.utterances) for m in check) < sum(len(m.utterances) for m in transcripts)
    scored = {m.meeting: learned.score_utterances(to_utterances(m)) for m in check}
    for kind in learned.KINDS:
        pred = {m.meeting: {m.utterances[i].id for i in learned.pick(scored[m.meeting], kind)} for m in check}
        assert utterance_prf(check, pred, kind).f1 >= figures[kind]["f1"] - 0.05


def test_live_scores_equal_after_meeting_scores():
    transcript = FINANCE + CLOSE
    batch = learned.score_utterances(transcript)
    live = []
    for n in range(1, len(transcript) + 1):
        live += learned.score_live(transcript[:n])
    live += learned.score_live(transcript, final=True)
    assert [i for i, _ in live] == list(range(len(transcript)))
    for i, score in live:
        assert score.action == pytest.approx(batch[i].action, abs=1e-3)
        assert score.decision == pytest.approx(batch[i].decision, abs=1e-3)
    assert learned.score_live(transcript[:3]) == []


def test_live_scores_equal_after_meeting_scores_deep_into_a_meeting():
    # Past the first window the live step featurises only the lines it scores and their neighbours, and reuses
    # what each line's own words gave in earlier windows (lines repeat here): the scores must not move.
    base = FINANCE + CLOSE
    transcript = [Utterance(speaker=u.speaker, text=u.text, start=u.start + 600.0 * k, end=u.end + 600.0 * k)
                  for k in range(3) for u in base]
    learned._text_features.cache_clear()
    batch = learned.score_utterances(transcript)
    live = [s for n in range(1, len(transcript) + 1) for s in learned.score_live(transcript[:n])]
    live += learned.score_live(transcript, final=True)
    assert [i for i, _ in live] == list(range(len(transcript)))
    assert [s for _, s in live] == batch
    assert learned._text_features.cache_info().hits > 0


def test_scores_are_probabilities_and_empty_input_is_fine():
    scores = learned.score_utterances(FINANCE)
    assert len(scores) == len(FINANCE)
    assert all(0.0 <= s.action <= 1.0 and 0.0 <= s.decision <= 1.0 for s in scores)
    assert learned.score_utterances([]) == []
    assert extract_items([], meeting_date=MEETING) == ([], [])


# ---------------------------------------------------------------- hard real utterances


def test_price_said_in_words_scores_as_a_decision_and_reads_as_digits():
    scores = learned.score_utterances(FINANCE)
    price = 4
    assert scores[price].decision > max(scores[i].decision for i in (0, 1, 2))
    _, decisions = extract_items(FINANCE, meeting_date=MEETING)
    assert decisions, "the project finance decisions were missed"
    texts = " | ".join(d.text for d in decisions)
    assert "25 Euro" in texts or "12.50 Euros" in texts, texts
    assert not any(w in texts.lower().split() for w in ("um", "uh")), texts
    # The surest decisions come from the price turns. D's "can we just go over that again?" right after them is
    # picked too (below them, as a suggestion): the window-bag decision model reads the finance words around it.
    top = max(d.confidence for d in decisions)
    assert all(set(d.source_indices) & {4, 5, 6, 7} for d in decisions if d.confidence == top), decisions
    assert all(d.confidence < top for d in decisions if not set(d.source_indices) & {3, 4, 5, 6, 7}), decisions


def test_tasks_handed_out_at_the_close_are_found_and_phrased():
    actions, _ = extract_items(CLOSE, meeting_date=MEETING, participants=["A", "B", "C", "D"])
    assert actions, "the tasks handed out at the close were missed"
    sources = {i for a in actions for i in a.source_indices}
    assert sources & {6, 9, 12, 13}, actions
    for a in actions:
        assert "you know" not in a.description.lower() and " um " not in f" {a.description.lower()} "


def test_ill_go_first_is_not_an_action_item():
    scores = learned.score_utterances(TURN_TAKING)
    assert learned.pick(scores, "action") == []
    actions, _ = extract_items(TURN_TAKING, meeting_date=MEETING)
    assert actions == []


# ---------------------------------------------------------------- phrasing


@pytest.mark.parametrize(("spoken", "clean"), [
    ("um so we're gonna be selling this for uh twenty five Euros", "Sell this for 25 Euros"),
    ("you're gonna be working on you know the actual working design of it", "Work on the actual working design "
                                                                           "of it"),
    ("Let's go with the yellow one.", "Go with the yellow one"),
])
def test_imperative_phrasing(spoken, clean):
    assert imperative(spoken)[0] == clean


def test_disfluencies_and_numbers():
    assert strip_disfluencies("so th this concerns firs first of all the the chips I I showed you at uh") == \
        "so this concerns first of all the chips I showed you at"
    assert strip_disfluencies("I d I don't know many people without a T_V_.") == \
        "I don't know many people without a TV."
    assert words_to_digits("twelve fifty Euros") == "12.50 Euros"
    assert words_to_digits("two hundred and fifty units") == "250 units"
    assert words_to_digits("this one and the red one") == "this one and the red one"
    assert readable("Um and uh we don't want it to cost more than uh twelve fifty Euros") == \
        "We don't want it to cost more than 12.50 Euros"


def test_owner_from_the_speaker_and_due_date_from_the_window():
    transcript = [
        U("A", "Okay so the next meeting is on Friday.", 0, 3),
        U("B", "Um I'll uh I'll send the the cost spreadsheet to everybody by Friday.", 3, 7),
        U("A", "Great.", 7, 8),
    ]
    model = learned.committed_model()
    scores = [learned.DetectorScore(action=0.9 if i == 1 else 0.0, decision=0.0) for i in range(3)]
    actions, _ = extract_items(transcript, meeting_date=MEETING, scores=scores, model=model)
    assert len(actions) == 1
    item = actions[0]
    assert item.assignee_name == "B"
    assert item.description.lower().startswith("send the cost spreadsheet"), item
    assert item.due_date == date(2025, 5, 23)
    assert item.source_indices == (1,)


# ---------------------------------------------------------------- decision cues and peaks


def test_agreement_from_others_after_a_proposal_is_a_feature():
    proposal = [U("A", "So let's go with the yellow case.", 0, 2), U("B", "Yeah, sounds good.", 2, 3),
                U("C", "Okay.", 3, 4), U("A", "And the buttons?", 4, 5)]
    monologue = [U("A", "So let's go with the yellow case.", 0, 2), U("A", "and the buttons,", 2, 3),
                 U("A", "I don't know.", 3, 4), U("A", "And the buttons?", 4, 5)]
    names = learned.DENSE_NAMES
    agreed = learned.featurize(proposal).dense[0]
    alone = learned.featurize(monologue).dense[0]
    assert agreed[names.index("agree_next")] == 1.0 and alone[names.index("agree_next")] == 0.0
    assert agreed[names.index("speakers_next")] > alone[names.index("speakers_next")]
    assert agreed[names.index("commit_words")] == 1.0
    # who said the neighbouring words, and whether before or after, is kept in the context tokens
    ctx = learned.featurize(proposal).blocks["ctx"][1]
    assert "sp:let's" not in ctx and "op:let's" in ctx and "on:okay" in ctx


def test_the_action_model_reads_the_window_as_said():
    # CLOSE[5..9] around "Yep." (7): a task handed out over turns, fillers and all.
    window = learned.featurize(CLOSE).blocks["said"][7]
    assert "um" in window and "you know" in window  # fillers kept, as said
    assert "it yep" in window  # a word pair across two turns (two speakers)
    assert "by my" in window and "for user" in window  # the first and the last line of the window ...
    assert "thirty" not in window and "guess" not in window and "minutes so" not in window  # ... and nothing past
    assert all(len(w) > 1 for gram in window for w in gram.split())  # one-letter words are left out
    model = learned.committed_model()
    assert model.coef["action"]["said"].any() and model.coef["action"]["u"].any()
    assert not model.coef["action"]["win"].any() and not model.coef["decision"]["said"].any()


def test_the_committed_weights_were_trained_with_the_training_script_s_settings():
    from eval.real import train_detector

    meta = learned.committed_model().meta
    assert meta["blocks"] == list(train_detector.MIN_DF) and set(meta["blocks"]) <= set(learned.BLOCKS)
    assert meta["features"]["min_df"] == train_detector.MIN_DF
    assert meta["features"]["kind_blocks"] == {k: list(v) for k, v in train_detector.KIND_BLOCKS.items()}
    assert meta["training"]["C"] == train_detector.C
    assert meta["training"]["class_weight"] == train_detector.CLASS_WEIGHT


def test_weights_for_a_block_this_code_does_not_build_are_refused(tmp_path):
    import json
    import shutil

    for name in ("detector.npz", "detector.json"):
        shutil.copy(learned.WEIGHTS_DIR / name, tmp_path / name)
    meta = json.loads((tmp_path / "detector.json").read_text())
    meta["blocks"].append("chars")
    (tmp_path / "detector.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="chars"):
        learned.load_model(tmp_path)


def test_an_item_lands_on_the_line_that_hands_out_the_task():
    # The window around "so you know what you're doing there" (8), "I guess that's ... what we've been talking
    # about" (10) and "Um and uh marketing executive," (12) holds tasks, but those lines hand out none: the items
    # are placed on the lines that do, even where the calibrated scores of a clear stretch are near the top.
    picked = set(learned.pick(learned.score_utterances(CLOSE), "action"))
    assert {6, 13} <= picked and not picked & {8, 10, 11, 12}, picked
    actions, _ = extract_items(CLOSE, meeting_date=MEETING, participants=["A", "B", "C", "D"])
    not_tasks = {CLOSE[i].text for i in (8, 10, 11, 12)}
    assert actions and not [a for a in actions if a.source_text in not_tasks], actions
    assert any(a.description.startswith("Work on the actual working design") for a in actions), actions


def test_calibrated_scores_keep_their_order_past_the_calibration_table():
    from dataclasses import replace

    model = learned.committed_model()
    top = model.meta["calibration"]["action"]["x"][-1]
    raw = np.array([top - 0.05, top, top + 0.05, top + 0.1, 0.99])
    logits = np.log(raw / (1 - raw))
    unsmoothed = replace(model, meta={**model.meta, "smooth_weight": {"action": 0.0, "decision": 0.0}})
    calibrated = unsmoothed.calibrated("action", logits)
    assert np.all(np.diff(calibrated) > 0), calibrated
    assert calibrated[-1] - calibrated[1] <= learned.TOP_RISE + 1e-9


def test_pick_keeps_one_prediction_per_radius_of_the_model():
    from dataclasses import replace

    from eval.real.train_detector import widened

    model = learned.committed_model()
    scores = [learned.DetectorScore(action=0.0, decision=d) for d in (0.1, 0.9, 0.2, 0.8, 0.1, 0.1)]
    narrow = replace(model, meta={**model.meta, "thresholds": {"action": 0.5, "decision": 0.5},
                                  "radius": {"action": 2, "decision": 1}})
    wide = replace(narrow, meta={**narrow.meta, "radius": {"action": 2, "decision": 2}})
    assert learned.pick(scores, "decision", model=narrow) == [1, 3]
    assert learned.pick(scores, "decision", model=wide) == [1]
    assert widened(np.array([0, 0, 1, 0, 0, 0, 1], dtype=np.int8), 1).tolist() == [0, 1, 1, 1, 0, 1, 1]
