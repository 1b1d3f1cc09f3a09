#!/usr/bin/env python3
"""Makes the fraud-scoring example: its data, its model and the alerts it must raise.

  transactions.jsonl   card transactions over 4 hours, in time order: 100 cards paying
                       now and then, and 6 of them hit by a burst of large payments
  fraud.onnx           a logistic regression over a card's last 10 minutes (count, total,
                       largest and mean amount), standardised inside the graph
                       (Sub, Div, MatMul, Add, Sigmoid), fitted here on labelled windows
  expected-alerts.jsonl  the windows whose score is >= 0.5, as onnxruntime scores them:
                       what the pipeline's alerts must be (the test compares them)

The windows are those of pipeline.toml: sliding, 10 minutes every 2 minutes, per card.
Deterministic: running it again writes the same files.

  python3 -m venv /tmp/mlvenv && /tmp/mlvenv/bin/pip install onnx onnxruntime numpy
  /tmp/mlvenv/bin/python examples/fraud/make_example.py
"""
import json
import pathlib
import random

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

HERE = pathlib.Path(__file__).resolve().parent
START = 1_700_000_000_000
HOURS = 4
SIZE, SLIDE = 10 * 60_000, 2 * 60_000
THRESHOLD = 0.5
FEATURES = ["count", "total", "max_amount", "mean_amount"]


def transactions():
    rng = random.Random(7)
    events = []
    cards = [f"card-{i:03d}" for i in range(100)]
    for card in cards:
        t = START + rng.randrange(0, 30 * 60_000)
        while t < START + HOURS * 3_600_000:
            amount = round(min(rng.lognormvariate(3.4, 0.8), 900.0), 2)
            events.append({"card": card, "ts": t, "amount": amount, "merchant": rng.choice("ABCDEFGH")})
            t += int(rng.expovariate(1 / (25 * 60_000))) + 60_000
    frauds = rng.sample(cards, 6)
    for card in frauds:
        t = START + rng.randrange(30 * 60_000, (HOURS - 1) * 3_600_000)
        for _ in range(rng.randrange(6, 11)):
            events.append({"card": card, "ts": t, "amount": round(rng.uniform(300, 1500), 2),
                           "merchant": "Z", "fraud": True})
            t += rng.randrange(10_000, 50_000)
    events.sort(key=lambda e: (e["ts"], e["card"]))
    return events, sorted(frauds)


def windows(events):
    """Per card, every sliding window with at least one event: features and a label."""
    by_window = {}
    for e in events:
        last_start = e["ts"] - e["ts"] % SLIDE
        start = last_start
        while start > e["ts"] - SIZE:
            by_window.setdefault((e["card"], start), []).append(e)
            start -= SLIDE
    rows = []
    for (card, start), group in sorted(by_window.items()):
        amounts = [e["amount"] for e in group]
        rows.append({
            "card": card, "window_start": start,
            "features": [len(amounts), sum(amounts), max(amounts), sum(amounts) / len(amounts)],
            "label": sum(1 for e in group if e.get("fraud")) >= 3,
        })
    return rows


def fit(x, y, steps=4000, rate=0.3):
    mean, std = x.mean(axis=0), x.std(axis=0)
    z = (x - mean) / std
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= rate * z.T @ (p - y) / len(y)
        b -= rate * float(np.mean(p - y))
    return mean.astype(np.float32), std.astype(np.float32), w.astype(np.float32), np.float32(b)


def model(mean, std, w, b):
    inits = [
        numpy_helper.from_array(mean.reshape(1, -1), "mean"),
        numpy_helper.from_array(std.reshape(1, -1), "std"),
        numpy_helper.from_array(w.reshape(-1, 1), "weights"),
        numpy_helper.from_array(np.array([b], dtype=np.float32), "intercept"),
    ]
    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centred"], name="centre"),
        helper.make_node("Div", ["centred", "std"], ["scaled"], name="scale"),
        helper.make_node("MatMul", ["scaled", "weights"], ["dot"], name="dot"),
        helper.make_node("Add", ["dot", "intercept"], ["logit"], name="bias"),
        helper.make_node("Sigmoid", ["logit"], ["fraud_probability"], name="sigmoid"),
    ]
    graph = helper.make_graph(
        nodes, "fraud",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", len(FEATURES)])],
        [helper.make_tensor_value_info("fraud_probability", TensorProto.FLOAT, ["N", 1])],
        inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="weir examples/fraud/make_example.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def main():
    events, frauds = transactions()
    with open(HERE / "transactions.jsonl", "w") as f:
        for e in events:
            e = {k: v for k, v in e.items() if k != "fraud"}
            f.write(json.dumps(e, separators=(",", ":")) + "\n")
    rows = windows(events)
    x = np.array([r["features"] for r in rows], dtype=np.float64)
    y = np.array([1.0 if r["label"] else 0.0 for r in rows])
    onnx.save(model(*fit(x, y)), HERE / "fraud.onnx")
    session = onnxruntime.InferenceSession(str(HERE / "fraud.onnx"), providers=["CPUExecutionProvider"])
    scores = session.run(None, {"features": x.astype(np.float32)})[0][:, 0]
    closest = float(np.min(np.abs(scores - THRESHOLD)))
    assert closest > 1e-3, f"a score is {closest} from the threshold: too close to compare"
    alerted = 0
    with open(HERE / "expected-alerts.jsonl", "w") as f:
        for r, s in zip(rows, scores):
            if s >= THRESHOLD:
                alerted += 1
                f.write(json.dumps({"card": r["card"], "window_start": r["window_start"],
                                    "score": float(s)}, separators=(",", ":")) + "\n")
    caught = sorted({r["card"] for r, s in zip(rows, scores) if s >= THRESHOLD})
    print(f"{len(events)} transactions, {len(rows)} windows, {alerted} alerts on {caught}; frauds {frauds}")


if __name__ == "__main__":
    main()
