import pytest

from adapt.eval.metrics import exact_match, f1, normalize, retrieval_hit, strip_citations


def test_squad_normalization_and_scores():
    assert normalize("The  Eiffel Tower!") == "eiffel tower"
    assert exact_match("the Eiffel tower.", "Eiffel Tower") == 1.0
    # the official SQuAD example: "Denver Broncos" vs "Broncos"
    assert f1("Denver Broncos", "Broncos") == pytest.approx(2 / 3)
    assert f1("no overlap", "Broncos") == 0.0
    assert f1("", "") == 1.0


def test_strip_citations():
    assert strip_citations("Porto [1] and Lisbon [2, 3].").split() == ["Porto", "and", "Lisbon", "."]


def test_retrieval_hit_by_source_and_paragraph():
    from adapt.rag.index import Hit

    def hit(rank: int, source: str, text: str) -> Hit:
        return Hit(f"{source}#{rank}", source, source, "", "", text, 0, len(text), None, "md", "2026-01-01T00:00:00Z",
                   [], 1.0 / rank, rank)

    hits = [hit(1, "a.md", "other paragraph entirely"), hit(2, "b.md", "gold paragraph here"),
            hit(3, "a.md", "the gold paragraph starts here and goes on")]
    assert retrieval_hit(hits, "b.md") == 2
    assert retrieval_hit(hits, "a.md", "the gold paragraph starts here and goes on for a while") == 3
    assert retrieval_hit(hits, "c.md") is None and retrieval_hit(hits, None) is None
