"""The review item's forms: the page's "Work" box and the dialogs of its actions."""

from django import forms
from django.utils.translation import gettext_lazy as _
from unfold.forms import BaseDialogForm
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextareaWidget, UnfoldAdminTextInputWidget

from .models import ReviewItem


class ReasonForm(BaseDialogForm):
    reason = forms.CharField(label=_("Reason"), widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
                             help_text=_("Kept with the decision and in the evidence pack."))


class BookedManuallyForm(BaseDialogForm):
    external_reference = forms.CharField(label=_("Reference in the accounting system"), max_length=200,
                                         widget=UnfoldAdminTextInputWidget)
    note = forms.CharField(label=_("Note"), required=False, widget=UnfoldAdminTextareaWidget(attrs={"rows": 2}))


class ReviewResolveForm(forms.ModelForm):
    # Unfold's widgets: Django's plain ones rendered a borderless input and select, invisible on the page.
    resolve_as = forms.ChoiceField(
        label=_("Resolve as"), widget=UnfoldAdminSelectWidget,
        required=False, choices=[("", _("— leave open —")), *[c for c in ReviewItem.Resolution.choices
                                                              if c[0] != ReviewItem.Resolution.RELEASED]],
        help_text=_("Booked manually needs the external reference; skipped needs a reason (note). A hold is "
                    "released with “Approve and export”."))
    correct_account = forms.CharField(label=_("Correct account"), required=False, max_length=200,
                                      widget=UnfoldAdminTextInputWidget, help_text=_("Suggested coding: the right account id (blank: keep the "
                                                  "suggestion)"))
    correct_account_name = forms.CharField(label=_("Correct account name"), required=False, max_length=200,
                                           widget=UnfoldAdminTextInputWidget)

    class Meta:
        model = ReviewItem
        fields = ("owner", "resolution_note", "manual_external_reference")
        labels = {"owner": _("Owner"), "resolution_note": _("Note"),
                  "manual_external_reference": _("Reference in the accounting system")}

    def clean(self):
        data = super().clean()
        how = data.get("resolve_as")
        if how == ReviewItem.Resolution.BOOKED_MANUALLY and not data.get("manual_external_reference"):
            self.add_error("manual_external_reference", _("Give the reference it was booked under."))
        if how == ReviewItem.Resolution.SKIPPED and not (data.get("resolution_note") or "").strip():
            self.add_error("resolution_note", _("Say why it is skipped."))
        if how and self.instance.pk and self.instance.is_warning != (how == ReviewItem.Resolution.ACKNOWLEDGED):
            self.add_error(None, _("A vendor warning on a booked record is acknowledged; the other resolutions are "
                                   "for records waiting in review.") if self.instance.is_warning else
                           _("Only a vendor warning on a booked record can be acknowledged."))
        return data
