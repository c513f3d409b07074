from pathlib import Path

from eval.harness import case_paths, evaluate, format_table, llm_chat_complete, load_case
from eval.run import main

FIXTURE = Path(__file__).parent / "data" / "sales_call.json"


def _in_unit_interval(value):
    return 0.0 <= value <= 1.0


def test_harness_scores_one_file():
    report = evaluate([FIXTURE], measure_latency=False)
    assert len(report["files"]) == 1
    m = report["groups"]["all"]
    for group in ("action_items", "decisions"):
        assert all(_in_unit_interval(m[group][k]) for k in ("precision", "recall", "f1"))
    for key in ("assignee_accuracy", "due_date_accuracy", "key_point_coverage"):
        assert _in_unit_interval(m[key])
    assert m["action_items"]["recall"] >= 0.5  # the fixture's items are found
    assert "sales_call" in format_table(report)


def test_labelled_data_has_a_held_out_split_and_the_required_shape():
    paths = case_paths()
    assert len(paths) >= 12
    cases = [load_case(p) for p in paths]
    assert sum(c["split"] == "heldout" for c in cases) >= 4
    for case in cases:
        assert 20 <= len(case["utterances"]) <= 80
        assert case["gold"]["action_items"] and case["gold"]["decisions"] and case["gold"]["key_points"]


def test_llm_variant_is_skipped_when_not_configured(monkeypatch, capsys):
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    chat_complete, status = llm_chat_complete()
    assert chat_complete is None and status == "LLM: not configured"
    assert main(["--provider", "llm", "--files", str(FIXTURE)]) == 0
    assert "LLM: not configured" in capsys.readouterr().out


def test_llm_variant_runs_through_the_hook():
    calls = []

    def fake_chat_complete(*, messages, response_format_schema=None, **kwargs):
        calls.append((messages, response_format_schema))
        return ('```json\n{"action_items": [{"description": "Send the revised proposal with the pilot terms", '
                '"assignee": "Dana Whitfield", "due_date": "2025-05-23"}], "decisions": '
                '["Go with a 60 day pilot for the finance team first"], "key_points": [], "summary": ""}\n```')

    report = evaluate([FIXTURE], provider="llm", chat_complete=fake_chat_complete)
    m = report["groups"]["all"]
    assert m["action_items"]["precision"] == 1.0 and m["decisions"]["f1"] == 1.0
    assert m["due_date_accuracy"] == 1.0
    messages, schema = calls[0]
    assert "untrusted" in messages[0]["content"] or "not instructions" in messages[0]["content"]
    assert "Morgan Lee" in messages[1]["content"] and schema["required"]
