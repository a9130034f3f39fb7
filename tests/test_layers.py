"""The layout is one-way (issue #14): drawn from the code's own imports, every arrow points down.

cli -> tools -> kafka -> (runtime, settings, metrics) -> core -> classifiers; ``classifiers`` never
imports ``stream``; nothing imports ``stream.cli`` or ``stream.tools``; no module reaches itself through
its imports, counting the imports made inside functions too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.fixtures import REPO

ROOT = REPO

# Layer of a module, by its longest matching prefix; higher layers may import lower or equal ones.
LAYERS = {
    "classifiers": 0,
    "stream": 1,  # the package itself holds only __version__
    "stream.core": 1,
    "stream.settings": 2,
    "stream.metrics": 2,
    "stream.runtime": 2,
    "stream.kafka": 3,
    "stream.api": 4,
    "stream.store": 4,
    "stream.console": 5,
    "stream.tools": 6,
    "stream.cli": 7,
}
# Third-party packages the pure core may not touch (I/O, the broker, metrics, the command line).
NOT_IN_CORE = {"faust", "mode", "aiokafka", "kafka", "prometheus_client", "click", "confluent_kafka", "torch"}


def modules() -> dict[str, Path]:
    found = {}
    for package in ("stream", "classifiers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, name: str, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file, at any depth, resolved to our modules
    where they are ours (``from stream.kafka import policy_store`` is the module, not the package)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if full in known else base), node.lineno


def layer(module: str) -> int | None:
    matches = [prefix for prefix in LAYERS if module == prefix or module.startswith(prefix + ".")]
    return LAYERS[max(matches, key=len)] if matches else None


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target, _ in imports(path, name, known) if target in known and target != name}
        for name, path in known.items()
    }


def test_every_import_points_down_the_layers() -> None:
    known = modules()
    upward = []
    for name, path in known.items():
        for target, line in imports(path, name, known):
            if target not in known:
                continue
            if layer(target) > layer(name):  # type: ignore[operator]
                upward.append(f"{path.relative_to(ROOT)}:{line}: {name} -> {target}")
    assert not upward, "imports that point up:\n" + "\n".join(upward)
    assert len(known) > 80  # the walk found the code


def test_classifiers_never_import_stream() -> None:
    known = modules()
    found = [
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for name, path in known.items()
        if name.startswith("classifiers")
        for target, line in imports(path, name, known)
        if target == "stream" or target.startswith("stream.")
    ]
    assert not found


def test_the_core_touches_no_broker_metrics_or_command_line() -> None:
    known = modules()
    found = [
        f"{path.relative_to(ROOT)}:{line}: {target}"
        for name, path in known.items()
        if name.startswith("stream.core")
        for target, line in imports(path, name, known)
        if target.split(".")[0] in NOT_IN_CORE
        or target in ("stream.settings", "stream.metrics", "stream.runtime")
    ]
    assert not found


def test_no_module_reaches_itself_through_its_imports() -> None:
    edges = graph()
    # Tarjan's strongly connected components; a component of more than one module is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert not circles, f"circular imports: {circles}"


def test_the_checks_can_fail() -> None:
    """The resolver sees an upward import and a circle when there is one (on made-up modules)."""
    assert layer("stream.kafka.worker") == 3 and layer("stream.core.pipeline") == 1
    assert layer("classifiers.labels.compliance") == 0 and layer("stream.cli.run") == 7
    assert layer("stream.kafka.worker") > layer("stream.core.records")  # type: ignore[operator]
    assert "stream.core.pipeline" in graph()["stream.kafka.agents"]


def test_no_test_module_imports_another_test_module() -> None:
    """Shared builders live in tests/fixtures (registered from tests/conftest.py), never in test modules."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                last = name.split(".")[-1]
                if name.startswith("tests.") and (last.startswith("test_") or last == "conftest"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not found


def test_the_core_has_no_hidden_inputs() -> None:
    """No wall clock, environment or randomness read in stream/core: only defaults of the context's
    fields (a lambda or a function passed, not called) may name a clock; deciding code asks the context."""
    forbidden = {
        ("time", "time"),
        ("datetime", "now"),
        ("os", "getenv"),
        ("random", "random"),
        ("os", "environ"),
    }
    found = []
    for path in sorted((ROOT / "stream" / "core").glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        in_lambda = {id(n) for lam in ast.walk(tree) if isinstance(lam, ast.Lambda) for n in ast.walk(lam)}
        for node in ast.walk(tree):
            named = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            if named and (node.value.id, node.attr) in forbidden and id(node) not in in_lambda:  # type: ignore[attr-defined]
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")  # type: ignore[attr-defined]
    assert not found
