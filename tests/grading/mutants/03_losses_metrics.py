"""Plausible wrong answers for unit 03; each must lose its own exercise's points, only those."""

MUTANTS = {
    "mse_loss": {
        "sum instead of mean (no 1/size)": """
def mse_loss(pred, target):
    diff = pred - target
    return np.sum(diff ** 2), 2.0 * diff
""",
        "gradient without the factor 2": """
def mse_loss(pred, target):
    diff = pred - target
    return np.mean(diff ** 2), diff / diff.size
""",
        "divides the gradient by the rows N, not by all elements": """
def mse_loss(pred, target):
    diff = pred - target
    return np.mean(diff ** 2), 2.0 * diff / len(diff)
""",
        "residual target - pred in the gradient": """
def mse_loss(pred, target):
    diff = target - pred
    return np.mean(diff ** 2), 2.0 * diff / diff.size
""",
    },
    "huber_loss": {
        "residual pred + target": """
def huber_loss(pred, target, delta=1.0):
    r = pred + target
    a = np.abs(r)
    per = np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta))
    return np.mean(per), np.clip(r, -delta, delta) / r.size
""",
        "no 1/2 in the quadratic part": """
def huber_loss(pred, target, delta=1.0):
    r = pred - target
    a = np.abs(r)
    per = np.where(a <= delta, r ** 2, delta * (a - 0.5 * delta))
    return np.mean(per), np.clip(r, -delta, delta) / r.size
""",
        "linear part without - delta / 2": """
def huber_loss(pred, target, delta=1.0):
    r = pred - target
    a = np.abs(r)
    per = np.where(a <= delta, 0.5 * r ** 2, delta * a)
    return np.mean(per), np.clip(r, -delta, delta) / r.size
""",
        "gradient not clipped (MSE/2 gradient everywhere)": """
def huber_loss(pred, target, delta=1.0):
    r = pred - target
    a = np.abs(r)
    per = np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta))
    return np.mean(per), r / r.size
""",
        "delta ignored (always 1)": """
def huber_loss(pred, target, delta=1.0):
    r = pred - target
    a = np.abs(r)
    per = np.where(a <= 1.0, 0.5 * r ** 2, a - 0.5)
    return np.mean(per), np.clip(r, -1.0, 1.0) / r.size
""",
    },
    "softmax_cross_entropy": {
        "no max shift: overflows for huge logits": """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), y]))
    d = p.copy()
    d[np.arange(n), y] -= 1.0
    return loss, d / n
""",
        "gradient missing the 1/N": """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    s = logits - logits.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), y] -= 1.0
    return -np.mean(logp[np.arange(n), y]), d
""",
        "softmax over axis 0 (down the batch)": """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    s = logits - logits.max(axis=0, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=0, keepdims=True))
    d = np.exp(logp)
    d[np.arange(n), y] -= 1.0
    return -np.mean(logp[np.arange(n), y]), d / n
""",
        "subtracts 1 from every entry instead of the one-hot": """
def softmax_cross_entropy(logits, y):
    n = logits.shape[0]
    s = logits - logits.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -np.mean(logp[np.arange(n), y]), (np.exp(logp) - 1.0) / n
""",
    },
    "confusion_matrix": {
        "default size ignores a class seen only in y_true": """
def confusion_matrix(y_true, y_pred, num_classes=None):
    k = int(np.max(y_pred)) + 1 if num_classes is None else num_classes
    m = np.zeros((max(k, int(np.max(y_true)) + 1),) * 2, dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m[:k, :k]
""",
        "transposed (rows are predictions)": """
def confusion_matrix(y_true, y_pred, num_classes=None):
    if num_classes is None:
        num_classes = int(max(np.max(y_true), np.max(y_pred))) + 1
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (y_pred, y_true), 1)
    return m
""",
        "size from y_true only": """
def confusion_matrix(y_true, y_pred, num_classes=None):
    k = int(np.max(y_true)) + 1 if num_classes is None else num_classes
    m = np.zeros((max(k, int(np.max(y_pred)) + 1),) * 2, dtype=np.int64)
    np.add.at(m, (y_true, y_pred), 1)
    return m[:k, :k]
""",
        "fancy-index += drops repeated pairs": """
def confusion_matrix(y_true, y_pred, num_classes=None):
    if num_classes is None:
        num_classes = int(max(np.max(y_true), np.max(y_pred))) + 1
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    m[y_true, y_pred] += 1
    return m
""",
    },
    "precision_recall_f1": {
        "a denominator of 1 counted as 0 (den > 1)": """
def precision_recall_f1(y_true, y_pred, average="binary"):
    m = confusion_matrix(y_true, y_pred, num_classes=2 if average == "binary" else None)
    tp = np.diag(m).astype(float)
    fp, fn = m.sum(axis=0) - tp, m.sum(axis=1) - tp
    if average == "binary":
        tp, fp, fn = tp[1:], fp[1:], fn[1:]
    elif average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    elif average != "macro":
        raise ValueError(f"unknown average {average!r}")
    r = lambda a, b: np.divide(a, b, out=np.zeros_like(a), where=b > 1)
    return (float(r(tp, tp + fp).mean()), float(r(tp, tp + fn).mean()),
            float(r(2 * tp, 2 * tp + fp + fn).mean()))
""",
        "an unknown average quietly gives the macro one": """
def precision_recall_f1(y_true, y_pred, average="binary"):
    m = confusion_matrix(y_true, y_pred, num_classes=2 if average == "binary" else None)
    tp = np.diag(m).astype(float)
    fp, fn = m.sum(axis=0) - tp, m.sum(axis=1) - tp
    if average == "binary":
        tp, fp, fn = tp[1:], fp[1:], fn[1:]
    elif average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    r = lambda a, b: np.divide(a, b, out=np.zeros_like(a), where=b > 0)
    return (float(r(tp, tp + fp).mean()), float(r(tp, tp + fn).mean()),
            float(r(2 * tp, 2 * tp + fp + fn).mean()))
""",
        "precision and recall swapped (row and column sums)": """
def precision_recall_f1(y_true, y_pred, average="binary"):
    m = confusion_matrix(y_true, y_pred, num_classes=2 if average == "binary" else None)
    tp = np.diag(m).astype(float)
    fp, fn = m.sum(axis=1) - tp, m.sum(axis=0) - tp
    if average == "binary":
        tp, fp, fn = tp[1:], fp[1:], fn[1:]
    elif average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    r = lambda a, b: np.divide(a, b, out=np.zeros_like(a), where=b > 0)
    return (float(r(tp, tp + fp).mean()), float(r(tp, tp + fn).mean()),
            float(r(2 * tp, 2 * tp + fp + fn).mean()))
""",
        "macro computed like micro (pooled counts)": """
def precision_recall_f1(y_true, y_pred, average="binary"):
    m = confusion_matrix(y_true, y_pred, num_classes=2 if average == "binary" else None)
    tp = np.diag(m).astype(float)
    fp, fn = m.sum(axis=0) - tp, m.sum(axis=1) - tp
    if average == "binary":
        tp, fp, fn = tp[1:], fp[1:], fn[1:]
    else:
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    r = lambda a, b: np.divide(a, b, out=np.zeros_like(a), where=b > 0)
    return (float(r(tp, tp + fp).mean()), float(r(tp, tp + fn).mean()),
            float(r(2 * tp, 2 * tp + fp + fn).mean()))
""",
        "arithmetic mean for F1": """
def precision_recall_f1(y_true, y_pred, average="binary"):
    m = confusion_matrix(y_true, y_pred, num_classes=2 if average == "binary" else None)
    tp = np.diag(m).astype(float)
    fp, fn = m.sum(axis=0) - tp, m.sum(axis=1) - tp
    if average == "binary":
        tp, fp, fn = tp[1:], fp[1:], fn[1:]
    elif average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    r = lambda a, b: np.divide(a, b, out=np.zeros_like(a), where=b > 0)
    p, rec = r(tp, tp + fp), r(tp, tp + fn)
    return float(p.mean()), float(rec.mean()), float(((p + rec) / 2).mean())
""",
        "0/0 gives nan": """
def precision_recall_f1(y_true, y_pred, average="binary"):
    m = confusion_matrix(y_true, y_pred, num_classes=2 if average == "binary" else None)
    tp = np.diag(m).astype(float)
    fp, fn = m.sum(axis=0) - tp, m.sum(axis=1) - tp
    if average == "binary":
        tp, fp, fn = tp[1:], fp[1:], fn[1:]
    elif average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    with np.errstate(all="ignore"):
        p, rec, f1 = tp / (tp + fp), tp / (tp + fn), 2 * tp / (2 * tp + fp + fn)
    return float(p.mean()), float(rec.mean()), float(f1.mean())
""",
    },
    "roc_auc": {
        "ties count as losses (strict >)": """
def roc_auc(y_true, scores):
    pos, neg = scores[y_true == 1], scores[y_true == 0]
    return float(np.mean(pos[:, None] > neg[None, :]))
""",
        "ties count as wins (>=)": """
def roc_auc(y_true, scores):
    pos, neg = scores[y_true == 1], scores[y_true == 0]
    return float(np.mean(pos[:, None] >= neg[None, :]))
""",
        "negatives above positives (1 - AUC)": """
def roc_auc(y_true, scores):
    pos, neg = scores[y_true == 1], scores[y_true == 0]
    return float(np.mean((neg[:, None] > pos[None, :]) + 0.5 * (neg[:, None] == pos[None, :])))
""",
        "accuracy at threshold 0.5 instead of AUC": """
def roc_auc(y_true, scores):
    return float(np.mean((scores >= 0.5) == y_true))
""",
    },
}
