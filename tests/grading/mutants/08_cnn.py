"""Plausible wrong answers for unit 08; each must lose its own exercise's points, only those."""

MUTANTS = {
    "conv2d_naive": {
        "flips the kernel (a true convolution, not cross-correlation)": """
def conv2d_naive(x, w, b, stride=1, pad=0, dilation=1):
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    OH = (H + 2 * pad - dilation * (KH - 1) - 1) // stride + 1
    OW = (W + 2 * pad - dilation * (KW - 1) - 1) // stride + 1
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F_, OH, OW), dtype=x.dtype)
    for n in range(N):
        for f in range(F_):
            for y in range(OH):
                for x_ in range(OW):
                    top, left = y * stride, x_ * stride
                    window = xpad[n, :, top:top + dilation * (KH - 1) + 1:dilation,
                                  left:left + dilation * (KW - 1) + 1:dilation]
                    out[n, f, y, x_] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]
    return out
""",
        "pads one side only": """
def conv2d_naive(x, w, b, stride=1, pad=0, dilation=1):
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    OH = (H + pad - dilation * (KH - 1) - 1) // stride + 1
    OW = (W + pad - dilation * (KW - 1) - 1) // stride + 1
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, 0), (pad, 0)))
    out = np.zeros((N, F_, OH, OW), dtype=x.dtype)
    for n in range(N):
        for f in range(F_):
            for y in range(OH):
                for x_ in range(OW):
                    top, left = y * stride, x_ * stride
                    window = xpad[n, :, top:top + dilation * (KH - 1) + 1:dilation,
                                  left:left + dilation * (KW - 1) + 1:dilation]
                    out[n, f, y, x_] = np.sum(window * w[f]) + b[f]
    return out
""",
        "output size off by one (forgot the + 1)": """
def conv2d_naive(x, w, b, stride=1, pad=0, dilation=1):
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    OH = (H + 2 * pad - dilation * (KH - 1) - 1) // stride
    OW = (W + 2 * pad - dilation * (KW - 1) - 1) // stride
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F_, OH, OW), dtype=x.dtype)
    for n in range(N):
        for f in range(F_):
            for y in range(OH):
                for x_ in range(OW):
                    top, left = y * stride, x_ * stride
                    window = xpad[n, :, top:top + dilation * (KH - 1) + 1:dilation,
                                  left:left + dilation * (KW - 1) + 1:dilation]
                    out[n, f, y, x_] = np.sum(window * w[f]) + b[f]
    return out
""",
        "window ignores the dilation (adjacent taps)": """
def conv2d_naive(x, w, b, stride=1, pad=0, dilation=1):
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    OH = (H + 2 * pad - dilation * (KH - 1) - 1) // stride + 1
    OW = (W + 2 * pad - dilation * (KW - 1) - 1) // stride + 1
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F_, OH, OW), dtype=x.dtype)
    for n in range(N):
        for f in range(F_):
            for y in range(OH):
                for x_ in range(OW):
                    top, left = y * stride, x_ * stride
                    window = xpad[n, :, top:top + KH, left:left + KW]
                    out[n, f, y, x_] = np.sum(window * w[f]) + b[f]
    return out
""",
    },
    "conv2d_forward": {
        "flattens the windows without moving C, KH, KW to the end": """
def conv2d_forward(x, w, b, stride=1, pad=0, dilation=1):
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_windows(xpad, KH, KW, stride, dilation)
    OH, OW = windows.shape[2], windows.shape[3]
    cols = windows.reshape(N * OH * OW, C * KH * KW)
    out = cols @ w.reshape(F_, C * KH * KW).T + b
    out = out.reshape(N, OH, OW, F_).transpose(0, 3, 1, 2)
    return out, (x, w, stride, pad, dilation)
""",
        "reshapes the result to (N, F, OH, OW) without the transpose": """
def conv2d_forward(x, w, b, stride=1, pad=0, dilation=1):
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_windows(xpad, KH, KW, stride, dilation)
    OH, OW = windows.shape[2], windows.shape[3]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * KH * KW)
    out = cols @ w.reshape(F_, C * KH * KW).T + b
    return out.reshape(N, F_, OH, OW), (x, w, stride, pad, dilation)
""",
        "flips the kernel": """
def conv2d_forward(x, w, b, stride=1, pad=0, dilation=1):
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_windows(xpad, KH, KW, stride, dilation)
    OH, OW = windows.shape[2], windows.shape[3]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * KH * KW)
    out = cols @ w[:, :, ::-1, ::-1].reshape(F_, C * KH * KW).T + b
    out = out.reshape(N, OH, OW, F_).transpose(0, 3, 1, 2)
    return out, (x, w, stride, pad, dilation)
""",
        "not vectorized: calls the loops": """
def conv2d_forward(x, w, b, stride=1, pad=0, dilation=1):
    return conv2d_naive(x, w, b, stride, pad, dilation), (x, w, stride, pad, dilation)
""",
        "swaps KH and KW (passed while every visible kernel was square)": """
def conv2d_forward(x, w, b, stride=1, pad=0, dilation=1):
    N, C, H, W = x.shape
    F_, _, KW, KH = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_windows(xpad, KH, KW, stride, dilation)
    OH, OW = windows.shape[2], windows.shape[3]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * KH * KW)
    out = cols @ w.reshape(F_, C * KH * KW).T + b
    out = out.reshape(N, OH, OW, F_).transpose(0, 3, 1, 2)
    return out, (x, w, stride, pad, dilation)
""",
    },
    "conv2d_backward": {
        "dw from the first image only (no sum over N)": """
def conv2d_backward(dout, cache):
    x, w, stride, pad, dilation = cache
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    OH, OW = dout.shape[2], dout.shape[3]
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxpad = np.zeros_like(xpad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(KH):
        rows = slice(i * dilation, i * dilation + stride * (OH - 1) + 1, stride)
        for j in range(KW):
            cols = slice(j * dilation, j * dilation + stride * (OW - 1) + 1, stride)
            patch = xpad[:, :, rows, cols]
            dw[:, :, i, j] = np.einsum("fyx,cyx->fc", dout[0], patch[0])
            dxpad[:, :, rows, cols] += np.einsum("nfyx,fc->ncyx", dout, w[:, :, i, j])
    return dxpad[:, :, pad:pad + H, pad:pad + W], dw, db
""",
        "dx with the flipped kernel": """
def conv2d_backward(dout, cache):
    x, w, stride, pad, dilation = cache
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    OH, OW = dout.shape[2], dout.shape[3]
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxpad = np.zeros_like(xpad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(KH):
        rows = slice(i * dilation, i * dilation + stride * (OH - 1) + 1, stride)
        for j in range(KW):
            cols = slice(j * dilation, j * dilation + stride * (OW - 1) + 1, stride)
            patch = xpad[:, :, rows, cols]
            dw[:, :, i, j] = np.einsum("nfyx,ncyx->fc", dout, patch)
            flipped = w[:, :, KH - 1 - i, KW - 1 - j]
            dxpad[:, :, rows, cols] += np.einsum("nfyx,fc->ncyx", dout, flipped)
    return dxpad[:, :, pad:pad + H, pad:pad + W], dw, db
""",
        "db is the mean instead of the sum": """
def conv2d_backward(dout, cache):
    x, w, stride, pad, dilation = cache
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    OH, OW = dout.shape[2], dout.shape[3]
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxpad = np.zeros_like(xpad)
    dw = np.zeros_like(w)
    db = dout.mean(axis=(0, 2, 3))
    for i in range(KH):
        rows = slice(i * dilation, i * dilation + stride * (OH - 1) + 1, stride)
        for j in range(KW):
            cols = slice(j * dilation, j * dilation + stride * (OW - 1) + 1, stride)
            patch = xpad[:, :, rows, cols]
            dw[:, :, i, j] = np.einsum("nfyx,ncyx->fc", dout, patch)
            dxpad[:, :, rows, cols] += np.einsum("nfyx,fc->ncyx", dout, w[:, :, i, j])
    return dxpad[:, :, pad:pad + H, pad:pad + W], dw, db
""",
        "dx assigned instead of accumulated over the taps": """
def conv2d_backward(dout, cache):
    x, w, stride, pad, dilation = cache
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    OH, OW = dout.shape[2], dout.shape[3]
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxpad = np.zeros_like(xpad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(KH):
        rows = slice(i * dilation, i * dilation + stride * (OH - 1) + 1, stride)
        for j in range(KW):
            cols = slice(j * dilation, j * dilation + stride * (OW - 1) + 1, stride)
            patch = xpad[:, :, rows, cols]
            dw[:, :, i, j] = np.einsum("nfyx,ncyx->fc", dout, patch)
            dxpad[:, :, rows, cols] = np.einsum("nfyx,fc->ncyx", dout, w[:, :, i, j])
    return dxpad[:, :, pad:pad + H, pad:pad + W], dw, db
""",
        "crops the padding at the end only": """
def conv2d_backward(dout, cache):
    x, w, stride, pad, dilation = cache
    N, C, H, W = x.shape
    F_, _, KH, KW = w.shape
    OH, OW = dout.shape[2], dout.shape[3]
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxpad = np.zeros_like(xpad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(KH):
        rows = slice(i * dilation, i * dilation + stride * (OH - 1) + 1, stride)
        for j in range(KW):
            cols = slice(j * dilation, j * dilation + stride * (OW - 1) + 1, stride)
            patch = xpad[:, :, rows, cols]
            dw[:, :, i, j] = np.einsum("nfyx,ncyx->fc", dout, patch)
            dxpad[:, :, rows, cols] += np.einsum("nfyx,fc->ncyx", dout, w[:, :, i, j])
    return dxpad[:, :, :H, :W], dw, db
""",
    },
    "maxpool2d_forward": {
        "average instead of maximum": """
def maxpool2d_forward(x, size=2, stride=None):
    stride = size if stride is None else stride
    windows = sliding_windows(x, size, size, stride)
    return windows.mean(axis=(4, 5)), (x, size, stride)
""",
        "ignores the stride (always steps by size)": """
def maxpool2d_forward(x, size=2, stride=None):
    windows = sliding_windows(x, size, size, size)
    return windows.max(axis=(4, 5)), (x, size, size if stride is None else stride)
""",
        "keeps stride=None in the cache": """
def maxpool2d_forward(x, size=2, stride=None):
    windows = sliding_windows(x, size, size, size if stride is None else stride)
    return windows.max(axis=(4, 5)), (x, size, stride)
""",
        "caches (x, stride, size) (passed while every visible pool had size == stride)": """
def maxpool2d_forward(x, size=2, stride=None):
    stride = size if stride is None else stride
    windows = sliding_windows(x, size, size, stride)
    return windows.max(axis=(4, 5)), (x, stride, size)
""",
    },
    "maxpool2d_backward": {
        "sends the gradient to every tied maximum": """
def maxpool2d_backward(dout, cache):
    x, size, stride = cache
    N, C, OH, OW = dout.shape
    windows = sliding_windows(x, size, size, stride)
    mask = windows == windows.max(axis=(4, 5), keepdims=True)
    dx = np.zeros_like(x)
    for i in range(size):
        for j in range(size):
            dx[:, :, i:i + stride * (OH - 1) + 1:stride, j:j + stride * (OW - 1) + 1:stride] += (
                mask[..., i, j] * dout)
    return dx
""",
        "dx[index] += dout does not add repeated indices": """
def maxpool2d_backward(dout, cache):
    x, size, stride = cache
    N, C, OH, OW = dout.shape
    windows = sliding_windows(x, size, size, stride).reshape(N, C, OH, OW, size * size)
    first = windows.argmax(axis=-1)
    di, dj = np.divmod(first, size)
    n, c, y, x_ = np.indices((N, C, OH, OW))
    dx = np.zeros_like(x)
    dx[n, c, y * stride + di, x_ * stride + dj] += dout
    return dx
""",
        "ties go to the last maximum": """
def maxpool2d_backward(dout, cache):
    x, size, stride = cache
    N, C, OH, OW = dout.shape
    windows = sliding_windows(x, size, size, stride).reshape(N, C, OH, OW, size * size)
    last = size * size - 1 - windows[..., ::-1].argmax(axis=-1)
    di, dj = np.divmod(last, size)
    n, c, y, x_ = np.indices((N, C, OH, OW))
    dx = np.zeros_like(x)
    np.add.at(dx, (n, c, y * stride + di, x_ * stride + dj), dout)
    return dx
""",
        "spreads the gradient evenly (average pooling's backward)": """
def maxpool2d_backward(dout, cache):
    x, size, stride = cache
    N, C, OH, OW = dout.shape
    dx = np.zeros_like(x)
    for i in range(size):
        for j in range(size):
            dx[:, :, i:i + stride * (OH - 1) + 1:stride, j:j + stride * (OW - 1) + 1:stride] += (
                dout / (size * size))
    return dx
""",
        "windows reshaped as (C, N, ...) (passed while every visible batch had N = C = 1)": """
def maxpool2d_backward(dout, cache):
    x, size, stride = cache
    N, C, OH, OW = dout.shape
    windows = sliding_windows(x, size, size, stride).reshape(C, N, OH, OW, size * size)
    first = windows.argmax(axis=-1)
    di, dj = np.divmod(first, size)
    n, c, y, x_ = np.indices((N, C, OH, OW))
    dx = np.zeros_like(x)
    np.add.at(dx, (n, c, y * stride + di, x_ * stride + dj), dout)
    return dx
""",
    },
}
