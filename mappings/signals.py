"""Announcements of the mappings app.

`mappings_changed(sender, organization, connection, kinds)` is sent once per transaction and
connection, after commit, whenever any mapping of that connection changed; `kinds` is a frozenset
of MappingBase.KIND values. The export engine listens and re-queues what the change may unblock.
"""

import threading

from django.db import transaction
from django.dispatch import Signal

mappings_changed = Signal()

_local = threading.local()  # per thread, like the database connection whose transaction it follows


def announce_change(*, connection, kinds) -> None:
    """Collects changes until the outermost transaction commits, then sends one signal per connection."""
    pending = _local.__dict__.setdefault("pending", {})
    pk = connection.pk  # captured now: a cascading delete sets it to None before commit
    entry = pending.get(pk)
    queued = [item[1] for item in transaction.get_connection().run_on_commit]
    if entry is not None and entry["send"] in queued:
        entry["kinds"].update(kinds)
        return
    # Absent, or left over from a rolled-back transaction: start afresh.
    pending[pk] = entry = {"connection": connection, "kinds": set(kinds)}

    def send():
        if pending.get(pk) is entry:
            del pending[pk]
        if connection.pk is None:  # the connection itself was deleted: nothing left to re-queue
            return
        mappings_changed.send(sender=announce_change, organization=connection.organization,
                              connection=connection, kinds=frozenset(entry["kinds"]))

    entry["send"] = send
    transaction.on_commit(send)
