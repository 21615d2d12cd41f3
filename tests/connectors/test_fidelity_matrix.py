"""connectors/FIDELITY.md is generated from the vendor schemas' FIDELITY declarations."""

from pathlib import Path

import pytest
from django.core.management import call_command

from connectors import fidelity

COMMITTED = Path(fidelity.__file__).with_name("FIDELITY.md")


def test_the_committed_matrix_is_what_the_schemas_declare(capsys):
    call_command("fidelity_matrix")
    generated = capsys.readouterr().out
    assert COMMITTED.read_text() == generated, (
        "connectors/FIDELITY.md is stale: run `python manage.py fidelity_matrix > connectors/FIDELITY.md`")


def test_every_vendor_declares_every_source_field_once():
    cols = fidelity.columns()
    assert len(cols) == 6
    for _, column in cols.values():
        assert [k for k, _ in fidelity.SOURCE_FIELDS] == list(column)


def test_a_column_missing_a_field_is_refused():
    with pytest.raises(ValueError, match="missing \\['card_last4'\\]"):
        fidelity.column("x", {k: fidelity.Cannot("none") for k, _ in fidelity.SOURCE_FIELDS if k != "card_last4"})


def test_a_lands_cell_without_a_read_back_says_so():
    assert "not yet proven" in fidelity.cell_text(fidelity.Lands("memo"))
    assert "proven by t.py" in fidelity.cell_text(fidelity.Lands("memo", proof="t.py"))
    assert fidelity.cell_text(fidelity.Cannot("no such field")) == "— no such field"


def test_every_proof_names_a_test_that_exists():
    """A cell proven elsewhere names `path::test` (or `::test` for another test of the same file):
    each must be a test function in that file, so a renamed or deleted test cannot leave the
    matrix claiming a proof."""
    root = COMMITTED.parent.parent
    proofs = [(system, key, cell.proof) for system, (_, column) in fidelity.columns().items()
              for key, cell in column.items() if isinstance(cell, fidelity.Lands) and cell.proof]
    assert proofs
    for system, key, proof in proofs:
        path = ""
        for part in proof.split(","):
            file, _, test = part.strip().partition("::")
            path = file or path
            source = (root / path).read_text()
            assert f"def {test}(" in source, f"{system}.{key}: {path}::{test} does not exist"
