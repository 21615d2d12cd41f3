"""The learned categoriser, pure: expense documents in, accounts with a calibrated probability out.

Character n-grams of merchant and description cope with spelling variants and Arabic; the
categorical fields (category, employee, currency, card, type, funding, custom fields, an amount
band) are tokens. A linear SVM calibrated by cross-validation (sigmoid) gives probabilities that
can be thresholded. No database here: `mappings.training` feeds it and stores the result.
"""

import io
import math
from dataclasses import dataclass

import joblib
import numpy as np
import sklearn
from scipy import sparse
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC

from .coding import Prediction
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


def _pipeline(n_labels: int) -> Pipeline:
    vectors = FeatureUnion([
        ("text", Pipeline([("pick", FunctionTransformer(_text)),
                           ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2,
                                                     sublinear_tf=True, dtype=np.float32))])),
        ("tokens", Pipeline([("pick", FunctionTransformer(_tokens)),
                             ("tfidf", TfidfVectorizer(token_pattern=r"\S+", lowercase=False, dtype=np.float32))])),
    ])
    return Pipeline([("features", vectors),
                     ("model", CalibratedClassifierCV(LinearSVC(C=0.5), method="sigmoid", cv=3, ensemble=False))])


@dataclass
class Categoriser:
    pipeline: Pipeline
    names: dict[str, str]          # account id -> name
    version: int = 0

    def __post_init__(self):
        # The calibrated linear model as four arrays: one prediction is a sparse product and a
        # sigmoid (well under 2 ms), where predict_proba spends ~10 ms validating a single row.
        # Same numbers as predict_proba (sigmoid per class, then normalised), tested.
        calibrated = self.pipeline["model"].calibrated_classifiers_[0]
        svm = calibrated.estimator
        self._linear = None
        if len(svm.classes_) > 2:
            self._linear = (svm.coef_.T.astype(np.float64), svm.intercept_,
                            np.array([c.a_ for c in calibrated.calibrators]),
                            np.array([c.b_ for c in calibrated.calibrators]))

    def probabilities(self, rows):
        if self._linear is None:
            return self.pipeline.predict_proba(rows)
        coef, intercept, a, b = self._linear
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            # Each vectoriser directly: FeatureUnion.transform dispatches through joblib per call.
            x = sparse.hstack([part["tfidf"].transform(part["pick"].func(rows))
                               for _, part in self.pipeline["features"].transformer_list]).tocsr()
        proba = expit(-(a * (x @ coef + intercept) + b))
        total = proba.sum(axis=1, keepdims=True)
        return np.divide(proba, total, out=np.full_like(proba, 1 / proba.shape[1]), where=total != 0)

    def predict_many(self, docs) -> list[Prediction]:
        if not docs:
            return []
        probabilities = self.probabilities([features(d) for d in docs])
        classes = self.pipeline.classes_
        best = probabilities.argmax(axis=1)
        return [Prediction(str(classes[i]), self.names.get(str(classes[i]), ""), float(round(p[i], 4)),
                           self.version) for i, p in zip(best, probabilities, strict=True)]

    def predict(self, doc) -> Prediction | None:
        return self.predict_many([doc])[0]

    def dumps(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump({"pipeline": self.pipeline, "names": self.names, "sklearn": sklearn.__version__}, buffer,
                    compress=3)
        return buffer.getvalue()

    @classmethod
    def loads(cls, blob: bytes, version: int) -> "Categoriser":
        data = joblib.load(io.BytesIO(bytes(blob)))
        if data["sklearn"] != sklearn.__version__:
            raise TrainingError(f"model trained with scikit-learn {data['sklearn']}; retrain it")
        return cls(data["pipeline"], data["names"], version)


def fit(docs, labels, names: dict[str, str], version: int = 0) -> Categoriser:
    if len(docs) < MIN_EXAMPLES:
        raise TrainingError(f"{len(docs)} coded expenses; at least {MIN_EXAMPLES} are needed")
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    # Calibration splits each account three ways: an account seen fewer than 3 times cannot be learnt.
    keep = [i for i, label in enumerate(labels) if counts[label] >= 3]
    if len({labels[i] for i in keep}) < 2:
        raise TrainingError("the history books to fewer than two accounts: nothing to choose between")
    pipeline = _pipeline(len(counts))
    pipeline.fit([features(docs[i]) for i in keep], [labels[i] for i in keep])
    return Categoriser(pipeline, names, version)


@dataclass(frozen=True)
class Evaluation:
    size: int
    accuracy: float
    coverage: float              # share at or above the threshold
    precision: float             # accuracy of those


def evaluate(model: Categoriser, docs, labels, threshold: float | None) -> Evaluation:
    if not docs:
        return Evaluation(0, 0.0, 0.0, 0.0)
    predictions = model.predict_many(docs)
    right = [p.account == label for p, label in zip(predictions, labels, strict=True)]
    sure = [r for p, r in zip(predictions, right, strict=True) if threshold is not None and p.probability >= threshold]
    return Evaluation(len(docs), sum(right) / len(docs), len(sure) / len(docs),
                      (sum(sure) / len(sure)) if sure else 0.0)
