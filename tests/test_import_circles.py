"""No import circle among the project's modules, read from the imports (as tests/test_layering.py reads the layers):
module A imports B (anywhere in A, also inside a function) and B, through any chain, imports A."""
import ast

from tests.test_layering import PACKAGES, ROOT

#: circles another branch removes (tools/media.py takes what photo and video share); the lead deletes the entry when
#: merging that branch, and the test then fails on any circle at all
KNOWN_CIRCLES = []


def module_name(path):
    """``"lifting/cpm.py"`` -> ``"lifting.cpm"``; a package's ``__init__.py`` -> the package."""
    parts = path[:-3].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(files):
    """``files``: {path relative to the root: source} -> {module: set of project modules it imports}. ``from P import
    n`` imports the module ``P.n`` where that is one of ``files``, else ``P``."""
    modules = {module_name(p) for p in files}
    graph = {}
    for path, source in files.items():
        me = module_name(path)
        package = me if path.endswith("__init__.py") else me.rpartition(".")[0]
        out = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in modules:  # "lifting.cpm.Augmentation" style names end at their module
                    t = t.rpartition(".")[0]
                if t and t != me:
                    out.add(t)
        graph[me] = out
    return graph


def circles(graph):
    """The strongly connected components of more than one module (Tarjan), each a set, sorted by their names."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found, key=sorted)


def test_the_checker_finds_circles_through_functions_relative_imports_and_chains():
    fake = {
        "a/__init__.py": "",
        "a/x.py": "from . import y\n",
        "a/y.py": "def f():\n    from .z import g\n",
        "a/z.py": "import a.x\n",
        "b/__init__.py": "from b.m import T\n",
        "b/m.py": "import numpy\nfrom b import n\n",
        "b/n.py": "from .m import T\n",
        "c/p.py": "from a.x import y\nimport b\n",
    }
    assert circles(import_graph(fake)) == [{"a.x", "a.y", "a.z"}, {"b.m", "b.n"}]


def test_no_import_circle_among_the_project_modules():
    files = {p.relative_to(ROOT).as_posix(): p.read_text()
             for folder in PACKAGES for p in (ROOT / folder).rglob("*.py")}
    found = circles(import_graph(files))
    unexpected = [c for c in found if c not in KNOWN_CIRCLES]
    assert unexpected == [], f"import circles: {[sorted(c) for c in unexpected]}"
    gone = [c for c in KNOWN_CIRCLES if c not in found]
    assert gone == [], f"no longer circles (delete them from KNOWN_CIRCLES): {[sorted(c) for c in gone]}"
