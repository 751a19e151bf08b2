"""The backcare command: a thin, documented layer; user errors are one line and exit 2."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from backcare.cli import build_parser, main
from tests.support import ROOT


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices)


def test_every_subcommand_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in subcommands() if f"backcare {c}" not in readme]
    assert not missing, f"README.md does not document: {missing}"


@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert f"backcare {command}" in capsys.readouterr().out


def test_demo_then_patients(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert (
        main(
            [
                "demo",
                "--patients",
                "3",
                "--days",
                "30",
                "--seed",
                "2",
                "--end",
                "2026-03-01",
                "--db",
                url,
            ]
        )
        == 0
    )
    assert "added 3 patients" in capsys.readouterr().out
    assert main(["patients", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "demo-0001" in out and "demo-0003" in out and "2026-03-01" in out
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["patient_id", "name", "sessions"] and len(lines) == 4


def test_patients_on_an_empty_store_says_so(tmp_path, capsys):
    assert main(["patients", "--db", f"sqlite:///{tmp_path / 'e.db'}"]) == 0
    assert "no patients yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["patients", "--db", "nosuchdb://x"], "cannot open the store"),
        (["demo", "--days", "0"], "--days"),
        (["demo", "--end", "2026-02-30"], "is not a date"),
        (["demo", "--end", "2999-01-01", "--days", "2"], "not in the future"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(argv, message, tmp_path):
    if "--db" not in argv:
        argv = [*argv, "--db", f"sqlite:///{tmp_path / 'x.db'}"]
    proc = subprocess.run(
        [sys.executable, "-m", "backcare.cli", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert message in proc.stderr
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith(("backcare: error:", "backcare demo: error:"))
    )
