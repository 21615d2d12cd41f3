"""django-q2 tasks of the close: build one evidence pack."""

from .packs import pack_build


def evidence_pack_task(pack_id: int) -> int | None:
    pack = pack_build(pack_id)
    return pack.size if pack else None
