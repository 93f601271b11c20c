"""The import graph of a source tree, read from its code: every `import` and `from ... import`,
at module level, inside functions and under `TYPE_CHECKING` alike."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ImportGraph:
    """Modules of some packages, what each imports among them, and every name each imports."""

    modules: dict[str, Path] = field(default_factory=dict)
    edges: dict[str, set[str]] = field(default_factory=dict)
    imported: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, root: Path, packages: Iterable[str]) -> ImportGraph:
        """The graph of the packages under `root` (e.g. `bot` and `cogs`)."""
        graph = cls()
        for package in packages:
            for path in sorted((root / package).rglob("*.py")):
                graph.modules[module_name(root, path)] = path
        for module, path in graph.modules.items():
            names = set(imported_names(module, path))
            graph.imported[module] = names
            graph.edges[module] = {
                target
                for name in names
                if (target := graph.resolve(name)) is not None
                and target != module
                # Importing an enclosing package only runs its __init__ first, as any import
                # of the module itself does.
                and not module.startswith(target + ".")
            }
        return graph

    def resolve(self, name: str) -> str | None:
        """The module of this graph that `name` (a module or a name in one) refers to."""
        while name:
            if name in self.modules:
                return name
            name = name.rpartition(".")[0]
        return None

    def cycles(self) -> list[list[str]]:
        """Every group of modules that import one another, directly or not."""
        return [sorted(group) for group in strongly_connected(self.edges) if len(group) > 1]

    def imports_of(self, prefix: str) -> Iterator[tuple[str, str]]:
        """(module, imported name) for every module in the package `prefix` (or that module)."""
        for module, names in self.imported.items():
            if in_package(module, prefix):
                for name in sorted(names):
                    yield module, name


def in_package(name: str, package: str) -> bool:
    """Whether `name` is the module or package `package`, or inside it."""
    return name == package or name.startswith(package + ".")


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(module: str, path: Path) -> Iterator[str]:
    """The absolute names `module` imports: `a.b` for `import a.b`, `a.b` and `a.b.c` for
    `from a.b import c`, with relative imports made absolute."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parents, *([node.module] if node.module else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    """Every node `start` leads to through one edge or more."""
    seen: set[str] = set()
    frontier = list(edges.get(start, ()))
    while frontier:
        node = frontier.pop()
        if node not in seen:
            seen.add(node)
            frontier.extend(edges.get(node, ()))
    return seen


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """The groups of nodes that lead to one another (each node is in exactly one group)."""
    leads_to = {node: reachable(edges, node) for node in edges}
    groups: list[set[str]] = []
    placed: set[str] = set()
    for node in sorted(edges):
        if node not in placed:
            group = {node} | {other for other in leads_to[node] if node in leads_to[other]}
            placed |= group
            groups.append(group)
    return groups
