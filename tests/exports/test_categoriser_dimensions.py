"""The categoriser's dimension heads over booked history: one calibrated head per dimension the
history carries, applied or proposed per field in the worker, reviewer corrections per field fed
back into training, and promotion only when no head is less accurate on the same held-out data."""

import dataclasses

import pytest

from exports.models import ReviewItem
from exports.services.coding import suggestion_answer
from exports.services.worker import records_work_due
from mappings import categoriser, training
from mappings.models import CategoriserModel, CodingCorrection, DimensionMapping, MappingPreference
from mappings.training import categoriser_train, training_examples

from .conftest import approve, expense
from .test_categoriser import KINDS

pytestmark = pytest.mark.django_db
S = CategoriserModel.Status
CENTRES = {"TRAVEL": "CC-1", "MEALS": "CC-2", "HOTEL": "CC-3"}


def booked(org, conn, n=60):
    from mappings.models import CategoryMapping

    CategoryMapping.objects.get_or_create(connection=conn, category_code="HOTEL", defaults={"account": "acc-hotel"})
    for value in CENTRES.values():
        DimensionMapping.objects.create(connection=conn, dimension_key="cost_center", value=value,
                                        remote_kind="cost_center", remote_id=f"r-{value}")
    rows = []
    for i in range(n):
        category, merchants, words = KINDS[i % 3]
        rows.append(expense(f"exp_{i:03d}", amount=f"{20 + i}.00", category=category, merchant=merchants[i // 3 % 3],
                            description=words, date=f"2026-10-{1 + i % 28:02d}",
                            dimensions={"cost_center": CENTRES[category]}))
    approve(org, *rows)
    assert records_work_due(limit=500) == {"exported": n}


def centre(vendor, eid):
    entry = vendor.documents[f"EXPENSICO-{eid}-v1"]["entry"]
    return {d.kind: d.remote_id for d in entry.lines[0].dimensions}, dict(entry.extra)


def test_training_adds_a_calibrated_head_per_dimension_with_its_held_out_figures(org, conn, vendor):
    booked(org, conn)
    row = categoriser_train(connection=conn)
    assert row.status == S.PROMOTED and set(row.heads) == {"cost_center"}
    assert row.heads["cost_center"]["size"] == 12 and row.heads["cost_center"]["accuracy"] == 1.0
    doc = dataclasses.replace(training_examples(conn)[0][0], dimensions=())
    guess = training.promoted_categoriser(conn).predict(doc).dimensions
    assert [(g.key, g.value) for g in guess] == [("cost_center", CENTRES[doc.category_code])]
    assert 0 < guess[0].probability <= 1


def test_applied_above_the_threshold_proposed_below_and_the_correction_is_learnt(
        org, conn, vendor, django_capture_on_commit_callbacks):
    booked(org, conn)
    categoriser_train(connection=conn)
    MappingPreference.objects.create(organization=org, model_auto_apply=0.5)
    approve(org, expense("exp_a", category="TRAVEL", merchant="Careem", description="ride"), rid="rpt_2")
    assert records_work_due(limit=10) == {"exported": 1}
    dims, extra = centre(vendor, "exp_a")
    assert dims == {"cost_center": "r-CC-1"} and extra["coded_by_cost_center"].startswith("model v1, p=")

    MappingPreference.objects.filter(organization=org).update(model_auto_apply=0.9999)
    approve(org, expense("exp_b", amount="77.00", category="TRAVEL", merchant="Careem", description="ride"),
            rid="rpt_3")
    assert records_work_due(limit=10) == {"needs_review": 1}
    item = ReviewItem.objects.get(resolved_at__isnull=True)
    assert item.reason == ReviewItem.Reason.SUGGESTED_CODING
    assert item.context["account"] == "acc-travel" and item.context["account_from"] == "the mapping"
    assert item.context["dimensions"]["cost_center"]["value"] == "CC-1"
    assert item.detail.startswith("Suggested cost_center CC-1 (model v1, p=")
    with django_capture_on_commit_callbacks(execute=True):
        correction = suggestion_answer(item=item, by=None, dimensions={"cost_center": "CC-3"})
    assert not correction.accepted and correction.dimensions == {"cost_center": "CC-3"}
    assert correction.predicted_account == "" and correction.predicted_dimensions["cost_center"]["value"] == "CC-1"
    assert records_work_due(limit=10) in ({}, {"exported": 1})
    dims, extra = centre(vendor, "exp_b")
    assert dims == {"cost_center": "r-CC-3"} and extra["coded_by_cost_center"].startswith("reviewer")
    learnt = {doc.source_id: dict(doc.dimensions) for doc, _ in training_examples(conn)}
    assert learnt["exp_b"] == {"cost_center": "CC-3"}          # the next training learns the correction


def test_an_unproposed_dimension_cannot_be_answered(org, conn, vendor):
    booked(org, conn, n=30)
    categoriser_train(connection=conn)
    MappingPreference.objects.create(organization=org, model_auto_apply=0.9999)
    approve(org, expense("exp_c", category="TRAVEL", merchant="Careem", description="ride"), rid="rpt_2")
    records_work_due(limit=10)
    item = ReviewItem.objects.get(resolved_at__isnull=True)
    with pytest.raises(Exception, match="project was not proposed"):
        suggestion_answer(item=item, by=None, dimensions={"project": "P-1"})
    assert not CodingCorrection.objects.exists()


def test_a_model_with_a_less_accurate_dimension_head_is_not_promoted(org, conn, vendor, monkeypatch):
    booked(org, conn)
    categoriser_train(connection=conn)
    real_fit = categoriser.fit
    swap = {"CC-1": "CC-2", "CC-2": "CC-3", "CC-3": "CC-1"}

    def bad_fit(docs, labels, names, version=0):      # right accounts, swapped cost centres
        docs = [dataclasses.replace(d, dimensions=tuple((k, swap.get(v, v)) for k, v in d.dimensions)) for d in docs]
        return real_fit(docs, labels, names, version)

    monkeypatch.setattr(categoriser, "fit", bad_fit)
    worse = categoriser_train(connection=conn)
    assert worse.heldout_accuracy == 1.0 and worse.heads["cost_center"]["accuracy"] == 0.0
    assert worse.status == S.REJECTED and "less accurate on cost_center 0.0% < 100.0%" in worse.note
    assert CategoriserModel.objects.get(status=S.PROMOTED).version == 1
