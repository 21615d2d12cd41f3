"""Permission names in the reader's language on the group and user pages.

Django writes them once, in English, into auth_permission ("Can add export record"); the rows stay
as they are. The choices of the permissions fields are named afresh when a page is rendered: the
model's app and verbose name, and for Django's four default permissions the action, all in the
active language; a permission of some other name shows that name's translation when one exists."""

from django import forms
from django.utils.translation import gettext, gettext_noop

DEFAULT_ACTIONS = {"add": gettext_noop("Can add %(model)s"), "change": gettext_noop("Can change %(model)s"),
                   "delete": gettext_noop("Can delete %(model)s"), "view": gettext_noop("Can view %(model)s")}


def _model_name(model) -> str:
    """The model's verbose name; simple-history's "historical <name>" (not translatable there) made so."""
    if instance_type := getattr(model, "instance_type", None):
        return gettext("historical %(model)s") % {"model": instance_type._meta.verbose_name}
    return str(model._meta.verbose_name)


def permission_label(permission) -> str:
    """"<app> | <model> | <what it allows>", as Django's own `str(permission)` reads, translated."""
    model = permission.content_type.model_class()
    if model is None:  # a model no longer installed: what the row says
        return str(permission)
    action, _, model_name = permission.codename.partition("_")
    if action in DEFAULT_ACTIONS and model_name == model._meta.model_name:
        name = gettext(DEFAULT_ACTIONS[action]) % {"model": _model_name(model)}
    else:
        name = gettext(permission.name)
    return f"{model._meta.app_config.verbose_name} | {_model_name(model)} | {name}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return permission_label(obj)


class TranslatedPermissions:
    """Mixed into the group and user admins: their permissions fields name each choice translated."""

    permission_fields = ("permissions", "user_permissions")

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name in self.permission_fields:
            kwargs["form_class"] = PermissionChoiceField
            kwargs["queryset"] = kwargs.get("queryset", db_field.remote_field.model.objects).select_related(
                "content_type")
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)  # type: ignore[misc]
