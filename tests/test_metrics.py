"""dlkit.metrics against scikit-learn: random inputs, ties, imbalance, and the error cases."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlkit import metrics

SEEDS = range(40)


def binary_scored(rng, n=None, p_pos=None, decimals=None):
    """Binary labels with both classes and scores, optionally rounded to make ties."""
    n = int(rng.integers(2, 60)) if n is None else n
    p_pos = rng.uniform(0.05, 0.95) if p_pos is None else p_pos
    y = (rng.uniform(size=n) < p_pos).astype(int)
    y[0], y[1] = 0, 1  # both classes, always
    rng.shuffle(y)
    scores = rng.standard_normal(n) + 1.5 * y * rng.uniform()
    if decimals is not None:
        scores = np.round(scores, decimals)
    return y, scores


def assert_roc_equal(y, scores):
    fpr, tpr, thr = metrics.roc_curve(y, scores)
    ref = skm.roc_curve(y, scores, drop_intermediate=False)
    for ours, theirs, name in zip((fpr, tpr, thr), ref, ("fpr", "tpr", "thresholds"), strict=True):
        assert ours.shape == theirs.shape, f"{name}: {ours.shape} != {theirs.shape}"
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=name)
    assert metrics.roc_auc(y, scores) == pytest.approx(skm.roc_auc_score(y, scores), abs=1e-12)


# -- accuracy and confusion matrix -------------------------------------------------------


@pytest.mark.filterwarnings("ignore:A single label was found:UserWarning")
@pytest.mark.parametrize("seed", SEEDS)
def test_accuracy_and_confusion_matrix_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 50)), int(rng.integers(1, 6))
    y, pred = rng.integers(0, k, n), rng.integers(0, k, n)
    assert metrics.accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred))
    cm = metrics.confusion_matrix(y, pred, num_classes=k)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, pred, labels=range(k)))
    assert cm.dtype == np.int64 and cm.sum() == n


def test_accuracy_from_scores_takes_the_argmax(rng):
    scores = rng.standard_normal((30, 4))
    y = rng.integers(0, 4, 30)
    assert metrics.accuracy(y, scores) == metrics.accuracy(y, scores.argmax(axis=1))


def test_confusion_matrix_rows_are_true_classes():
    cm = metrics.confusion_matrix([0, 0, 0, 1], [0, 1, 1, 1])
    np.testing.assert_array_equal(cm, [[1, 2], [0, 1]])  # two true 0s predicted as 1
    assert metrics.confusion_matrix([1], [1], num_classes=3).shape == (3, 3)


def test_metrics_accept_torch_and_return_numpy(torch):
    y = torch.tensor([0, 1, 1, 0])
    pred = torch.tensor([0, 1, 0, 0])
    assert isinstance(metrics.confusion_matrix(y, pred), np.ndarray)
    assert metrics.accuracy(y, pred) == 0.75
    assert metrics.roc_auc(y, torch.tensor([0.1, 0.9, 0.4, 0.2])) == 1.0


# -- precision, recall, F1 ---------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("average", ["macro", "micro"])
def test_precision_recall_f1_multiclass_match_sklearn(average, seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 40)), int(rng.integers(1, 6))
    y = rng.choice(k, n, p=rng.dirichlet(np.full(k, 0.5)))  # imbalanced, some classes absent
    pred = rng.integers(0, k, n)
    ref = skm.precision_recall_fscore_support(y, pred, average=average, zero_division=0)[:3]
    np.testing.assert_allclose(metrics.precision_recall_f1(y, pred, average=average), ref)


@pytest.mark.parametrize("seed", SEEDS)
def test_precision_recall_f1_binary_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    y = (rng.uniform(size=n) < rng.uniform(0, 0.3)).astype(int)  # rare positives, maybe none
    pred = (rng.uniform(size=n) < rng.uniform(0, 0.5)).astype(int)
    for pos_label in (1, 0):
        ref = skm.precision_recall_fscore_support(
            y, pred, average="binary", pos_label=pos_label, zero_division=0
        )[:3]
        ours = metrics.precision_recall_f1(y, pred, pos_label=pos_label)
        np.testing.assert_allclose(ours, ref)


def test_zero_division_gives_zero():
    # nothing predicted positive: precision 0/0 -> 0; recall 0/1 = 0
    assert metrics.precision_recall_f1([0, 1], [0, 0]) == (0.0, 0.0, 0.0)
    # no positives at all: recall 0/0 -> 0
    assert metrics.precision_recall_f1([0, 0], [0, 1]) == (0.0, 0.0, 0.0)
    assert metrics.precision_recall_f1([0, 0], [0, 0]) == (0.0, 0.0, 0.0)


def test_micro_average_is_accuracy_for_single_label(rng):
    y, pred = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    p, r, f1 = metrics.precision_recall_f1(y, pred, average="micro")
    assert p == r == pytest.approx(f1) == pytest.approx(metrics.accuracy(y, pred))


# -- ROC curve and AUC -------------------------------------------------------------------


@pytest.mark.parametrize("decimals", [None, 1, 0], ids=["distinct", "some-ties", "many-ties"])
@pytest.mark.parametrize("seed", SEEDS)
def test_roc_curve_and_auc_match_sklearn(seed, decimals):
    rng = np.random.default_rng(seed)
    assert_roc_equal(*binary_scored(rng, decimals=decimals))


@pytest.mark.parametrize("p_pos", [0.01, 0.99])
def test_roc_under_heavy_imbalance(p_pos, rng):
    assert_roc_equal(*binary_scored(rng, n=500, p_pos=p_pos, decimals=1))


def test_roc_with_all_scores_tied_is_the_diagonal():
    fpr, tpr, thr = metrics.roc_curve([0, 1, 1, 0], [0.5, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(fpr, [0, 1])
    np.testing.assert_array_equal(tpr, [0, 1])
    np.testing.assert_array_equal(thr, [np.inf, 0.5])
    assert metrics.roc_auc([0, 1, 1, 0], [0.5, 0.5, 0.5, 0.5]) == 0.5


def test_auc_is_the_probability_a_positive_outranks_a_negative(rng):
    y, s = binary_scored(rng, n=40, decimals=0)
    pos, neg = s[y == 1], s[y == 0]
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert metrics.roc_auc(y, s) == pytest.approx(pairs.mean(), abs=1e-12)


def test_auc_extremes():
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert metrics.roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0


@given(
    y=hnp.arrays(np.int64, st.integers(2, 30), elements=st.integers(0, 1)),
    data=st.data(),
)
def test_roc_properties_against_sklearn(y, data):
    assume(0 < y.sum() < y.size)
    scores = data.draw(
        hnp.arrays(np.float64, y.shape, elements=st.sampled_from([-1.0, 0.0, 0.25, 0.5, 3.0]))
    )
    assert_roc_equal(y, scores)
    fpr, tpr, _ = metrics.roc_curve(y, scores)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    # an increasing transform of the scores changes nothing; flipping them gives 1 - AUC
    assert metrics.roc_auc(y, np.exp(scores)) == pytest.approx(metrics.roc_auc(y, scores))
    assert metrics.roc_auc(y, -scores) == pytest.approx(1 - metrics.roc_auc(y, scores))


@given(
    y=hnp.arrays(np.int64, st.integers(1, 30), elements=st.integers(0, 3)),
    data=st.data(),
)
def test_classification_metrics_properties_against_sklearn(y, data):
    pred = data.draw(hnp.arrays(np.int64, y.shape, elements=st.integers(0, 3)))
    np.testing.assert_array_equal(
        metrics.confusion_matrix(y, pred, num_classes=4),
        skm.confusion_matrix(y, pred, labels=range(4)),
    )
    for average in ("macro", "micro"):
        ref = skm.precision_recall_fscore_support(y, pred, average=average, zero_division=0)
        np.testing.assert_allclose(metrics.precision_recall_f1(y, pred, average=average), ref[:3])


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [metrics.roc_curve, metrics.roc_auc])
def test_single_class_roc_is_refused(fn):
    with pytest.raises(ValueError, match=r"y_true holds only negative examples.*both classes"):
        fn([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"y_true holds only positive examples"):
        fn([1, 1], [0.1, 0.2])


@pytest.mark.parametrize("fn", [metrics.roc_curve, metrics.roc_auc])
def test_roc_bad_input(fn):
    with pytest.raises(ValueError, match=r"scores must have one entry per example, N=3"):
        fn([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"y_true must hold binary labels 0.*up to 2"):
        fn([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"scores contains NaN"):
        fn([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match=r"scores must be 1-D with shape \(N,\); got 2-D"):
        fn([0, 1], np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"y_true is empty"):
        fn([], [])


def test_label_errors():
    with pytest.raises(ValueError, match=r"y_pred must have one entry per example, N=3"):
        metrics.accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"y_pred must have one entry per example, N=3"):
        metrics.accuracy([0, 1, 1], np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"y_true is empty"):
        metrics.accuracy([], [])
    with pytest.raises(TypeError, match=r"y_pred must hold integer class labels; got dtype float"):
        metrics.confusion_matrix([0, 1], [0.0, 1.0])
    with pytest.raises(ValueError, match=r"y_true must hold labels >= 0"):
        metrics.confusion_matrix([-1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"y_pred must hold labels in \[0, 2\); got a largest"):
        metrics.confusion_matrix([0, 1], [0, 2], num_classes=2)
    with pytest.raises(ValueError, match=r"num_classes must be >= 1"):
        metrics.confusion_matrix([0], [0], num_classes=0)
    with pytest.raises(ValueError, match=r"y_true must be 1-D"):
        metrics.confusion_matrix(np.zeros((2, 1), dtype=int), [0, 1])
    with pytest.raises(TypeError, match=r"y_true must be a NumPy array, a list or a torch tensor"):
        metrics.accuracy("01", [0, 1])


def test_precision_recall_f1_errors():
    with pytest.raises(ValueError, match=r"average must be 'binary', 'macro' or 'micro'"):
        metrics.precision_recall_f1([0, 1], [0, 1], average="weighted")
    with pytest.raises(ValueError, match=r"average='binary' needs at most two classes"):
        metrics.precision_recall_f1([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match=r"pos_label=1 is not one of the labels \[0, 2\]"):
        metrics.precision_recall_f1([0, 2], [0, 2])
    with pytest.raises(ValueError, match=r"y_pred must have one entry per example"):
        metrics.precision_recall_f1([0, 1], [0, 1, 1], average="macro")
