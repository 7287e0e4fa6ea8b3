"""The architecture, checked: which package may import which (README, "Layout").

    lifting_cli/                                   the command line: imports everything, imported by nothing
    model_fitting/   tools/ -> prototxt/   caffe_layers/    applications: the core and themselves (tools -> prototxt
                                                            is the one seam: the network definition)
    lifting/                                       the core: numpy, scipy, h5py (matplotlib in lifting/plot.py, OpenCV
                                                   in lifting/window.py only)

Every import counts, also those inside functions.
"""
import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("lifting", "model_fitting", "caffe_layers", "prototxt", "tools", "lifting_cli")
#: what each package may import of the project (itself included)
ALLOWED = {
    "lifting": {"lifting"},
    "model_fitting": {"lifting", "model_fitting"},
    "caffe_layers": {"lifting", "caffe_layers"},
    "prototxt": {"lifting", "prototxt"},
    "tools": {"lifting", "prototxt", "tools"},
    "lifting_cli": set(PACKAGES),
}
#: what the core may import besides the standard library and itself
CORE_THIRD_PARTY = {"numpy", "scipy", "h5py"}
#: threadpoolctl: the lifter holds BLAS to one thread while it forks workers (without it, it does not fork)
CORE_EXTRA = {"lifting/plot.py": {"matplotlib"}, "lifting/window.py": {"cv2"}, "lifting/lift.py": {"threadpoolctl"}}


def imported_modules(source, package):
    """``[(line, dotted module)]`` of every import in ``source`` (a module of ``package``); relative imports are
    resolved to the package."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            name = node.module or ""
            out.append((node.lineno, f"{package}.{name}".rstrip(".") if node.level else name))
    return out


def layer_violations(files):
    """``files``: {path relative to the root: source}. Returns one line per import a layer may not make."""
    bad = []
    for path, source in sorted(files.items()):
        package = path.split("/")[0]
        for line, module in imported_modules(source, package):
            top = module.split(".")[0]
            if top in PACKAGES and top not in ALLOWED[package]:
                bad.append(f"{path}:{line}: {package} imports {module} (a layer above or beside it)")
            elif package == "lifting" and top not in PACKAGES and top not in sys.stdlib_module_names \
                    and top not in CORE_THIRD_PARTY | CORE_EXTRA.get(path, set()):
                bad.append(f"{path}:{line}: the core imports {module} (only numpy, scipy, h5py)")
    return bad


def project_files(*folders):
    return {p.relative_to(ROOT).as_posix(): p.read_text() for folder in folders for p in (ROOT / folder).rglob("*.py")}


def test_the_checker_catches_upward_sideways_and_foreign_imports():
    fake = {
        "lifting/lift.py": "import numpy as np\nfrom . import skeleton\n\n"
                           "def f():\n    from model_fitting import fit\n",
        "lifting/x.py": "import caffe\nfrom lifting_cli.main import main\n",
        "lifting/plot.py": "import matplotlib\n",
        "model_fitting/a.py": "from lifting import lift\nfrom tools.train import train\n",
        "tools/t.py": "from prototxt.netdef import RENAMED\nfrom caffe_layers import FusionLayer\n",
        "lifting_cli/main.py": "from tools import estimate\nfrom model_fitting import fit\n",
    }
    assert layer_violations(fake) == [
        "lifting/lift.py:5: lifting imports model_fitting (a layer above or beside it)",
        "lifting/x.py:1: the core imports caffe (only numpy, scipy, h5py)",
        "lifting/x.py:2: lifting imports lifting_cli.main (a layer above or beside it)",
        "model_fitting/a.py:2: model_fitting imports tools.train (a layer above or beside it)",
        "tools/t.py:2: tools imports caffe_layers (a layer above or beside it)",
    ]


def test_every_package_imports_only_what_its_layer_may():
    files = project_files(*PACKAGES)
    assert len(files) > 30
    assert layer_violations(files) == []


def test_benchmarks_do_not_reach_into_the_tests():
    for path, source in project_files("benchmarks").items():
        tree = ast.parse(source)
        modules = {m.split(".")[0] for _, m in imported_modules(source, "benchmarks")}
        assert not modules & {"tests", "helpers", "conftest"}, path
        strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        assert "tests" not in strings, f"{path} puts tests/ on sys.path"
