#!/usr/bin/env python3
"""Step-by-step reference for the online learner, computed from the semantics written in
the data README (not from Weir's code), in plain Python floats (IEEE doubles).

For each row of ../data/phishing.csv, in order: the probability predicted before learning
the row. Writes reference/phishing-lr0.01.csv and reference/phishing-lr0.1.csv
(`step,probability`, shortest round-trip decimal), and prints accuracy and exact ROC AUC.

  python3 examples/online-learning/make_reference.py
"""
import csv
import math
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "phishing.csv"


def sigmoid(x):
    if x < -30:
        return 0.0
    if x > 30:
        return 1.0
    return 1.0 / (1.0 + math.exp(-x))


def run(rows, lr, intercept_lr=0.01):
    n_features = len(rows[0][0])
    count = 0
    mean = [0.0] * n_features
    var = [0.0] * n_features
    w = [0.0] * n_features
    b = 0.0

    def scale(x):
        out = []
        for i, v in enumerate(x):
            std = math.sqrt(var[i])
            out.append(0.0 if std == 0.0 else (v - mean[i]) / std)
        return out

    def raw(z):
        dot = 0.0
        for wi, zi in zip(w, z):
            dot += zi * wi
        return dot + b

    probabilities = []
    for x, label in rows:
        probabilities.append(sigmoid(raw(scale(x))))
        # Learn: scaler (Welford, population variance), then the model on the new scaling.
        count += 1
        for i, v in enumerate(x):
            old = mean[i]
            mean[i] += (v - old) / count
            var[i] += ((v - old) * (v - mean[i]) - var[i]) / count
        z = scale(x)
        y = 1.0 if label else -1.0
        r = y * raw(z)
        if r > 18:
            g = -y * math.exp(-r)
        elif r < -18:
            g = -y
        else:
            g = -y / (math.exp(r) + 1.0)
        g = max(-1e12, min(1e12, g))
        b -= intercept_lr * g
        for i in range(n_features):
            w[i] -= lr * g * z[i]
    return probabilities


def auc(scores, labels):
    pairs = sorted(zip(scores, labels))
    negatives_below = wins = positives = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        group_pos = sum(1 for _, y in pairs[i:j] if y)
        group_neg = (j - i) - group_pos
        wins += group_pos * (negatives_below + 0.5 * group_neg)
        negatives_below += group_neg
        positives += group_pos
        i = j
    return wins / (positives * negatives_below)


def main():
    with open(DATA) as f:
        reader = csv.reader(f)
        next(reader)
        rows = [([float(v) for v in row[:-1]], row[-1] == "1") for row in reader]
    labels = [y for _, y in rows]
    for lr, name in [(0.01, "phishing-lr0.01.csv"), (0.1, "phishing-lr0.1.csv")]:
        probabilities = run(rows, lr)
        with open(HERE / "reference" / name, "w") as f:
            f.write("step,probability\n")
            for step, p in enumerate(probabilities):
                f.write(f"{step},{p!r}\n")
        accuracy = sum((p > 0.5) == y for p, y in zip(probabilities, labels)) / len(rows)
        print(f"lr {lr}: accuracy {accuracy:.4f}, ROC AUC {auc(probabilities, labels):.5f}")


if __name__ == "__main__":
    main()
