"""Wrong answers a student is likely to write for unit 08, and the hint each must get."""

_NAIVE = """
def conv2d_naive(x, w, b, stride=1, pad=0, dilation=1):
    N, C, H, W = x.shape
    F_, _, {kh}, {kw} = w.shape
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
                    out[n, f, y, x_] = np.sum(window * {kernel}){bias}
    return out
"""

_FORWARD = """
def conv2d_forward(x, w, b, stride=1, pad=0, dilation=1):
    N, C, H, W = x.shape
    F_, _, {kh}, {kw} = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_windows(xpad, KH, KW, stride, dilation)
    OH, OW = windows.shape[2], windows.shape[3]
    cols = windows{transpose}.reshape(N * OH * OW, C * KH * KW)
    out = cols @ w{flip}.reshape(F_, C * KH * KW).T + b
    out = {layout}
    return out, (x, w, stride, pad, dilation)
"""
_RIGHT_LAYOUT = "out.reshape(N, OH, OW, F_).transpose(0, 3, 1, 2)"
_STRAIGHT_LAYOUT = "out.reshape(N, F_, OH, OW)"
_TRANSPOSE = ".transpose(0, 2, 3, 1, 4, 5)"

_BACKWARD = """
def conv2d_backward(dout, cache):
    x, w, stride, pad, dilation = cache
    N, C, H, W = x.shape
    F_, _, {kh}, {kw} = w.shape
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
            dxpad[:, :, rows, cols] += np.einsum("nfyx,fc->ncyx", dout, w{flip}[:, :, i, j])
    return dxpad[:, :, pad:pad + H, pad:pad + W], dw, db
"""

CASES = {
    "conv2d_naive": [
        (
            "flips the kernel (the convolution of mathematics)",
            _NAIVE.format(kh="KH", kw="KW", kernel="w[f, :, ::-1, ::-1]", bias=" + b[f]"),
            "deep learning's convolution is a cross-correlation",
        ),
        (
            "uses the kernel transposed",
            _NAIVE.format(kh="KH", kw="KW", kernel="w[f].transpose(0, 2, 1)", bias=" + b[f]"),
            "kernel transposed",
        ),
        (
            "swaps KH and KW",
            _NAIVE.format(kh="KW", kw="KH", kernel="w[f]", bias=" + b[f]"),
            "KH = w.shape[2]",
        ),
    ],
    "conv2d_forward": [
        (
            "flattens the windows without moving C, KH, KW to the end",
            _FORWARD.format(kh="KH", kw="KW", transpose="", flip="", layout=_RIGHT_LAYOUT),
            "BEFORE reshaping",
        ),
        (
            "reshapes the product straight to (N, F, OH, OW)",
            _FORWARD.format(
                kh="KH", kw="KW", transpose=_TRANSPOSE, flip="", layout=_STRAIGHT_LAYOUT
            ),
            "straight to (N, F, OH, OW) scrambles",
        ),
        (
            "both layout steps missing",
            _FORWARD.format(kh="KH", kw="KW", transpose="", flip="", layout=_STRAIGHT_LAYOUT),
            "two steps of the layout are missing",
        ),
        (
            "swaps KH and KW",
            _FORWARD.format(kh="KW", kw="KH", transpose=_TRANSPOSE, flip="", layout=_RIGHT_LAYOUT),
            "swap KH and KW",
        ),
        (
            "flips the kernel",
            _FORWARD.format(
                kh="KH",
                kw="KW",
                transpose=_TRANSPOSE,
                flip="[:, :, ::-1, ::-1]",
                layout=_RIGHT_LAYOUT,
            ),
            "flipped the kernel",
        ),
    ],
    "conv2d_backward": [
        (
            "swaps KH and KW",
            _BACKWARD.format(kh="KW", kw="KH", flip=""),
            "KH = w.shape[2] (2 rows)",
        ),
        (
            "dw stored at the flipped tap",
            _BACKWARD.format(kh="KH", kw="KW", flip="").replace(
                "dw[:, :, i, j] =", "dw[:, :, KH - 1 - i, KW - 1 - j] ="
            ),
            "turned by 180 degrees",
        ),
        (
            "dx with the flipped kernel",
            _BACKWARD.format(kh="KH", kw="KW", flip="[:, :, ::-1, ::-1]"),
            "dx used the flipped kernel",
        ),
    ],
    "maxpool2d_forward": [
        (
            "swaps size and stride in the windows",
            """
def maxpool2d_forward(x, size=2, stride=None):
    stride = size if stride is None else stride
    out = sliding_windows(x, stride, stride, size).max(axis=(4, 5))
    return out, (x, size, stride)
""",
            "swapped size",
        ),
        (
            "stores the cache as (x, stride, size)",
            """
def maxpool2d_forward(x, size=2, stride=None):
    stride = size if stride is None else stride
    out = sliding_windows(x, size, size, stride).max(axis=(4, 5))
    return out, (x, stride, size)
""",
            "(x, size, stride) in this order",
        ),
    ],
}
