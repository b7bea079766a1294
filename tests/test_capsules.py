"""dlkit.capsules: squash by hand, routing by agreement, and the toy parts problem."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from dlkit import capsules as caps


def test_squash_by_hand():
    s = np.array([3.0, 4.0])  # |s| = 5, |s|^2 = 25
    v = caps.squash(s)
    np.testing.assert_allclose(np.linalg.norm(v), 25 / 26, rtol=1e-9)
    np.testing.assert_allclose(v, 25 / 26 * np.array([0.6, 0.8]), rtol=1e-9)


def test_squash_length_and_direction():
    rng = np.random.default_rng(0)
    s = rng.standard_normal((6, 4)) * rng.uniform(0.01, 10, size=(6, 1))
    v = caps.squash(s)
    sq = (s * s).sum(axis=1)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), sq / (1 + sq), rtol=1e-7)
    cos = (v * s).sum(1) / np.linalg.norm(v, axis=1) / np.linalg.norm(s, axis=1)
    np.testing.assert_allclose(cos, 1.0, rtol=1e-12)
    assert np.all(np.linalg.norm(v, axis=1) < 1)
    # the misconception |s| / (1 + |s|) instead of |s|^2 / (1 + |s|^2) is far off
    norm = np.sqrt(sq)
    assert not np.allclose(np.linalg.norm(v, axis=1), norm / (1 + norm))


def test_squash_of_zero_is_zero_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = caps.squash(np.zeros((3, 5)))
    np.testing.assert_array_equal(v, 0.0)


def test_squash_axis():
    s = np.random.default_rng(1).standard_normal((4, 3, 5))
    v0 = caps.squash(s, axis=0)
    np.testing.assert_allclose(v0, np.moveaxis(caps.squash(np.moveaxis(s, 0, -1)), -1, 0))
    np.testing.assert_allclose(caps.squash(s, axis=1), caps.squash(s, axis=-2))
    assert not np.allclose(v0, caps.squash(s))


def test_squash_works_on_torch(torch):
    s = np.random.default_rng(2).standard_normal((3, 4))
    np.testing.assert_allclose(caps.squash(torch.tensor(s)).numpy(), caps.squash(s), rtol=1e-14)


def test_routing_couplings_are_a_softmax_over_the_upper_capsules():
    u_hat = np.random.default_rng(3).standard_normal((7, 3, 4))
    r = caps.routing_by_agreement(u_hat, 4)
    assert r.v.shape == (3, 4) and r.c.shape == (7, 3) and r.b.shape == (7, 3)
    np.testing.assert_allclose(r.c.sum(axis=1), 1.0, rtol=1e-12)
    assert len(r.history) == 4
    np.testing.assert_allclose(r.history[-1]["c"], r.c)
    np.testing.assert_allclose(r.history[0]["c"], 1 / 3)


def test_routing_one_iteration_is_uniform():
    u_hat = np.random.default_rng(4).standard_normal((5, 2, 3))
    r = caps.routing_by_agreement(u_hat, 1)
    np.testing.assert_allclose(r.c, 0.5)
    np.testing.assert_allclose(r.v, caps.squash(u_hat.sum(axis=0) / 2), rtol=1e-12)
    np.testing.assert_allclose(r.b, np.einsum("ijd,jd->ij", u_hat, r.v), rtol=1e-12)


def test_routing_by_hand_two_rounds():
    u_hat = np.random.default_rng(5).standard_normal((4, 2, 3))
    c = np.full((4, 2), 0.5)
    v = caps.squash(np.einsum("ij,ijd->jd", c, u_hat))
    b = np.einsum("ijd,jd->ij", u_hat, v)
    c = np.exp(b) / np.exp(b).sum(1, keepdims=True)
    v = caps.squash(np.einsum("ij,ijd->jd", c, u_hat))
    r = caps.routing_by_agreement(u_hat, 2)
    np.testing.assert_allclose(r.c, c, rtol=1e-12)
    np.testing.assert_allclose(r.v, v, rtol=1e-12)


def test_agreement_raises_coupling():
    # parts 0-2 agree on whole 0's pose and disagree about whole 1; part 3 agrees with nobody
    pose = np.array([2.0, 0.0])
    u_hat = np.array(
        [
            [pose, [0.0, -2.0]],
            [pose, [0.0, 2.0]],
            [pose, [-2.0, 0.0]],
            [[0.0, -2.0], pose],
        ]
    )
    r = caps.routing_by_agreement(u_hat, 3)
    assert np.all(r.c[:3, 0] > 0.9)
    np.testing.assert_allclose(r.history[0]["c"], 0.5)
    assert np.all(np.diff([h["c"][0, 0] for h in r.history]) > 0)


def test_routing_uses_the_given_squash():
    calls = []

    def my_squash(s):
        calls.append(s.shape)
        return caps.squash(s)

    caps.routing_by_agreement(np.ones((3, 2, 4)), 3, squash=my_squash)
    assert calls == [(2, 4)] * 3


def test_toy_parts_concentrates_coupling_on_the_agreeing_parts():
    inlier, outlier, present, absent = [], [], [], []
    for seed in range(20):
        p = caps.toy_parts(rng=np.random.default_rng(seed))
        assert p.u_hat.shape == (18, 3, 16) and p.poses.shape == (3, 16)
        assert np.bincount(p.owner + 1).tolist() == [6, 6, 6]
        r = caps.routing_by_agreement(p.u_hat, 3)
        parts = np.flatnonzero(p.owner >= 0)
        inlier.append(r.c[parts, p.owner[parts]].mean())
        outlier.append(r.c[p.owner < 0, :2].mean())
        lengths = np.linalg.norm(r.v, axis=1)
        present.append(lengths[:2].mean())
        absent.append(lengths[2])
    assert np.mean(inlier) > 0.55 > 1 / 3 > np.mean(outlier)
    assert np.mean(present) > 0.9 and np.mean(absent) < 0.75


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: caps.squash(np.ones(3), axis=1), "axis"),
        (lambda: caps.squash(np.ones(3, dtype=int)), "s"),
        (lambda: caps.squash(np.ones(3), eps=0.0), "eps"),
        (lambda: caps.routing_by_agreement(np.ones((3, 2))), "u_hat"),
        (lambda: caps.routing_by_agreement(np.ones((3, 2, 2)), 0), "iterations"),
        (lambda: caps.routing_by_agreement(np.ones((3, 2, 2)), squash=1), "squash"),
        (lambda: caps.toy_parts((3,), rng=np.random.default_rng()), "parts_per_whole"),
        (lambda: caps.toy_parts(n_outliers=-1, rng=np.random.default_rng()), "n_outliers"),
        (lambda: caps.toy_parts(rng=1), "rng"),
        (lambda: caps.toy_parts(noise=-1.0, rng=np.random.default_rng()), "noise"),
    ],
)
def test_argument_errors_name_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()
