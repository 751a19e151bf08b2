"""`import backcare` and `backcare --help` stay light: no pandas, SQLAlchemy, plotly or
ipywidgets until a command or a public name needs them (PEP 562 lazy re-exports)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

import backcare
from tests.support import ROOT

HEAVY = ("pandas", "sqlalchemy", "plotly", "ipywidgets", "numpy")
SUBCOMMANDS = (
    "demo",
    "patients",
    "export",
    "import",
    "erase",
    "report",
    "export-notebook",
    "summary",
    "overview",
    "reminders",
    "lab",
    "app",
    "timezone",
    "hub",
    "account",
)


def _loaded_after(code: str) -> tuple[list[str], str]:
    """Run code in a fresh interpreter; return the HEAVY modules then loaded and what it printed."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    *printed, loaded = proc.stdout.strip().splitlines()
    return json.loads(loaded), "\n".join(printed)


def test_import_backcare_loads_no_heavy_library():
    loaded, _ = _loaded_after("import backcare")
    assert loaded == []


def _listed(command: str, help_text: str) -> bool:
    """Whether help lists command (a long name has its help on the next line)."""
    return f"    {command} " in help_text or f"    {command}\n" in help_text


def test_backcare_help_loads_no_heavy_library_and_lists_every_subcommand():
    code = (
        "from backcare.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as exc:\n    assert exc.code == 0"
    )
    loaded, out = _loaded_after(code)
    assert loaded == []
    assert out.startswith("usage: backcare")
    listed = out[out.index("COMMAND") :]
    missing = [c for c in SUBCOMMANDS if not _listed(c, listed)]
    assert not missing, out


def test_backcare_help_lists_every_subcommand_the_parser_has():
    from backcare.cli import build_parser

    help_text = build_parser().format_help()
    for command in SUBCOMMANDS:
        assert _listed(command, help_text)
    choices = next(
        a.choices for a in build_parser()._actions if hasattr(a, "choices") and a.choices
    )
    assert sorted(choices) == sorted(SUBCOMMANDS)


def test_every_public_name_resolves_to_the_object_of_its_module():
    import backcare.domain.catalog
    import backcare.errors
    import backcare.store

    assert (
        backcare.Store is backcare.store.Store and backcare.open_store is backcare.store.open_store
    )
    assert backcare.ValidationError is backcare.errors.ValidationError
    assert backcare.load_catalog is backcare.domain.catalog.load_catalog
    for name in backcare.__all__:
        assert getattr(backcare, name) is not None
        assert name in dir(backcare)
    with pytest.raises(AttributeError, match="no_such_name"):
        backcare.no_such_name  # noqa: B018


def test_the_lazy_table_the_type_checking_imports_and_all_agree():
    tree = ast.parse((ROOT / "backcare" / "__init__.py").read_text(encoding="utf-8"))
    guarded = next(
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    )
    typed = {(node.module, alias.name) for node in guarded.body for alias in node.names}
    lazy = {(module, name) for name, module in backcare._EXPORTS.items()}
    assert typed == lazy
    assert sorted(backcare.__all__) == sorted(backcare._EXPORTS)
