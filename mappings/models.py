"""The mapping set of one connection: how Expensico's vocabulary becomes the ledger's.

Every kind is per organisation *and* connection (a group may book into Wafeq and Xledger with
different charts), versioned with simple-history so a month-end change can be seen and undone.
`organization` is always the connection's: it is copied on save so scoping never disagrees.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from connectors.base import connector_class
from connectors.models import Connection
from expensico_sync.core.models import Organization

EXPENSE_TYPES = [("expense", _("Expense")), ("mileage", _("Mileage")), ("per_diem", _("Per diem")),
                 ("driver_honorarium", _("Driver honorarium"))]
FUNDING_SOURCES = [("reimbursable", _("Claim (reimbursable)")), ("card", _("Card"))]
# `category` is the expense's own category code, offered as a dimension so a ledger that tags
# lines by category (Workday's spend category worktag) maps it like any other dimension.
DIMENSION_KEYS = [("cost_center", _("Cost center")), ("project", _("Project")), ("department", _("Department")),
                  ("client_code", _("Client code")), ("region", _("Region")), ("category", _("Expense category"))]


class MappingBase(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", editable=False, verbose_name=_("organisation"))
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", verbose_name=_("connection"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    history = HistoricalRecords(inherit=True, excluded_fields=["updated_at"])

    # Template columns that identify a row inside one connection (import/export, clone, revert).
    NATURAL_KEY: tuple[str, ...] = ()
    KIND = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.organization_id = self.connection.organization_id
        super().save(*args, **kwargs)

    def natural_key(self) -> tuple:
        return tuple(getattr(self, f) for f in self.NATURAL_KEY)


class CategoryMapping(MappingBase):
    KIND = "category"
    NATURAL_KEY = ("category_code", "funding_source", "expense_type")

    category_code = models.CharField(max_length=100, help_text=_("Expensico category code"), verbose_name=_("category code"))
    category_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("category name"))
    funding_source = models.CharField(max_length=16, choices=FUNDING_SOURCES, blank=True, default="",
                                      help_text=_("Blank: any. Set to override for claims or cards only."), verbose_name=_("funding source"))
    expense_type = models.CharField(max_length=24, choices=EXPENSE_TYPES, blank=True, default="",
                                    help_text=_("Blank: any. Set to override for mileage, per diem …"), verbose_name=_("expense type"))
    account = models.CharField(max_length=200, help_text=_("Remote expense account id"), verbose_name=_("account"))
    account_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("account name"))

    class Meta:
        verbose_name = _("category mapping")
        verbose_name_plural = _("category mappings")
        ordering = ["category_code", "funding_source", "expense_type"]
        constraints = [models.UniqueConstraint(fields=["connection", "category_code", "funding_source", "expense_type"],
                                               name="categorymapping_unique")]

    def __str__(self):
        scope = " / ".join(x for x in (self.get_funding_source_display() if self.funding_source else "",
                                       self.get_expense_type_display() if self.expense_type else "") if x)
        return f"{self.category_code}{f' ({scope})' if scope else ''} → {self.account_name or self.account}"


class TaxMapping(MappingBase):
    KIND = "tax"
    NATURAL_KEY = ("tax_code",)

    class Treatment(models.TextChoices):
        AS_DOCUMENT = "as_document", _("As Expensico says")
        INCLUSIVE = "inclusive", _("Always inclusive")
        EXCLUSIVE = "exclusive", _("Always exclusive")

    tax_code = models.CharField(max_length=50, help_text=_("Expensico tax code, e.g. VAT15"), verbose_name=_("tax code"))
    tax_rate = models.CharField(max_length=200, blank=True, default="",
                                help_text=_("Remote tax rate id (blank: post without a tax rate)"), verbose_name=_("tax rate"))
    tax_rate_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("tax rate name"))
    treatment = models.CharField(max_length=16, choices=Treatment.choices, default=Treatment.AS_DOCUMENT, verbose_name=_("treatment"))
    separate_line = models.BooleanField(default=False, help_text=_("Book tax on its own line (needs a tax account)"), verbose_name=_("separate line"))
    tax_account = models.CharField(max_length=200, blank=True, default="", help_text=_("Remote account for a separate tax line"), verbose_name=_("tax account"))
    tax_account_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("tax account name"))

    class Meta:
        verbose_name = _("tax mapping")
        verbose_name_plural = _("tax mappings")
        ordering = ["tax_code"]
        constraints = [models.UniqueConstraint(fields=["connection", "tax_code"], name="taxmapping_unique")]

    def __str__(self):
        return f"{self.tax_code} → {self.tax_rate_name or self.tax_rate or 'no rate'}"

    def clean(self):
        if self.separate_line and not self.tax_account:
            raise ValidationError({"tax_account": "A separate tax line needs a tax account."})
        connector = connector_class(self.connection.system) if self.connection_id else None
        if self.tax_rate and not self.separate_line and connector and not connector.carries_line_tax:
            raise ValidationError({"separate_line": (
                f"{connector.label} cannot carry the tax code {self.tax_rate} with its tax amount on the expense "
                "line, so the tax would be booked as expense: book the tax on a separate line and choose its tax "
                "account.")})


class CurrencyPolicy(MappingBase):
    KIND = "currency"
    NATURAL_KEY: tuple[str, ...] = ()  # one policy per connection

    class RateSource(models.TextChoices):
        EXPENSICO = "expensico", _("Expensico's rate")
        TABLE = "table", _("Our rate table (effective dates)")
        TARGET = "target", _("The accounting system's own rate")

    rate_source = models.CharField(max_length=16, choices=RateSource.choices, default=RateSource.EXPENSICO, verbose_name=_("rate source"))
    fx_account = models.CharField(max_length=200, blank=True, default="", help_text=_("Remote exchange gain/loss account"), verbose_name=_("FX account"))
    fx_account_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("FX account name"))

    class Meta:
        verbose_name = _("currency policy")
        verbose_name_plural = _("currency policies")
        verbose_name_plural = _("currency policies")
        constraints = [models.UniqueConstraint(fields=["connection"], name="currencypolicy_unique")]

    def __str__(self):
        return f"{self.connection}: {self.get_rate_source_display()}"


class ExchangeRate(MappingBase):
    KIND = "rate"
    NATURAL_KEY = ("currency", "effective_from")

    currency = models.CharField(max_length=3, help_text=_("From this currency to the organisation's base currency"), verbose_name=_("currency"))
    effective_from = models.DateField(verbose_name=_("effective from"))
    rate = models.DecimalField(max_digits=18, decimal_places=8, verbose_name=_("rate"))

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["connection", "currency", "effective_from"],
                                               name="exchangerate_unique")]

    def __str__(self):
        return f"{self.currency} {self.rate} from {self.effective_from}"

    def clean(self):
        if self.rate is not None and self.rate <= 0:
            raise ValidationError({"rate": "A rate is positive."})


class DimensionMapping(MappingBase):
    KIND = "dimension"
    NATURAL_KEY = ("dimension_key", "value")

    dimension_key = models.CharField(max_length=24, choices=DIMENSION_KEYS, verbose_name=_("dimension key"))
    value = models.CharField(max_length=100, help_text=_("Expensico code, e.g. CC-100"), verbose_name=_("value"))
    remote_kind = models.CharField(max_length=100, blank=True, default="",
                                   help_text=_("cost_center, project, branch, spend_category, dimension:DEPARTMENT, "
                                             "gl_object:1, worktag:Cost_Center_Reference_ID …"), verbose_name=_("remote kind"))
    remote_id = models.CharField(max_length=200, blank=True, default="", help_text=_("Blank: don't send this value"), verbose_name=_("remote ID"))
    remote_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("remote name"))

    class Meta:
        verbose_name = _("dimension mapping")
        verbose_name_plural = _("dimension mappings")
        ordering = ["dimension_key", "value"]
        constraints = [models.UniqueConstraint(fields=["connection", "dimension_key", "value"],
                                               name="dimensionmapping_unique")]

    def __str__(self):
        return f"{self.dimension_key}={self.value} → {self.remote_name or self.remote_id or 'not sent'}"

    def save(self, *args, **kwargs):
        if self.remote_id and not self.remote_kind:
            # A value picked from the catalog: the connector's catalog says which kind of dimension
            # it is (BC `dimension:DEPARTMENT`, Workday `worktag:…`), so the kind is never guessed.
            item = (RemoteCatalogItem.objects.filter(connection_id=self.connection_id, kind="dimensions",
                                                     remote_id=self.remote_id)
                    .values("classification", "name").first())
            if item:
                self.remote_kind = item["classification"]
                self.remote_name = self.remote_name or item["name"]
        super().save(*args, **kwargs)


class MerchantRule(MappingBase):
    KIND = "merchant"
    NATURAL_KEY = ("merchant",)

    merchant = models.CharField(max_length=200, help_text=_("Normalised merchant name (CAREEM*RIDE 1234 → careem)"), verbose_name=_("merchant"))
    contact = models.CharField(max_length=200, blank=True, default="", help_text=_("Remote contact/vendor id"), verbose_name=_("contact"))
    contact_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("contact name"))
    category_code = models.CharField(max_length=100, blank=True, default="",
                                     help_text=_("Book this merchant's spend to this category's account when the "
                                               "expense's own category is not mapped"), verbose_name=_("category code"))

    class Meta:
        verbose_name = _("merchant rule")
        verbose_name_plural = _("merchant rules")
        ordering = ["merchant"]
        constraints = [models.UniqueConstraint(fields=["connection", "merchant"], name="merchantrule_unique")]

    def __str__(self):
        return f"{self.merchant} → {self.contact_name or self.contact or '-'}"

    def save(self, *args, **kwargs):
        from .merchants import normalise_merchant

        self.merchant = normalise_merchant(self.merchant)
        super().save(*args, **kwargs)


class HoldRule(MappingBase):
    KIND = "hold"
    NATURAL_KEY = ("name",)

    name = models.CharField(max_length=120, verbose_name=_("name"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    amount_over = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True, verbose_name=_("amount over"))
    currency = models.CharField(max_length=3, blank=True, default="", help_text=_("Blank: any currency"), verbose_name=_("currency"))
    missing_receipt = models.BooleanField(default=False, verbose_name=_("missing receipt"))
    categories = models.JSONField(default=list, blank=True, help_text=_('Expensico category codes, e.g. ["ENT"]'), verbose_name=_("categories"))
    employees = models.JSONField(default=list, blank=True, help_text=_("Expensico employee ids"), verbose_name=_("employees"))
    funding_source = models.CharField(max_length=16, choices=FUNDING_SOURCES, blank=True, default="", verbose_name=_("funding source"))

    class Meta:
        verbose_name = _("hold rule")
        verbose_name_plural = _("hold rules")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["connection", "name"], name="holdrule_unique")]

    def __str__(self):
        return self.name

    def clean(self):
        for name in ("categories", "employees"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValidationError({name: "A list of strings."})
        if not any((self.amount_over is not None, self.missing_receipt, self.categories, self.employees,
                    self.funding_source)):
            raise ValidationError("A hold rule needs at least one condition.")


def _string_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _string_map(value) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


class CodingRule(MappingBase):
    """An ordered coding rule: when every condition set matches an expense, its actions code it.

    The first active rule (lowest position) that matches wins; it decides before the category
    mapping. Conditions left blank match anything."""

    KIND = "rule"
    NATURAL_KEY = ("name",)

    class MerchantMatch(models.TextChoices):
        EXACT = "exact", _("Is (normalised)")
        CONTAINS = "contains", _("Contains (normalised)")
        REGEX = "regex", _("Matches regular expression")

    name = models.CharField(max_length=120, verbose_name=_("name"))
    position = models.PositiveIntegerField(default=0, help_text=_("Lower runs first; the first match wins"), verbose_name=_("position"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    # conditions
    merchant_match = models.CharField(max_length=10, choices=MerchantMatch.choices, default=MerchantMatch.EXACT, verbose_name=_("merchant match"))
    merchant = models.CharField(max_length=300, blank=True, default="", help_text=_("Blank: any merchant"), verbose_name=_("merchant"))
    employees = models.JSONField(default=list, blank=True, help_text=_("Expensico employee ids"), verbose_name=_("employees"))
    cards = models.JSONField(default=list, blank=True, help_text=_('Card last four digits, e.g. ["4242"]'), verbose_name=_("cards"))
    categories = models.JSONField(default=list, blank=True, help_text=_('Expensico category codes, e.g. ["TRAVEL"]'), verbose_name=_("categories"))
    expense_types = models.JSONField(default=list, blank=True, help_text=_('e.g. ["mileage", "per_diem"]'), verbose_name=_("expense types"))
    funding_source = models.CharField(max_length=16, choices=FUNDING_SOURCES, blank=True, default="", verbose_name=_("funding source"))
    amount_min = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True,
                                     help_text=_("At least this (absolute amount)"), verbose_name=_("minimum amount"))
    amount_max = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True,
                                     help_text=_("At most this (absolute amount)"), verbose_name=_("maximum amount"))
    currency = models.CharField(max_length=3, blank=True, default="", help_text=_("Blank: any currency"), verbose_name=_("currency"))
    custom_fields = models.JSONField(default=dict, blank=True, help_text=_('Custom field values, e.g. {"trip": "T-9"}'), verbose_name=_("custom fields"))
    dimensions = models.JSONField(default=dict, blank=True, help_text=_('Dimension values, e.g. {"project": "P-1"}'), verbose_name=_("dimensions"))
    # actions
    account = models.CharField(max_length=200, blank=True, default="", help_text=_("Remote expense account id"), verbose_name=_("account"))
    account_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("account name"))
    tax_code = models.CharField(max_length=50, blank=True, default="",
                                help_text=_("Book with this tax mapping instead of the expense's own tax code"), verbose_name=_("tax code"))
    set_dimensions = models.JSONField(default=dict, blank=True,
                                      help_text=_('Dimension values to book with, e.g. {"cost_center": "CC-2"}'), verbose_name=_("set dimensions"))
    contact = models.CharField(max_length=200, blank=True, default="", help_text=_("Remote contact/vendor id"), verbose_name=_("contact"))
    contact_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("contact name"))
    hold = models.BooleanField(default=False, help_text=_("Stop matching expenses for review"), verbose_name=_("hold"))
    hold_reason = models.CharField(max_length=200, blank=True, default="", verbose_name=_("hold reason"))
    skip = models.BooleanField(default=False, help_text=_("Never export matching expenses"), verbose_name=_("skip"))

    CONDITIONS = ("merchant", "employees", "cards", "categories", "expense_types", "funding_source", "amount_min",
                  "amount_max", "currency", "custom_fields", "dimensions")
    ACTIONS = ("account", "tax_code", "set_dimensions", "contact", "hold", "skip")

    class Meta:
        verbose_name = _("coding rule")
        verbose_name_plural = _("coding rules")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["connection", "name"], name="codingrule_unique")]

    def __str__(self):
        return f"#{self.pk or '-'} {self.name}"

    def clean(self):
        import re

        errors = {}
        for name in ("employees", "cards", "categories", "expense_types"):
            if not _string_list(getattr(self, name)):
                errors[name] = "A list of strings."
        for name in ("custom_fields", "dimensions", "set_dimensions"):
            if not _string_map(getattr(self, name)):
                errors[name] = 'An object of strings, e.g. {"project": "P-1"}.'
        if self.merchant_match == self.MerchantMatch.REGEX and self.merchant:
            try:
                re.compile(self.merchant)
            except re.error as exc:
                errors["merchant"] = f"Not a regular expression: {exc}."
        if self.amount_min is not None and self.amount_max is not None and self.amount_min > self.amount_max:
            errors["amount_max"] = "At least the minimum amount."
        if self.hold and self.skip:
            errors["skip"] = "A rule holds or skips, not both."
        if self.hold and not self.hold_reason.strip():
            errors["hold_reason"] = "Say why matching expenses are held."
        if errors:
            raise ValidationError(errors)
        if not any(getattr(self, f) not in (None, "", [], {}) for f in self.CONDITIONS):
            raise ValidationError("A rule needs at least one condition.")
        if not any(getattr(self, f) not in (None, "", [], {}, False) for f in self.ACTIONS):
            raise ValidationError("A rule needs at least one action.")


MAPPING_MODELS: tuple[type[MappingBase], ...] = (CategoryMapping, TaxMapping, CurrencyPolicy, ExchangeRate,
                                                  DimensionMapping, MerchantRule, HoldRule, CodingRule)
MODEL_BY_KIND = {m.KIND: m for m in MAPPING_MODELS}


class RemoteCatalogItem(models.Model):
    """The connector's catalog, cached so the mapping screen is fast and works offline."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", editable=False, verbose_name=_("organisation"))
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", verbose_name=_("connection"))
    kind = models.CharField(max_length=24, verbose_name=_("kind"))  # connectors.base.CatalogKind
    remote_id = models.CharField(max_length=200, verbose_name=_("remote ID"))
    name = models.CharField(max_length=300, verbose_name=_("name"))
    code = models.CharField(max_length=100, blank=True, default="", verbose_name=_("code"))
    classification = models.CharField(max_length=100, blank=True, default="", verbose_name=_("classification"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    refreshed_at = models.DateTimeField(verbose_name=_("refreshed at"))

    class Meta:
        verbose_name = _("remote catalog item")
        verbose_name_plural = _("remote catalog items")
        ordering = ["kind", "code", "name"]
        constraints = [models.UniqueConstraint(fields=["connection", "kind", "remote_id"], name="catalogitem_unique")]

    def __str__(self):
        return f"{self.code} {self.name}".strip()

    def save(self, *args, **kwargs):
        self.organization_id = self.connection.organization_id
        super().save(*args, **kwargs)


class MappingPreference(models.Model):
    """Per-organisation choices about suggestions."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="mapping_preference", verbose_name=_("organisation"))
    auto_apply_threshold = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text=_("Apply a suggested account without a person when its score (0–100) reaches this. "
                  "Blank: never; a person always confirms."), verbose_name=_("auto-apply threshold"))
    model_auto_apply = models.FloatField(
        null=True, blank=True,
        help_text=_("Let the learned categoriser code an expense alone when its probability (0–1) reaches this. "
                  "Blank: never; below it a reviewer gets a suggestion."), verbose_name=_("model auto-apply at"))
    model_disagree_at = models.FloatField(
        null=True, blank=True,
        help_text=_("When the learned categoriser is at least this sure (0–1) of another account than the category "
                  "mapping's, a reviewer chooses between them (a suggested coding). Blank: the mapping always wins."), verbose_name=_("model disagree at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("mapping preference")
        verbose_name_plural = _("mapping preferences")

    def __str__(self):
        return f"Mapping preferences of {self.organization}"


class CategoriserModel(models.Model):
    """One trained categoriser of one connection. The fitted pipeline is stored here, in the
    database, as joblib bytes: every worker on every machine reads the same promoted model, a
    version row and its model commit together, and backups carry them. Loading is restricted to
    rows this service wrote (never uploaded), and `sklearn_version` refuses a model from another
    release (retrain instead)."""

    class Status(models.TextChoices):
        PROMOTED = "promoted", _("In use")
        CANDIDATE = "candidate", _("Trained, not promoted")
        RETIRED = "retired", _("Replaced")
        REJECTED = "rejected", _("Less accurate than the model in use")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", editable=False, verbose_name=_("organisation"))
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", verbose_name=_("connection"))
    version = models.PositiveIntegerField(verbose_name=_("version"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CANDIDATE, verbose_name=_("status"))
    trained_at = models.DateTimeField(verbose_name=_("trained at"))
    training_size = models.PositiveIntegerField(verbose_name=_("training size"))
    heldout_size = models.PositiveIntegerField(default=0, verbose_name=_("held-out size"))
    heldout_accuracy = models.FloatField(help_text=_("Top-1 accuracy on the held-out (latest) expenses"), verbose_name=_("held-out accuracy"))
    heldout_ids = models.JSONField(default=list, blank=True,
                                   help_text=_("Source ids of the held-out expenses, so the next model is compared on them"), verbose_name=_("held-out IDs"))
    coverage = models.FloatField(default=0, help_text=_("Share of held-out expenses at or above the auto-apply threshold"), verbose_name=_("coverage"))
    precision_at_threshold = models.FloatField(default=0, verbose_name=_("precision at threshold"))
    heads = models.JSONField(default=dict, blank=True, verbose_name=_("heads"), help_text=_(
        "Per dimension key the model predicts: held-out size, accuracy, coverage and precision at the "
        "auto-apply threshold, on the held-out expenses that carry that dimension"))
    sklearn_version = models.CharField(max_length=20, verbose_name=_("scikit-learn version"))
    blob = models.BinaryField(editable=False, verbose_name=_("model file"))
    note = models.CharField(max_length=300, blank=True, default="", verbose_name=_("note"))

    class Meta:
        verbose_name = _("categoriser model")
        verbose_name_plural = _("categoriser models")
        ordering = ["connection", "-version"]
        constraints = [models.UniqueConstraint(fields=["connection", "version"], name="categoriser_version_unique"),
                       models.UniqueConstraint(fields=["connection"], condition=models.Q(status="promoted"),
                                               name="categoriser_one_promoted")]

    def __str__(self):
        return f"v{self.version} ({self.get_status_display()}, {self.heldout_accuracy:.1%})"

    def save(self, *args, **kwargs):
        self.organization_id = self.connection.organization_id
        super().save(*args, **kwargs)


class CodingCorrection(models.Model):
    """A reviewer's accept or correction of one expense's coding: it codes that expense and feeds
    the next training."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", editable=False, verbose_name=_("organisation"))
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+", verbose_name=_("connection"))
    source_id = models.CharField(max_length=120, db_index=True, help_text=_("Expensico expense id"), verbose_name=_("source ID"))
    account = models.CharField(max_length=200, verbose_name=_("account"))
    account_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("account name"))
    predicted_account = models.CharField(max_length=200, blank=True, default="", verbose_name=_("predicted account"))
    predicted_probability = models.FloatField(null=True, blank=True, verbose_name=_("predicted probability"))
    model_version = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("model version"))
    accepted = models.BooleanField(help_text=_("The reviewer kept the model's suggestion"), verbose_name=_("accepted"))
    dimensions = models.JSONField(default=dict, blank=True, verbose_name=_("dimensions"),
                                  help_text=_("Dimension values the reviewer chose for keys the expense left blank"))
    predicted_dimensions = models.JSONField(default=dict, blank=True, verbose_name=_("predicted dimensions"),
                                            help_text=_("What the model proposed per dimension: value and probability"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by"))
    by_label = models.CharField(max_length=150, blank=True, default="", verbose_name=_("by (name shown)"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("coding correction")
        verbose_name_plural = _("coding corrections")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.source_id} → {self.account_name or self.account}"

    def save(self, *args, **kwargs):
        self.organization_id = self.connection.organization_id
        super().save(*args, **kwargs)


class MappingSet(Connection):
    """A connection seen as its mapping set: the screen for history, rollback, templates and gaps."""

    class Meta:
        proxy = True
        verbose_name = _("mapping set")


class AllowanceRate(models.Model):
    """The organisation's own mileage (per km) or per-diem (per day) rate from a date: expenses of
    that type are recomputed from their details and a difference from Expensico's amount is flagged."""

    class Kind(models.TextChoices):
        MILEAGE = "mileage", _("Mileage (per km)")
        PER_DIEM = "per_diem", _("Per diem (per day)")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="allowance_rates", verbose_name=_("organisation"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    rate = models.DecimalField(max_digits=12, decimal_places=4, verbose_name=_("rate"))
    destination = models.CharField(max_length=120, blank=True, default="",
                                   help_text=_("Per diem only; blank: every destination without its own rate"), verbose_name=_("destination"))
    effective_from = models.DateField(verbose_name=_("effective from"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("allowance rate")
        verbose_name_plural = _("allowance rates")
        ordering = ["organization", "kind", "currency", "destination", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["organization", "kind", "currency", "destination",
                                                       "effective_from"], name="allowance_rate_unique"),
                       models.CheckConstraint(condition=models.Q(rate__gt=0), name="allowance_rate_positive")]

    def __str__(self):
        where = f" ({self.destination})" if self.destination else ""
        return f"{self.get_kind_display()}{where}: {self.rate} {self.currency} from {self.effective_from}"
