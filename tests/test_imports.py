"""No import cycles between the package's modules, and every module imports in a fresh interpreter.

The graph comes from the source, not from `sys.modules`: every `import` and
`from ... import` of a kerasrecipes module anywhere in a file (inside
functions too, so a lazy import does not hide a cycle) is an edge. A cycle is
a strongly connected component of more than one module.
"""

import ast
import os
import subprocess
import sys

import kerasrecipes

PACKAGE = "kerasrecipes"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(kerasrecipes.__file__)))

def module_files():
    """{module name: path} for every .py file of the package."""
    found = {}
    for directory, _, files in os.walk(os.path.join(ROOT, PACKAGE)):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                found[module.removesuffix(".__init__")] = path
    return found


def _owning_module(name, modules):
    """The module a dotted name lives in: `kerasrecipes.callbacks.recipe` -> that module, else its package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(modules):
    """{module: set of package modules it imports}, from the AST (function-level imports included)."""
    graph = {}
    for module, path in modules.items():
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        is_package = path.endswith("__init__.py")
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                edges.update(_owning_module(a.name, modules) for a in node.names if a.name.startswith(PACKAGE))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    parts = module.split(".") if is_package else module.split(".")[:-1]
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                if base != PACKAGE and not base.startswith(PACKAGE + "."):
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    edges.add(full if full in modules else _owning_module(base, modules))
        edges.discard(None)
        edges.discard(module)
        graph[module] = edges
    return graph


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def test_the_cycle_finder_finds_a_lazy_import_cycle():
    # A function-level import still closes a cycle; a one-way import does not.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []
    tree_graph = import_graph({"kerasrecipes.diagnose": os.path.join(ROOT, "kerasrecipes", "diagnose.py"),
                               "kerasrecipes._stats": os.path.join(ROOT, "kerasrecipes", "_stats.py"),
                               "kerasrecipes._io": os.path.join(ROOT, "kerasrecipes", "_io.py")})
    assert tree_graph["kerasrecipes.diagnose"] == {"kerasrecipes._stats", "kerasrecipes._io"}


def test_no_import_cycle_between_the_package_modules():
    modules = module_files()
    assert len(modules) > 40 and "kerasrecipes.callbacks.stats" in modules
    found = [sorted(component) for component in cycles(import_graph(modules))]
    assert not found, f"import cycles between package modules: {found}"


def test_the_diagnostics_and_callbacks_import_only_downwards():
    # The circle this test was written for: diagnose <-> callbacks.stats <-> babysit.
    graph = import_graph(module_files())
    assert not graph["kerasrecipes.diagnose"] & {"kerasrecipes.babysit", "kerasrecipes.callbacks.stats",
                                                  "kerasrecipes.callbacks"}
    assert not graph["kerasrecipes.babysit"] & {"kerasrecipes.diagnose", "kerasrecipes.callbacks.stats",
                                                 "kerasrecipes.callbacks"}
    assert "kerasrecipes.diagnose" not in graph["kerasrecipes.callbacks.stats"]
    assert graph["kerasrecipes._stats"] == set() and graph["kerasrecipes._gradients"] == set()


def test_every_module_imports_in_a_fresh_interpreter():
    names = sorted(m for m in module_files() if not m.endswith("__main__"))
    script = ("import importlib, sys\n"
              f"for name in {names!r}:\n"
              "    importlib.import_module(name)\n"
              "print('imported', len(sys.modules))\n")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "imported" in result.stdout
