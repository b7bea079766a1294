"""Unit 10's widgets: attention heatmaps and the query/key playground.

The playground runs the student's attention and names the usual slips (a missing 1/sqrt(d),
a softmax over the query axis, an ignored mask); the heatmaps collect every attention layer of
a model and refuse weights that are not softmax rows.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.text import Text

from dlkit import nn
from dlkit.viz import AttentionHeatmaps, QueryKeyPlayground
from dlkit.viz.attention import MATCH, attention_layers
from tests.viz.conftest import Spy


def _texts(explorer) -> str:
    return "\n".join(t.get_text() for t in explorer.figure.findobj(Text))


def _softmax(s: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _student(scale: bool = True, axis: int = -1, use_mask: bool = True):
    def attention(q, k, v, mask=None):
        s = q @ k.T / (np.sqrt(q.shape[-1]) if scale else 1.0)
        if mask is not None and use_mask:
            s = np.where(mask, s, -1e30)
        w = _softmax(s, axis)
        return w @ v, (q, k, v, w)

    return attention


def _weights(shape, seed=0) -> np.ndarray:
    return _softmax(np.random.default_rng(seed).standard_normal(shape) * 2.0)


# -- QueryKeyPlayground -------------------------------------------------------------------


def test_dlkits_attention_matches_and_the_figure_says_so():
    spy = Spy(QueryKeyPlayground().attention)
    p = QueryKeyPlayground(spy)
    assert p.compute()["matches"] and MATCH in _texts(p)
    q, k, v = spy.calls[0][:3]
    assert q.shape == (3, 2) and k.shape == (5, 2) and np.array_equal(v, np.eye(5))
    r = p.compute(angle=0.0, length=2.0, sharpness=1.0)
    s = np.array([2.0, 0.0]) @ p.keys.T / np.sqrt(2)
    np.testing.assert_allclose(r["weights"], _softmax(s), atol=1e-12)
    np.testing.assert_allclose(r["out"], r["weights"] @ p.values_, atol=1e-12)


def test_the_masked_key_gets_weight_zero_and_the_mask_reaches_the_student():
    spy = Spy(_student())
    p = QueryKeyPlayground(spy)
    p.update(mask="c")
    r = p.compute(**p.values)
    assert r["weights"][2] == 0.0 and r["matches"]
    assert np.isclose(r["weights"].sum(), 1.0)
    mask = spy.kwargs[-1]["mask"]
    assert mask.shape == (3, 5) and mask.dtype == bool and not mask[:, 2].any()
    assert "c (masked)" in _texts(p)


@pytest.mark.parametrize(
    "student, hint",
    [
        (_student(scale=False), "missing 1/sqrt(d)?"),
        (_student(axis=0), "softmax over the query axis?"),
    ],
    ids=["no-scale", "query-axis"],
)
def test_a_wrong_attention_gets_its_specific_hint(student, hint):
    p = QueryKeyPlayground(student)
    r = p.compute()
    assert not r["matches"] and hint in r["hint"]
    assert hint in _texts(p)
    assert hint in p.compute(length=0.0)["hint"]  # the probes diagnose a zero query too


def test_an_ignored_mask_is_named():
    p = QueryKeyPlayground(_student(use_mask=False))
    assert p.compute()["matches"]
    assert "ignore the mask" in p.compute(mask="a")["hint"]


def test_controls_change_the_playground_and_colours_work():
    p = QueryKeyPlayground(values=np.random.default_rng(0).uniform(size=(5, 3)))
    before = p.fingerprint()
    for change in ({"angle": -90.0}, {"length": 3.0}, {"sharpness": 5.0}, {"mask": "e"}):
        p.update(**change)
        assert p.fingerprint() != before, change
        before = p.fingerprint()
    assert p.compute(length=3.0, sharpness=10.0)["weights"].max() > 0.99  # sharper: one-hot


def test_playground_bad_inputs_raise_clear_errors():
    with pytest.raises(TypeError, match="attention must be a function"):
        QueryKeyPlayground(attention=3)
    with pytest.raises(ValueError, match=r"keys must have shape \(Tk, 2\)"):
        QueryKeyPlayground(keys=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"values must have shape \(Tk,\)"):
        QueryKeyPlayground(values=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"must return \(out, cache\)"):
        QueryKeyPlayground(lambda q, k, v, mask=None: q @ k.T @ v)
    with pytest.raises(ValueError, match="attention's out for v = identity"):
        QueryKeyPlayground(lambda q, k, v, mask=None: (q, None))


# -- AttentionHeatmaps ----------------------------------------------------------------------


def test_heatmaps_from_a_model_collect_every_attention_layer():
    rng = np.random.default_rng(0)
    model = nn.Seq2SeqTransformer(10, 12, 8, 2, 16, 2, 8, rng=rng)
    names = [name for name, _ in attention_layers(model)]
    assert names == [
        "encoder.0.attn", "encoder.1.attn", "decoder.0.self_attn", "decoder.0.cross_attn",
        "decoder.1.self_attn", "decoder.1.cross_attn",
    ]  # fmt: skip
    src, tgt = rng.integers(0, 10, (3, 6)), rng.integers(0, 12, (3, 4))
    h = AttentionHeatmaps(model=model, inputs=(src, tgt), tokens="abcdef", query_tokens="WXYZ")
    assert list(h.weights) == names
    shapes = {name: w.shape for name, w in h.weights.items()}
    assert shapes["encoder.0.attn"] == (3, 2, 6, 6)
    assert shapes["decoder.1.self_attn"] == (3, 2, 4, 4)
    assert shapes["decoder.0.cross_attn"] == (3, 2, 4, 6)
    assert h.labels("decoder.0.cross_attn") == (list("WXYZ"), list("abcdef"))
    assert h.labels("encoder.1.attn") == (list("abcdef"), list("abcdef"))
    causal = h.weights["decoder.0.self_attn"]
    assert np.all(np.triu(causal[0, 0], k=1) == 0)  # the decoder's self-attention is causal
    assert h.controls["example"].max == 2 and h.controls["head"].options == (
        "all",
        "mean",
        "0",
        "1",
    )


def test_heatmap_controls_change_the_figure_and_titles_do_not_overlap():
    block = nn.TransformerBlock(8, 4, 16, rng=np.random.default_rng(1))
    x = np.random.default_rng(2).standard_normal((2, 5, 8)) * 3.0
    h = AttentionHeatmaps(model=block, inputs=x, tokens=["the", "cat", "sat", "on", "$x"])
    assert list(h.weights) == ["attn"]
    before = h.fingerprint()
    for change in ({"head": "mean"}, {"head": "2"}, {"example": 1}, {"head": "all"}):
        h.update(**change)
        assert h.fingerprint() != before, change
        before = h.fingerprint()
    assert len([ax for ax in h.figure.axes if ax.images]) == 4  # one panel per head
    renderer = h.figure.canvas.get_renderer()
    boxes = [ax.title.get_window_extent(renderer) for ax in h.figure.axes if ax.get_title()]
    boxes.append(h.figure._suptitle.get_window_extent(renderer))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), "two titles overlap"


def test_heatmaps_from_arrays_accept_lists_dicts_and_empty_rows():
    w = _weights((2, 3, 4, 4))
    w[:, :, 0] = 0.0  # a query with no allowed key
    h = AttentionHeatmaps([w, w[:, :, :, ::-1]], layer_names=["first", "second"])
    assert list(h.weights) == ["first", "second"]
    h.update(layer="second", head="1")
    assert "second" in _texts(h)
    one = AttentionHeatmaps({"only": _weights((4, 6))})  # (Tq, Tk): one example, one head
    assert one.weights["only"].shape == (1, 1, 4, 6) and "example" not in one.controls


def test_heatmaps_bad_inputs_raise_clear_errors():
    w = _weights((1, 2, 3, 3))
    with pytest.raises(TypeError, match="either weights .* or model and inputs"):
        AttentionHeatmaps()
    with pytest.raises(TypeError, match="model needs inputs"):
        AttentionHeatmaps(model=nn.TransformerBlock(4, 2, 8, rng=np.random.default_rng(0)))
    with pytest.raises(ValueError, match="holds no MultiHeadAttention"):
        AttentionHeatmaps(model=nn.Linear(2, 2, rng=np.random.default_rng(0)), inputs=w)
    with pytest.raises(ValueError, match=r"rows must sum to 1 over the keys .* sums to 2"):
        AttentionHeatmaps([2 * w])
    with pytest.raises(ValueError, match="must be >= 0"):
        AttentionHeatmaps([w - w.max()])
    with pytest.raises(ValueError, match=r"must have shape \(N, heads, Tq, Tk\)"):
        AttentionHeatmaps([w[0, 0, 0]])
    with pytest.raises(ValueError, match="same N .* and heads"):
        AttentionHeatmaps([w, _weights((1, 3, 3, 3))])
    with pytest.raises(ValueError, match="tokens has 5 entries, which fits no layer"):
        AttentionHeatmaps([w], tokens="abcde")
    with pytest.raises(ValueError, match="layer_names must have one name per layer"):
        AttentionHeatmaps([w], layer_names=["a", "b"])
