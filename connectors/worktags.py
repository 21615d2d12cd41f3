"""Workday worktags, the rules both Workday connectors follow (direct SOAP, and Apideck's unified
API in front of Workday): which dimension kind is which worktag ID type, one value per type."""

from .entry import EntryLine
from .errors import UnsupportedEntry

# Dimension kinds from the mappings (plain or `worktag:<ID type>`) → Workday worktag ID types.
WORKTAG_TYPES = {
    "cost_center": "Cost_Center_Reference_ID",
    "spend_category": "Spend_Category_ID",
    "category": "Spend_Category_ID",        # the expense category mapped as a dimension
    "project": "Project_ID",
    "region": "Region_Reference_ID",
    "fund": "Fund_ID",
    "employee": "Employee_ID",
    "supplier": "Supplier_ID",
}
COST_CENTER = "Cost_Center_Reference_ID"


def worktag_type(kind: str) -> str | None:
    if kind.startswith("worktag:"):
        return kind.split(":", 1)[1]
    return WORKTAG_TYPES.get(kind)


def line_worktags(line: EntryLine) -> dict[str, str]:
    """One value per worktag type (Workday: "Only one worktag for each type is allowed")."""
    out: dict[str, str] = {}
    for dim in line.dimensions:
        if not dim.remote_id:
            continue
        id_type = worktag_type(dim.kind)
        if not id_type:
            # Dropping it would book the line without a dimension someone mapped on purpose.
            raise UnsupportedEntry(f"dimension kind {dim.kind!r} has no Workday worktag type; map it to a "
                                   f"worktag (worktag:<ID type>) or stop sending it",
                                   f"dimensions.{dim.kind}", code="unsupported_dimension")
        if out.get(id_type, dim.remote_id) != dim.remote_id:
            raise UnsupportedEntry(f"two {id_type} worktags on one line", f"dimensions.{id_type}")
        out[id_type] = dim.remote_id
    return out
