"""The command table: start-up cost, exit codes for users' mistakes, and what the CLI leaves to the package."""

import subprocess
import sys
import textwrap

from adapt import rungs


def _modules_after(*argv: str) -> set[str]:
    """The modules a fresh interpreter has imported after running `adapt ARGV`."""
    code = textwrap.dedent(f"""
        import sys
        sys.argv = ["adapt", *{list(argv)!r}]
        from adapt.cli import main
        try:
            main()
        except SystemExit:
            pass
        print("MODULES", *sorted(sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    line = next(x for x in out.splitlines() if x.startswith("MODULES"))
    return set(line.split()[1:])


def test_help_and_recipes_list_import_no_torch():
    for argv in (("--help",), ("recipes", "list"), ("rungs",)):
        loaded = _modules_after(*argv)
        heavy = {"torch", "transformers", "sentence_transformers", "faiss"} & loaded
        assert not heavy, f"`adapt {' '.join(argv)}` imported {sorted(heavy)}"


def test_rungs_lists_every_registered_rung_in_ladder_order(cli):
    code, out, _ = cli("rungs")
    first_column = [line.split()[1] for line in out.splitlines() if line.startswith("│") and line.split()[1] != "│"]
    assert code == 0 and first_column == rungs.names()


def test_an_unreachable_api_is_exit_2_not_a_traceback(cli, tmp_path):
    recipe = tmp_path / "api.yaml"
    recipe.write_text("name: api\nrung: prompt\nmodel:\n  base_url: http://127.0.0.1:9/v1\n  model: m\n"
                      "  max_retries: 0\n  timeout_s: 2\n")
    code, _, err = cli("ask", recipe, "hello")
    assert code == 2 and "cannot reach http://127.0.0.1:9/v1" in err and "Traceback" not in err


def test_ladder_refuses_a_recipe_of_another_rung_in_a_rung_slot(cli, tmp_path):
    code, _, err = cli("ladder", "--suite", "eval/demo/suite.jsonl", "--docs", "eval/demo/docs",
                       "--rungs", "lora", "--recipe", "lora=rag-local", "--out", tmp_path)
    assert code == 2 and "rung 'rag'" in err and "Traceback" not in err
    code, _, err = cli("ladder", "--suite", "eval/demo/suite.jsonl", "--docs", "eval/demo/docs",
                       "--rungs", "rag+qlora", "--out", tmp_path)
    assert code == 2 and "no default recipe" in err


def test_finetune_refuses_a_rung_that_trains_nothing(cli):
    code, _, err = cli("finetune", "rag-local")
    assert code == 2 and "trains nothing" in err


def test_serve_refuses_a_rung_without_a_model_and_a_public_host_without_a_key(cli, monkeypatch):
    monkeypatch.delenv("ADAPT_API_KEY", raising=False)
    code, _, err = cli("serve", "baseline")
    assert code == 2 and "no local model to serve" in err
    code, _, err = cli("serve", "prompt-local", "--host", "0.0.0.0")
    assert code == 2 and "without an API key" in err


def test_library_errors_name_the_flag_the_user_typed(cli, tmp_path):
    code, _, err = cli("rag", "build", "eval/demo/docs", "--index", tmp_path / "i", "--index-type", "fancy")
    assert code == 2 and "--index-type: must be auto, flat or hnsw" in err
    code, _, err = cli("serve", "prompt-local", "--host", "example.org")
    assert code == 2 and "--host: must be an IP address" in err


def test_library_errors_leave_flag_names_to_the_cli():
    """A message about one argument names it through UserError.param, which the CLI shows as the flag."""
    import re
    from pathlib import Path

    import adapt

    pkg = Path(adapt.__file__).parent
    flagged = [f"{p.relative_to(pkg)}:{n}" for p in pkg.rglob("*.py") if p.name != "cli.py"
               for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(r'UserError\(f?"--', line)]
    assert flagged == []


def test_a_relaunch_passes_on_the_command_line_as_typed(monkeypatch):
    from adapt.cli import _argv_without

    monkeypatch.setattr(sys, "argv", ["adapt", "finetune", "--num-processes=2", "my recipe.yaml", "-o",
                                      "generation.system_prompt=Answer briefly.", "--num-processes", "4", "--resume"])
    assert _argv_without("--num-processes", after="finetune") == [
        "my recipe.yaml", "-o", "generation.system_prompt=Answer briefly.", "--resume"]


def test_data_synth_and_ladder_refuse_bad_input_with_exit_2(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = cli("data", "synth", tmp_path / "empty", "--out", tmp_path / "o", "--n", "0")
    assert code == 2 and "--n: must be at least 1" in err
    code, _, err = cli("data", "synth", tmp_path / "empty", "--out", tmp_path / "o")
    assert code == 2 and "no documents in" in err and "Traceback" not in err
    code, _, err = cli("data", "synth", tmp_path / "empty", "--out", tmp_path / "o", "--generator", "baseline")
    assert code == 2 and "--generator: recipe 'baseline'" in err and "cannot write questions" in err
    code, _, err = cli("ladder", "--docs", tmp_path / "empty")
    assert code == 2 and "--synth N" in err
    code, _, err = cli("ladder", "--docs", tmp_path / "empty", "--suite", "s.jsonl", "--generator", "prompt-api")
    assert code == 2 and "--generator: " in err and "--synth N" in err
    assert not (tmp_path / "o").exists()
