from importlib import import_module
from pathlib import Path

from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors"

    def ready(self):
        # Every vendor subpackage with a connector.py registers itself on import, so a new vendor
        # plugs in by adding its folder: nothing here or in the framework changes.
        for module in sorted(Path(__file__).parent.glob("*/connector.py")):
            import_module(f"connectors.{module.parent.name}.connector")
        from . import dashboard  # noqa: F401  (the panel registers on import)
