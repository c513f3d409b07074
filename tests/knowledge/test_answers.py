import pytest

from accounts.tenancy import tenant_scope
from knowledge import services
from knowledge.answers import DONT_KNOW, answer_question
from tests.knowledge import corpus
from tests.knowledge.factories import document_ingested

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _acme(company):
    with tenant_scope(company):  # answers run in the caller's scope, as in a request or the live runner
        yield


@pytest.fixture
def kb(company, other_company):
    docs = {
        "refund": document_ingested(company=company, title="Refund policy", text=corpus.REFUND, tags=["billing"]),
        "q3": document_ingested(company=company, title="Q3 financial report", text=corpus.Q3_REPORT,
                                tags=["finance"]),
        "onboarding": document_ingested(company=company, title="Onboarding handbook", text=corpus.ONBOARDING),
        "security": document_ingested(company=company, title="Incident response runbook", text=corpus.SECURITY,
                                      access_level="confidential"),
        "globex": document_ingested(company=other_company, title="Project Hydra plan", text=corpus.GLOBEX),
    }
    return docs


@pytest.mark.parametrize(("question", "doc", "expected"), [
    ("How long do customers on annual plans have to ask for a refund?", "refund", "30 days"),
    ("What was the revenue in the third quarter?", "q3", "18.7 million"),
    ("What is the extension of the IT helpdesk?", "onboarding", "4400"),
    ("When are expense reports due?", "onboarding", "5th"),
])
def test_the_document_with_the_answer_is_the_first_source(company, kb, question, doc, expected):
    answer = answer_question(company=company, question=question)
    assert answer.known
    assert answer.provider == "local"
    assert answer.sources[0]["document_id"] == kb[doc].pk
    assert answer.sources[0]["title"] == kb[doc].title
    assert expected in answer.answer
    assert "[1]" in answer.answer
    assert answer.confidence in {"high", "medium", "low"}


def test_unanswerable_question_says_it_does_not_know(company, kb):
    answer = answer_question(company=company, question="What is the boiling point of mercury on Venus?")
    assert not answer.known
    assert answer.answer == DONT_KNOW
    assert answer.sources == []
    assert answer.confidence == "low"


def test_empty_company_does_not_know(other_company, company):
    answer = answer_question(company=company, question="What was the revenue in the third quarter?")
    assert not answer.known and answer.sources == []


def test_other_companys_documents_never_appear(company, kb):
    answer = answer_question(company=company, question="When does Project Hydra launch and who sponsors it?")
    assert all(s["document_id"] != kb["globex"].pk for s in answer.sources)
    assert "Hydra" not in answer.answer and "Whitfield" not in answer.answer


def test_confidential_passages_need_the_access_level(company, kb):
    question = "Where are the master recovery codes kept?"
    as_member = answer_question(company=company, question=question, access_levels={"public", "team"})
    assert all(s["document_id"] != kb["security"].pk for s in as_member.sources)
    assert "vault" not in as_member.answer
    as_admin = answer_question(company=company, question=question,
                               access_levels={"public", "team", "confidential"})
    assert as_admin.known and as_admin.sources[0]["document_id"] == kb["security"].pk
    assert "vault" in as_admin.answer


def test_identical_questions_hit_the_cache_until_documents_change(company, kb, django_capture_on_commit_callbacks):
    question = "What was the revenue in the third quarter?"
    first = answer_question(company=company, question=question)
    again = answer_question(company=company, question="  what was the revenue in the THIRD quarter? ")
    assert not first.cached and again.cached
    assert again.answer == first.answer
    with tenant_scope(company), django_capture_on_commit_callbacks(execute=True):
        services.document_update(company=company, document=kb["q3"], tags=["finance", "board"])
    after_change = answer_question(company=company, question=question)
    assert not after_change.cached
    with tenant_scope(company), django_capture_on_commit_callbacks(execute=True):
        services.document_delete(company=company, document=kb["q3"])
    after_delete = answer_question(company=company, question=question)
    assert not after_delete.cached
    assert all(s["document_id"] != kb["q3"].pk for s in after_delete.sources)


def test_filters_restrict_the_sources(company, kb):
    answer = answer_question(company=company, question="What was the revenue in the third quarter?",
                             filters={"tags": ["billing"]})
    assert all(s["document_id"] == kb["refund"].pk for s in answer.sources)


@pytest.mark.django_db(transaction=True)
def test_answers_from_many_threads_at_once(company):
    """The live meeting pipeline asks from worker threads: each gets its own, correct answer."""
    import threading

    from django.db import connection

    q3 = document_ingested(company=company, title="Q3 financial report", text=corpus.Q3_REPORT)
    onboarding = document_ingested(company=company, title="Onboarding handbook", text=corpus.ONBOARDING)
    questions = {"What was the revenue in the third quarter?": q3.pk,
                 "What is the extension of the IT helpdesk?": onboarding.pk}
    results, errors = [], []

    def ask(question):
        try:
            with tenant_scope(company):  # a new thread starts outside any scope, like a live runner job
                answer = answer_question(company=company, question=question, use_cache=False)
            results.append((question, answer.sources[0]["document_id"]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(q,)) for q in list(questions) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 8 and all(questions[q] == doc_id for q, doc_id in results)
