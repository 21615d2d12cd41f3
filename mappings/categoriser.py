"""The learned categoriser, pure: expense documents in, an account and each dimension with a
calibrated probability out.

Character n-grams of merchant and description cope with spelling variants and Arabic; the
categorical fields (category, employee, currency, card, type, funding, custom fields, an amount
band) are tokens. A linear SVM (SGD) calibrated by cross-validation (sigmoid) gives probabilities that
can be thresholded: one for the account, and one per dimension key the history carries (cost
centre, project, …), sharing the same features. A dimension head also learns "left blank" (""),
so it only names a value where the history says one belongs. No database here:
`mappings.training` feeds it and stores the result.
"""

import io
import math
from dataclasses import dataclass, field

import joblib
import numpy as np
import sklearn
from scipy import sparse
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from .coding import FieldGuess, Prediction
from .merchants import normalise_merchant

MIN_EXAMPLES = 20


class TrainingError(Exception):
    """Not enough (or not varied enough) history to learn from."""


def _amount_band(amount) -> str:
    value = abs(float(amount))
    return f"b{int(math.log2(value + 1))}"


def features(doc) -> tuple[str, str]:
    """(free text, categorical tokens) of one ExpenseDocument."""
    merchant = normalise_merchant(doc.merchant)
    text = " | ".join(x for x in (merchant, doc.merchant or "", doc.description or "", doc.description_ar or "",
                                  doc.category_name or "") if x)
    tokens = [f"cat={doc.category_code}", f"emp={doc.employee_id}", f"cur={doc.currency}", f"type={doc.type}",
              f"fs={doc.funding_source}", f"amt={_amount_band(doc.amount)}", f"m={merchant.replace(' ', '_')}"]
    if doc.card_last4:
        tokens.append(f"card={doc.card_last4}")
    tokens += [f"cf_{k}={v}".replace(" ", "_") for k, v in doc.custom_fields]
    return text, " ".join(tokens)


def _text(rows):
    return [r[0] for r in rows]


def _tokens(rows):
    return [r[1] for r in rows]


def _pipeline(n_rows: int) -> Pipeline:
    vectors = FeatureUnion([
        ("text", Pipeline([("pick", FunctionTransformer(_text)),
                           ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2,
                                                     sublinear_tf=True, dtype=np.float32))])),
        ("tokens", Pipeline([("pick", FunctionTransformer(_tokens)),
                             ("tfidf", TfidfVectorizer(token_pattern=r"\S+", lowercase=False, dtype=np.float32))])),
    ])
    return Pipeline([("features", vectors), ("model", _calibrated(n_rows))])


def _calibrated(n_rows: int) -> CalibratedClassifierCV:
    """A linear SVM (hinge loss) fitted by stochastic gradient descent, calibrated by 3-fold
    cross-validation. SGD makes a fixed number of passes: about a million updates in all (ten
    passes at 100,000 expenses, more on a small history), where liblinear's exact solver took
    ~20 s of CPU per 20,000 expenses for the same top-1 (bench/categorise.py)."""
    passes = min(1000, max(10, 1_000_000 // max(n_rows, 1)))
    svm = SGDClassifier(loss="hinge", alpha=1e-4, max_iter=passes, tol=None, random_state=0)
    return CalibratedClassifierCV(svm, method="sigmoid", cv=3, ensemble=False)


def _fast(calibrated: CalibratedClassifierCV):
    """The calibrated linear model as four arrays (coef, intercept, a, b): one prediction is a
    sparse product and a sigmoid (well under 2 ms), where predict_proba spends ~10 ms validating a
    single row. Same numbers as predict_proba (sigmoid per class, then normalised), tested."""
    inner = calibrated.calibrated_classifiers_[0]
    svm = inner.estimator
    return (svm.coef_.T.astype(np.float64), svm.intercept_, np.array([c.a_ for c in inner.calibrators]),
            np.array([c.b_ for c in inner.calibrators]))


def _proba(fast, x) -> np.ndarray:
    coef, intercept, a, b = fast
    proba = expit(-(a * (x @ coef + intercept) + b))
    if proba.shape[1] == 1:             # two classes: the calibrator scores the second
        return np.hstack([1 - proba, proba])
    total = proba.sum(axis=1, keepdims=True)
    return np.divide(proba, total, out=np.full_like(proba, 1 / proba.shape[1]), where=total != 0)


def _best(classes, proba, *, blank: bool):
    """(value, probability) per row. For a dimension head ("" = the employee left it blank, which
    mixes "does not apply" with "forgot"): "" when blank is the likelier outcome; otherwise the
    likeliest value and its probability given that a value is filled, P(v) / (1 - P(blank))."""
    if not blank or "" not in classes:
        picked = proba.argmax(axis=1)
        return classes[picked], proba[np.arange(len(proba)), picked]
    column = list(classes).index("")
    p_blank = proba[:, column].copy()
    proba = proba.copy()
    proba[:, column] = -1
    picked = proba.argmax(axis=1)
    filled = 1 - p_blank
    p = np.divide(proba[np.arange(len(proba)), picked], filled, out=np.zeros_like(filled), where=filled > 0)
    empty = p_blank >= 0.5
    return (np.where(empty, "", classes[picked].astype(str)), np.where(empty, p_blank, np.minimum(p, 1.0)))


def dimension_labels(docs, key: str) -> list[str]:
    return [dict(d.dimensions).get(key, "") for d in docs]


@dataclass
class Categoriser:
    pipeline: Pipeline
    names: dict[str, str]          # account id -> name
    version: int = 0
    # dimension key -> calibrated classifier over the same features ("" = left blank)
    heads: dict[str, CalibratedClassifierCV] = field(default_factory=dict)

    def __post_init__(self):
        self._fast = {"": _fast(self.pipeline["model"])}
        self._fast.update({key: _fast(head) for key, head in self.heads.items()})

    def matrix(self, rows):
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            # Each vectoriser directly: FeatureUnion.transform dispatches through joblib per call.
            return sparse.hstack([part["tfidf"].transform(part["pick"].func(rows))
                                  for _, part in self.pipeline["features"].transformer_list]).tocsr()

    def probabilities(self, rows, key: str = ""):
        """Per class of the account ("") or of one dimension head, as predict_proba."""
        return _proba(self._fast[key], self.matrix(rows))

    def classes(self, key: str = ""):
        return (self.heads[key] if key else self.pipeline["model"]).classes_

    def predict_many(self, docs) -> list[Prediction]:
        if not docs:
            return []
        x = self.matrix([features(d) for d in docs])
        best: dict[str, tuple] = {}
        for key, fast in self._fast.items():
            best[key] = _best(self.classes(key), _proba(fast, x), blank=bool(key))
        out = []
        for n in range(len(docs)):
            values, p = best[""]
            guesses = tuple(FieldGuess(key, str(v[n]), float(round(q[n], 4)), self.version)
                            for key, (v, q) in sorted(best.items()) if key)
            out.append(Prediction(str(values[n]), self.names.get(str(values[n]), ""), float(round(p[n], 4)),
                                  self.version, dimensions=guesses))
        return out

    def predict(self, doc) -> Prediction | None:
        return self.predict_many([doc])[0]

    def dumps(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump({"pipeline": self.pipeline, "names": self.names, "heads": self.heads,
                     "sklearn": sklearn.__version__}, buffer, compress=3)
        return buffer.getvalue()

    @classmethod
    def loads(cls, blob: bytes, version: int) -> "Categoriser":
        data = joblib.load(io.BytesIO(bytes(blob)))
        if data["sklearn"] != sklearn.__version__:
            raise TrainingError(f"model trained with scikit-learn {data['sklearn']}; retrain it")
        return cls(data["pipeline"], data["names"], version, data.get("heads", {}))


def _learnable(labels) -> list[int]:
    """Indexes of examples whose label was seen at least 3 times: calibration splits each class
    three ways, so a rarer one cannot be learnt."""
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return [i for i, label in enumerate(labels) if counts[label] >= 3]


def fit(docs, labels, names: dict[str, str], version: int = 0, *, dimension_keys=None) -> Categoriser:
    """`dimension_keys`: which dimension heads to try (None: every key the documents carry). A head
    is trained only where the history has enough values to choose between."""
    if len(docs) < MIN_EXAMPLES:
        raise TrainingError(f"{len(docs)} coded expenses; at least {MIN_EXAMPLES} are needed")
    keep = _learnable(labels)
    if len({labels[i] for i in keep}) < 2:
        raise TrainingError("the history books to fewer than two accounts: nothing to choose between")
    rows = [features(d) for d in docs]
    pipeline = _pipeline(len(keep))
    x = pipeline["features"].fit_transform(rows).tocsr()
    pipeline["model"].fit(x[keep], [labels[i] for i in keep])
    if dimension_keys is None:
        dimension_keys = sorted({k for d in docs for k, _ in d.dimensions})
    heads = {}
    for key in dimension_keys:
        values = dimension_labels(docs, key)
        usable = _learnable(values)
        if sum(1 for i in usable if values[i]) < MIN_EXAMPLES or len({values[i] for i in usable}) < 2:
            continue
        heads[key] = _calibrated(len(usable)).fit(x[usable], [values[i] for i in usable])
    return Categoriser(pipeline, names, version, heads)


@dataclass(frozen=True)
class Evaluation:
    size: int
    accuracy: float
    coverage: float              # share at or above the threshold
    precision: float             # accuracy of those


def _scored(guesses: list[tuple[str, float]], labels, threshold: float | None) -> Evaluation:
    right = [g == label for (g, _), label in zip(guesses, labels, strict=True)]
    sure = [r for (_, p), r in zip(guesses, right, strict=True) if threshold is not None and p >= threshold]
    return Evaluation(len(labels), sum(right) / len(labels), len(sure) / len(labels),
                      (sum(sure) / len(sure)) if sure else 0.0)


def evaluate(model: Categoriser, docs, labels, threshold: float | None) -> Evaluation:
    if not docs:
        return Evaluation(0, 0.0, 0.0, 0.0)
    return _scored([(p.account, p.probability) for p in model.predict_many(docs)], labels, threshold)


def evaluate_dimensions(model: Categoriser, docs, threshold: float | None) -> dict[str, Evaluation]:
    """Per head, on the held-out documents that carry that dimension (what a person filled in):
    would the model have named the same value?"""
    out = {}
    predictions = model.predict_many(docs) if docs and model.heads else []
    for key in sorted(model.heads):
        rows = [(dict((g.key, g) for g in p.dimensions)[key], value)
                for p, value in zip(predictions, dimension_labels(docs, key), strict=True) if value]
        if rows:
            # Blank guesses are never applied: they count against top-1 but not as covered.
            out[key] = _scored([(g.value, g.probability if g.value else -1.0) for g, _ in rows],
                               [v for _, v in rows], threshold)
    return out
