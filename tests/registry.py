"""Factories the isolation tests use to make one row of a model for a given organisation.

Every model registered in the admin or behind an API viewset must have one here (the isolation
test fails otherwise), so a new app is covered the moment it registers. Register from
`tests/<package>/factories.py` with `@isolation_factory(Model)`; the function takes an
Organization and returns a saved instance belonging to it.
"""

from collections.abc import Callable
from importlib import import_module
from pathlib import Path

FACTORIES: dict[type, Callable] = {}


def isolation_factory(model):
    def wrap(fn):
        FACTORIES[model] = fn
        return fn

    return wrap


def load_all():
    """Imports every tests/*/factories.py so their registrations run."""
    root = Path(__file__).parent
    for path in sorted(root.glob("*/factories.py")):
        import_module(f"tests.{path.parent.name}.factories")
    return FACTORIES
