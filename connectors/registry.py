"""Every accounting vendor, each on one line: the only place outside a vendor's own folder that
names it. Adding a vendor = its folder under connectors/ + one line in VENDORS.

Hooks are dotted module paths, imported only when used, so reading the registry (hosts.py does it
before every request) loads no vendor code. A hook left empty is the vendor's sandbox subpackage
module of that name (`connectors.<key>.sandbox.testkit`, …; the sandbox app itself is
`connectors.<key>.sandbox.server`). `checks.py` validates every entry at start-up.
"""

from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from types import ModuleType
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from .vendor_settings import VendorSettings


# Where a hook left empty is found, under the vendor's folder: the test and dev infrastructure
# (fake server, testkit, devstack, benchmark profile) all sits in its `sandbox/` subpackage.
HOOK_MODULES = {"sandbox": "sandbox.server", "testkit": "sandbox.testkit", "devstack": "sandbox.devstack",
                "bench": "sandbox.bench"}


@dataclass(frozen=True)
class Vendor:
    key: str                          # Connection.system
    label: str                        # display name; the connector class's `label` must agree
    connector: str                    # class name in connectors.<key>.connector (or a dotted path)
    auth: tuple[str, ...]             # Connection.AuthMethod values the vendor accepts
    # The only hosts this vendor's credentials may be sent to ("*.x.com": any subdomain of x.com);
    # a deployment adds its own (sandboxes) in VENDOR_HOSTS_ALLOW. See connectors/hosts.py.
    hosts: tuple[str, ...]
    sandbox: str = ""                 # module with make_server(host=, port=, snapshot=, verbose=)
    testkit: str = ""                 # module the contract suite and the benchmarks drive
    devstack: str = ""                # module with processes(ctx) / seed(ctx) for `make run`
    bench: str = ""                   # module with PROFILE, what bench/export.py needs (no Django)
    # The typed settings: a class name in connectors.<key>.settings (or a dotted path); empty: the
    # common keys only (vendor_settings.VendorSettings).
    settings_class: str = ""
    # For the guided setup's cards: what the vendor books (in the reader's language), an example API address.
    books: "StrOrPromise" = ""
    base_url_example: str = ""

    @property
    def connector_path(self) -> str:
        return self.connector if "." in self.connector else f"{__package__}.{self.key}.connector.{self.connector}"

    def module_name(self, hook: str) -> str | None:
        """The sandbox, testkit, devstack or bench module's dotted path; None when the vendor has none."""
        if explicit := getattr(self, hook):
            return str(explicit)
        name = f"{__package__}.{self.key}.{HOOK_MODULES.get(hook, hook)}"
        try:
            return name if find_spec(name) else None
        except ModuleNotFoundError:  # the vendor's folder itself is missing
            return None

    def module(self, hook: str) -> ModuleType:
        name = self.module_name(hook)
        if name is None:
            raise LookupError(f"{self.key} has no {hook} module")
        return import_module(name)

    def settings_type(self) -> type["VendorSettings"]:
        if not self.settings_class:
            return _class("connectors.vendor_settings.VendorSettings")
        return _class(self.settings_class if "." in self.settings_class
                      else f"{__package__}.{self.key}.settings.{self.settings_class}")

    def connector_class(self) -> type:
        return _class(self.connector_path)


def _class(path: str) -> type:
    module, _, name = path.rpartition(".")
    cls: type = getattr(import_module(module), name)
    return cls


VENDORS: tuple[Vendor, ...] = (
    Vendor("wafeq", "Wafeq", "WafeqConnector", ("oauth2", "api_key"), ("api.wafeq.com", "app.wafeq.com"), settings_class="WafeqSettings", books=_("Expenses with receipts, bank transactions"), base_url_example="https://api.wafeq.com/v1"),  # noqa: E501
    Vendor("business_central", "Dynamics 365 Business Central", "BusinessCentralConnector", ("client_credentials",), ("api.businesscentral.dynamics.com", "*.businesscentral.dynamics.com", "login.microsoftonline.com"), settings_class="BusinessCentralSettings", books=_("General journal lines or purchase invoices"), base_url_example="https://api.businesscentral.dynamics.com/v2.0/<tenant>/production/api/v2.0"),  # noqa: E501
    Vendor("xledger", "Xledger", "XledgerConnector", ("token",), ("*.xledger.net",), settings_class="XledgerSettings", books=_("GL import transactions (GraphQL)"), base_url_example="https://www.xledger.net/graphql"),  # noqa: E501
    Vendor("workday", "Workday (SOAP)", "WorkdayConnector", ("basic",), ("*.workday.com", "*.myworkday.com"), settings_class="WorkdaySettings", books=_("Accounting journals (Submit_Accounting_Journal)"), base_url_example="https://wd2-impl-services1.workday.com/ccx/service/<tenant>/Financial_Management/v45.0"),  # noqa: E501
    Vendor("apideck", "Workday via Apideck", "ApideckWorkdayConnector", ("api_key",), ("unify.apideck.com",), settings_class="ApideckUnifySettings", books=_("Expenses or journal entries through Apideck"), base_url_example="https://unify.apideck.com"),  # noqa: E501
    Vendor("moon_erp", "Moon ERP", "MoonErpConnector", ("token",), ("moon-erp.test", "*.moon-erp.test"), settings_class="MoonErpSettings", books=_("Expenses with tax lines"), base_url_example="https://<company>.moon-erp.test/api"),  # noqa: E501
)


def vendors() -> tuple[Vendor, ...]:
    return VENDORS


def system_label(key: str) -> str:
    """The system's display name ("Business Central") for its key: the registry's, else the
    connector's own label (a connector registered outside the registry); an unknown key as it is."""
    label = next((entry.label for entry in VENDORS if entry.key == key), None)
    if label is None:
        from .base import _registry

        label = getattr(_registry.get(key), "label", None)
    return label or key


def vendor(key: str) -> Vendor:
    for entry in VENDORS:
        if entry.key == key:
            return entry
    raise LookupError(f"no vendor {key!r} in connectors/registry.py; known: {sorted(v.key for v in VENDORS)}")
