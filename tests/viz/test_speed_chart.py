"""Unit 13's speed chart: grouped bars of dlkit.speed.compare_backends's timings.

It must draw, for the chosen op, one bar per contender and batch size with the right
heights (seconds in a readable unit, or the ratio to torch), switch to a log axis, and say
clearly what is wrong with malformed rows.
"""

from __future__ import annotations

import pytest
from matplotlib.patches import Rectangle

from dlkit.viz import Explorer, SpeedChart
from tests.viz.layout import layout_problems


def _rows() -> list[dict]:
    return [
        {
            "op": op,
            "batch": n,
            "numpy_s": k * n * 1e-5,
            "dlkit_torch_s": k * n * 2e-5,
            "torch_s": n * 4e-5,
            "device": "cpu",
            "shape": "ignored",
        }  # fmt: skip
        for op, k in (("conv2d", 3.0), ("affine", 1.0))
        for n in (256, 16, 64)  # out of order: the chart sorts the batch sizes
    ]


def _bars(chart: SpeedChart) -> list[Rectangle]:
    return [p for p in chart.figure.axes[0].patches if isinstance(p, Rectangle)]


def test_it_is_an_explorer_with_op_scale_and_view_controls():
    chart = SpeedChart(_rows())
    assert isinstance(chart, Explorer)
    assert list(chart.controls) == ["op", "log scale", "view"]
    assert chart.controls["op"].options == ("conv2d", "affine")
    assert chart.values == {"op": "conv2d", "log scale": False, "view": "time"}
    assert SpeedChart(_rows(), op="affine").values["op"] == "affine"


def test_the_bars_are_the_times_of_the_chosen_op_by_batch_size():
    chart = SpeedChart(_rows())
    chart.update(op="affine")
    bars = _bars(chart)
    assert len(bars) == 9  # three contenders at three batch sizes
    heights = [b.get_height() for b in bars]  # microseconds: the smallest time is 160 us
    numpy_us = [n * 1e-5 * 1e6 for n in (16, 64, 256)]
    torch_us = [n * 4e-5 * 1e6 for n in (16, 64, 256)]
    assert heights[:3] == pytest.approx(numpy_us) and heights[6:] == pytest.approx(torch_us)
    ax = chart.figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["16", "64", "256"]
    assert "\u00b5s per call" in ax.get_ylabel() and ax.get_title().startswith("affine")
    assert "torch on cpu" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["dlkit on NumPy", "dlkit on torch", "torch"]


def test_the_ratio_view_divides_by_torchs_time():
    chart = SpeedChart(_rows())
    chart.update(view="ratio to torch")
    heights = [b.get_height() for b in _bars(chart)]
    assert heights[:3] == pytest.approx([0.75] * 3)  # conv2d: 3e-5 n over 4e-5 n
    assert heights[3:6] == pytest.approx([1.5] * 3) and heights[6:] == pytest.approx([1.0] * 3)
    assert chart.figure.axes[0].get_ylabel() == "time / torch's time"
    batches, table = chart.table("affine", "ratio to torch")
    assert batches == [16, 64, 256] and table["numpy_s"] == pytest.approx([0.25] * 3)


def test_the_log_scale_and_every_view_change_the_picture_and_keep_the_layout_clean():
    chart = SpeedChart(_rows())
    seen = set()
    for op in ("conv2d", "affine"):
        for log in (False, True):
            for view in ("time", "ratio to torch"):
                chart.update(op=op, view=view, **{"log scale": log})
                assert chart.figure.axes[0].get_yscale() == ("log" if log else "linear")
                assert layout_problems(chart.figure) == [], (op, log, view)
                seen.add(chart.fingerprint())
    assert len(seen) == 8


def test_each_scale_of_time_gets_its_unit():
    row = {"op": "affine", "batch": 1, "numpy_s": 3e-6, "dlkit_torch_s": 5e-6, "torch_s": 4e-6}
    assert "\u00b5s per call" in SpeedChart([row]).figure.axes[0].get_ylabel()
    mid = dict(row, numpy_s=2e-3, dlkit_torch_s=5e-3, torch_s=1e-3)
    assert "(ms per call)" in SpeedChart([mid]).figure.axes[0].get_ylabel()
    slow = dict(row, numpy_s=2.0, dlkit_torch_s=3.0, torch_s=1.5)
    assert "(s per call)" in SpeedChart([slow]).figure.axes[0].get_ylabel()


def test_the_real_rows_of_compare_backends_are_accepted():
    pytest.importorskip("torch")
    from dlkit.speed import compare_backends

    chart = SpeedChart(compare_backends(("affine",), (2, 4), repeats=1))
    assert len(_bars(chart)) == 6


@pytest.mark.parametrize(
    "rows, error, message",
    [
        ({"op": "affine"}, TypeError, "rows must be a list of dicts"),
        ([], ValueError, "rows is empty"),
        ([3], TypeError, r"rows\[0\] must be a dict; got int"),
        ([{"op": "affine", "batch": 2}], ValueError, r"rows\[0\] lacks \['numpy_s'"),
        ([dict(_rows()[0], batch=0)], ValueError, r"\['batch'\] must be a positive int"),
        ([dict(_rows()[0], op="")], ValueError, "must be a non-empty string"),
        ([dict(_rows()[0], torch_s=0.0)], ValueError, "'torch_s'] must be a positive number"),
        ([dict(_rows()[0], numpy_s=float("nan"))], ValueError, "positive number of seconds"),
        ([dict(_rows()[0], numpy_s="1 ms")], ValueError, "positive number of seconds"),
        ([_rows()[0], _rows()[0]], ValueError, "repeats op 'conv2d' at batch 256"),
    ],
)
def test_malformed_rows_are_refused_with_a_message(rows, error, message):
    with pytest.raises(error, match=message):
        SpeedChart(rows)


def test_an_unknown_op_to_start_with_is_refused():
    with pytest.raises(ValueError, match=r"op must be one of the rows' ops \['conv2d', 'affine'\]"):
        SpeedChart(_rows(), op="lstm")
