"""``dlgrade similarity`` (dlgrade.similarity): copies between students and of dlkit's code.

Fast: the submissions are written from unit 01_perceptron's release, nothing is executed.
One class is compared once per module (``class_run``); the tests read its outputs.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re

import nbformat
import pytest
from dlgrade import cli, commands, similarity, status
from dlgrade.paths import Layout
from grading_harness import REPO, build_submission

UNIT = "01_perceptron"
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"

# Two students who solved the unit independently, each in their own way (bodies only: they
# replace the stub lines of the released cells).
ADA = {
    "perceptron_predict": """
    scores = np.dot(X, w) + b
    labels = np.zeros(len(scores), dtype=int)
    labels[scores >= 0] = 1
    return labels""",
    "perceptron_update": """
    guess = perceptron_predict(x.reshape(1, -1), w, b)[0]
    if guess == y:
        return w.copy(), b
    delta = lr * (y - guess)
    return w + delta * x, b + delta""",
    "sigmoid": """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=float)))""",
    "bce_loss": """
    q = np.minimum(np.maximum(p, eps), 1 - eps)
    per_example = y * np.log(q) + (1 - y) * np.log(1 - q)
    return -per_example.sum() / len(per_example)""",
    "logistic_gradient": """
    count = len(y)
    residual = sigmoid(np.dot(X, w) + b) - y
    grad_w = np.dot(X.T, residual) / count
    grad_b = residual.sum() / count
    return grad_w, grad_b""",
    "logistic_regression_fit": """
    weights = np.zeros(X.shape[1])
    bias = 0.0
    history = []
    for _ in range(steps):
        history.append(bce_loss(sigmoid(np.dot(X, weights) + bias), y))
        grad_w, grad_b = logistic_gradient(X, y, weights, bias)
        weights -= lr * grad_w
        bias -= lr * grad_b
    return weights, bias, np.array(history)""",
}
BOB = {
    "perceptron_predict": """
    return np.where(X @ w + b < 0, 0, 1)""",
    "perceptron_update": """
    predicted = int(x @ w + b >= 0)
    mistake = y - predicted
    new_w = w + lr * mistake * x
    new_b = b + lr * mistake
    return new_w, new_b""",
    "sigmoid": """
    z = np.asarray(z, dtype=float)
    result = np.empty_like(z)
    positive = z >= 0
    result[positive] = 1 / (1 + np.exp(-z[positive]))
    exp_z = np.exp(z[~positive])
    result[~positive] = exp_z / (1 + exp_z)
    return result""",
    "bce_loss": """
    total = 0.0
    for prob, label in zip(np.clip(p, eps, 1 - eps), y):
        total -= label * math.log(prob) + (1 - label) * math.log(1 - prob)
    return total / len(y)""",
    "logistic_gradient": """
    probs = sigmoid(X @ w + b)
    diff = probs - y
    return X.T @ diff / X.shape[0], diff.mean()""",
    "logistic_regression_fit": """
    n_features = X.shape[1]
    w, b = np.zeros(n_features), 0.0
    losses = np.empty(steps)
    step = 0
    while step < steps:
        losses[step] = bce_loss(sigmoid(X @ w + b), y)
        gw, gb = logistic_gradient(X, y, w, b)
        w, b = w - lr * gw, b - lr * gb
        step += 1
    return w, b, losses""",
}
# Ada's answers with every local name changed and independent statements swapped.
CY = {
    "perceptron_predict": """
    s = np.dot(X, w) + b
    out = np.zeros(len(s), dtype=int)
    out[s >= 0] = 1
    return out""",
    "perceptron_update": """
    pred = perceptron_predict(x.reshape(1, -1), w, b)[0]
    if pred == y:
        return w.copy(), b
    step = lr * (y - pred)
    return w + step * x, b + step""",
    "sigmoid": ADA["sigmoid"],
    "bce_loss": """
    clipped = np.minimum(np.maximum(p, eps), 1 - eps)
    terms = y * np.log(clipped) + (1 - y) * np.log(1 - clipped)
    return -terms.sum() / len(terms)""",
    "logistic_gradient": """
    err = sigmoid(np.dot(X, w) + b) - y
    m = len(y)
    gb = err.sum() / m
    gw = np.dot(X.T, err) / m
    return gw, gb""",
    "logistic_regression_fit": """
    bb = 0.0
    ww = np.zeros(X.shape[1])
    trace = []
    for i in range(steps):
        trace.append(bce_loss(sigmoid(np.dot(X, ww) + bb), y))
        g_w, g_b = logistic_gradient(X, y, ww, bb)
        bb -= lr * g_b
        ww -= lr * g_w
    return ww, bb, np.array(trace)""",
}
# The body of dlkit's sigmoid (dlkit/functional/activations.py), its names changed.
DAN = {
    "sigmoid": """
    t = check_float(z, "z")
    lib = namespace(t)
    ex = lib.exp(-lib.abs(t))
    return lib.where(t >= 0, 1.0 / (1.0 + ex), ex / (1.0 + ex))""",
}


def _notebook(release, source, bodies: dict[str, str]):
    stubs = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    filled = {gid: stubs[gid].replace(STUB, body.strip("\n")) for gid, body in bodies.items()}
    return build_submission(release, source, replace=filled, solve=False)


def _layout(state) -> Layout:
    return Layout.from_env(
        {"DLGRADE_STATE_DIR": str(state), "DLGRADE_RELEASE_DIR": str(REPO / "course")}
    )


def _submit(layout: Layout, student: str, text: str) -> None:
    folder = layout.submitted / student / UNIT
    folder.mkdir(parents=True)
    (folder / f"{UNIT}.ipynb").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def class_run(tmp_path_factory) -> dict:
    """Seven students compared once: ada, bob (independent), cy (ada's copy), dan (dlkit's
    sigmoid), eve (malformed JSON), fay (the blank release), gus (JSON, not a notebook)."""
    layout = _layout(tmp_path_factory.mktemp("similarity") / "state")
    release = nbformat.read(REPO / "course" / UNIT / f"{UNIT}.ipynb", as_version=4)
    source = nbformat.read(REPO / "solutions" / UNIT / f"{UNIT}.ipynb", as_version=4)
    for student, bodies in [("ada", ADA), ("bob", BOB), ("cy", CY), ("dan", DAN)]:
        _submit(layout, student, nbformat.writes(_notebook(release, source, bodies)))
    _submit(layout, "eve", '{"cells": [ not json')
    _submit(layout, "fay", nbformat.writes(release))
    _submit(layout, "gus", '{"cells": "none", "nbformat": 4, "nbformat_minor": 5}')
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = commands.similarity(layout, UNIT, None)
    files = similarity.output_files(layout, UNIT)
    with files["csv"].open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {"layout": layout, "rc": rc, "out": out.getvalue(), "rows": rows, "files": files}


def _row(rows: list[dict], a: str, b: str, exercise: str | None = None) -> dict:
    found = [
        r
        for r in rows
        if {r["student_a"], r["student_b"]} == {a, b}
        and (exercise is None or r["exercises"] == exercise)
    ]
    assert len(found) == 1, f"expected one row for {a} / {b} {exercise or ''}; got {found}"
    return found[0]


def test_independent_answers_written_differently_are_not_flagged(class_run):
    row = _row(class_run["rows"], "ada", "bob")
    assert row["flagged"] == "no"
    assert float(row["similarity_a"]) < 0.3 and float(row["similarity_b"]) < 0.3
    assert "bob" not in class_run["out"]


def test_a_copy_with_renamed_variables_and_reordered_lines_is_flagged(class_run):
    row = _row(class_run["rows"], "ada", "cy")
    assert row["flagged"] == "yes"
    assert float(row["similarity_a"]) >= 0.8 and float(row["similarity_b"]) >= 0.8
    assert "perceptron_predict" in row["exercises"].split()
    assert "FLAGGED: ada ~ cy" in class_run["out"]


def test_dlkits_reference_pasted_with_renamed_variables_is_flagged(class_run):
    row = _row(class_run["rows"], "dan", similarity.REFERENCE, "sigmoid")
    assert row["student_a"] == "dan" and row["flagged"] == "yes"
    assert float(row["similarity_a"]) >= 0.8
    assert "FLAGGED: dan copies dlkit's reference of sigmoid" in class_run["out"]
    # the independent answers are not dlkit's
    for student in ["ada", "bob"]:
        assert _row(class_run["rows"], student, similarity.REFERENCE, "sigmoid")["flagged"] == "no"


def test_a_malformed_notebook_is_skipped_and_reported(class_run):
    out = class_run["out"]
    assert "SKIPPED: eve: 01_perceptron.ipynb: not valid notebook JSON" in out
    assert "SKIPPED: fay: nothing written" in out
    assert "SKIPPED: gus: 01_perceptron.ipynb: not a valid notebook" in out
    assert "4 compared (6 pairs), 3 skipped, 2 flagged at threshold 0.60" in out
    assert not any({"eve", "gus"} & {r["student_a"], r["student_b"]} for r in class_run["rows"])
    page = class_run["files"]["html"].read_text()
    assert "eve: 01_perceptron.ipynb: not valid notebook JSON" in page
    assert "dan/sigmoid.py" in page and "dlgrade-similarity-" not in page
    # every student is listed, compared or skipped with a reason
    students = json.loads(class_run["files"]["json"].read_text())["students"]
    assert sorted(students) == ["ada", "bob", "cy", "dan", "eve", "fay", "gus"]
    assert [s for s, info in students.items() if not info["compared"]] == ["eve", "fay", "gus"]
    assert all(info["reason"] for info in students.values() if not info["compared"])


def test_the_csv_has_the_documented_columns_and_the_exit_status_is_1(class_run):
    assert list(class_run["rows"][0]) == similarity.CSV_COLUMNS
    assert class_run["rc"] == 1  # something flagged (and skipped): look at the report


def test_export_has_a_similarity_column_and_keeps_scores_and_statuses(class_run, tmp_path):
    layout = class_run["layout"]
    raw, target = tmp_path / "nbgrader.csv", tmp_path / "grades.csv"
    with raw.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["assignment", "student_id", "raw_score", "score"])
        for student, score in [("ada", "12.0"), ("bob", "11.0"), ("dan", "3.0"), ("eve", "0.0")]:
            writer.writerow([UNIT, student, score, score])
        writer.writerow(["other_unit", "ada", "1.0", "1.0"])
    submitted = {(UNIT, s) for s in ["ada", "bob", "dan"]} | {("other_unit", "ada")}
    status.export_with_status(layout, raw, target, submitted, with_similarity=True)
    with target.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["assignment", "student_id", "raw_score", "score"] + [
        "status",
        "reason",
        "similarity",
    ]
    by = {(r["assignment"], r["student_id"]): r for r in rows}
    assert re.fullmatch(r"similar to cy \([01]\.\d\d\)", by[(UNIT, "ada")]["similarity"])
    dan = by[(UNIT, "dan")]["similarity"]
    assert re.fullmatch(r"copies dlkit's reference of sigmoid \([01]\.\d\d\)", dan)
    assert by[(UNIT, "eve")]["similarity"].startswith("not compared: 01_perceptron.ipynb")
    assert by[(UNIT, "bob")]["similarity"] == "" and by[("other_unit", "ada")]["similarity"] == ""
    assert [r["score"] for r in rows] == ["12.0", "11.0", "3.0", "0.0", "1.0"]
    assert [r["status"] for r in rows] == ["graded", "graded", "graded", "missing", "graded"]


HELPER = """
def accuracy(labels, targets):
    hits = 0
    for predicted, wanted in zip(labels, targets):
        hits += int(predicted == wanted)
    return hits / max(len(targets), 1)
"""


def test_added_cells_are_compared_only_when_asked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLGRADE_RELEASE_DIR", str(REPO / "course"))
    layout = Layout.from_env()
    release = nbformat.read(REPO / "course" / UNIT / f"{UNIT}.ipynb", as_version=4)
    source = nbformat.read(REPO / "solutions" / UNIT / f"{UNIT}.ipynb", as_version=4)
    for student, bodies, helper in [
        ("ada", ADA, HELPER),
        ("bob", BOB, HELPER.replace("hits", "n")),
    ]:
        nb = _notebook(release, source, bodies)
        nb.cells.append(nbformat.v4.new_code_cell(helper))
        _submit(layout, student, nbformat.writes(nb))
    assert cli.main(["similarity", UNIT, "--threshold", "0.9"]) == 0
    assert cli.main(["similarity", UNIT, "--added-cells", "--threshold", "0.9"]) == 0
    rows = list(csv.DictReader(similarity.output_files(layout, UNIT)["csv"].open()))
    assert _row(rows, "ada", "bob")["exercises"] == "added"
    assert "0 flagged at threshold 0.90" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["0", "1.5", "-0.2", "abc", "nan", "60%"])
def test_a_threshold_outside_0_1_is_a_clear_error(value, capsys):
    assert cli.main(["similarity", UNIT, "--threshold", value]) == 2
    err = capsys.readouterr().err
    assert f"dlgrade: error: --threshold {value!r}: expected a fraction greater than 0" in err


def test_an_unknown_unit_is_a_clear_error(capsys):
    assert cli.main(["similarity", "99_nope"]) == 2
    assert "UNIT '99_nope' not found" in capsys.readouterr().err


def test_no_submissions_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLGRADE_RELEASE_DIR", str(REPO / "course"))
    assert cli.main(["similarity", UNIT]) == 2
    assert f"UNIT '{UNIT}': no submissions at" in capsys.readouterr().err


def test_reference_sources_are_dlkits_top_level_definitions():
    refs = similarity.reference_sources(UNIT)
    assert {"perceptron_predict", "sigmoid", "logistic_gradient"} <= set(refs)
    assert "bce_loss" not in refs  # dlkit has no function of that name
    assert "# dlkit/functional/activations.py\ndef sigmoid(" in refs["sigmoid"]
    assert "# dlkit/autograd/nn_functions.py\ndef sigmoid(" in refs["sigmoid"]


def test_own_code_drops_the_released_stub_lines():
    stub = 'def f(x):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()'
    answer = 'def f(x):\n    """Doc."""\n    return x + 1'
    assert similarity.own_code(stub, answer) == "    return x + 1"
    assert similarity.own_code(stub, stub) == ""
