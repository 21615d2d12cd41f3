from . import catalog, categoriser, mappings, sets  # noqa: F401  registrations
