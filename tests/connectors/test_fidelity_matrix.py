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
