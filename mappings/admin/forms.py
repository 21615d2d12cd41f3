"""Form pieces shared by the mapping admin screens."""

from django import forms
from django.utils.translation import gettext_lazy as _
from import_export.forms import ConfirmImportForm
from unfold.contrib.import_export.forms import ImportForm
from unfold.widgets import UnfoldAdminSelect2Widget, UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from connectors.models import Connection
from expensico_sync.core.selectors import organizations_with_capability


def writable_connections(user):
    qs = Connection.objects.select_related("organization")
    if user.is_superuser:
        return qs
    return qs.filter(organization__in=organizations_with_capability(user, "mappings.edit"))


class CatalogInput(UnfoldAdminTextInputWidget):
    """A text input offering the cached remote catalog as you type (<datalist>): search by code or name,
    and still accept an id the catalog does not list yet."""

    template_name = "mappings/admin/catalog_input.html"

    def __init__(self, items=(), attrs=None):
        super().__init__(attrs)
        self.items = list(items)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["datalist_id"] = f"catalog-{name}"
        context["widget"]["attrs"]["list"] = f"catalog-{name}"
        context["widget"]["items"] = self.items
        return context


class CatalogSelect(UnfoldAdminSelect2Widget):
    """The vendor's catalog as a searchable list (code, name, type): a person picks an account or a
    dimension value, never types its id. The list is searched on the server as they type
    (RemoteCatalogItemAdmin.search_view, 20 at a time); only the stored value is rendered with the page.
    Picking one fills the name field beside it (`name_field`). A stored value the catalog does not
    list (yet) stays selectable, marked as such."""

    def __init__(self, items=None, search_url: str = "", name_field: str = "", attrs=None):
        super().__init__(attrs)
        self.items = items          # a queryset of this kind's cached items: only the stored value is read
        self.search_url = search_url
        self.name_field = name_field

    def get_context(self, name, value, attrs):
        current = self.items.filter(remote_id=value).first() if value and self.items is not None else None
        self.choices = [("", "—")]
        if value and current is None:
            self.choices.append((value, _("%(value)s (not in the cached catalog)") % {"value": value}))
        elif current is not None:
            self.choices.append((current.remote_id, " · ".join(
                p for p in (current.code, current.name, current.classification) if p)))
        self._names = {current.remote_id: current.name} if current is not None else {}
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].update({"data-catalog-name-field": self.name_field,
                                           "data-ajax--url": self.search_url, "data-ajax--delay": "250",
                                           "data-ajax--cache": "true", "data-allow-clear": "true",
                                           "data-placeholder": _("Search by code, name or type")})
        return context

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        option["attrs"]["data-name"] = getattr(self, "_names", {}).get(value, "")
        return option

    class Media:
        js = ("mappings/catalog_select.js",)


class ConnectionImportForm(ImportForm):
    connection = forms.ModelChoiceField(queryset=Connection.objects.none(), widget=UnfoldAdminSelectWidget,
                                        help_text=_("The mapping set the rows go into"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["connection"].queryset = writable_connections(user)


class ConnectionConfirmImportForm(ConfirmImportForm):
    connection = forms.ModelChoiceField(queryset=Connection.objects.all(), widget=forms.HiddenInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["connection"].queryset = writable_connections(user)


class SetImportForm(forms.Form):
    file = forms.FileField(help_text=_("A template exported from any mapping set (CSV, XLSX or JSON)"))
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("xlsx", _("Excel (XLSX)")), ("json", "JSON")],
                               widget=UnfoldAdminSelectWidget)


class CloneForm(forms.Form):
    source = forms.ModelChoiceField(queryset=Connection.objects.none(), widget=UnfoldAdminSelectWidget,
                                    help_text=_("Copy every mapping of this connection into this one"))
    replace = forms.BooleanField(required=False, help_text=_("Also delete mappings the source does not have"))

    def __init__(self, *args, user=None, exclude_pk=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = writable_connections(user).exclude(pk=exclude_pk)


class MapGapForm(forms.Form):
    """A suggested account for a category gap, carried from the gaps table to its confirmation."""

    category_code = forms.CharField(max_length=100, widget=forms.HiddenInput)
    category_name = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    account = forms.CharField(max_length=200, widget=forms.HiddenInput)
    account_name = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
