"""Who coded an expense when the category mapping did not: a person's decision or the model's
prediction. Pure data, passed to `resolve` (a decision) or carried by the snapshot (a predictor)."""

from dataclasses import dataclass

from django.utils.translation import gettext_noop

from expensico_sync.core.texts import register, said

# Who coded it, in words a review item shows (the English is what `extra["coded_by"]` keeps).
TEXTS = register({"model_guess": gettext_noop("model v%(version)s, p=%(probability)s")})


@dataclass(frozen=True)
class Decision:
    """A reviewer accepted or corrected the coding of one expense: it wins over everything.
    `dimensions`: the (key, value) pairs they chose for dimensions the expense left blank."""

    account: str
    account_name: str = ""
    by: str = "a reviewer"
    dimensions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FieldGuess:
    """The model's value for one dimension key ("" = it should stay blank)."""

    key: str
    value: str
    probability: float
    model_version: int

    @property
    def label(self) -> str:
        return said("model_guess", version=self.model_version, probability=f"{self.probability:.2f}")


@dataclass(frozen=True)
class Prediction:
    account: str
    account_name: str
    probability: float
    model_version: int
    dimensions: tuple[FieldGuess, ...] = ()

    @property
    def label(self) -> str:
        return said("model_guess", version=self.model_version, probability=f"{self.probability:.2f}")
