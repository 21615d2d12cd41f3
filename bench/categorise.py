"""Learned categoriser bench: time-split train/test on simulated, noisy coded expenses.

    python bench/categorise.py [--rows 100000] [--threshold 0.9]

Prints top-1 accuracy of the model against two baselines in the same run (the name-similarity
suggestion between category and account names; always the category mapping), and the model's
coverage and precision at the auto-apply threshold, training time and prediction time. The
dimension heads (cost centre, project) are scored on the test expenses that carry the dimension.
Times are wall clock and this process's CPU seconds (the CPU figure holds on a loaded machine;
training is single-threaded). The load average is printed with them.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expensico_sync.settings")

import django  # noqa: E402

django.setup()

from bench.categorise_data import ACCOUNTS, CATEGORY_MAPPING, generate  # noqa: E402
from mappings.categoriser import evaluate, evaluate_dimensions, fit  # noqa: E402
from mappings.suggest import name_scores  # noqa: E402


def name_similarity_baseline(docs) -> list[str]:
    ids, labels = list(ACCOUNTS), list(ACCOUNTS.values())
    out, cache = [], {}
    for doc in docs:
        if doc.category_name not in cache:
            scores = name_scores(doc.category_name, labels)
            cache[doc.category_name] = ids[max(scores, key=scores.get)]
        out.append(cache[doc.category_name])
    return out


def run(rows: int, threshold: float, seed: int = 7) -> dict:
    data = generate(rows, seed=seed)
    cut = int(len(data) * 0.8)                 # time split: the last 20 % (by date) is the test
    train, test = data[:cut], data[cut:]
    docs, labels = [d for d, _ in test], [a for _, a in test]
    started, cpu = time.perf_counter(), time.process_time()
    model = fit([d for d, _ in train], [a for _, a in train], ACCOUNTS, version=1)
    train_s, train_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    scored = evaluate(model, docs, labels, threshold)
    batch_ms = (time.perf_counter() - started) * 1000 / len(docs)
    started, cpu = time.perf_counter(), time.process_time()
    for doc in docs[:500]:
        model.predict(doc)
    single_ms = (time.perf_counter() - started) * 1000 / min(500, len(docs))
    single_cpu_ms = (time.process_time() - cpu) * 1000 / min(500, len(docs))
    heads = evaluate_dimensions(model, docs, threshold)

    def accuracy(predicted):
        return sum(p == a for p, a in zip(predicted, labels, strict=True)) / len(labels)

    return {"rows": rows, "train": len(train), "test": len(test), "threshold": threshold,
            "model": scored.accuracy, "coverage": scored.coverage, "precision": scored.precision,
            "name_similarity": accuracy(name_similarity_baseline(docs)),
            "category_mapping": accuracy([CATEGORY_MAPPING.get(d.category_code, "") for d in docs]),
            "train_s": train_s, "train_cpu_s": train_cpu, "predict_ms_batch": batch_ms, "predict_ms_single": single_ms,
            "predict_cpu_ms_single": single_cpu_ms, "heads": heads, "load": os.getloadavg()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--threshold", type=float, default=0.9)
    args = parser.parse_args(argv)
    r = run(args.rows, args.threshold)
    print(f"{r['rows']} expenses: train {r['train']}, test {r['test']} (latest 20 %)")
    print(f"{'method':<34}{'top-1':>8}{'coverage':>10}{'precision':>11}")
    print(f"{'name similarity (current suggest)':<34}{r['name_similarity']:>8.1%}{'100.0%':>10}"
          f"{r['name_similarity']:>11.1%}")
    print(f"{'always the category mapping':<34}{r['category_mapping']:>8.1%}{'100.0%':>10}"
          f"{r['category_mapping']:>11.1%}")
    print(f"{'learned model, all':<34}{r['model']:>8.1%}{'100.0%':>10}{r['model']:>11.1%}")
    label = f"learned model, p >= {r['threshold']}"
    print(f"{label:<34}"
          f"{'':>8}{r['coverage']:>10.1%}{r['precision']:>11.1%}")
    for key, e in r["heads"].items():
        print(f"{'dimension ' + key + ' (' + str(e.size) + ' filled)':<34}{e.accuracy:>8.1%}{e.coverage:>10.1%}"
              f"{e.precision:>11.1%}")
    print(f"training {r['train_s']:.1f} s wall, {r['train_cpu_s']:.1f} s CPU (account and {len(r['heads'])} "
          f"dimension heads); prediction {r['predict_ms_batch']:.3f} ms/expense in a batch, "
          f"{r['predict_ms_single']:.2f} ms wall ({r['predict_cpu_ms_single']:.2f} ms CPU) one at a time")
    print("load average {:.2f} {:.2f} {:.2f} (2 cores)".format(*r["load"]))
    goals = {"precision >= 95 %": r["precision"] >= 0.95, "coverage >= 70 %": r["coverage"] >= 0.70,
             "beats both baselines": r["model"] > max(r["name_similarity"], r["category_mapping"]),
             "training < 60 s CPU": r["train_cpu_s"] < 60, "prediction < 2 ms CPU": r["predict_cpu_ms_single"] < 2}
    print("goals: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in goals.items()))
    return r


if __name__ == "__main__":
    main()
