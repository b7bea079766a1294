"""docs/SEED_TOPICS.md maps every topic the seed articles name to the section that teaches it.

Every row of its table must name a unit that exists and a heading that its solution notebook
and its released course notebook both have, with exactly that text; and the table must keep
the core topics, so that a row cannot be deleted without the test noticing. Notebooks are
read as JSON: no kernel runs.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "SEED_TOPICS.md"
TABLE_HEADING = "## Topics and where they are taught"
COLUMNS = ["Topic", "Seeds", "Unit", "Section", "How it is taught"]
SEED_IDS = {"000", "001", "002", "003", "004"}

# Topics every version of the table must keep: each keyword must occur (case-insensitive) in
# the Topic column of at least one row. They cover every seed article's lists.
CORE_TOPICS = [
    "artificial neuron",
    "perceptron",
    "input, hidden and output layers",
    "dense (fully connected) layer",
    "weights and biases",
    "feedforward neural network",
    "nonlinearity",
    "relu",
    "sigmoid",
    "tanh",
    "leaky relu",
    "softmax",
    "mean squared error",
    "mean absolute error",
    "huber",
    "binary cross-entropy",
    "sparse categorical cross-entropy",
    "accuracy",
    "precision and recall",
    "f1",
    "auc-roc",
    "backpropagation",
    "chain rule",
    "automatic differentiation",
    "gradient descent",
    "stochastic",
    "batch size and epochs",
    "learning rate",
    "momentum",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "weight decay",
    "overfitting",
    "underfitting",
    "training, validation and test sets",
    "l1 and l2 regularization",
    "dropout",
    "early stopping",
    "data augmentation",
    "grid and random search",
    "bayesian optimization",
    "bagging",
    "stacking",
    "boosting",
    "standardization",
    "batch normalization",
    "layer normalization",
    "instance normalization",
    "group normalization",
    "weight normalization",
    "convolutional neural network",
    "convolutional layer",
    "pooling",
    "translation invariance",
    "resnet",
    "inception",
    "mobilenet",
    "tokenization",
    "padding",
    "embedding layer",
    "recurrent neural network",
    "vanishing gradient",
    "lstm",
    "gru",
    "recurrent layer",
    "attention mechanisms",
    "self-attention",
    "transformer",
    "encoder-decoder",
    "autoencoder",
    "dimensionality reduction",
    "latent",
    "generative adversarial network",
    "synthetic data",
    "frameworks",
    "multi-input and multi-output",
    "gpus",
    "compilation and fitting",
    "transfer learning",
    "onnx",
    "edge deployment",
    "serving",
    "monitoring training",
    "interpretability",
    "lime",
    "shap",
    "attention as an explanation",
    "reproducibility",
    "documentation",
    "reinforcement learning",
    "neuro-evolution",
    "evolving architectures",
    "graph neural networks",
    "capsule networks",
    "spiking neural networks",
    "time series",
    "data quality",
    "annotation cost",
    "memory usage",
    "parallelization",
    "federated learning",
    "energy",
    "trust, legal and ethical",
    "reading research",
    "history",
]

_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def parse_table(text: str) -> list[dict[str, str]]:
    """The rows of the table that follows TABLE_HEADING, as dicts keyed by COLUMNS."""
    lines = text.splitlines()
    try:
        start = lines.index(TABLE_HEADING)
    except ValueError:
        raise AssertionError(f"{DOC.name} has no line {TABLE_HEADING!r}") from None
    table: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    assert len(table) >= 2, f"no table under {TABLE_HEADING!r} in {DOC.name}"
    assert _split_row(table[0]) == COLUMNS, (
        f"the table's columns must be {COLUMNS}; found {_split_row(table[0])}"
    )
    rows = []
    for number, line in enumerate(table[2:], start=1):
        cells = _split_row(line)
        assert len(cells) == len(COLUMNS), (
            f"row {number} has {len(cells)} cells, expected {len(COLUMNS)} "
            f"(a '|' inside a cell?): {line}"
        )
        rows.append(dict(zip(COLUMNS, cells, strict=True)))
    return rows


ROWS = parse_table(DOC.read_text(encoding="utf-8"))


def headings(path: Path) -> set[str]:
    """The text of every markdown heading (outside fenced code) in a notebook."""
    return _headings(str(path))


@functools.cache
def _headings(path: str) -> frozenset[str]:
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    found = set()
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        source = cell["source"]
        text = "".join(source) if isinstance(source, list) else source
        fenced = False
        for line in text.splitlines():
            if _FENCE.match(line):
                fenced = not fenced
            elif not fenced and (match := _HEADING.match(line)):
                found.add(match.group(1))
    return frozenset(found)


def _row_id(row: dict[str, str]) -> str:
    return f"{row['Unit']}:{row['Topic'][:40]}"


def test_no_topic_is_only_mentioned() -> None:
    """The issue's bar: every topic is taught, none "explained only" or "mentioned"."""
    untaught = [
        row["Topic"]
        for row in ROWS
        if re.match(r"\W*(explained|mentioned)( only)?\b", row["How it is taught"], re.I)
    ]
    assert not untaught, f"rows that say their topic is not taught: {untaught}"


def test_table_is_complete() -> None:
    assert len(ROWS) >= len(CORE_TOPICS), (
        f"{DOC.name} has {len(ROWS)} rows, fewer than the {len(CORE_TOPICS)} core topics"
    )
    for row in ROWS:
        empty = [column for column, value in row.items() if not value]
        assert not empty, f"row {row['Topic']!r} has empty cells: {empty}"
        seeds = [s.strip() for s in row["Seeds"].split(",")]
        assert seeds and set(seeds) <= SEED_IDS, (
            f"row {row['Topic']!r}: Seeds must be ids from {sorted(SEED_IDS)} separated by "
            f"commas; got {row['Seeds']!r}"
        )
        assert not row["Section"].startswith("#"), (
            f"row {row['Topic']!r}: write the heading without its leading #'s"
        )
    topics = [row["Topic"].lower() for row in ROWS]
    duplicates = sorted({t for t in topics if topics.count(t) > 1})
    assert not duplicates, f"topics listed twice: {duplicates}"


def test_core_topics_are_kept() -> None:
    topics = [row["Topic"].lower() for row in ROWS]
    missing = [core for core in CORE_TOPICS if not any(core in topic for topic in topics)]
    assert not missing, (
        f"{DOC.name} lost the rows of these core topics (a Topic cell must contain each): {missing}"
    )


@pytest.mark.parametrize("row", ROWS, ids=[_row_id(row) for row in ROWS])
def test_section_exists_in_both_notebooks(row: dict[str, str]) -> None:
    unit, section = row["Unit"], row["Section"]
    assert (ROOT / "solutions" / unit).is_dir(), f"unit {unit!r} has no solutions/{unit}/"
    for tree in ("solutions", "course"):
        notebook = ROOT / tree / unit / f"{unit}.ipynb"
        assert notebook.is_file(), f"{notebook.relative_to(ROOT)} does not exist"
        assert section in headings(notebook), (
            f"{notebook.relative_to(ROOT)} has no markdown heading {section!r} "
            f"(topic {row['Topic']!r}); headings must match the table exactly"
        )
