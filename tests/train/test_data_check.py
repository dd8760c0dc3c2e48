import json

from adapt.train.check import check_data
from adapt.train.data import load_examples


def test_every_row_form_becomes_prompt_completion(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"},
                      {"role": "assistant", "content": "a"}]},
        {"instruction": "Translate", "input": "hola", "output": "hello"},
        {"prompt": "p", "completion": "c"}]) + "\n")
    ex = load_examples(p)
    assert [e["completion"][0]["content"] for e in ex] == ["a", "hello", "c"]
    assert ex[0]["prompt"][0]["role"] == "system" and ex[1]["prompt"][0]["content"] == "Translate\n\nhola"
    csv = tmp_path / "d.csv"
    csv.write_text("prompt,completion\nwhat,that\n")
    assert load_examples(csv)[0]["completion"][0]["content"] == "that"


def test_check_reports_duplicates_leaks_pii_and_truncation(tiny_llama, tmp_path, cli):
    from transformers import AutoTokenizer

    suite = tmp_path / "suite.jsonl"
    suite.write_text(json.dumps({"id": "q1", "question": "Who founded Kestrel Labs?", "answers": ["Ana"]}) + "\n")
    p = tmp_path / "d.jsonl"
    rows = [{"prompt": "Who founded Kestrel Labs?", "completion": "Ana"},
            {"prompt": "hi", "completion": "hello"}, {"prompt": "hi", "completion": "hello"},
            {"prompt": "mail me at ana@example.com", "completion": "ok"},
            {"prompt": "long " * 300, "completion": "x"}]
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rep = check_data(p, AutoTokenizer.from_pretrained(tiny_llama), max_seq_len=128, suite=suite)
    assert rep["rows"] == 5 and rep["duplicates"] == [(3, 2)] and rep["leaks"] == [(1, "q1")]
    assert rep["pii_like"] == [4] and rep["tokens"]["truncated"] == 1
    code, out, err = cli("data", "check", p, "--suite", suite, "--max-seq-len", "128")
    assert code == 0 and "1 longer than max_seq_len 128" in out and "eval question" in err


def test_a_row_holding_a_line_separator_is_one_row(tmp_path):
    # json.dumps(ensure_ascii=False) leaves U+2028 raw; str.splitlines() would cut the row in two
    p = tmp_path / "d.jsonl"
    rows = [{"prompt": "first\u2028second\u0085third", "completion": "ok\u2029done"},
            {"prompt": "p", "completion": "c"}]
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    ex = load_examples(p)
    assert len(ex) == 2 and ex[0]["prompt"][0]["content"] == "first\u2028second\u0085third"
    assert ex[0]["completion"][0]["content"] == "ok\u2029done"
