"""Coding rules: matching, first-match-wins precedence over mappings, and what resolve says."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from connectors.entry import AccountingEntry
from mappings.coding import Decision, Prediction
from mappings.documents import ExpenseDocument
from mappings.models import CodingRule
from mappings.resolve import MappingGap, holds_for, resolve, skipped_by
from mappings.rules import CodingRuleData, first_rule
from tests.mappings.test_resolve import SETTINGS, snapshot


def doc(**kw) -> ExpenseDocument:
    base = dict(source_id="exp_1", version=1, type="expense", date=date(2026, 11, 2), amount=Decimal("115.00"),
                currency="SAR", category_code="TRAVEL", funding_source="reimbursable", merchant="CAREEM*RIDE 991",
                employee_id="emp_1", card_last4="4242", custom_fields=(("trip", "T-9"),),
                dimensions=(("cost_center", "CC-1"),))
    return ExpenseDocument(**{**base, **kw})


def rule(id=1, **kw) -> CodingRuleData:
    return CodingRuleData(id=id, name=f"r{id}", **kw)


def coded(entry: AccountingEntry) -> str:
    return dict(entry.extra).get("coded_by", "")


@pytest.mark.parametrize("condition, matches", [
    ({"merchant": "careem"}, True),
    ({"merchant": "Careem Hala"}, True),                        # normalised both sides
    ({"merchant": "uber"}, False),
    ({"merchant": "are", "merchant_match": "contains"}, True),
    ({"merchant": r"^CAREEM\*RIDE \d+$", "merchant_match": "regex"}, True),
    ({"merchant": r"^uber", "merchant_match": "regex"}, False),
    ({"employees": frozenset({"emp_1"})}, True),
    ({"employees": frozenset({"emp_2"})}, False),
    ({"cards": frozenset({"4242"})}, True),
    ({"categories": frozenset({"MEALS"})}, False),
    ({"expense_types": frozenset({"mileage"})}, False),
    ({"funding_source": "card"}, False),
    ({"amount_min": Decimal("115.00"), "amount_max": Decimal("115.00")}, True),
    ({"amount_min": Decimal("115.01")}, False),
    ({"currency": "USD"}, False),
    ({"custom_fields": (("trip", "T-9"),)}, True),
    ({"custom_fields": (("trip", "T-1"),)}, False),
    ({"dimensions": (("cost_center", "CC-1"),)}, True),
    ({"dimensions": (("project", "P-1"),)}, False),
])
def test_each_condition(condition, matches):
    assert (first_rule((rule(account="6999", **condition),), doc()) is not None) is matches


def test_the_first_match_in_order_wins_over_the_category_mapping():
    rules = (rule(1, position=1, merchant="uber", account="6001"), rule(2, position=2, merchant="careem",
             account="6002"), rule(3, position=3, categories=frozenset({"TRAVEL"}), account="6003"))
    entry = resolve(doc(), snapshot(rules=rules), SETTINGS)
    assert entry.lines[0].account == "6002"          # the TRAVEL mapping says 6100
    assert coded(entry) == "rule #2"


def test_no_rule_matching_leaves_the_mapping_and_says_nothing():
    entry = resolve(doc(), snapshot(rules=(rule(merchant="uber", account="6001"),)), SETTINGS)
    assert entry.lines[0].account == "6100" and coded(entry) == ""


def test_a_rule_sets_tax_mapping_dimensions_and_contact():
    r = rule(merchant="careem", tax_code="VAT15", set_dimensions=(("cost_center", "CC-1"),), contact="c-9")
    entry = resolve(doc(category_code="MEALS", dimensions=()), snapshot(rules=(r,)), SETTINGS)
    line = entry.lines[0]
    assert line.account == "6200"                     # no account action: the mapping still decides
    assert line.tax_rate == "tr-15" and [d.remote_id for d in line.dimensions] == ["cc-remote-1"]
    assert entry.contact == "c-9"


def test_a_rule_can_cover_an_unmapped_category():
    gap = resolve(doc(category_code="HOTEL", merchant="uber"), snapshot(), SETTINGS)
    assert isinstance(gap, MappingGap) and "category" in gap.kinds
    entry = resolve(doc(category_code="HOTEL", merchant="uber"), snapshot(rules=(rule(categories=frozenset({"HOTEL"}),
                                                                     account="6300"),)), SETTINGS)
    assert entry.lines[0].account == "6300"


def test_hold_and_skip_actions():
    held = snapshot(rules=(rule(7, merchant="careem", hold=True, hold_reason="ask the manager"),))
    assert holds_for(doc(), held) == ("rule #7 r7: ask the manager",)
    skipping = snapshot(rules=(rule(8, merchant="careem", skip=True),))
    assert skipped_by(doc(), skipping) == "skipped by rule #8 r8" and skipped_by(doc(merchant="uber"), skipping) == ""


def test_precedence_person_then_rule_then_mapping_then_model():
    def model(_doc):
        return Prediction("6500", "Taxis", 0.99, 3)

    snap = snapshot(rules=(rule(4, merchant="careem", account="6004"),), predictor=model, auto_apply=0.9)
    assert coded(resolve(doc(), snap, SETTINGS, decision=Decision("6600", by="rana"))) == "reviewer (rana)"
    assert coded(resolve(doc(), snap, SETTINGS)) == "rule #4"
    assert coded(resolve(doc(merchant="uber"), snap, SETTINGS)) == ""            # the TRAVEL mapping
    by_model = resolve(doc(merchant="uber", category_code="HOTEL"), snap, SETTINGS)
    assert by_model.lines[0].account == "6500" and coded(by_model) == "model v3, p=0.99"


def test_below_the_threshold_the_model_only_suggests():
    snap = snapshot(predictor=lambda d: Prediction("6500", "Taxis", 0.6, 3), auto_apply=0.9)
    gap = resolve(doc(category_code="HOTEL", merchant="uber"), snap, SETTINGS)
    assert isinstance(gap, MappingGap) and gap.suggestion.account == "6500"


@pytest.mark.django_db
def test_model_validation_names_the_field(connection):
    def err(**kw):
        with pytest.raises(ValidationError) as exc:
            CodingRule(connection=connection, name="x", **kw).full_clean()
        return exc.value

    assert "merchant" in err(merchant="(", merchant_match="regex", account="1").message_dict
    assert "amount_max" in err(amount_min=Decimal(5), amount_max=Decimal(1), account="1").message_dict
    assert "skip" in err(merchant="a", hold=True, hold_reason="x", skip=True).message_dict
    assert "hold_reason" in err(merchant="a", hold=True).message_dict
    assert "custom_fields" in err(custom_fields=["x"], account="1").message_dict
    assert "condition" in str(err(account="1"))
    assert "action" in str(err(merchant="a"))


@pytest.mark.django_db
def test_rules_are_versioned_and_revert_like_other_mappings(connection):
    from mappings.history import mapping_revert, mapping_set_history
    from mappings.selectors import mapping_snapshot

    rule = CodingRule.objects.create(connection=connection, name="Taxis", merchant="careem", account="6120")
    first = rule.history.get().history_id
    rule.account = "6999"
    rule.save()
    assert mapping_snapshot(connection).rules[0].account == "6999"
    changes = mapping_set_history(connection, kinds=["rule"])[0].changes
    assert [(c.field, c.old, c.new) for c in changes] == [("account", "6120", "6999")]
    mapping_revert(kind="rule", connection=connection, history_id=first)
    assert mapping_snapshot(connection).rules[0].account == "6120"


@pytest.mark.django_db
def test_only_active_rules_in_position_order_reach_the_snapshot(connection):
    from mappings.selectors import mapping_snapshot

    CodingRule.objects.create(connection=connection, name="b", merchant="x", account="2", position=2)
    CodingRule.objects.create(connection=connection, name="a", merchant="x", account="1", position=1)
    CodingRule.objects.create(connection=connection, name="off", merchant="x", account="0", position=0, active=False)
    assert [r.name for r in mapping_snapshot(connection).rules] == ["a", "b"]
