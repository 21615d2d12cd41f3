"""Unfold's read-only fields on a change page, each computed once.

Unfold 0.91 looks a read-only field up five times per page: once when it builds the field (twice:
the fieldset is iterated for its row classes and again to render it) and once each time the
template reads `contents` (three reads). A display method that queries (an export record's
status history, attempts and review items; a mapping's suggestions) ran its queries five times:
37 queries for one export record, 35 for a category mapping. The value is kept on the form's
instance, which lives for one request, so the output is unchanged."""

from functools import wraps

from unfold import fields as unfold_fields

KEPT = "_readonly_values"


def looked_up_once(lookup_field):
    @wraps(lookup_field)
    def lookup(name, obj, model_admin=None):
        state = getattr(obj, "__dict__", None)
        try:
            key = (name, id(model_admin))
            hash(key)
        except TypeError:  # a callable field that cannot be a key: as before
            return lookup_field(name, obj, model_admin)
        if state is None:
            return lookup_field(name, obj, model_admin)
        kept = state.setdefault(KEPT, {})
        if key not in kept:
            kept[key] = lookup_field(name, obj, model_admin)
        return kept[key]

    lookup.once_per_instance = True
    return lookup


def install() -> None:
    if not getattr(unfold_fields.lookup_field, "once_per_instance", False):
        unfold_fields.lookup_field = looked_up_once(unfold_fields.lookup_field)
