"""Every assignment's suite, by assignment id: each module here with a SUITE is one.

Adding an exercise adds a module here (its cases, groups, points and hints), one in
``mistakes/`` and its folder in ``source/``; nothing else changes.
"""
import importlib
import pkgutil

from ..suite import Suite

SUITES: dict[str, Suite] = {}
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    if isinstance(getattr(_module, "SUITE", None), Suite):
        SUITES[_module.SUITE.assignment] = _module.SUITE
