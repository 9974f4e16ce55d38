"""Reference learners for bench/train.ts: scikit-learn's RandomForestClassifier and
XGBoost on the same features and the same folds (by capture) as our trainer.

Usage: /usr/bin/python3 train_ref.py DATA.csv SETTINGS_JSON
DATA.csv: the feature columns, then `y` (class index) and one `fold_<n>` column per
repetition (fold 0..k-1 of each row, -1 for rows outside the folds).
SETTINGS_JSON: {"learners": ["sklearn_rf", "xgboost"], "threads": 2, "seed": 1,
  "class_weight": "none"|"balanced", "rf_trees": 100, "rf_min_samples_leaf": 1,
  "xgb": {"rounds", "max_depth", "eta"}}
Output on stdout, one JSON object: {"<learner>": {"pred": {"fold_<n>": [class per row]},
"fit_seconds": total} or {"error": "..."}}. Every row is predicted by the model of the fold
that held it out. XGBoost needs labels 0..n-1, so classes missing from a fold's training
rows are remapped and mapped back.
"""
import json
import sys
import time

import numpy as np


def folds_of(fold):
    for f in sorted(set(fold.tolist()) - {-1}):
        train = np.flatnonzero((fold != f) & (fold >= 0))
        test = np.flatnonzero(fold == f)
        if len(train) and len(test):
            yield train, test


def balanced(y):
    classes, counts = np.unique(y, return_counts=True)
    w = {c: len(y) / (len(classes) * n) for c, n in zip(classes, counts)}
    return np.array([w[v] for v in y])


def sklearn_rf(s):
    from sklearn.ensemble import RandomForestClassifier

    def fit(x, y):
        m = RandomForestClassifier(n_estimators=s["rf_trees"], min_samples_leaf=s["rf_min_samples_leaf"],
                                   n_jobs=s["threads"], random_state=s["seed"],
                                   class_weight="balanced" if s["class_weight"] == "balanced" else None)
        m.fit(x, y)
        return m.predict
    return fit


def xgboost(s):
    import xgboost as xgb
    p = s["xgb"]

    def fit(x, y):
        present = np.unique(y)
        local = np.searchsorted(present, y)
        m = xgb.XGBClassifier(n_estimators=p["rounds"], max_depth=p["max_depth"], learning_rate=p["eta"],
                              tree_method="hist", max_bin=256, n_jobs=s["threads"], random_state=s["seed"])
        m.fit(x, local, sample_weight=balanced(local) if s["class_weight"] == "balanced" else None)
        return lambda t: present[m.predict(t).astype(int)]
    return fit


def main():
    path, s = sys.argv[1], json.loads(sys.argv[2])
    with open(path) as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    y = data[:, header.index("y")].astype(int)
    fold_cols = [h for h in header if h.startswith("fold_")]
    x = data[:, [i for i, h in enumerate(header) if h != "y" and not h.startswith("fold_")]].astype(np.float32)
    out = {}
    for name, make in (("sklearn_rf", sklearn_rf), ("xgboost", xgboost)):
        if name not in s["learners"]:
            continue
        try:
            fit = make(s)
        except ImportError as e:
            out[name] = {"error": f"cannot import: {e}"}
            continue
        preds, seconds = {}, 0.0
        for col in fold_cols:
            fold = data[:, header.index(col)].astype(int)
            pred = np.full(len(y), -1)
            for train, test in folds_of(fold):
                t0 = time.perf_counter()
                predict = fit(x[train], y[train])
                seconds += time.perf_counter() - t0
                pred[test] = predict(x[test])
            preds[col] = pred.tolist()
        out[name] = {"pred": preds, "fit_seconds": seconds}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
