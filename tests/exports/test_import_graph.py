"""exports/ has no import cycle: tasks import services, never the reverse. Every import counts,
the ones inside functions too (they hide an arrow, they do not remove it)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "exports"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, known: set[str]) -> set[str]:
    """The exports modules `path` imports anywhere in its body."""
    own = module_name(path)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known and name != own}
    return found


def graph() -> dict[str, set[str]]:
    files = [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]
    known = {module_name(p) for p in files}
    return {module_name(p): imported(p, known) for p in files}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_the_graph_sees_the_arrows_it_should():
    edges = graph()
    assert "exports.services.worker" in edges["exports.tasks"]
    assert "exports.services.doorbell" in edges["exports.services.records"]


def test_exports_has_no_import_cycle():
    assert cycles(graph()) == []


def test_no_service_imports_the_tasks():
    edges = graph()
    assert [m for m, targets in edges.items() if m.startswith("exports.services") and "exports.tasks" in targets] == []
