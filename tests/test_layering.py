"""Layering: every import of the package points down a layer (or within one), and no circle.

The layers are those of docs/architecture.md. Imports are read with `ast` from
every module of `skin_segmentation/` and `experiments/`, function-level ones
included, so a lazy import cannot hide an upward arrow.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "skin_segmentation"

# Lowest first; a module may import its own layer or any layer below.
LAYERS = (
    ("skin_segmentation", "lazy", "quiet", "models", "losses", "metrics"),
    ("data", "atomic_files", "records", "outputs", "problems", "tables", "findings", "profile_fields",
     "profiles", "system", "precision", "distribute", "weights", "model_files", "masks", "postprocess",
     "pillow_resize", "baselines", "tone", "groups", "plots"),
    ("training",),
    ("inference", "evaluation", "dataset_evaluation", "export", "export_tflite", "benchmarking"),
    ("scenarios", "generalization", "finetune", "comparison", "ablations"),
    ("replicate",),
    ("cli", "experiments"),
)


def layer_of(module):
    """The layer index of a dotted module name (its first part below the package)."""
    parts = module.split(".")
    key = parts[1] if parts[0] == PACKAGE and len(parts) > 1 else parts[0]
    for index, names in enumerate(LAYERS):
        if key in names:
            return index
    raise KeyError(f"{module}: in no layer of tests/test_layering.py; add it to LAYERS")


def module_name(path, root):
    relative = path.relative_to(root).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_imports(source, module, is_package=False):
    """The `skin_segmentation` modules that `source` (module `module`) imports, at any depth."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found.add(name)
            # `from skin_segmentation.data import readers` imports a submodule too.
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return {name for name in found if name == PACKAGE or name.startswith(PACKAGE + ".")}


def collect_modules():
    """`{module: (path, source)}` of the package and the experiments scripts."""
    modules = {}
    for path in sorted((REPO / PACKAGE).rglob("*.py")):
        modules[module_name(path, REPO)] = (path, path.read_text(encoding="utf-8"))
    for path in sorted((REPO / "experiments").glob("*.py")):
        modules["experiments." + path.stem] = (path, path.read_text(encoding="utf-8"))
    return modules


def import_graph(modules):
    """`{module: {imported module, ...}}`, imports resolved to modules that exist."""
    graph = {}
    for module, (path, source) in modules.items():
        targets = set()
        for name in package_imports(source, module, path.name == "__init__.py"):
            while name not in modules and "." in name:  # a name imported from a module
                name = name.rsplit(".", 1)[0]
            if name in modules and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def upward_imports(graph):
    return sorted(
        f"{module} (layer {layer_of(module)}) imports {target} (layer {layer_of(target)})"
        for module, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(module)
    )


def find_cycle(graph):
    """One import circle as a list of modules, or `None`. A package's `__init__`
    importing its own submodules is not a circle with them: Python runs them first."""
    edges = {
        module: {t for t in targets if not t.startswith(module + ".")}
        for module, targets in graph.items()
    }
    state, stack = {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[module] = "done"
        return None

    for module in sorted(edges):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_every_module_has_a_layer():
    for module in collect_modules():
        layer_of(module)


def test_imports_point_down():
    assert upward_imports(import_graph(collect_modules())) == []


def test_no_import_circle():
    assert find_cycle(import_graph(collect_modules())) is None


def test_modules_are_small_and_say_their_job():
    for module, (path, source) in collect_modules().items():
        if module.startswith(PACKAGE):
            assert len(source.splitlines()) <= 450, f"{path}: {len(source.splitlines())} lines"
            assert ast.get_docstring(ast.parse(source)), f"{path}: no opening docstring"


def with_fake(source, name="skin_segmentation.models.fake"):
    modules = collect_modules()
    modules[name] = (REPO / "fake.py", source)
    return import_graph(modules)


@pytest.mark.parametrize("statement", [
    "from skin_segmentation.training import train",
    "import skin_segmentation.cli",
    "def later():\n    from skin_segmentation import replicate\n",
])
def test_an_upward_import_is_caught(statement):
    problems = upward_imports(with_fake(statement))
    assert len(problems) == 1 and problems[0].startswith("skin_segmentation.models.fake (layer 0)")


def test_a_circle_is_caught():
    graph = with_fake("from skin_segmentation.data import splits\n", "skin_segmentation.records_fake")
    graph["skin_segmentation.data.splits"] = {"skin_segmentation.records_fake"}
    cycle = find_cycle(graph)
    assert cycle is not None and set(cycle) == {"skin_segmentation.records_fake",
                                                "skin_segmentation.data.splits"}


def test_a_relative_import_is_resolved():
    graph = with_fake("from ..training import train\n")
    assert "skin_segmentation.training" in graph["skin_segmentation.models.fake"]
