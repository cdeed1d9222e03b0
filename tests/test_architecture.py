"""Architecture rules for the larseg package, checked from the source with ``ast`` (issue 12).

* No import cycles among larseg's own modules (module-level and function-level imports alike:
  a cycle broken only by moving one import into a function is still a cycle).
* An import of a larseg module inside a function must say why it is there (a ``#`` comment on its
  line or the line just above), e.g. start-up time of a heavy dependency or a cycle it avoids.
  The command-line modules (``larseg/cli/``) and ``larseg/__init__.py`` import lazily by design
  (``larseg --help`` must not load torch) and are exempt.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections import deque
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "larseg"
CLI = "larseg.cli"  # the command-line package: its modules import lazily by design


@dataclass(frozen=True)
class Import:
    target: str  # the larseg module (or package) imported
    lineno: int
    end_lineno: int
    in_function: bool


def _module_files() -> dict[str, Path]:
    """Every module of the package: dotted name -> file (a package is its ``__init__.py``)."""
    modules = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _module_files()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The larseg modules an import statement in ``module`` imports (the edges of the graph)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in MODULES]
    if node.level:  # relative: the package ``level - 1`` steps above the module's own package
        package = module.split(".") if _is_package(module) else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    if base != PACKAGE and not base.startswith(PACKAGE + "."):
        return []
    targets = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        target = sub if sub in MODULES else base  # a submodule if there is one, else a name of the package
        if target in MODULES and target not in targets:
            targets.append(target)
    return targets


def _imports(module: str) -> list[Import]:
    """Every runtime import of a larseg module in ``module`` (``if TYPE_CHECKING:`` blocks never run)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"), filename=str(MODULES[module]))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.orelse:
                    visit_stmt(stmt, in_function)
                continue
            visit_stmt(child, in_function)

    def visit_stmt(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _resolve(module, node):
                found.append(Import(target, node.lineno, node.end_lineno or node.lineno, in_function))
            return
        visit(node, in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(tree, False)
    return found


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (no recursion limit to hit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def _shortest_cycle(graph: dict[str, set[str]], start: str, members: set[str]) -> list[str]:
    """One shortest cycle through ``start`` inside its component, for a readable failure message."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for succ in sorted(graph[node] & members):
            if succ == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if succ not in previous:
                previous[succ] = node
                queue.append(succ)
    return [start]


def _import_graph() -> dict[str, set[str]]:
    return {module: {imp.target for imp in _imports(module)} for module in MODULES}


def test_no_import_cycles():
    graph = _import_graph()
    cycles = [
        component
        for component in _strongly_connected(graph)
        if len(component) > 1 or component[0] in graph[component[0]]
    ]
    lines = []
    for component in sorted(cycles):
        example = " -> ".join(_shortest_cycle(graph, component[0], set(component)))
        lines.append(f"{{{', '.join(component)}}}  e.g. {example}")
    assert not cycles, "import cycles among larseg modules:\n  " + "\n  ".join(lines)


def _comment_lines(source: str) -> set[int]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {tok.start[0] for tok in tokens if tok.type == tokenize.COMMENT}


def _lazy_by_design(module: str) -> bool:
    return module in (PACKAGE, CLI) or module.startswith(CLI + ".")


def test_function_level_imports_are_justified():
    offenders = []
    for module, path in MODULES.items():
        if _lazy_by_design(module):
            continue
        comments = _comment_lines(path.read_text(encoding="utf-8"))
        seen = set()
        for imp in _imports(module):
            if not imp.in_function or imp.lineno in seen:
                continue
            seen.add(imp.lineno)
            if not comments & set(range(imp.lineno - 1, imp.end_lineno + 1)):
                offenders.append(f"{path.relative_to(SRC.parent)}:{imp.lineno}")
    assert not offenders, (
        "function-level imports of larseg modules without a comment saying why they are not at module level "
        "(move them to the top, or say why: start-up time, or the cycle they avoid):\n  " + "\n  ".join(offenders)
    )
