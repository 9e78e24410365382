"""The billing modules import each other one way only: no circles, and no imports hidden in functions
to get around one (the reserve once started the automatic top-up through a function-level import of
`topups`, which imported the reserve)."""

import ast
from pathlib import Path

import apps.billing

BILLING = Path(apps.billing.__file__).parent
# An AppConfig may only import its app's code once the registry is ready, so apps.py is the exception.
LAZY_ALLOWED = {"apps.billing.apps"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(BILLING.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _billing_modules() -> dict[str, ast.Module]:
    return {
        _module_name(path): ast.parse(path.read_text(), str(path))
        for path in BILLING.rglob("*.py")
        if "migrations" not in path.parts
    }


def _imported(node: ast.AST, known: set[str]) -> set[str]:
    """The billing modules an import statement loads (`from pkg import module` counts the module)."""
    names = set()
    if isinstance(node, ast.Import):
        names = {alias.name for alias in node.names}
    elif isinstance(node, ast.ImportFrom) and node.module:
        names = {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name in known}


def _function_level_imports(tree: ast.Module, known: set[str]) -> set[str]:
    found = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                found |= _imported(node, known)
    return found


def test_it_hides_no_billing_import_inside_a_function():
    modules = _billing_modules()
    hidden = {
        name: sorted(_function_level_imports(tree, set(modules)))
        for name, tree in modules.items()
        if name not in LAZY_ALLOWED
    }
    assert {name: found for name, found in hidden.items() if found} == {}


def test_it_has_no_import_cycle_between_billing_modules():
    modules = _billing_modules()
    known = set(modules)
    graph = {
        name: {target for node in tree.body for target in _imported(node, known) if target != name}
        for name, tree in modules.items()
    }
    # A package's __init__ re-exports its modules; importing the package from one of its own modules is
    # the circle we look for, so packages stay in the graph like any module.
    visiting, done, cycles = set(), set(), []

    def visit(name: str, path: list[str]) -> None:
        if name in done:
            return
        if name in visiting:
            cycles.append([*path[path.index(name) :], name])
            return
        visiting.add(name)
        for target in sorted(graph[name]):
            visit(target, [*path, name])
        visiting.discard(name)
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert cycles == []


def test_it_lets_the_reserve_start_an_automatic_top_up_without_knowing_topups():
    modules = _billing_modules()
    reserve = {
        target
        for node in modules["apps.billing.services.reserve"].body
        for target in _imported(node, set(modules))
    }
    assert "apps.billing.services.topups" not in reserve
    assert "apps.billing.services.auto_topup" in reserve
