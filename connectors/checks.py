"""`manage.py check` (and every runserver, migrate, qcluster start): each registry entry must load
and agree with its folder, so a wrong line fails at start-up rather than at a connection's first push."""

import re

from django.core.checks import Error, register

from .base import Connector
from .models import Connection
from .registry import HOOK_MODULES, Vendor, vendors
from .vendor_settings import VendorSettings, serializer_class

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
HOST = re.compile(rf"(\*\.)?{_LABEL}(\.{_LABEL})+")
HOOK_NEEDS = {"sandbox": ("make_server",), "testkit": ("start_sandbox", "connect"), "devstack": (),
              "bench": ("PROFILE",)}


@register("connectors")
def registry_check(app_configs=None, **kwargs) -> list[Error]:
    return vendor_errors(vendors())


def vendor_errors(entries: tuple[Vendor, ...]) -> list[Error]:
    errors = []
    keys = [entry.key for entry in entries]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        errors.append(Error(f"vendor key {key!r} is listed {keys.count(key)} times", id="connectors.E001"))
    for entry in entries:
        errors.extend(_entry_errors(entry))
    return errors


def _entry_errors(entry: Vendor) -> list[Error]:
    def error(msg: str, n: int) -> Error:
        return Error(f"vendor {entry.key!r}: {msg}", obj="connectors/registry.py", id=f"connectors.E{n:03}")

    errors = []
    try:
        cls = entry.connector_class()
    except (ImportError, AttributeError) as exc:
        errors.append(error(f"connector {entry.connector_path!r} does not import: {exc}", 2))
    else:
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            errors.append(error(f"connector {entry.connector_path!r} is not a Connector subclass", 3))
        elif (cls.system, cls.label) != (entry.key, entry.label):
            errors.append(error(f"{cls.__name__} says system={cls.system!r} label={cls.label!r}; "
                                f"the registry says {entry.key!r}, {entry.label!r}", 4))
    try:
        settings_class = entry.settings_type()
    except (ImportError, AttributeError) as exc:
        errors.append(error(f"settings_class {entry.settings_class!r} does not import: {exc}", 9))
    else:
        if not (isinstance(settings_class, type) and issubclass(settings_class, VendorSettings)):
            errors.append(error(f"settings_class {entry.settings_class!r} is not a VendorSettings dataclass", 9))
        else:
            try:
                serializer_class(settings_class)().get_fields()   # a type it cannot map fails here
            except (NotImplementedError, TypeError, ValueError) as exc:
                errors.append(error(f"settings_class {entry.settings_class!r}: {exc}", 9))
    if not entry.hosts or not all(isinstance(h, str) and HOST.fullmatch(h) for h in entry.hosts):
        errors.append(error(f"hosts {entry.hosts!r}: give lower-case host names, optionally '*.'-prefixed, "
                            "without scheme, port or path", 5))
    if not entry.auth or not set(entry.auth) <= set(Connection.AuthMethod.values):
        errors.append(error(f"auth {entry.auth!r}: name one or more of {Connection.AuthMethod.values}", 6))
    for hook, needs in HOOK_NEEDS.items():
        name = entry.module_name(hook)
        if name is None:
            if hook != "devstack":
                where = HOOK_MODULES.get(hook, hook).replace(".", "/")
                errors.append(error(f"no {hook} module (connectors/{entry.key}/{where}.py)", 7))
            continue
        try:
            module = entry.module(hook)
        except ImportError as exc:
            errors.append(error(f"{hook} {name!r} does not import: {exc}", 7))
            continue
        if missing := [n for n in needs if not hasattr(module, n)]:
            errors.append(error(f"{hook} {name!r} lacks {', '.join(missing)}", 8))
    return errors
