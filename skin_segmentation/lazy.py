"""Deferred imports: code run around a module's first import, without importing it now.

Importing TensorFlow takes seconds, so the package does not import it when it
is itself imported (`skinseg --help` answers without it). What has to happen
when TensorFlow or Keras is loaded (holding back TensorFlow's C++ start-up
lines, registering the package's custom objects with Keras) is arranged with
`on_first_import`: a one-shot import hook, which wraps the loading of that
one module and then removes itself.
"""

import importlib.abc
import importlib.util
import sys


class _AroundLoader(importlib.abc.Loader):
    """Executes a module with its own loader, inside `around()`."""

    def __init__(self, loader, around):
        self.loader = loader
        self.around = around

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        # The module keeps its real loader (some packages read resources through it).
        module.__loader__ = module.__spec__.loader = self.loader
        with self.around():
            self.loader.exec_module(module)


class _FirstImportFinder(importlib.abc.MetaPathFinder):
    """Finds the module `name` with the other finders and wraps its loader, once."""

    def __init__(self, name, around):
        self.name = name
        self.around = around

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _AroundLoader(spec.loader, self.around)
        return spec


def on_first_import(name, around):
    """Run the first import of the top-level module `name` inside the context `around()`.

    Args:
        name: a top-level module name, e.g. `"tensorflow"`.
        around: a function returning a context manager; the module's code runs
            inside it (after its block the module is fully imported).

    Returns:
        `True` when the hook is in place, `False` when `name` is imported
        already (then nothing is arranged; the caller acts at once).

    Example:
    >>> import contextlib, sys
    >>> sys.modules.pop("colorsys", None) and None
    >>> @contextlib.contextmanager
    ... def announce():
    ...     yield
    ...     print("colorsys loaded")
    >>> on_first_import("colorsys", announce)
    True
    >>> import colorsys
    colorsys loaded
    >>> on_first_import("colorsys", announce)
    False
    """
    if name in sys.modules:
        return False
    sys.meta_path.insert(0, _FirstImportFinder(name, around))
    return True
