"""What ships: the Dockerfile, its build context, and the lock files both it and
scripts/bootstrap install from."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", (REPO / "Dockerfile").read_text())
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def docker_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker matches it: `*` stays within one folder."""
    parts = re.split(r"(\*\*/?|\*|\?)", pattern.strip("/"))
    regex = ""
    for part in parts:
        if part in ("**", "**/"):
            regex += ".*"
        elif part == "*":
            regex += "[^/]*"
        elif part == "?":
            regex += "[^/]"
        else:
            regex += re.escape(part)
    return re.compile(regex + r"\Z")


def in_context(path: str) -> bool:
    """Whether `path` reaches the build context: the last pattern that matches it or one of
    its parent folders decides."""
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    candidates = [path] + ["/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 1)]
    included = True
    for rule in rules:
        negated = rule.startswith("!")
        matcher = docker_pattern(rule.removeprefix("!"))
        if any(matcher.match(candidate) for candidate in candidates):
            included = negated
    return included


def pins(lock: str) -> dict[tuple[str, str], str]:
    """(normalized name, marker) -> version, for every pin in `lock`."""
    found = {}
    for line in (REPO / lock).read_text().splitlines():
        match = PIN.match(line)
        if match:
            name, version, marker = match.groups()
            found[(name.lower().replace("_", "-"), marker or "")] = version
    return found


def requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra in extras:
        names += project["optional-dependencies"][extra]
    return [Requirement(name) for name in names]


def test_the_dockerfile_passes_hadolint() -> None:
    """hadolint finds nothing to report in the Dockerfile."""
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", "Dockerfile"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_the_base_image_is_pinned() -> None:
    """Every stage starts from the same base, pinned to a patch release and a Debian release."""
    args = dict(rest.split("=", 1) for keyword, rest in instructions() if keyword == "ARG")
    bases = {rest.split()[0] for keyword, rest in instructions() if keyword == "FROM"}
    assert bases == {"${PYTHON_IMAGE}"}
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim-[a-z]+", args["PYTHON_IMAGE"])


def test_dependencies_install_before_the_code_is_copied() -> None:
    """The locked install comes before the source: changing code reuses that layer."""
    steps = [f"{keyword} {rest}" for keyword, rest in instructions()]
    lock_install = next(i for i, step in enumerate(steps) if "-r requirements.lock" in step)
    first_source = next(i for i, step in enumerate(steps) if step.startswith("COPY bot"))
    assert "--require-hashes" in steps[lock_install]
    assert lock_install < first_source


def test_the_runtime_image_carries_neither_sandbox_nor_tests() -> None:
    """Only the bot's own packages are copied into the image."""
    copied = {
        rest.split()[0]
        for keyword, rest in instructions()
        if keyword == "COPY" and "--" not in rest
    }
    assert copied == {"requirements.lock", "pyproject.toml", "bot", "cogs"}


def test_the_image_checks_its_health_with_the_heartbeat() -> None:
    """HEALTHCHECK runs `python -m bot health`."""
    [check] = [rest for keyword, rest in instructions() if keyword == "HEALTHCHECK"]
    assert check.endswith('CMD ["python", "-m", "bot", "health"]')


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".venv/bin/python",
        "sandbox-output/run-1/song.mp3",
        "data/bot.db",
        "tests/e2e/test_song.py",
        "sandbox/discord/server.py",
        ".git/config",
        "bot/__pycache__/app.cpython-311.pyc",
    ],
)
def test_the_build_context_leaves_out(path: str) -> None:
    """Secrets, local state, tests and the sandbox never reach the build context."""
    assert not in_context(path)


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    """Every file the Dockerfile copies is in the build context."""
    sources = [
        path.relative_to(REPO).as_posix()
        for folder in ("bot", "cogs")
        for path in (REPO / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    needed = ["requirements.lock", "pyproject.toml", "README.md", *sources]
    assert [path for path in needed if not in_context(path)] == []


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("requirements.lock", ()), ("requirements-dev.lock", ("dev", "bench"))],
)
def test_the_lock_pins_every_dependency_within_its_range(lock: str, extras: tuple[str]) -> None:
    """Each requirement of pyproject.toml has a pin in the lock that its range allows."""
    pinned = pins(lock)
    for requirement in requirements(*extras):
        name = requirement.name.lower().replace("_", "-").replace(".", "-")
        versions = [version for (pin, _), version in pinned.items() if pin == name]
        assert versions, f"{requirement.name} is not in {lock}: run scripts/lock"
        assert all(requirement.specifier.contains(v) for v in versions), requirement


def test_the_two_locks_agree() -> None:
    """What the image runs with is exactly what the tests ran with."""
    runtime = pins("requirements.lock")
    development = pins("requirements-dev.lock")
    assert {key: development.get(key) for key in runtime} == runtime


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_pin_has_a_hash(lock: str) -> None:
    """pip's --require-hashes accepts the lock: each pin is followed by its hashes."""
    text = (REPO / lock).read_text()
    blocks = re.split(r"\n(?=\S)", text)
    pinned = [block for block in blocks if PIN.match(block.splitlines()[0])]
    assert pinned and all("--hash=sha256:" in block for block in pinned)
