"""What `make run` starts and seeds, contributed by the apps (as dashboard panels are), so this
package names none of the apps above it and no vendor.

An app calls `devstack_register("its.devstack.module")` in `ready()`; the module may define
`processes(ctx) -> [(name, argv)]` and `seed(ctx)`. Modules are imported only by `make run`, and
seeded in the order the apps registered them (INSTALLED_APPS order, then each app's own order).
"""

from importlib import import_module
from types import ModuleType

_modules: list[str] = []


def devstack_register(module: str) -> None:
    if module not in _modules:
        _modules.append(module)


def devstack_modules() -> list[ModuleType]:
    return [import_module(name) for name in _modules]
