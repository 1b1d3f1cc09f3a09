#!/usr/bin/env python3
"""Makes the ONNX models the tests and benchmarks run, and onnxruntime's outputs for them.

What it writes, next to this file:
  logistic.onnx          logistic regression over the 9 features of phishing.csv
                         (MatMul + Add + Sigmoid), fitted here by batch gradient descent
  mlp.onnx               a small MLP: Gemm 9->16, Relu, Gemm 16->8, Tanh, Gemm 8->2, Softmax
  unsupported-scaler.onnx  an ONNX-ML `Scaler` in front of the logistic regression: a model
                         the host must refuse, naming `Scaler`
  reference/*.json       inputs and onnxruntime's outputs for logistic.onnx and mlp.onnx

Both models take `features` [N, 9] float32, N symbolic, so one file scores any batch.
The Python tools are needed only to remake these files, never by the build or the tests:

  python3 -m venv /tmp/mlvenv && /tmp/mlvenv/bin/pip install onnx onnxruntime numpy
  /tmp/mlvenv/bin/python examples/models/make_models.py
"""
import csv
import json
import pathlib

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

HERE = pathlib.Path(__file__).resolve().parent
PHISHING = HERE.parent / "data" / "phishing.csv"
OPSET = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]


def phishing():
    with open(PHISHING) as f:
        rows = list(csv.reader(f))[1:]
    x = np.array([[float(v) for v in row[:-1]] for row in rows], dtype=np.float32)
    y = np.array([float(row[-1]) for row in rows], dtype=np.float32)
    return x, y


def fit_logistic(x, y, steps=2000, rate=0.5):
    w = np.zeros(x.shape[1], dtype=np.float64)
    b = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        w -= rate * x.T @ (p - y) / len(y)
        b -= rate * float(np.mean(p - y))
    return w.astype(np.float32), np.float32(b)


def features_input():
    return helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 9])


def save(graph, name):
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="weir make_models.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, HERE / name)
    return HERE / name


def logistic(w, b, scaler=False):
    nodes = []
    source = "features"
    inits = [
        numpy_helper.from_array(w.reshape(9, 1), "weights"),
        numpy_helper.from_array(np.array([b], dtype=np.float32), "intercept"),
    ]
    if scaler:
        nodes.append(helper.make_node(
            "Scaler", ["features"], ["scaled"], domain="ai.onnx.ml", name="scale",
            offset=[0.0] * 9, scale=[1.0] * 9))
        source = "scaled"
    nodes += [
        helper.make_node("MatMul", [source, "weights"], ["logit_raw"], name="dot"),
        helper.make_node("Add", ["logit_raw", "intercept"], ["logit"], name="bias"),
        helper.make_node("Sigmoid", ["logit"], ["probability"], name="sigmoid"),
    ]
    out = helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])
    return helper.make_graph(nodes, "logistic", [features_input()], [out], inits)


def mlp(seed=7):
    rng = np.random.default_rng(seed)
    sizes = [(9, 16), (16, 8), (8, 2)]
    inits, nodes, source = [], [], "features"
    activations = ["Relu", "Tanh", None]
    for i, ((n_in, n_out), act) in enumerate(zip(sizes, activations)):
        w = rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out)).astype(np.float32)
        c = rng.normal(0.0, 0.1, size=(n_out,)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(c, f"b{i}")]
        nodes.append(helper.make_node("Gemm", [source, f"w{i}", f"b{i}"], [f"h{i}"], name=f"dense{i}"))
        source = f"h{i}"
        if act:
            nodes.append(helper.make_node(act, [source], [f"a{i}"], name=f"{act.lower()}{i}"))
            source = f"a{i}"
    nodes.append(helper.make_node("Softmax", [source], ["probabilities"], axis=1, name="softmax"))
    out = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])
    return helper.make_graph(nodes, "mlp", [features_input()], [out], inits)


def reference(path, inputs):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    outputs = session.run(names, {"features": inputs})
    document = {
        "model": path.name,
        "producer": f"onnxruntime {onnxruntime.__version__}",
        "input": "features",
        "inputs": inputs.tolist(),
        "outputs": {name: value.tolist() for name, value in zip(names, outputs)},
    }
    target = HERE / "reference" / (path.stem + ".json")
    target.write_text(json.dumps(document, indent=None) + "\n")


def main():
    x, y = phishing()
    w, b = fit_logistic(x, y)
    rng = np.random.default_rng(11)
    # The first 48 rows of the stream, and 16 rows outside [0, 1] to leave the data's range.
    inputs = np.concatenate([x[:48], rng.normal(0.5, 2.0, size=(16, 9)).astype(np.float32)])
    reference(save(logistic(w, b), "logistic.onnx"), inputs)
    reference(save(mlp(), "mlp.onnx"), inputs)
    save(logistic(w, b, scaler=True), "unsupported-scaler.onnx")
    print("weights", w.tolist(), "intercept", float(b))


if __name__ == "__main__":
    main()
