"""The exercise catalog: shipped data file plus user additions, validated on load."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from backcare.errors import CatalogError

if TYPE_CHECKING:  # pandas is imported by to_frame only: loading the catalog stays light
    import pandas as pd

GROUPS = ("stretching", "strengthening", "low-impact aerobic", "additional")
DOSE_FIELDS = ("hold_s", "reps", "minutes")
DOSE_LIMITS = {"hold_s": (1, 600), "reps": (1, 100), "minutes": (1, 180)}
DEFAULT_USER_CATALOG = Path("data") / "exercises.toml"
_REQUIRED_TEXT = ("id", "name", "group", "position", "source")
_KNOWN = set(_REQUIRED_TEXT) | {"steps", "cautions", "each_side", "ladder", "dosage_note", "image"}
MAX_IMAGE_BYTES = 100_000
# What an exercise picture may hold: drawing only. Anything that can run code, load another
# resource or embed another document is refused (an SVG is XML a browser may execute).
_SVG_REFUSED_TAGS = {"script", "foreignobject", "iframe", "embed", "object", "image", "a", "use"}
_SVG_REFUSED_TAGS |= {"animate", "animatemotion", "animatetransform", "set", "handler", "style"}
_KNOWN |= set(DOSE_FIELDS)


@dataclass(frozen=True)
class Exercise:
    """One catalog exercise with its dosage range as the source gives it."""

    id: str
    name: str
    group: str
    position: str
    steps: tuple[str, ...]
    cautions: tuple[str, ...]
    source: str
    hold_s: tuple[int, int] | None = None
    reps: tuple[int, int] | None = None
    minutes: tuple[int, int] | None = None
    each_side: bool = False
    ladder: tuple[int, ...] = ()
    dosage_note: str = ""
    origin: str = field(default="", compare=False)
    image: str = field(default="", compare=False)  # a checked SVG file's full path, or ""

    def image_svg(self) -> str:
        """The exercise's picture (SVG text, checked when the catalog was loaded), or ''."""
        return Path(self.image).read_text(encoding="utf-8") if self.image else ""

    @property
    def main_dose(self) -> str:
        """The dosage field the progression ladder applies to: hold_s, reps or minutes."""
        for name in DOSE_FIELDS:
            if getattr(self, name) is not None:
                return name
        raise AssertionError("validated exercises always have a dose")  # pragma: no cover

    def dosage_text(self) -> str:
        """The dosage range in words, e.g. 'Hold 30 s, each side' or '10-15 reps'."""
        return dosage_words(
            hold_s=_range_text(self.hold_s),
            reps=_range_text(self.reps),
            minutes=_range_text(self.minutes),
            each_side=self.each_side,
        )


def _range_text(rng: tuple[int, int] | None) -> str | None:
    if rng is None:
        return None
    return str(rng[0]) if rng[0] == rng[1] else f"{rng[0]}-{rng[1]}"


def dosage_words(
    *,
    sets: int | None = None,
    reps: object = None,
    hold_s: object = None,
    minutes: object = None,
    each_side: bool = False,
) -> str:
    """A dose in plain words: 'Hold 30 s, each side', '10-15 reps', '2 sets of 12 reps'."""
    parts = []
    if hold_s is not None:
        parts.append(f"Hold {hold_s} s")
    if reps is not None:
        parts.append(f"{reps} reps")
    if minutes is not None:
        parts.append(f"{minutes} min")
    text = ", ".join(parts) if parts else "As prescribed"
    if sets and sets > 1:
        text = f"{sets} sets: {text[0].lower()}{text[1:]}"
    if each_side:
        text += ", each side"
    return text


class Catalog:
    """An ordered, read-only mapping of exercise id -> Exercise."""

    def __init__(self, exercises: list[Exercise]) -> None:
        self._by_id = {e.id: e for e in exercises}

    def __getitem__(self, exercise_id: str) -> Exercise:
        return self._by_id[exercise_id]

    def __contains__(self, exercise_id: object) -> bool:
        return exercise_id in self._by_id

    def __iter__(self) -> Iterator[Exercise]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def ids(self) -> list[str]:
        """Exercise ids in catalog order."""
        return list(self._by_id)

    def to_frame(self) -> pd.DataFrame:
        """The catalog as a DataFrame, one row per exercise."""
        import pandas as pd

        rows = [
            {
                "exercise_id": e.id,
                "name": e.name,
                "group": e.group,
                "dosage": e.dosage_text(),
                "each_side": e.each_side,
                "main_dose": e.main_dose,
                "origin": e.origin,
            }
            for e in self
        ]
        return pd.DataFrame(rows)


def _fail(path: str, ex_id: str, field_name: str, problem: str) -> CatalogError:
    return CatalogError(f"{path}: exercise {ex_id!r}, field {field_name!r}: {problem}")


def _parse_range(path: str, ex_id: str, name: str, value: object) -> tuple[int, int]:
    low_lim, high_lim = DOSE_LIMITS[name]
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or not low_lim <= value[0] <= value[1] <= high_lim
    ):
        raise _fail(
            path, ex_id, name, f"{value!r} must be [low, high], whole numbers {low_lim}-{high_lim}"
        )
    return (value[0], value[1])


def svg_problem(text: str) -> str:
    """Why text is not a safe, self-contained SVG drawing, or '' if it is one."""
    import xml.etree.ElementTree as ET

    if "<!doctype" in text.lower() or "<!entity" in text.lower():
        return "an SVG with a DOCTYPE or ENTITY declaration is not allowed"
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return f"not an SVG file (not well-formed XML: {exc})"
    if root.tag.rsplit("}", 1)[-1] != "svg":
        return "not an SVG file (the root element is not <svg>)"
    for element in root.iter():
        tag = str(element.tag).rsplit("}", 1)[-1].lower()
        if tag in _SVG_REFUSED_TAGS:
            return f"an SVG with a <{tag}> element is not allowed (drawing only)"
        for name, value in element.attrib.items():
            attr = name.rsplit("}", 1)[-1].lower()
            low = value.strip().lower()
            if attr.startswith("on"):
                return f"an SVG with an event handler ({attr}) is not allowed"
            if attr == "href" and not low.startswith("#"):
                return "an SVG that links to another resource is not allowed"
            if "javascript:" in low or ("url(" in low and "url(#" not in low.replace(" ", "")):
                return f"an SVG whose {attr} refers outside the file is not allowed"
    return ""


def _parse_image(path: str, ex_id: str, value: object, base: Path | None) -> str:
    """The full path of an exercise's picture: an SVG file in base (the catalog file's folder),
    named relative to it, safe (svg_problem). CatalogError naming the file otherwise."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, ex_id, "image", "must be the name of an SVG file beside the catalog")
    name = value.strip()
    if base is None:
        raise _fail(path, ex_id, "image", f"{name!r}: no folder to find it in")
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts or "\\" in name:
        raise _fail(path, ex_id, "image", f"{name!r}: must be a path inside the catalog's folder")
    if rel.suffix.lower() != ".svg":
        raise _fail(path, ex_id, "image", f"{name!r}: only SVG files (.svg) are allowed")
    root = base.resolve()
    file = (root / rel).resolve()
    if not file.is_relative_to(root):  # a symbolic link out of the folder
        raise _fail(path, ex_id, "image", f"{name!r}: must be a path inside the catalog's folder")
    try:
        size = file.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise _fail(path, ex_id, "image", f"{name!r}: {size} bytes; at most {MAX_IMAGE_BYTES}")
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise _fail(path, ex_id, "image", f"{name!r}: cannot read it ({reason})") from None
    problem = svg_problem(text)
    if problem:
        raise _fail(path, ex_id, "image", f"{name!r}: {problem}")
    return str(file)


def _parse_exercise(path: str, index: int, raw: object, base: Path | None = None) -> Exercise:
    if not isinstance(raw, dict):
        raise _fail(path, f"#{index + 1}", "exercise", "must be a table")
    raw_id = raw.get("id")
    ex_id = raw_id if isinstance(raw_id, str) else f"#{index + 1}"
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise _fail(path, ex_id, unknown[0], f"unknown field; allowed: {', '.join(sorted(_KNOWN))}")
    for name in _REQUIRED_TEXT:
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise _fail(path, ex_id, name, "required text is missing or empty")
    from backcare.domain.rules import ID_RE

    if not ID_RE.match(raw["id"]):
        raise _fail(path, ex_id, "id", "use letters, digits and '-' only")
    if raw["group"] not in GROUPS:
        raise _fail(path, ex_id, "group", f"{raw['group']!r} is not one of {', '.join(GROUPS)}")
    lists = {}
    for name in ("steps", "cautions"):
        value = raw.get(name, [])
        if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
            raise _fail(path, ex_id, name, "must be a list of non-empty strings")
        lists[name] = tuple(value)
    if not lists["steps"]:
        raise _fail(path, ex_id, "steps", "at least one step is required")
    doses = {n: _parse_range(path, ex_id, n, raw[n]) for n in DOSE_FIELDS if n in raw}
    if not doses:
        raise _fail(path, ex_id, "hold_s/reps/minutes", "at least one dose is required")
    each_side = raw.get("each_side", False)
    if not isinstance(each_side, bool):
        raise _fail(path, ex_id, "each_side", "must be true or false")
    main = next(n for n in DOSE_FIELDS if n in doses)
    ladder = raw.get("ladder", [])
    low, high = doses[main]
    if (
        not isinstance(ladder, list)
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in ladder)
        or ladder != sorted(set(ladder))
        or any(not low <= v <= high for v in ladder)
    ):
        raise _fail(
            path, ex_id, "ladder", f"must be increasing whole numbers within {main} {low}-{high}"
        )
    note = raw.get("dosage_note", "")
    if not isinstance(note, str):
        raise _fail(path, ex_id, "dosage_note", "must be text")
    image = _parse_image(path, ex_id, raw["image"], base) if "image" in raw else ""
    return Exercise(
        id=raw["id"],
        name=raw["name"].strip(),
        group=raw["group"],
        position=raw["position"].strip(),
        steps=lists["steps"],
        cautions=lists["cautions"],
        source=raw["source"].strip(),
        each_side=each_side,
        ladder=tuple(ladder),
        dosage_note=note,
        origin=path,
        image=image,
        **doses,
    )


def parse_catalog_text(text: str, path: str, base: Path | None = None) -> list[Exercise]:
    """Parse one catalog file's TOML text into exercises (raises CatalogError naming the file).

    base: the folder the exercises' image names are relative to (the catalog file's own)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from None
    raw_list = data.get("exercise")
    if not isinstance(raw_list, list):
        raise CatalogError(f"{path}: expected one or more [[exercise]] tables")
    exercises = [_parse_exercise(path, i, raw, base) for i, raw in enumerate(raw_list)]
    seen: set[str] = set()
    for e in exercises:
        if e.id in seen:
            raise _fail(path, e.id, "id", "appears twice in this file")
        seen.add(e.id)
    return exercises


def load_catalog(*extra: str | os.PathLike[str]) -> Catalog:
    """The shipped catalog plus each extra file, in order (an extra may not reuse an id)."""
    shipped = resources.files("backcare").joinpath("data/catalog.toml")
    exercises = parse_catalog_text(
        shipped.read_text(encoding="utf-8"),
        "backcare/data/catalog.toml",
        Path(str(resources.files("backcare").joinpath("data"))),
    )
    ids = {e.id for e in exercises}
    for path in extra:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"{p}: cannot read catalog file: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise CatalogError(
                f"{p}: byte {exc.start} is not UTF-8 ({exc.object[exc.start : exc.start + 1]!r}); "
                "expected a TOML file saved as UTF-8"
            ) from None
        for e in parse_catalog_text(text, str(p), p.parent):
            if e.id in ids:
                raise _fail(
                    str(p), e.id, "id", "already defined in the shipped catalog or an earlier file"
                )
            ids.add(e.id)
            exercises.append(e)
    return Catalog(exercises)


def user_catalog_paths() -> list[Path]:
    """Extra catalog files in use: those in BACKCARE_CATALOG, else data/exercises.toml if any.

    BACKCARE_CATALOG holds paths separated by os.pathsep."""
    env = os.environ.get("BACKCARE_CATALOG")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    return [DEFAULT_USER_CATALOG] if DEFAULT_USER_CATALOG.is_file() else []


@lru_cache(maxsize=8)
def _cached(paths: tuple[str, ...]) -> Catalog:
    return load_catalog(*paths)


def default_catalog() -> Catalog:
    """The catalog in use: shipped exercises plus user_catalog_paths()."""
    return _cached(tuple(str(p) for p in user_catalog_paths()))
