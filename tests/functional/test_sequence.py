"""dlkit.functional sequence_cross_entropy, clip_grad_norm and sample."""

from __future__ import annotations

import numpy as np
import pytest

import dlkit.functional as F
from dlkit.testing import check_gradient

from ._reference import expect_like


def _batch(rng, n=3, t=5, v=6):
    logits = 2 * rng.standard_normal((n, t, v))
    targets = rng.integers(0, v, (n, t))
    mask = np.ones((n, t), dtype=bool)
    mask[0, 3:], mask[2, 1:] = False, False  # padded tails
    return logits, targets, mask


def test_masked_positions_count_nothing(rng):
    logits, targets, mask = _batch(rng)
    loss, dlogits = F.sequence_cross_entropy(logits, targets, mask)
    assert np.all(dlogits[~mask] == 0)
    changed = logits.copy()
    changed[~mask] = rng.standard_normal((int((~mask).sum()), 6)) * 100
    changed[0, 4] = np.nan  # even NaN at padding changes nothing
    targets2 = targets.copy()
    targets2[~mask] = -100
    loss2, dlogits2 = F.sequence_cross_entropy(changed, targets2, mask.astype(int))
    assert float(loss2) == pytest.approx(float(loss), rel=1e-12)
    np.testing.assert_array_equal(dlogits2, dlogits)

    def f(z):
        return F.sequence_cross_entropy(z, targets, mask)[0]

    check_gradient(f, logits.copy(), dlogits, name="dlogits")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch_cross_entropy_with_ignore_index(torch, device, rng, dtype):
    logits_np, targets_np, mask_np = _batch(rng)
    tdtype = getattr(torch, dtype)
    ref_logits = torch.tensor(logits_np, dtype=tdtype, device=device, requires_grad=True)
    ignore = torch.tensor(np.where(mask_np, targets_np, -100), device=device)
    ref = torch.nn.functional.cross_entropy(
        ref_logits.reshape(-1, 6), ignore.reshape(-1), ignore_index=-100
    )
    ref.backward()
    loss, dlogits = F.sequence_cross_entropy(
        ref_logits.detach().clone(),
        torch.tensor(targets_np, device=device),
        torch.tensor(mask_np, device=device),
    )
    expect_like(loss, ref)
    expect_like(dlogits, ref_logits.grad)


def test_sequence_loss_bad_input(rng):
    logits, targets, mask = _batch(rng)
    with pytest.raises(ValueError, match=r"mask has no True"):
        F.sequence_cross_entropy(logits, targets, np.zeros_like(mask))
    with pytest.raises(ValueError, match=r"targets must have shape \(N, T\) = \(3, 5\)"):
        F.sequence_cross_entropy(logits, targets[:, :4], mask)
    with pytest.raises(TypeError, match=r"targets must hold integers"):
        F.sequence_cross_entropy(logits, targets.astype(float), mask)
    with pytest.raises(ValueError, match=r"mask must have shape \(N, T\) = \(3, 5\)"):
        F.sequence_cross_entropy(logits, targets, mask[:2])
    with pytest.raises(ValueError, match=r"mask must hold only"):
        F.sequence_cross_entropy(logits, targets, mask * 2)
    with pytest.raises(ValueError, match=r"logits must be 3-D"):
        F.sequence_cross_entropy(logits[0], targets, mask)
    bad = targets.copy()
    bad[1, 0] = 6
    with pytest.raises(ValueError, match=r"targets must be in \[0, 6\) at unmasked"):
        F.sequence_cross_entropy(logits, bad, mask)


# -- gradient clipping ---------------------------------------------------------------------


@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(torch, device, rng, max_norm):
    grads_np = [rng.standard_normal(s) for s in [(3, 4), (4,), (2, 2, 2)]]
    params = [torch.zeros(g.shape, dtype=torch.float64, device=device, requires_grad=True)
              for g in grads_np]  # fmt: skip
    for p, g in zip(params, grads_np, strict=True):
        p.grad = torch.tensor(g, device=device)
    ref_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    grads = [torch.tensor(g, device=device) for g in grads_np]
    clipped, norm = F.clip_grad_norm(grads, max_norm)
    expect_like(norm, ref_norm)
    for c, p in zip(clipped, params, strict=True):
        expect_like(c, p.grad)
    for g, g_np in zip(grads, grads_np, strict=True):  # the inputs are untouched
        np.testing.assert_array_equal(g.cpu().numpy(), g_np)


def test_clip_grad_norm_numpy(rng):
    grads = [rng.standard_normal((3, 4)).astype(np.float32), None, np.ones(4, np.float32)]
    total = np.sqrt(np.sum(grads[0] ** 2) + 4)
    clipped, norm = F.clip_grad_norm(grads, 1.0)
    assert float(norm) == pytest.approx(total, rel=1e-6) and clipped[1] is None
    assert clipped[0].dtype == np.float32
    new = np.sqrt(np.sum(clipped[0] ** 2) + np.sum(clipped[2] ** 2))
    assert new == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(ValueError, match=r"max_norm must be > 0"):
        F.clip_grad_norm(grads, 0.0)
    with pytest.raises(TypeError, match=r"grads must be a list"):
        F.clip_grad_norm(grads[0], 1.0)


# -- sampling ------------------------------------------------------------------------------


def test_sample_is_reproducible_and_follows_the_softmax():
    logits = np.array([1.0, 0.0, -1.0, 2.0, 0.5])
    first = F.sample(np.tile(logits, (20000, 1)), 1.0, np.random.default_rng(7))
    again = F.sample(np.tile(logits, (20000, 1)), 1.0, np.random.default_rng(7))
    np.testing.assert_array_equal(first, again)
    assert first.shape == (20000,) and first.dtype == np.int64
    p = np.exp(logits) / np.exp(logits).sum()
    counts = np.bincount(first, minlength=5)
    chi2 = np.sum((counts - 20000 * p) ** 2 / (20000 * p))
    assert chi2 < 25, (counts, 20000 * p)  # 4 degrees of freedom: P(chi2 > 25) ~ 5e-5
    hot = F.sample(np.tile(logits, (20000, 1)), 2.0, np.random.default_rng(1))
    assert np.bincount(hot, minlength=5)[3] < counts[3]  # higher temperature: flatter


def test_sample_temperature_to_zero_is_argmax(rng):
    logits = rng.standard_normal((50, 9))
    ids = F.sample(logits, 1e-6, rng)
    np.testing.assert_array_equal(ids, logits.argmax(axis=1))
    assert F.sample(np.array([0.0, 3.0, 1.0]), 1e-8, rng) == 1


def test_sample_on_torch(torch, device, rng):
    logits = torch.tensor(rng.standard_normal((4, 6)), device=device)
    ids = F.sample(logits, 0.7, np.random.default_rng(3))
    assert ids.device == logits.device and ids.dtype == torch.int64 and ids.shape == (4,)
    same = F.sample(logits.cpu().numpy(), 0.7, np.random.default_rng(3))
    np.testing.assert_array_equal(ids.cpu().numpy(), same)
    gen = torch.Generator(device=device).manual_seed(0)
    a = F.sample(logits, 1.0, gen)
    b = F.sample(logits, 1.0, torch.Generator(device=device).manual_seed(0))
    assert torch.equal(a, b)


def test_sample_bad_input(rng):
    with pytest.raises(ValueError, match=r"temperature must be a finite number > 0"):
        F.sample(np.zeros(3), 0.0, rng)
    with pytest.raises(TypeError, match=r"rng must be a np.random.Generator"):
        F.sample(np.zeros(3), 1.0)
    with pytest.raises(ValueError, match=r"logits must have shape \(\.\.\., V\)"):
        F.sample(np.zeros((2, 0)), 1.0, rng)
