"""adapt/artifacts.py: atomic writes, the one JSONL reader, atomic folders, and what artifacts record."""

from __future__ import annotations

import errno
import importlib.metadata
import json
import platform
import re

import pytest

import adapt
from adapt import artifacts
from adapt.artifacts import (JsonlError, adapter_run, atomic_dir, jsonl_text, parse_jsonl, read_jsonl, versions,
                             write_json, write_jsonl, write_text)
from adapt.errors import UserError


def _fail_fsync(monkeypatch):
    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artifacts.os, "fsync", fsync)


def test_a_failing_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    write_json(path, {"v": 1})
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate cannot be written as UTF-8, midway through
        write_text(path, "new text \ud800")
    with pytest.raises(UnicodeEncodeError):
        write_jsonl(path, [{"v": 2}, {"v": "\ud800"}])
    _fail_fsync(monkeypatch)
    with pytest.raises(OSError, match="No space"):
        write_json(path, {"v": 3})
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_writes_create_folders_and_replace_whole_files(tmp_path):
    path = tmp_path / "deep" / "er" / "rows.jsonl"
    write_jsonl(path, [{"i": i} for i in range(3)])
    write_jsonl(path, [{"i": 9}])
    assert path.read_text() == '{"i": 9}\n'
    write_text(tmp_path / "t.txt", "héllo")
    assert (tmp_path / "t.txt").read_bytes() == "héllo".encode()


def test_line_separators_inside_strings_survive_a_jsonl_round_trip(tmp_path):
    rows = [{"text": "one\u2028two\u2029three\x85four\x0bfive\x0c", "n": 1}, {"text": "é 😀", "n": 2}]
    write_jsonl(tmp_path / "r.jsonl", rows)
    assert "\u2028" in (tmp_path / "r.jsonl").read_text(encoding="utf-8")  # written raw, not escaped
    assert read_jsonl(tmp_path / "r.jsonl") == [(1, rows[0]), (2, rows[1])]


def test_read_jsonl_drops_a_torn_tail_only_when_told_and_names_any_other_bad_line(tmp_path):
    path = tmp_path / "items.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n{"a": 3, "tr\n\n')
    assert read_jsonl(path, torn_tail_ok=True) == [(1, {"a": 1}), (3, {"a": 2})]  # numbers are file lines
    with pytest.raises(UserError, match=rf"{path}:4: not valid JSON"):
        read_jsonl(path)
    path.write_text('{"a": 1}\nnot json\n{"a": 3}\n')
    for torn_ok in (False, True):  # a bad line in the middle is never a torn write
        with pytest.raises(UserError, match=rf"{path}:2: not valid JSON"):
            read_jsonl(path, torn_tail_ok=torn_ok)


def test_atomic_dir_renames_on_success_and_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out" / "index"
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "half.bin").write_bytes(b"x")
            raise RuntimeError("killed midway")
    assert list((tmp_path / "out").iterdir()) == []  # neither the target nor the temporary folder
    with atomic_dir(target) as tmp:
        assert tmp.parent == target.parent and not target.exists()
        (tmp / "data.txt").write_text("v1")
    assert (target / "data.txt").read_text() == "v1" and [p.name for p in target.parent.iterdir()] == ["index"]


def test_atomic_dir_replace_swaps_a_complete_folder_and_keeps_the_old_one_on_failure(tmp_path):
    target = tmp_path / "index"
    target.mkdir()
    (target / "old.txt").write_text("v1")
    with pytest.raises(OSError):  # without replace an existing folder is never overwritten
        with atomic_dir(target) as tmp:
            (tmp / "new.txt").write_text("v2")
    with pytest.raises(RuntimeError):
        with atomic_dir(target, replace=True) as tmp:
            (tmp / "new.txt").write_text("v2")
            raise RuntimeError("failed before it was complete")
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    with atomic_dir(target, replace=True) as tmp:
        (tmp / "new.txt").write_text("v2")
    assert [p.name for p in target.iterdir()] == ["new.txt"] and [p.name for p in tmp_path.iterdir()] == ["index"]


def _fail_second_rename(monkeypatch):
    real, calls = artifacts.os.rename, []

    def rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real(src, dst)

    monkeypatch.setattr(artifacts.os, "rename", rename)
    return calls


def test_atomic_dir_replace_puts_the_old_folder_back_when_the_new_one_cannot_be_renamed_in(tmp_path, monkeypatch):
    target = tmp_path / "adapter"
    target.mkdir()
    (target / "old.txt").write_text("v1")
    calls = _fail_second_rename(monkeypatch)
    with pytest.raises(OSError, match="cross-device"):
        with atomic_dir(target, replace=True) as tmp:
            (tmp / "new.txt").write_text("v2")
    assert calls[1][1] == target  # it was the rename of the new folder into place that failed
    assert [p.name for p in target.iterdir()] == ["old.txt"] and (target / "old.txt").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["adapter"]  # no temporary or set-aside folder left


def test_atomic_dir_says_where_the_old_folder_is_when_it_cannot_be_put_back(tmp_path, monkeypatch):
    target = tmp_path / "adapter"
    target.mkdir()
    real = artifacts.os.rename
    calls = []

    def rename(src, dst):
        calls.append(dst)
        if len(calls) >= 2:
            raise OSError(errno.EIO, "I/O error")
        return real(src, dst)

    monkeypatch.setattr(artifacts.os, "rename", rename)
    with pytest.raises(OSError, match="put the old folder back; it is in") as e:
        with atomic_dir(target, replace=True):
            pass
    aside = calls[0]
    assert str(aside) in str(e.value) and aside.is_dir() and not target.exists()


def test_atomic_dir_without_replace_refuses_an_existing_empty_folder(tmp_path):
    target = tmp_path / "index"
    target.mkdir()
    ran = False
    with pytest.raises(FileExistsError, match=re.escape(f"{target} already exists")):
        with atomic_dir(target):
            ran = True
    assert not ran and list(target.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["index"]


def test_atomic_dir_without_replace_refuses_a_folder_that_appeared_while_it_was_filled(tmp_path):
    target = tmp_path / "index"
    with pytest.raises(FileExistsError, match=re.escape(f"{target} already exists")):
        with atomic_dir(target) as tmp:
            (tmp / "data.txt").write_text("mine")
            target.mkdir()  # another process got there first, with an empty folder so far
    assert list(target.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["index"]


def test_jsonl_text_and_parse_jsonl_are_the_one_serialiser_and_parser(tmp_path):
    rows = [{"t": "é\u2028x"}, [1, 2], "s", None]
    text = jsonl_text(rows)
    assert text == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) and text.count("\n") == 4
    assert jsonl_text(iter([])) == "" and jsonl_text(r for r in rows) == text
    assert parse_jsonl(text, "mem") == [(i + 1, r) for i, r in enumerate(rows)]
    write_jsonl(tmp_path / "r.jsonl", iter(rows))
    assert (tmp_path / "r.jsonl").read_text(encoding="utf-8") == text
    with pytest.raises(JsonlError, match="docs.jsonl:2: not valid JSON") as e:
        parse_jsonl('{"a": 1}\n{"a": \n', "docs.jsonl")
    assert isinstance(e.value, UserError) and (e.value.line, e.value.where) == (2, "docs.jsonl")
    assert parse_jsonl('{"a": 1}\n{"a": \n', "docs.jsonl", torn_tail_ok=True) == [(1, {"a": 1})]


def test_adapter_run_reads_the_run_json_beside_an_adapter(tmp_path):
    assert adapter_run(None) == {} and adapter_run(tmp_path / "runs" / "x" / "adapter") == {}
    write_json(tmp_path / "run" / "run.json", {"metrics": {"train_seconds": 4.5}, "data": {"train_ids": ["q1"]}})
    assert adapter_run(tmp_path / "run" / "adapter") == {"metrics": {"train_seconds": 4.5},
                                                         "data": {"train_ids": ["q1"]}}
    assert adapter_run(str(tmp_path / "run" / "adapter"))["metrics"]["train_seconds"] == 4.5


def test_versions_name_adapt_python_and_the_installed_libraries():
    v = versions()
    assert v["adapt"] == adapt.__version__ and v["python"] == platform.python_version()
    assert v["torch"] == importlib.metadata.version("torch") and "transformers" in v
    assert set(v) <= {"adapt", "python", *artifacts._LIBS} and all(isinstance(x, str) for x in v.values())
