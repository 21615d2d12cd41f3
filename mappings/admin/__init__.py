from . import allowances, catalog, categoriser, mappings, sets  # noqa: F401  registrations
