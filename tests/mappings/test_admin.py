"""The mapping screens render and do what they say, for the roles that may."""

import base64
import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from connectors.base import CatalogItem, CatalogKind, Connector, _registry, register
from mappings.models import CategoryMapping, MappingPreference, RemoteCatalogItem, TaxMapping
from mappings.services import category_mapping_apply_suggestion, suggestions_auto_apply
from mappings.set_templates import mapping_set_export
from tests.conftest import admin_confirm
from tests.mappings.factories import make_category_mapping, make_connection
from tests.source.factories import expense_payload, make_report, report_payload

KINDS = ["categorymapping", "taxmapping", "currencypolicy", "exchangerate", "dimensionmapping", "merchantrule",
         "holdrule", "remotecatalogitem", "mappingpreference", "mappingset"]


class FakeBooks(Connector):
    """Registered only while a test uses it, so suites that walk the registry never see it."""

    system = "fake-books"

    def catalog(self, kind):
        if kind == CatalogKind.ACCOUNTS:
            return [CatalogItem(kind, "a-6100", "Travel and Transport", "6100", "EXPENSE"),
                    CatalogItem(kind, "a-6200", "Meals & Entertainment", "6200", "EXPENSE"),
                    CatalogItem(kind, "a-6300", "Office Supplies", "6300", "EXPENSE")]
        return []

    check = ensure_account = push = find_by_reference = reverse = None


@pytest.fixture
def books(org):
    register(FakeBooks)
    yield make_connection(org, system="fake-books", name="Fake books")
    _registry.pop(FakeBooks.system, None)


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner)
    return client


@pytest.mark.parametrize("name", KINDS)
def test_changelists_and_add_forms_render(logged_in, connection, name):
    assert logged_in.get(reverse(f"admin:mappings_{name}_changelist")).status_code == 200
    if name not in ("remotecatalogitem", "mappingset"):
        assert logged_in.get(reverse(f"admin:mappings_{name}_add") + f"?connection={connection.pk}").status_code == 200


def test_category_change_form_offers_catalog_and_suggestions(logged_in, books):
    from mappings.services import catalog_refresh
    assert catalog_refresh(connection=books, kinds=[CatalogKind.ACCOUNTS]) == {"accounts": 3}
    mapping = make_category_mapping(books, "TRV", category_name="Travel", account="a-6100")
    page = logged_in.get(reverse("admin:mappings_categorymapping_change", args=[mapping.pk])).content.decode()
    # Picked from the catalog (searchable: code · name · type), never typed; the pick fills the name.
    assert 'data-catalog-name-field="account_name"' in page and "unfold-admin-autocomplete" in page
    # Only the stored value comes with the page; the rest is searched on the server as the person types.
    assert 'data-name="Travel and Transport"' in page and "Meals &amp; Entertainment" not in page.split(
        "Suggested accounts")[0]
    search = reverse("admin:mappings_remotecatalogitem_search")
    assert f'data-ajax--url="{search}?kind=accounts' in page
    assert "Travel and Transport" in page.split("Suggested accounts")[1]  # best match offered first
    assert "Recent changes" in page
    history = logged_in.get(reverse("admin:mappings_categorymapping_history", args=[mapping.pk]))
    assert history.status_code == 200


def test_catalog_refresh_action(logged_in, books):
    response = admin_confirm(logged_in, reverse("admin:mappings_remotecatalogitem_refresh_catalogs"), follow=True)
    assert response.status_code == 200
    assert RemoteCatalogItem.objects.filter(connection=books).count() == 3


def test_mapping_set_page_shows_gaps_with_suggestions_and_a_person_maps_one(logged_in, org, books):
    from mappings.services import catalog_refresh
    catalog_refresh(connection=books, kinds=[CatalogKind.ACCOUNTS])
    make_report(org, report_payload(7, expenses=[expense_payload(
        701, category={"id": "c", "code": "OFF", "name": "Office supplies"}, tax=None, dimensions={})]))
    url = reverse("admin:mappings_mappingset_change", args=[books.pk])
    page = logged_in.get(url).content.decode()
    assert 'id="gap-table"' in page and "<code>OFF</code>" in page and "115.00 SAR" in page
    assert "Office Supplies" in page and "name match" in page  # suggested, saying why
    choice = {"category_code": "OFF", "category_name": "Office supplies", "account": "a-6300",
              "account_name": "Office Supplies"}
    asked = logged_in.post(reverse("admin:mappings_mappingset_map_gap", args=[books.pk]), choice)
    question = asked.content.decode()
    assert asked.status_code == 200 and "Expenses re-booked" in question and "115.00 SAR" in question
    assert not CategoryMapping.objects.filter(connection=books, category_code="OFF").exists()  # asking maps nothing
    response = logged_in.post(reverse("admin:mappings_mappingset_map_gap", args=[books.pk]),
                              {**choice, "confirmed": "True"})
    assert response.status_code == 302
    assert CategoryMapping.objects.get(connection=books, category_code="OFF").account == "a-6300"
    assert "Nothing is missing" in logged_in.get(url).content.decode()


def test_suggestions_apply_without_a_person_only_above_the_threshold(org, books):
    from mappings.services import catalog_refresh
    catalog_refresh(connection=books, kinds=[CatalogKind.ACCOUNTS])
    make_report(org, report_payload(8, expenses=[expense_payload(
        801, category={"id": "c", "code": "OFF", "name": "Office supplies"}, tax=None, dimensions={})]))
    assert suggestions_auto_apply(connection=books) == []  # no threshold: never automatic
    with pytest.raises(PermissionError):
        category_mapping_apply_suggestion(connection=books, category_code="OFF", category_name="", account="x",
                                          account_name="", score=99.0)
    MappingPreference.objects.create(organization=org, auto_apply_threshold=101)
    assert suggestions_auto_apply(connection=books) == []
    MappingPreference.objects.filter(organization=org).update(auto_apply_threshold=85)
    applied = suggestions_auto_apply(connection=books)
    assert [(m.category_code, m.account) for m in applied] == [("OFF", "a-6300")]


def test_set_import_preview_then_apply(logged_in, org, connection):
    source = make_connection(org)
    make_category_mapping(source, "TRAVEL", account="6100")
    blob = mapping_set_export(connection=source, fmt="xlsx")
    url = reverse("admin:mappings_mappingset_import", args=[connection.pk])
    from django.core.files.uploadedfile import SimpleUploadedFile
    preview = logged_in.post(url, {"format": "xlsx", "file": SimpleUploadedFile("m.xlsx", blob)})
    page = preview.content.decode()
    assert preview.status_code == 200 and 'id="import-preview"' in page and "sheet category row 2" in page
    assert not CategoryMapping.objects.filter(connection=connection).exists()
    applied = logged_in.post(url, {"apply": "1", "format": "xlsx", "payload": base64.b64encode(blob).decode()})
    assert applied.status_code == 302
    assert CategoryMapping.objects.get(connection=connection).account == "6100"


def test_set_import_errors_are_shown_per_row(logged_in, connection):
    from django.core.files.uploadedfile import SimpleUploadedFile
    body = json.dumps({"tax": [{"tax_code": "VAT15", "separate_line": True}]}).encode()
    response = logged_in.post(reverse("admin:mappings_mappingset_import", args=[connection.pk]),
                              {"format": "json", "file": SimpleUploadedFile("m.json", body)})
    page = response.content.decode()
    assert "tax[0], column tax_account: A separate tax line needs a tax account." in page
    assert "Apply these changes" not in page


def test_history_tab_and_revert_set(logged_in, connection, owner):
    with time_machine.travel(datetime(2026, 11, 2, 9, tzinfo=UTC), tick=False):
        mapping = make_category_mapping(connection, "TRAVEL", account="6100")
    with time_machine.travel(datetime(2026, 11, 2, 10, tzinfo=UTC), tick=False):
        mapping.account = "6999"
        mapping.save()
    page = logged_in.get(reverse("admin:mappings_mappingset_change", args=[connection.pk])).content.decode()
    assert 'id="history-table"' in page and "6100" in page and "6999" in page
    response = logged_in.post(reverse("admin:mappings_mappingset_revert", args=[connection.pk]),
                              {"at": "2026-11-02T09:30:00+00:00"})
    assert response.status_code == 302
    assert CategoryMapping.objects.get(pk=mapping.pk).account == "6100"


def test_export_downloads(logged_in, connection):
    make_category_mapping(connection, "TRAVEL")
    for fmt in ("csv", "xlsx", "json"):
        response = logged_in.get(reverse("admin:mappings_mappingset_export", args=[connection.pk, fmt]))
        assert response.status_code == 200 and response.content
    assert logged_in.get(reverse("admin:mappings_categorymapping_export")).status_code == 200


def test_per_kind_import_binds_the_chosen_connection(logged_in, connection):
    from django.core.files.uploadedfile import SimpleUploadedFile
    url = reverse("admin:mappings_taxmapping_import")
    assert logged_in.get(url).status_code == 200
    csv = b"tax_code,tax_rate,tax_rate_name,treatment,separate_line,tax_account,tax_account_name\nVAT5,tr-5,,exclusive,0,,\n"
    response = logged_in.post(url, {"connection": connection.pk, "format": "0",
                                    "import_file": SimpleUploadedFile("t.csv", csv), "resource": "0"})
    assert response.status_code == 200
    form = response.context["confirm_form"]
    assert form is not None, response.context["result"].row_errors() if response.context.get("result") else ""
    data = {k: v for k, v in form.initial.items()}
    response = logged_in.post(reverse("admin:mappings_taxmapping_process_import"), data)
    assert response.status_code == 302
    assert TaxMapping.objects.get(connection=connection).treatment == "exclusive"


def test_viewer_sees_but_cannot_change(client, viewer, connection):
    client.force_login(viewer)
    mapping = make_category_mapping(connection, "TRAVEL")
    assert client.get(reverse("admin:mappings_mappingset_change", args=[connection.pk])).status_code == 200
    assert client.post(reverse("admin:mappings_mappingset_revert", args=[connection.pk]),
                       {"at": timezone.now().isoformat()}).status_code == 403
    assert client.post(reverse("admin:mappings_mappingset_clone", args=[connection.pk]), {}).status_code == 403
    assert client.post(reverse("admin:mappings_categorymapping_change", args=[mapping.pk]),
                       {"account": "x"}).status_code == 403


def test_other_organisations_set_is_not_found(client, owner):
    from tests.core.factories import make_org
    foreign = make_connection(make_org("other"))
    client.force_login(owner)
    assert client.get(reverse("admin:mappings_mappingset_change", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("admin:mappings_mappingset_revert", args=[foreign.pk]), {"at": "x"}).status_code == 404
    assert client.get(reverse("admin:mappings_mappingset_export", args=[foreign.pk, "json"])).status_code == 404


def test_dashboard_shows_the_gap_panel(logged_in, org, connection):
    make_report(org, report_payload(9, expenses=[expense_payload(901, tax=None, dimensions={})]))
    page = logged_in.get(reverse("admin:index")).content.decode()
    assert "Missing mappings" in page and "Expenses blocked by mappings" in page


def test_devstack_seed_maps_the_demo_and_is_idempotent(org, books, capsys):
    from mappings import devstack
    ctx = {"organization": org, "connection_id": books.pk}
    devstack.seed(ctx)
    first = sorted(CategoryMapping.objects.filter(connection=books).values_list("category_code", "account"))
    assert ("OFF", "a-6300") in first and ("TRV-AIR", "a-6100") in first
    assert all(code not in ("DRV", "OLD") for code, _ in first)
    devstack.seed(ctx)
    assert sorted(CategoryMapping.objects.filter(connection=books).values_list("category_code", "account")) == first
    assert "left unmapped" in capsys.readouterr().out


def test_confident_suggestions_apply_themselves_when_a_report_arrives(org, books, django_capture_on_commit_callbacks):
    from mappings.services import catalog_refresh
    catalog_refresh(connection=books, kinds=[CatalogKind.ACCOUNTS])
    MappingPreference.objects.create(organization=org, auto_apply_threshold=85)
    with django_capture_on_commit_callbacks(execute=True):
        make_report(org, report_payload(12, expenses=[expense_payload(
            1201, category={"id": "c", "code": "OFF", "name": "Office supplies"}, tax=None, dimensions={})]))
    mapping = CategoryMapping.objects.get(connection=books, category_code="OFF")
    assert mapping.account == "a-6300"
    assert "auto-applied" in mapping.history.latest().history_change_reason


def test_back_to_here_accepts_the_rows_timestamp_and_naive_times(logged_in, connection):
    with time_machine.travel(datetime(2026, 11, 2, 9, 0, 0, 123456, tzinfo=UTC), tick=False):
        mapping = make_category_mapping(connection, "TRAVEL", account="6100")
    mapping.account = "6999"
    mapping.save()
    url = reverse("admin:mappings_mappingset_revert", args=[connection.pk])
    logged_in.post(url, {"at": "2026-11-02T09:00:00.123456+00:00"})
    assert CategoryMapping.objects.get(pk=mapping.pk).account == "6100"
    logged_in.post(url, {"at": "2026-11-02 08:00:00"})  # naive: the site's time zone, before creation
    assert not CategoryMapping.objects.filter(pk=mapping.pk).exists()


def test_catalog_search_matches_prefix_then_contains_scoped_to_the_organisation(logged_in, org, books):
    from expensico_sync.core.services import organization_create
    from mappings.services import catalog_refresh
    catalog_refresh(connection=books, kinds=[CatalogKind.ACCOUNTS])
    RemoteCatalogItem.objects.create(connection=books, kind="accounts", remote_id="a-7000", name="Staff meals",
                                     code="7000", classification="EXPENSE", refreshed_at=timezone.now())
    other = make_connection(organization_create(slug="other", name="Other", base_currency="SAR", country="SA"),
                            system="fake-books", name="Theirs")
    RemoteCatalogItem.objects.create(connection=other, kind="accounts", remote_id="x-1", name="Meals elsewhere",
                                     code="6201", refreshed_at=timezone.now())
    url = reverse("admin:mappings_remotecatalogitem_search")
    found = logged_in.get(url, {"q": "meals", "kind": "accounts"}).json()["results"]
    # "Meals & Entertainment" starts with the words, "Staff meals" only contains them; no other organisation's.
    assert [r["id"] for r in found] == ["a-6200", "a-7000"]
    assert found[0] == {"id": "a-6200", "text": "6200 · Meals & Entertainment · EXPENSE", "code": "6200",
                        "name": "Meals & Entertainment", "type": "EXPENSE"}
    assert [r["id"] for r in logged_in.get(url, {"q": "62", "connection": books.pk}).json()["results"]] == ["a-6200"]
    assert logged_in.get(url, {"q": "meals", "connection": other.pk}).json()["results"] == []
    assert logged_in.get(url, {"q": "", "kind": "accounts"}).json()["results"][0]["id"] == "a-6100"
    assert logged_in.get(url, {"connection": "x"}).status_code == 400
    assert logged_in.get(url, {"connection": "²"}).status_code == 400     # isdigit() but not int()


def test_catalog_search_returns_at_most_twenty(logged_in, books):
    RemoteCatalogItem.objects.bulk_create([
        RemoteCatalogItem(connection=books, organization_id=books.organization_id, kind="accounts",
                          remote_id=f"r-{n}", name=f"Account {n}", code=f"{5000 + n}", refreshed_at=timezone.now())
        for n in range(60)])
    found = logged_in.get(reverse("admin:mappings_remotecatalogitem_search"), {"q": "account"}).json()["results"]
    assert len(found) == 20 and found[0]["code"] == "5000"


@pytest.mark.parametrize("language", ["en", "ar"])
def test_hold_rule_list_describes_every_condition(logged_in, connection, language):
    """The "holds when" column joins translated words: it once raised TypeError on a lazy string."""
    from mappings.models import HoldRule

    HoldRule.objects.create(connection=connection, name="Missing receipt", missing_receipt=True)
    HoldRule.objects.create(connection=connection, name="Big", amount_over="5000", currency="SAR",
                            categories=["ENT"], employees=["emp_1"], funding_source="card")
    response = logged_in.get(reverse("admin:mappings_holdrule_changelist"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    text = response.content.decode()
    if language == "en":
        assert "no receipt" in text and "amount over 5,000.00 SAR and category in ENT and 1 employee(s)" in text
    else:
        assert "بلا إيصال" in text and "المبلغ أكبر من 5,000.00 SAR" in text


def test_a_malformed_connection_on_an_add_page_preselects_nothing(logged_in, connection):
    response = logged_in.get(reverse("admin:mappings_categorymapping_add") + "?connection=abc")
    assert response.status_code == 200


def test_the_mapping_set_list_names_the_system(logged_in, connection):
    """The System column showed the registry key ("wafeq")."""
    page = logged_in.get(reverse("admin:mappings_mappingset_changelist")).content.decode()
    assert ">Wafeq<" in page and ">wafeq<" not in page
