"""The shape of the code: no import cycles, layers that only point down, features kept apart.

Every import counts: at module level, inside functions and under `TYPE_CHECKING`. The first
tests plant a cycle and a layer breach in a throwaway tree, so the checks are known to catch
what they look for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.import_graph import ImportGraph, in_package

ROOT = Path(__file__).resolve().parents[2]
CORE = ("bot.soundverse", "bot.storage", "bot.jobs", "bot.audio")
# (importer, what it must never import, why)
FORBIDDEN = [
    *((core, "discord", "the core is usable without Discord") for core in CORE),
    *((core, "bot.ui", "the core knows no presentation") for core in CORE),
    *((core, "bot.app", "the core knows no application") for core in CORE),
    *((core, "cogs", "the core knows no feature") for core in CORE),
    *(
        (lower, "bot.jobs", "jobs are built on the API client, storage and audio")
        for lower in ("bot.soundverse", "bot.storage", "bot.audio")
    ),
    *((lower, "bot.voice", "voice sessions are built on the core, not under it") for lower in CORE),
    ("bot.voice", "bot.ui", "voice sessions know no presentation"),
    ("bot.voice", "bot.app", "voice sessions know no application"),
    ("bot.voice", "cogs", "voice sessions know no feature"),
    ("bot.ui", "bot.app", "presentation sees the application through a Protocol"),
    ("bot.ui", "bot.worker", "presentation sees the application through a Protocol"),
    ("bot.ui", "cogs", "shared presentation names no feature"),
    ("bot.app", "cogs", "the application loads features by name"),
    ("cogs", "bot.app", "features see the application through a Protocol"),
    ("cogs", "bot.worker", "features see the application through a Protocol"),
]


def project_graph() -> ImportGraph:
    return ImportGraph.of(ROOT, ("bot", "cogs"))


def breaches(graph: ImportGraph, importer: str, forbidden: str) -> list[str]:
    """`<module> imports <forbidden>` for each module of `importer` that does."""
    found = {module for module, name in graph.imports_of(importer) if in_package(name, forbidden)}
    return [f"{module} imports {forbidden}" for module in sorted(found)]


def feature_packages() -> list[str]:
    return sorted(path.parent.name for path in (ROOT / "cogs").glob("*/__init__.py"))


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_planted_cycle_through_a_function_level_import_is_found(tmp_path: Path) -> None:
    """a imports b at module level and b imports a inside a function: one cycle of both."""
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import thing\n",
            "pkg/b.py": "def thing():\n    from pkg import a\n    return a\n",
            "pkg/c.py": "import pkg.a\n",
        },
    )
    assert ImportGraph.of(tmp_path, ["pkg"]).cycles() == [["pkg.a", "pkg.b"]]


def test_a_planted_type_only_import_breach_is_found(tmp_path: Path) -> None:
    """An import under TYPE_CHECKING, relative or not, is an import like any other."""
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/core/__init__.py": "",
            "pkg/core/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from ..ui import card\n    import discord\n",
            "pkg/ui/__init__.py": "",
            "pkg/ui/card.py": "",
        },
    )
    graph = ImportGraph.of(tmp_path, ["pkg"])
    assert breaches(graph, "pkg.core", "pkg.ui") == ["pkg.core.x imports pkg.ui"]
    assert breaches(graph, "pkg.core", "discord") == ["pkg.core.x imports discord"]


def test_bot_and_cogs_have_no_import_cycles() -> None:
    """No module of bot/ or cogs/ imports itself through others."""
    assert project_graph().cycles() == []


@pytest.mark.parametrize(("importer", "forbidden", "why"), FORBIDDEN)
def test_layers_only_point_down(importer: str, forbidden: str, why: str) -> None:
    """`importer` never imports `forbidden`."""
    assert breaches(project_graph(), importer, forbidden) == [], why


@pytest.mark.parametrize("feature", feature_packages())
def test_a_feature_imports_no_other_feature(feature: str) -> None:
    """Each package of cogs/ stands alone; what features share lives in bot/ui or the core."""
    graph = project_graph()
    others = {
        f"{module} imports {name}"
        for module, name in graph.imports_of(f"cogs.{feature}")
        if in_package(name, "cogs") and not in_package(name, f"cogs.{feature}")
    }
    assert sorted(others) == []


def test_every_folder_of_modules_is_a_package() -> None:
    """Each folder of bot/, cogs/ and sandbox/ holding modules has an __init__.py, so an
    installed copy (`pip install .`, as the Dockerfile does) ships it."""
    folders = {
        path.parent for top in ("bot", "cogs", "sandbox") for path in (ROOT / top).rglob("*.py")
    }
    assert (
        sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists()) == []
    )
