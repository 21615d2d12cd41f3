"""exports/errors.py: everything the export engine raises to refuse work is a `Refused`, so the
API and the admin catch one class and render its code."""

import importlib
import inspect
import pkgutil

import exports
from exports.errors import IllegalTransition, Refused, StaleRecord


def _exception_classes():
    for info in pkgutil.walk_packages(exports.__path__, "exports."):
        if ".migrations" in info.name or info.name.endswith(".tests"):
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == info.name and issubclass(cls, Exception) and "APIException" not in \
                    [c.__name__ for c in cls.__mro__]:
                yield cls


def test_every_exception_exports_defines_is_a_refusal():
    found = list(_exception_classes())
    assert found, "exports defines no exception: the scan found nothing"
    assert [c.__name__ for c in found if not issubclass(c, Refused)] == []


def test_conflicts_carry_their_code():
    assert IllegalTransition("pending", "exported").code == "illegal_transition"
    assert StaleRecord("moved").code == "stale"
    assert Refused("no", code="not_cancellable").code == "not_cancellable"
