"""The exercise catalog: the article's eight exercises, their doses, and user additions."""

from __future__ import annotations

import pytest

from backcare.domain.catalog import default_catalog, load_catalog
from backcare.errors import CatalogError

ARTICLE_IDS = [
    "knee-to-chest",
    "pelvic-tilt",
    "plank",
    "bird-dog",
    "brisk-walking",
    "swimming",
    "cat-cow",
    "hamstring-stretch",
]

GOOD_EXTRA = """
[[exercise]]
id = "bridge"
name = "Glute Bridge"
group = "strengthening"
position = "Lying on your back, knees bent."
steps = ["Lift your hips.", "Lower slowly."]
reps = [8, 12]
ladder = [8, 10, 12]
source = "physiotherapist"
"""


def test_catalog_has_the_articles_eight_exercises_in_order():
    assert default_catalog().ids() == ARTICLE_IDS


@pytest.mark.parametrize(
    ("ex_id", "field", "expected", "each_side"),
    [
        ("knee-to-chest", "hold_s", (30, 30), True),
        ("pelvic-tilt", "reps", (10, 15), False),
        ("plank", "hold_s", (30, 60), False),
        ("bird-dog", "hold_s", (5, 10), True),
        ("brisk-walking", "minutes", (10, 15), False),
        ("cat-cow", "reps", (10, 15), False),
        ("hamstring-stretch", "hold_s", (30, 30), False),
    ],
)
def test_doses_are_the_articles(ex_id, field, expected, each_side):
    ex = default_catalog()[ex_id]
    assert getattr(ex, field) == expected
    assert ex.each_side is each_side
    assert ex.main_dose == field


def test_swimming_dose_is_marked_as_the_projects_choice():
    swim = default_catalog()["swimming"]
    assert swim.minutes is not None
    assert "project's choice" in swim.dosage_note


@pytest.mark.parametrize(
    ("ex_id", "ladder"),
    [
        ("plank", (30, 45, 60)),
        ("pelvic-tilt", (10, 12, 15)),
        ("cat-cow", (10, 12, 15)),
        ("bird-dog", (5, 8, 10)),
        ("brisk-walking", (10, 12, 15)),
    ],
)
def test_progression_ladders_stay_inside_the_articles_range(ex_id, ladder):
    ex = default_catalog()[ex_id]
    low, high = getattr(ex, ex.main_dose)
    assert ex.ladder == ladder
    assert ladder[0] == low and ladder[-1] == high


def test_every_exercise_has_groups_steps_position_and_source():
    groups = {e.group for e in default_catalog()}
    assert groups == {"stretching", "strengthening", "low-impact aerobic", "additional"}
    for e in default_catalog():
        assert e.steps and e.position and e.source and e.name


def test_dosage_text_in_words():
    cat = default_catalog()
    assert cat["knee-to-chest"].dosage_text() == "Hold 30 s, each side"
    assert cat["pelvic-tilt"].dosage_text() == "10-15 reps"
    assert cat["brisk-walking"].dosage_text() == "10-15 min"


def test_user_file_adds_exercises_without_code(tmp_path):
    extra = tmp_path / "exercises.toml"
    extra.write_text(GOOD_EXTRA, encoding="utf-8")
    cat = load_catalog(extra)
    assert len(cat) == 9
    assert cat["bridge"].reps == (8, 12)
    assert cat["bridge"].origin == str(extra)


def test_backcare_catalog_env_selects_user_files(tmp_path, monkeypatch):
    extra = tmp_path / "mine.toml"
    extra.write_text(GOOD_EXTRA, encoding="utf-8")
    monkeypatch.setenv("BACKCARE_CATALOG", str(extra))
    assert "bridge" in default_catalog()


@pytest.mark.parametrize(
    ("replace", "by", "field"),
    [
        ('group = "strengthening"', 'group = "yoga"', "group"),
        ("reps = [8, 12]", "reps = [12, 8]", "reps"),
        ("reps = [8, 12]", 'reps = "lots"', "reps"),
        ("ladder = [8, 10, 12]", "ladder = [8, 20]", "ladder"),
        ('steps = ["Lift your hips.", "Lower slowly."]', "steps = []", "steps"),
        ('name = "Glute Bridge"', 'name = ""', "name"),
        ('source = "physiotherapist"', 'source = "x"\ncolour = "red"', "colour"),
        ("reps = [8, 12]\nladder = [8, 10, 12]", "", "hold_s/reps/minutes"),
    ],
)
def test_bad_file_is_refused_naming_file_exercise_and_field(tmp_path, replace, by, field):
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD_EXTRA.replace(replace, by), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(bad)
    msg = str(err.value)
    assert str(bad) in msg and "'bridge'" in msg and f"'{field}'" in msg


def test_user_file_cannot_redefine_a_shipped_exercise(tmp_path):
    bad = tmp_path / "dup.toml"
    bad.write_text(GOOD_EXTRA.replace('id = "bridge"', 'id = "plank"'), encoding="utf-8")
    with pytest.raises(CatalogError, match="'plank'.*'id'"):
        load_catalog(bad)


def test_unreadable_or_invalid_toml_names_the_file(tmp_path):
    with pytest.raises(CatalogError, match="missing.toml"):
        load_catalog(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[exercise]\nid=", encoding="utf-8")
    with pytest.raises(CatalogError, match="broken.toml: not valid TOML"):
        load_catalog(broken)


def test_catalog_frame_has_one_row_per_exercise():
    df = default_catalog().to_frame()
    assert list(df["exercise_id"]) == ARTICLE_IDS


# ---- pictures ------------------------------------------------------------------------------
SAFE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>Bridge</title>'
    '<path d="M1 9 L9 1" stroke="black"/></svg>'
)


def test_every_shipped_exercise_has_a_safe_line_drawing_in_package_data():
    from pathlib import Path

    from backcare.domain.catalog import svg_problem

    images = Path(__file__).resolve().parents[2] / "backcare" / "data" / "images"
    for ex in default_catalog():
        assert Path(ex.image) == (images / f"{ex.id}.svg").resolve()
        svg = ex.image_svg()
        assert svg_problem(svg) == "" and "<title" in svg and "<path" in svg + "<circle"


def _extra(tmp_path, image: str):
    extra = tmp_path / "exercises.toml"
    extra.write_text(GOOD_EXTRA + f'image = "{image}"\n')
    return extra


def test_a_user_exercise_can_have_a_picture_beside_its_file(tmp_path):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "bridge.svg").write_text(SAFE_SVG)
    cat = load_catalog(_extra(tmp_path, "pics/bridge.svg"))
    assert cat["bridge"].image == str((tmp_path / "pics" / "bridge.svg").resolve())
    assert cat["bridge"].image_svg() == SAFE_SVG


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.svg", None, "cannot read it"),
        ("../outside.svg", SAFE_SVG, "must be a path inside the catalog's folder"),
        ("/etc/passwd.svg", None, "must be a path inside the catalog's folder"),
        ("bridge.png", "PNG", "only SVG files (.svg) are allowed"),
        ("s.svg", SAFE_SVG.replace("<title>", "<script>alert(1)</script><title>"), "<script>"),
        ("o.svg", SAFE_SVG.replace("<path ", '<path onclick="x()" '), "event handler (onclick)"),
        (
            "a.svg",
            SAFE_SVG.replace("<path ", '<a href="https://x.org"><path ').replace("/>", "/></a>"),
            "<a>",
        ),
        ("h.svg", SAFE_SVG.replace("<path ", '<path href="https://x.org" '), "links to another"),
        (
            "u.svg",
            SAFE_SVG.replace('<path d="M1 9 L9 1" stroke="black"/>', '<use href="http://x/y#z"/>'),
            "<use>",
        ),
        ("f.svg", SAFE_SVG.replace('stroke="black"', 'fill="url(http://x.org/f)"'), "refers out"),
        ("e.svg", '<!DOCTYPE svg [<!ENTITY a "b">]>' + SAFE_SVG, "DOCTYPE or ENTITY"),
        ("n.svg", "<html><body>hi</body></html>", "root element is not <svg>"),
        ("x.svg", "not xml at all <", "not well-formed XML"),
    ],
)
def test_a_missing_or_unsafe_picture_is_refused_naming_it(tmp_path, name, content, problem):
    folder = tmp_path / "cat"
    folder.mkdir()
    if content is not None:
        target = (folder / name).resolve()
        target.write_text(content)
    with pytest.raises(CatalogError) as info:
        load_catalog(_extra(folder, name))
    message = str(info.value)
    assert "\n" not in message and problem in message
    assert f"exercise 'bridge', field 'image': {name!r}" in message
    assert str(folder / "exercises.toml") in message


def test_a_picture_linked_out_of_the_folder_is_refused(tmp_path):
    folder = tmp_path / "cat"
    folder.mkdir()
    (tmp_path / "secret.svg").write_text(SAFE_SVG)
    (folder / "link.svg").symlink_to(tmp_path / "secret.svg")
    with pytest.raises(CatalogError, match="'link.svg': must be a path inside"):
        load_catalog(_extra(folder, "link.svg"))
