"""The model's dimension heads in the pure resolver: per field, applied at or above the auto-apply
threshold (and said so in the entry), proposed below it, never over a value the expense has, never
a value the dimension mapping does not know, and a reviewer's choice wins."""

from mappings.coding import Decision, FieldGuess, Prediction
from mappings.resolve import MappingGap, resolve
from mappings.snapshot import DimensionRule
from tests.mappings.test_resolve import SETTINGS, snapshot
from tests.mappings.test_rules import doc

DIMS = {("cost_center", "CC-1"): DimensionRule("cost_center", "cc-remote-1", "Sales"),
        ("cost_center", "CC-2"): DimensionRule("cost_center", "cc-remote-2", "Ops"),
        ("project", "P-1"): DimensionRule("project", "prj-1", "Launch")}


def model(cc=("CC-2", 0.97), project=("P-1", 0.95), account=("6500", 0.99)):
    def predict(_doc):
        return Prediction(account[0], "Taxis", account[1], 4, dimensions=(
            FieldGuess("cost_center", cc[0], cc[1], 4), FieldGuess("project", project[0], project[1], 4)))
    return predict


def dims(entry) -> dict[str, str]:
    return {d.kind: d.remote_id for d in entry.lines[0].dimensions}


def test_above_the_threshold_each_blank_dimension_is_filled_and_said_per_field():
    snap = snapshot(dimensions=DIMS, predictor=model(), auto_apply=0.9)
    entry = resolve(doc(dimensions=()), snap, SETTINGS)
    assert dims(entry) == {"cost_center": "cc-remote-2", "project": "prj-1"}
    extra = dict(entry.extra)
    assert extra["coded_by_cost_center"] == "model v4, p=0.97" and extra["coded_by_project"] == "model v4, p=0.95"
    assert "coded_by" not in extra                        # the account came from the TRAVEL mapping

    kept = resolve(doc(dimensions=(("cost_center", "CC-1"),)), snap, SETTINGS)   # the expense's own value stays
    assert dims(kept) == {"cost_center": "cc-remote-1", "project": "prj-1"}
    assert "coded_by_cost_center" not in dict(kept.extra)


def test_below_the_threshold_a_dimension_is_proposed_with_the_account_that_was_decided():
    snap = snapshot(dimensions=DIMS, predictor=model(cc=("CC-2", 0.6)), auto_apply=0.9)
    gap = resolve(doc(dimensions=()), snap, SETTINGS)
    assert isinstance(gap, MappingGap) and gap.kinds == {"suggestion"}
    assert gap.account_from == "the mapping" and gap.suggestion.account == "6100"
    assert [(g.key, g.value, g.probability) for g in gap.suggestion.dimensions] == [("cost_center", "CC-2", 0.6)]
    assert gap.items[0].detail == "the model suggests CC-2 (model v4, p=0.60)"


def test_blank_or_unknown_values_are_never_proposed_and_no_model_means_no_change():
    for cc in (("", 0.99), ("CC-9", 0.99)):          # "leave it blank"; a value with no mapping
        entry = resolve(doc(dimensions=()), snapshot(dimensions=DIMS, predictor=model(cc=cc, project=("", 0.8)),
                                                     auto_apply=0.9), SETTINGS)
        assert dims(entry) == {}
    assert dims(resolve(doc(dimensions=()), snapshot(dimensions=DIMS), SETTINGS)) == {}


def test_a_reviewers_dimensions_win_over_the_model():
    snap = snapshot(dimensions=DIMS, predictor=model(), auto_apply=0.9)
    entry = resolve(doc(dimensions=()), snap, SETTINGS,
                    decision=Decision("6600", by="rana", dimensions=(("cost_center", "CC-1"),)))
    assert dims(entry) == {"cost_center": "cc-remote-1"}           # project left blank by the reviewer
    assert dict(entry.extra)["coded_by_cost_center"] == "reviewer (rana)"
