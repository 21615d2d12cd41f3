"""Organisation scoping for every admin class in the project.

Subclass `OrgScopedAdmin` (or mix `OrgScopedAdminMixin` into an Unfold ModelAdmin), set
`org_path` to the lookup from the model to its Organization and `capability` to the matrix entry
that allows writes. Querysets, object permissions, foreign-key choices and the organisation
filter then follow the user's memberships. Superusers see everything.
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.widgets import UnfoldAdminPasswordWidget

from ..fields import EncryptedTextField
from ..models import Organization
from ..selectors import Access, organization_ids_for, organizations_for, organizations_with_capability
from . import rows
from .paging import EstimatedCountPaginator


def access_of(request) -> Access:
    """The user's memberships, read once per request: the sidebar, the app list and every
    permission check of every model admin ask, and each used to cost its own query."""
    access = getattr(request, "_expensico_access", None)
    if access is None or access.user_id != request.user.pk:
        access = Access.of(request.user)
        request._expensico_access = access
    return access


def scope_queryset(qs, user, org_path: str | None, access: Access | None = None):
    if user.is_superuser:
        return qs
    ids = list((access or Access.of(user)).org_ids)
    if org_path is None:
        return qs.filter(pk__in=ids)
    return qs.filter(**{f"{org_path}__in": ids})


class OrganizationFilter(admin.SimpleListFilter):
    title = _("organisation")
    parameter_name = "org"

    def lookups(self, request, model_admin):
        return [(o.pk, o.name) for o in organizations_for(request.user)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(**{self._lookup: self.value()})


def organization_filter(org_path: str | None):
    """A list filter limited to the organisations the user can see."""
    lookup = "pk" if org_path is None else org_path

    class _Filter(OrganizationFilter):
        _lookup = lookup

    return _Filter


class SecretFieldsAdminMixin:
    """Encrypted fields are write-only: never rendered, and blank on save means keep."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, EncryptedTextField):
            return forms.CharField(
                required=False,
                label=capfirst(db_field.verbose_name),
                widget=UnfoldAdminPasswordWidget(render_value=False),
                help_text=_("Write-only. Leave blank to keep the current value."),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change and obj.pk:
            secret_names = [f.name for f in obj._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            blanks = [n for n in secret_names if n in form.cleaned_data and not form.cleaned_data[n]]
            if blanks:
                stored = type(obj)._default_manager.get(pk=obj.pk)
                for name in blanks:
                    setattr(obj, name, getattr(stored, name))
        super().save_model(request, obj, form, change)


class OrgScopedAdminMixin(SecretFieldsAdminMixin):
    org_path: str | None = "organization"
    capability: str = "organization.manage"

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request.user, self.org_path, access_of(request))

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if len(access_of(request).org_ids) > 1 or request.user.is_superuser:
            filters.insert(0, organization_filter(self.org_path))
        return filters

    # Permissions: reading needs membership; writing needs the admin's capability.
    def _is_member(self, request) -> bool:
        user = request.user
        return user.is_active and user.is_staff and (user.is_superuser or bool(access_of(request).org_ids))

    def _object_org_id(self, obj):
        if isinstance(obj, str | int):  # Unfold's detail actions pass the object id: one column, no row
            return self.model._default_manager.filter(pk=obj).values_list(
                f"{self.org_path}_id" if self.org_path else "pk", flat=True).first()
        if obj is None:
            return None
        if self.org_path is None:
            return obj.pk
        *hops, last = self.org_path.split("__")
        target = obj
        for part in hops:
            target = getattr(target, part)
            if target is None:
                return None
        # The foreign key's column, not the organisation's row (a query per permission check).
        return getattr(target, f"{last}_id") if hasattr(target, f"{last}_id") else getattr(getattr(target, last), "pk", None)

    def _can(self, request, obj=None) -> bool:
        user = request.user
        if not self._is_member(request):
            return False
        if user.is_superuser:
            return True
        orgs = access_of(request).org_ids_with(self.capability)
        org_id = self._object_org_id(obj)
        return org_id in orgs if org_id is not None else bool(orgs)

    def has_module_permission(self, request):
        return self._is_member(request)

    def has_view_permission(self, request, obj=None):
        if not self._is_member(request):
            return False
        if obj is None or request.user.is_superuser:
            return True
        return self._object_org_id(obj) in access_of(request).org_ids

    def has_add_permission(self, request, *args):
        return self._can(request)

    def has_change_permission(self, request, obj=None):
        return self._can(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._can(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs["queryset"] = scoped_choices(db_field.related_model, request.user, self.capability)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs["queryset"] = scoped_choices(db_field.related_model, request.user, self.capability)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def scoped_choices(model, user, capability: str):
    """Choices for a relation: only rows of organisations the user may write to."""
    qs = model._default_manager.all()
    if user.is_superuser:
        return qs
    if model is Organization:
        return organizations_with_capability(user, capability)
    if model is get_user_model():
        return qs.filter(memberships__organization__in=organization_ids_for(user)).distinct()
    if any(f.name == "organization" for f in model._meta.concrete_fields):
        return qs.filter(organization__in=organizations_with_capability(user, capability))
    org_path = getattr(model, "ORG_PATH", None)
    if org_path:
        return qs.filter(**{f"{org_path}__in": organizations_with_capability(user, capability)})
    return qs


class OrgScopedAdmin(OrgScopedAdminMixin, ModelAdmin):
    """The default base for project admin classes."""

    list_per_page = 50
    paginator = EstimatedCountPaginator
    show_full_result_count = False  # a second COUNT(*) over the whole table on every filtered page
    action_checkbox = rows.action_checkbox
    warn_unsaved_form = True
