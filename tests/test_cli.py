"""The command line: one front door, --help everywhere, one sentence on error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dashboard import cli, schema
from tests.conftest import ROOT


def mdt(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *args], capture_output=True, text=True, cwd=cwd
    )


@pytest.mark.parametrize("command", ["run", "import", "demo-data", "dictionary"])
def test_every_subcommand_has_help_and_takes_db(command):
    proc = mdt(command, "--help")
    assert proc.returncode == 0
    assert "--db" in proc.stdout


def test_every_option_of_every_command_says_what_it_is():
    """`mdt-dashboard COMMAND --help` explains each option (demo-data's and the bench's
    --patients, --weeks and --seed, and the dictionary's --out, had no words)."""
    import argparse

    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    unexplained = [
        f"{name} {action.option_strings[-1] if action.option_strings else action.dest}"
        for name, sub in commands.choices.items()
        for action in sub._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert unexplained == []


def test_run_with_a_missing_custom_store_says_how_to_create_it(tmp_path):
    proc = mdt("run", "--db", str(tmp_path / "none.duckdb"))
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"mdt-dashboard: There is no store at {tmp_path / 'none.duckdb'}. "
        f"Create it with: mdt-dashboard import FOLDER --db {tmp_path / 'none.duckdb'}"
    )


def test_plain_command_means_run(tmp_path):
    proc = mdt("--db", str(tmp_path / "none.duckdb"))
    assert proc.returncode == 1 and "There is no store at" in proc.stderr


def test_bad_option_values_are_refused_in_a_sentence():
    proc = mdt("run", "--as-of", "20/11/2026")
    assert proc.returncode == 2
    assert "'20/11/2026' is not a date; use YYYY-MM-DD" in proc.stderr
    proc = mdt("run", "--port", "70000")
    assert "is not a port number" in proc.stderr


def test_import_with_skip_invalid_exits_zero_and_reports(tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "clinicians.csv").write_text(
        "clinician_id,name,discipline\nC1,Ann,PT\nC2,Bob,DENTIST\n"
    )
    proc = mdt("import", str(folder), "--db", str(tmp_path / "s.duckdb"), "--skip-invalid",
               "--report", str(tmp_path / "r.csv"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Imported 1 row (clinicians 1). Skipped 1 invalid row." in proc.stdout
    assert "clinicians.csv,3,discipline,DENTIST," in (tmp_path / "r.csv").read_text()
    assert "[100%]" in proc.stderr  # progress


def test_committed_data_dictionary_is_up_to_date():
    committed = (ROOT / "docs" / "data-dictionary.md").read_text()
    assert committed == schema.data_dictionary_markdown() + "\n"


def test_dictionary_names_every_table_and_rule():
    text = schema.data_dictionary_markdown()
    for t in schema.ALL_TABLES.values():
        assert f"### {t.name}" in text
    assert "| nrs | number | required; 0..10 |" in text
    assert "| discharge_date | date (YYYY-MM-DD) | >= start_date |" in text


def test_demo_store_is_built_from_sample_data():
    assert cli.SAMPLE_DATA == ROOT / "sample_data"
    assert (cli.SAMPLE_DATA / "README.md").read_text().startswith("# Sample data (synthetic)")


def test_dictionary_headings_can_sit_inside_a_page():
    text = schema.data_dictionary_markdown(top_level=4)
    assert text.startswith("#### Data dictionary\n")
    assert "\n##### Reference data\n" in text and "\n###### clinicians\n" in text
