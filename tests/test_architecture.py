"""The layers of docs/architecture.md, enforced: imports run one way and no module imports itself.

Every import counts, at module level or inside a function: a deferred import still makes one
module depend on another, it only hides it.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lower layers first; an app may import its own layer and the layers before it, never later ones.
LAYERS = ["studio", "teams", "retrieval", "briefs", "review", "reliability", "integrations"]
RANK = {app: rank for rank, app in enumerate(LAYERS)}


def project_modules() -> dict[str, Path]:
    """Map every module of the apps to its file."""
    modules = {}
    for app in LAYERS:
        for path in (ROOT / app).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Return the project modules a file imports, resolved to the module actually loaded."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] in RANK}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in RANK:
                continue
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, modules) for name, path in modules.items()}


def test_every_import_runs_down_the_layers():
    wrong = sorted(
        f"{importer} imports {imported}"
        for importer, imported_set in import_graph().items()
        for imported in imported_set
        if RANK[imported.split(".")[0]] > RANK[importer.split(".")[0]]
    )

    assert wrong == [], "imports against the layer rule:\n" + "\n".join(wrong)


def test_no_modules_import_each_other_in_a_circle():
    graph = {
        a: {b for b in imported if not _is_package_of(a, b)}
        for a, imported in import_graph().items()
    }
    circles = _strongly_connected(graph)

    assert circles == [], "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_the_rule_walker_sees_deferred_imports(tmp_path):
    # Given a module whose only import is inside a function, when walked, then it is counted.
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from review.services import decide\n")

    assert imports_of(module, {"review.services": module}) == {"review.services"}


def _is_package_of(a: str, b: str) -> bool:
    # A package's __init__ re-exports its modules; that is not a circle between them.
    return a.startswith(b + ".") or b.startswith(a + ".")


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the cycles of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = [0]
    successors = defaultdict(set, graph)

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in successors[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return sorted(result)
