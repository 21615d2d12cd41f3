"""The connection form's vendor settings: one form field per scalar setting of the system's
settings class (its help text included), so a person never has to know the raw JSON keys.
Lists and objects (learned catalogs, subledger maps) stay in the raw `settings` box."""

from dataclasses import fields
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from unfold import widgets

from .vendor_settings import VendorSettings, serializer_class, settings_validate

PREFIX = "setting__"
# Posted by the rendered form: without it (a scripted post of the model fields alone) the typed
# fields were not shown, so their absence must not reset anything (an absent checkbox reads False).
SHOWN = PREFIX + "_shown"
WORDS = {"oauth": "OAuth", "url": "URL", "ca": "CA", "gl": "GL", "id": "id", "lcy": _("local currency")}


def setting_label(key: str) -> str:
    """A setting's key as words: `rate_limit_per_second` → "Rate limit per second"."""
    words = [str(WORDS.get(w, w)) for w in key.split("_") if w]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]]) if words else key


def _form_field(drf: serializers.Field) -> forms.Field | None:
    common: dict[str, Any] = {"required": False, "help_text": drf.help_text or ""}
    if isinstance(drf, serializers.BooleanField):
        return forms.BooleanField(widget=widgets.UnfoldBooleanSwitchWidget, **common)
    if isinstance(drf, serializers.ChoiceField):
        return forms.ChoiceField(choices=[(k, k or "(automatic)") for k in drf.choices],
                                 widget=widgets.UnfoldAdminSelectWidget, **common)
    bounds: dict[str, Any] = {"min_value": getattr(drf, "min_value", None), "max_value": getattr(drf, "max_value", None)}
    if isinstance(drf, serializers.IntegerField):
        return forms.IntegerField(widget=widgets.UnfoldAdminIntegerFieldWidget, **bounds, **common)
    if isinstance(drf, serializers.DecimalField):
        return forms.DecimalField(widget=widgets.UnfoldAdminDecimalFieldWidget, decimal_places=drf.decimal_places,
                                  max_digits=drf.max_digits, **bounds, **common)
    if isinstance(drf, serializers.FloatField):
        return forms.FloatField(widget=widgets.UnfoldAdminDecimalFieldWidget, **bounds, **common)
    if isinstance(drf, serializers.CharField):
        return forms.CharField(widget=widgets.UnfoldAdminTextInputWidget, max_length=drf.max_length, **common)
    return None   # lists and objects: the raw JSON box


def settings_form_fields(settings_class: type[VendorSettings], current: VendorSettings) -> dict[str, forms.Field]:
    """`setting__<key>` → form field, initialised from the connection's typed settings."""
    drf_fields = serializer_class(settings_class)().fields
    own = settings_class.__dict__.get("__annotations__", {})
    out = {}
    # The vendor's own settings first, then the keys every connection has.
    for f in sorted(fields(settings_class), key=lambda f: f.name not in own):
        form_field = _form_field(drf_fields[f.name])
        if form_field is not None:
            form_field.label = setting_label(f.name)
            form_field.initial = getattr(current, f.name)
            out[PREFIX + f.name] = form_field
    if out:
        out[SHOWN] = forms.CharField(widget=forms.HiddenInput, initial="1", required=False)
    return out


def settings_from_form(*, system: str, form: forms.Form, stored: dict) -> dict:
    """The stored settings with the typed fields the person changed merged in (canonical values);
    unchanged fields are not written, so defaults stay defaults."""
    if not form.data.get(SHOWN):
        return stored
    changed = {name[len(PREFIX):]: form.cleaned_data[name] for name in form.changed_data
               if name.startswith(PREFIX) and name != SHOWN}
    changed = {key: ("" if value is None and _is_text(form.fields[PREFIX + key]) else value)
               for key, value in changed.items()}
    return settings_validate(system, changed, stored=stored) if changed else stored


def _is_text(field: forms.Field) -> bool:
    return isinstance(field, (forms.CharField, forms.ChoiceField))
