"""The lexical support check: what the guard and the faithfulness figures rest on."""

from __future__ import annotations

import pytest

from adapt.rag.support import check, citations_hold, cited, parse_support

PASSAGES = ["Employees get 27 days of paid vacation each year. Unused days expire on 31 March.",
            "The head office is in Porto. Kestrel Labs was founded in 2016 by Ana Okafor and Tomas Lind."]
ABSTAIN = "I don't know based on the provided information."
DAYS = "How many vacation days do employees get?"
FOUNDERS = "Who founded Kestrel Labs?"


@pytest.mark.parametrize("question, answer", [
    (DAYS, "Employees get 27 days of paid vacation [1]."),
    (DAYS, "twenty-seven days"),  # number words are the same value
    (FOUNDERS, "Ana Okafor and Tomas Lind founded it [2]."),
    ("When was Kestrel Labs founded?", "In 2016."),
    ("When do unused vacation days expire?", "They expire on 31 March."),
])
def test_an_answer_whose_values_and_words_are_in_the_passages_is_supported(question, answer):
    found = check(answer, PASSAGES, question, ABSTAIN)
    assert found is not None and found.holds(), found.reason()


@pytest.mark.parametrize("question, answer, missing", [
    (DAYS, "Employees get 30 days of vacation.", "30 days"),
    (FOUNDERS, "It was founded by Maria Costa.", "Maria Costa"),
    ("Where is the head office?", "The head office is in Lisbon.", "Lisbon"),
    ("When was Kestrel Labs founded?", "In 2019.", "2019"),
])
def test_a_value_the_passages_do_not_hold_is_unsupported_whatever_the_threshold(question, answer, missing):
    found = check(answer, PASSAGES, question, ABSTAIN)
    assert not found.holds(0.0) and missing in found.missing_values and missing in found.reason()


def test_words_copied_from_the_question_are_no_support():
    # every word of this answer is the question's own: nothing in it can be checked against the passages
    bare = check("Yes, employees get vacation days.", PASSAGES, DAYS, ABSTAIN)
    assert bare.empty and not bare.holds(0.0) and "nothing" in bare.reason()
    # the question's words do not dilute the share of the answer's own words either
    padded = check("Employees get vacation days: generous marvellous holidays.", PASSAGES, DAYS, ABSTAIN)
    assert padded.score == 0.0 and set(padded.missing_words) == {"generous", "marvellous", "holidays"}


def test_the_threshold_applies_to_the_answers_own_content_words():
    found = check("Employees receive 27 days each year.", PASSAGES, DAYS, ABSTAIN)  # 'receive' is not there
    assert 0 < found.score < 1 and found.missing_words == ("receive",)
    assert found.holds(0.5) and not found.holds(1.0)


@pytest.mark.parametrize("answer", [ABSTAIN, "The passages do not say.", "I don't know."])
def test_an_answer_that_declines_is_not_checked(answer):
    assert check(answer, PASSAGES, DAYS, ABSTAIN) is None


def test_citations_hold_only_when_the_cited_passages_alone_support_the_answer():
    assert citations_hold("Ana Okafor and Tomas Lind [2].", PASSAGES, FOUNDERS, ABSTAIN) is True
    assert citations_hold("Ana Okafor and Tomas Lind [1].", PASSAGES, FOUNDERS, ABSTAIN) is False  # wrong passage
    assert citations_hold("Ana Okafor and Tomas Lind [1, 2].", PASSAGES, FOUNDERS, ABSTAIN) is True
    assert citations_hold("Ana Okafor and Tomas Lind [7].", PASSAGES, FOUNDERS, ABSTAIN) is False  # no such passage
    assert citations_hold("Ana Okafor and Tomas Lind.", PASSAGES, FOUNDERS, ABSTAIN) is None  # no marker
    assert cited("See [2] and [1; 2].", 2) == [2, 1]


@pytest.mark.parametrize("reply, verdict", [("SUPPORTED", True), ("Unsupported.", False), ("NOT SUPPORTED", False),
                                            ("The answer is supported by [1].", True), ("maybe", None)])
def test_the_judges_support_verdict_is_read(reply, verdict):
    assert parse_support(reply) is verdict


def test_a_name_must_appear_as_written_not_pieced_together():
    assert not check("Ana Lind founded it.", PASSAGES, FOUNDERS, ABSTAIN).holds(0.0)
    assert check("Ana Okafor founded it.", PASSAGES, FOUNDERS, ABSTAIN).holds(0.0)


def test_a_zero_or_spaced_marker():
    assert citations_hold("Ana Okafor and Tomas Lind [0].", PASSAGES, FOUNDERS, ABSTAIN) is False
    assert cited("Ana Okafor and Tomas Lind [ 2 ].", 2) == [2]
    assert cited("x = array[1]", 2) is None


@pytest.mark.parametrize("reply", ["It is not fully supported.", "The answer isn't supported.", "not supported"])
def test_a_negated_support_verdict_is_unsupported(reply):
    assert parse_support(reply) is False


def test_a_premise_of_the_question_the_passages_lack_leaves_the_answer_unsupported():
    false = check("In 2016.", PASSAGES, "When did Bill Gates found Kestrel Labs?", ABSTAIN)
    assert not false.holds(0.0) and false.missing_premises == ("Bill Gates",) and "'Bill Gates'" in false.reason()
    assert check("In 2016.", PASSAGES, "When was Kestrel Labs founded?", ABSTAIN).holds()
    assert not check("Ana Okafor.", PASSAGES, "Who founded Kestrel Labs in 1999?", ABSTAIN).holds(0.0)
