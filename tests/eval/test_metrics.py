import pytest

from adapt.eval.metrics import exact_match, f1, grade, is_abstention, normalize, retrieval_hit


def test_squad_normalization_and_scores():
    assert normalize("The  Eiffel Tower!") == "eiffel tower"
    assert exact_match("the Eiffel tower.", "Eiffel Tower") == 1.0
    # the official SQuAD example: "Denver Broncos" vs "Broncos"
    assert f1("Denver Broncos", "Broncos") == pytest.approx(2 / 3)
    assert f1("no overlap", "Broncos") == 0.0
    assert f1("", "") == 1.0


@pytest.mark.parametrize("text", [
    "I don't know based on the provided information.", "The passages do not mention this.",
    "This is not stated in the documents.", "I cannot answer that from the context.",
    "There is no information about the CFO.", "Unknown.", "",
])
def test_abstentions_are_detected_in_paraphrase(text):
    assert is_abstention(text)


@pytest.mark.parametrize("text", ["Paris", "Employees get 27 days of paid vacation.", "The knowledge base is Heron."])
def test_answers_are_not_abstentions(text):
    assert not is_abstention(text)


def test_grading():
    assert grade("Porto [1]", ["Porto"])["grade"] == "correct"
    assert grade("The head office is in Porto, Portugal.", ["Porto"])["grade"] == "correct"  # short, contains gold
    long = "Porto " + "filler words " * 30
    assert grade(long, ["Porto"])["grade"] == "incorrect"  # contains gold but too long to count
    assert grade("Lisbon", ["Porto"])["grade"] == "incorrect"
    assert grade("1,200 euros [1]", ["600 euros"])["grade"] == "incorrect"  # F1 0.5, but the number is wrong
    assert grade("I don't know.", ["Porto"])["grade"] == "abstained"
    assert grade("Not mentioned in the passages.", [])["grade"] == "abstained"
    assert grade("Rex the dog", [])["grade"] == "incorrect"  # any answer to an unanswerable item
    g = grade("Denver Broncos", ["Broncos"])
    assert g["grade"] == "correct" and g["f1"] == pytest.approx(2 / 3)


def test_retrieval_hit_by_source_and_paragraph():
    hits = [{"source": "a.md", "text": "other paragraph entirely"}, {"source": "b.md", "text": "gold paragraph here"},
            {"source": "a.md", "text": "the gold paragraph starts here and goes on"}]
    assert retrieval_hit(hits, "b.md") == 2
    assert retrieval_hit(hits, "a.md", "the gold paragraph starts here and goes on for a while") == 3
    assert retrieval_hit(hits, "c.md") is None and retrieval_hit(hits, None) is None
