"""nbgrader's gradebook API (``nbgrader.api``), imported without nbgrader's Jupyter extensions.

``import nbgrader.api`` first runs ``nbgrader/__init__.py``, which imports the package's
Jupyter server extensions and through them jupyter_server, the exchange, the apps and
nbconvert: 0.27 s of the grade command's start (0.68 s against 0.41 s), for nothing the
gradebook uses. ``nbgrader.api`` needs only its sibling modules (utils, dbutil, auth).

So when nbgrader is not imported yet, the package module is made from nbgrader's own spec
and registered without running its ``__init__``: its ``__path__`` is the real one, so this
and any later ``import nbgrader.<module>`` in the process (the apps and converters that
``release`` drives, ``nbgrader.api`` in the tests) import as usual, and ``__version__`` is
set as ``__init__`` sets it. What stays missing are the hooks by which a Jupyter server finds
the extensions; a server loads them in its own process.

Running ``__init__`` later, on the first missing attribute, is not safe: the attribute
lookups of ``from .. import utils`` inside the submodules would run it half-way through
their own import, and nbgrader's circular imports then fail.
"""
import importlib.util
import sys

if "nbgrader" not in sys.modules:
    _package = importlib.util.module_from_spec(importlib.util.find_spec("nbgrader"))
    sys.modules["nbgrader"] = _package
    from nbgrader._version import __version__ as _version

    _package.__version__ = _version

import nbgrader.api as nbgrader_api  # noqa: E402 - after the package is registered
from nbgrader.api import Gradebook, MissingEntry  # noqa: E402

__all__ = ["Gradebook", "MissingEntry", "nbgrader_api"]
