from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from expensico_sync.core.models import Organization


class RetentionSettings(models.Model):
    """An organisation's retention periods (months per policy, the defaults otherwise) and its legal hold."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="retention", verbose_name=_("organisation"))
    months = models.JSONField(default=dict, blank=True,
                              help_text=_('Months to keep, per policy key, e.g. {"webhook.bodies": 3}.'), verbose_name=_("months"))
    legal_hold = models.BooleanField(default=False, help_text=_("While set, nothing of this organisation is "
                                                              "deleted or anonymised."), verbose_name=_("legal hold"))
    legal_hold_reason = models.TextField(blank=True, default="", verbose_name=_("legal hold reason"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = _("retention settings")

    def __str__(self) -> str:
        return f"Retention · {self.organization}"

    def clean(self):
        from .registry import _policies

        for key, value in (self.months or {}).items():
            if key not in _policies:
                raise ValidationError({"months": f"{key!r} is not a retention policy; known: {sorted(_policies)}"})
            if not isinstance(value, int) or value < 1:
                raise ValidationError({"months": f"{key}: months must be a whole number of at least 1"})
        if self.legal_hold and not self.legal_hold_reason.strip():
            raise ValidationError({"legal_hold_reason": "Say why the organisation is on legal hold."})

    def months_for(self, policy) -> int:
        return int((self.months or {}).get(policy.key, policy.default_months))
