"""Wrong answers a student is likely to write for unit 03_losses_metrics, and the hint each
must get."""

CASES = {
    # answer cell grade_id -> list of (description, full answer-cell source, hint substring)
    "huber_loss": [
        (
            "residual pred + target",
            """
def huber_loss(pred, target, delta=1.0):
    r = pred + target
    abs_r = np.abs(r)
    per_element = np.where(abs_r <= delta, 0.5 * r ** 2, delta * (abs_r - 0.5 * delta))
    return np.mean(per_element), np.clip(r, -delta, delta) / r.size
""",
            "the residual is pred - target",
        ),
        (
            "gradient not clipped outside delta",
            """
def huber_loss(pred, target, delta=1.0):
    r = pred - target
    abs_r = np.abs(r)
    per_element = np.where(abs_r <= delta, 0.5 * r ** 2, delta * (abs_r - 0.5 * delta))
    return np.mean(per_element), r / r.size
""",
            "clip it",
        ),
    ],
    "confusion_matrix": [
        (
            "default size ignores a class seen only in y_true",
            """
def confusion_matrix(y_true, y_pred, num_classes=None):
    if num_classes is None:
        num_classes = int(np.max(y_pred)) + 1
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m
""",
            "class 2 occurs in y_true",
        ),
        (
            "default size from the smaller of the two maxima",
            """
def confusion_matrix(y_true, y_pred, num_classes=None):
    if num_classes is None:
        num_classes = int(min(np.max(y_true), np.max(y_pred))) + 1
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m
""",
            "y_true AND y_pred",
        ),
        (
            "default size from y_true only",
            """
def confusion_matrix(y_true, y_pred, num_classes=None):
    if num_classes is None:
        num_classes = int(np.max(y_true)) + 1
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m
""",
            "class 3 is predicted",
        ),
    ],
    "precision_recall_f1": [
        (
            "a denominator of 1 treated as 0",
            """
def precision_recall_f1(y_true, y_pred, average="binary"):
    k = 2 if average == "binary" else None
    m = confusion_matrix(y_true, y_pred, num_classes=k)
    tp = np.diag(m).astype(float)
    fp = m.sum(axis=0) - tp
    fn = m.sum(axis=1) - tp
    if average == "binary":
        tp, fp, fn = tp[1:], fp[1:], fn[1:]
    elif average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    elif average != "macro":
        raise ValueError(f"average must be 'binary', 'macro' or 'micro'; got {average!r}")

    def ratio(num, den):
        return np.divide(num, den, out=np.zeros_like(num), where=den > 1)

    return (float(ratio(tp, tp + fp).mean()), float(ratio(tp, tp + fn).mean()),
            float(ratio(2 * tp, 2 * tp + fp + fn).mean()))
""",
            "only a denominator of 0 counts as 0",
        ),
        (
            "an unknown average quietly gives the macro one",
            """
def precision_recall_f1(y_true, y_pred, average="binary"):
    k = 2 if average == "binary" else None
    m = confusion_matrix(y_true, y_pred, num_classes=k)
    tp = np.diag(m).astype(float)
    fp = m.sum(axis=0) - tp
    fn = m.sum(axis=1) - tp
    if average == "binary":
        tp, fp, fn = tp[1:], fp[1:], fn[1:]
    elif average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)

    def ratio(num, den):
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    return (float(ratio(tp, tp + fp).mean()), float(ratio(tp, tp + fn).mean()),
            float(ratio(2 * tp, 2 * tp + fp + fn).mean()))
""",
            "must raise a ValueError",
        ),
    ],
}
