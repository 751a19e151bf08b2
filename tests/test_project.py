"""Project hygiene: environment.yml matches pyproject; data/ is never committed.

Notebook cleanliness is checked in test_notebooks_clean.py."""

from __future__ import annotations

import tomllib

import yaml

from tests.support import ROOT


def _norm(req: str) -> str:
    return req.replace(" ", "").lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_norm(r) for r in project["dependencies"]}
    wanted |= {_norm(r) for r in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {_norm(r) for r in pip_section if not r.startswith("-")}
    assert listed == wanted, {
        "only in environment.yml": listed - wanted,
        "only in pyproject": wanted - listed,
    }
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python == "python" + project["requires-python"]


def test_data_folder_is_git_ignored():
    ignore = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "data/*" in ignore


def test_a_fresh_clone_has_the_data_folder_with_its_readme_and_example_catalog():
    ignore = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "!data/README.md" in ignore and "!data/exercises.example.toml" in ignore
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert "git-ignored" in readme and "health data" in readme and "chmod 700 data" in readme


def test_the_example_catalog_addition_loads_on_top_of_the_shipped_catalog():
    from backcare.domain.catalog import load_catalog

    shipped = load_catalog()
    catalog = load_catalog(ROOT / "data" / "exercises.example.toml")
    assert catalog.ids() == [*shipped.ids(), "glute-bridge", "child-pose"]
    bridge, pose = catalog["glute-bridge"], catalog["child-pose"]
    assert (bridge.group, bridge.reps, bridge.ladder, bridge.main_dose) == (
        "strengthening",
        (8, 12),
        (8, 10, 12),
        "reps",
    )
    assert (pose.group, pose.hold_s, pose.ladder, pose.main_dose) == (
        "stretching",
        (20, 40),
        (20, 30, 40),
        "hold_s",
    )
