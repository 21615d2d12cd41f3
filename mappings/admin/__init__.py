from . import catalog, mappings, sets  # noqa: F401  registrations
