from . import core, third_party  # noqa: F401  (registration side effects)
