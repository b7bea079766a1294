"""A layout check for widget figures: no text on text, no legend or caption on data.

:func:`layout_problems` renders a figure with Agg (``fig.canvas.draw()``) and measures, in
display pixels (``get_window_extent``), every piece of text a student reads:

* axes titles, axis labels and the tick labels matplotlib draws, of every visible axes;
* the suptitle and figure texts (captions), figure and axes legends;
* texts placed inside an axes (``ax.text``, ``ax.annotate``).

It reports, as one sentence each:

* text outside the figure (cut off in the PNG);
* two texts that overlap, where they belong to different axes, are of different kinds
  (a title on a tick label), or are tick labels of one axis drawn on each other;
* a legend or caption on another axes' text, or a figure-level caption on an axes;
* a legend or an in-axes text that covers plotted data: the points of each line (densified
  along its segments), of each collection (scatter points, contour lines) and the corners
  of each bar are transformed to display coordinates and counted inside the text's box
  (artists at ``zorder <= 0`` are background: zero lines, grids, shaded regions);
  more than :data:`DATA_TOLERANCE` of an artist's points, and at least
  :data:`MIN_POINTS` of them, is a problem. Images count too (a legend on a heatmap).

An overlap that is the point of the picture (a value written on its heatmap cell) is
exempted by the widget itself: it calls ``artist.set_gid(OVER_DATA)`` on that text, with a
comment saying why, and the check then ignores that text's overlap with data (never its
overlap with other text, nor leaving the figure).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from dlkit.viz.explorer import OVER_DATA

__all__ = ["layout_problems", "OVER_DATA", "DATA_TOLERANCE", "MIN_POINTS"]

DATA_TOLERANCE = 0.01  # fraction of an artist's points a legend may cover
MIN_POINTS = 3  # ... and at least this many covered points make it a problem
_SLACK = 1.0  # pixels: boxes that merely touch do not overlap
_STEP = 3.0  # pixels between the points sampled along a line segment


@dataclass(frozen=True)
class Item:
    """A piece of text (or a legend box) in the figure, where it is and what owns it."""

    kind: str  # title, xlabel, ylabel, xtick, ytick, suptitle, caption, legend, text
    owner: Any  # the Axes it belongs to, or the Figure
    artist: Any
    box: Bbox

    def describe(self) -> str:
        text = self.artist.get_text() if isinstance(self.artist, Text) else ""
        where = _name(self.owner)
        return f"{self.kind} {text!r} of {where}" if text else f"{self.kind} of {where}"


def _name(owner: Any) -> str:
    if isinstance(owner, Axes):
        title = owner.get_title() or owner.get_ylabel() or owner.get_xlabel()
        fig = owner.get_figure(root=True)
        index = fig.axes.index(owner) if fig is not None and owner in fig.axes else "?"
        return f"axes {index} ({title!r})" if title else f"axes {index}"
    return "the figure"


def _shown(text: Text) -> bool:
    return text.get_visible() and bool(text.get_text().strip())


def _box(artist: Any, renderer: Any) -> Bbox:
    """Where ``artist`` is drawn: a clipped text only inside its clip box (its axes)."""
    box = artist.get_window_extent(renderer)
    clip = artist.get_clip_box() if artist.get_clip_on() else None
    if isinstance(artist, Text) and clip is not None:
        inside = Bbox.intersection(box, clip)
        return inside if inside is not None else Bbox.from_bounds(clip.x0, clip.y0, 0, 0)
    return box


def _overlap(a: Bbox, b: Bbox) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > _SLACK and min(a.y1, b.y1) - max(a.y0, b.y0) > _SLACK


def _axes_items(ax: Axes, renderer: Any) -> Iterator[Item]:
    for title in (ax.title, ax._left_title, ax._right_title):
        if _shown(title):
            yield Item("title", ax, title, _box(title, renderer))
    if not ax.axison:
        return
    for kind, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        if not axis.get_visible():
            continue
        if _shown(axis.label):
            yield Item(f"{kind}label", ax, axis.label, _box(axis.label, renderer))
        for tick in axis._update_ticks():  # the ticks matplotlib draws (inside the view)
            for label in (tick.label1, tick.label2):
                if _shown(label):
                    yield Item(f"{kind}tick", ax, label, _box(label, renderer))


def _items(fig: Figure, renderer: Any) -> list[Item]:
    items: list[Item] = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        items.extend(_axes_items(ax, renderer))
        for text in ax.texts:
            if _shown(text):
                items.append(Item("text", ax, text, _box(text, renderer)))
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            items.append(Item("legend", ax, legend, _box(legend, renderer)))
    suptitle = fig._suptitle
    if suptitle is not None and _shown(suptitle):
        items.append(Item("suptitle", fig, suptitle, _box(suptitle, renderer)))
    for text in fig.texts:
        if text is not suptitle and _shown(text):
            items.append(Item("caption", fig, text, _box(text, renderer)))
    for legend in fig.legends:
        if legend.get_visible():
            items.append(Item("legend", fig, legend, _box(legend, renderer)))
    return items


def _clashes(a: Item, b: Item) -> bool:
    """Whether these two items may not overlap (some pairs are allowed to)."""
    if a.owner is not b.owner:
        return True
    if a.kind == b.kind:  # tick labels of one axis drawn on each other; two texts
        return a.kind in ("xtick", "ytick", "legend", "caption")
    kinds = {a.kind, b.kind}
    # an in-axes text may sit inside its axes next to anything but a legend or a title
    return not ("text" in kinds and not kinds & {"legend", "title"})


def _densify(points: np.ndarray) -> np.ndarray:
    """Points every few pixels along the polyline through ``points`` (display coordinates)."""
    if len(points) < 2:
        return points
    seg = np.diff(points, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    counts = np.clip(np.ceil(lengths / _STEP), 1, 400).astype(int)
    parts = [points[:1]]
    for start, d, n in zip(points[:-1], seg, counts, strict=True):
        t = (np.arange(1, n + 1) / n)[:, None]
        parts.append(start + t * d)
    return np.concatenate(parts)


def _is_data(artist: Any) -> bool:
    """Plotted data, not background: zorder <= 0 marks zero lines, grids and shading."""
    return artist.get_visible() and artist.get_gid() != OVER_DATA and artist.get_zorder() > 0


def _data_points(ax: Axes) -> Iterator[tuple[Any, np.ndarray]]:
    """Each plotted artist of ``ax`` and its points in display coordinates (finite only)."""
    for line in ax.get_lines():
        if not _is_data(line):
            continue
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        xy = xy[np.isfinite(xy).all(axis=1)]
        if line.get_linestyle() not in ("None", "", " "):
            xy = _densify(xy)
        yield line, xy
    for coll in ax.collections:
        if not _is_data(coll):
            continue
        yield coll, _collection_points(coll)
    for patch in ax.patches:  # histogram and bar chart bars
        if isinstance(patch, Rectangle) and _is_data(patch):
            x0, y0, x1, y1 = patch.get_window_extent().extents
            if np.isfinite([x0, y0, x1, y1]).all() and abs(x1 - x0) * abs(y1 - y0) > 0:
                xs, ys = np.linspace(x0, x1, 5), np.linspace(y0, y1, 5)
                yield patch, np.array([(x, y) for x in xs for y in ys])


def _collection_points(coll: Collection) -> np.ndarray:
    offsets = np.asarray(coll.get_offsets(), dtype=float)
    paths = coll.get_paths()
    if len(offsets) > 1 or not paths:  # a scatter: one marker per offset
        xy = coll.get_offset_transform().transform(offsets) if len(offsets) else offsets
        return xy[np.isfinite(xy).all(axis=1)] if len(xy) else np.empty((0, 2))
    transform = coll.get_transform()
    parts = []
    for path in paths:  # contour lines, filled regions, line collections
        for poly in path.to_polygons(closed_only=False):
            xy = transform.transform(poly)
            xy = xy[np.isfinite(xy).all(axis=1)]
            parts.append(_densify(xy))
    return np.concatenate(parts) if parts else np.empty((0, 2))


def _covered(item: Item, ax: Axes, renderer: Any) -> Iterator[str]:
    box = item.box
    if not _overlap(box, ax.bbox):
        return
    for artist, xy in _data_points(ax):
        if not len(xy):
            continue
        inside = (
            (xy[:, 0] > box.x0) & (xy[:, 0] < box.x1) & (xy[:, 1] > box.y0) & (xy[:, 1] < box.y1)
        )
        n = int(inside.sum())
        if n >= MIN_POINTS and n > DATA_TOLERANCE * len(xy):
            what = artist.get_label() if isinstance(artist, Line2D) else type(artist).__name__
            yield (f"{item.describe()} covers {n} of {len(xy)} points of {what!r} in {_name(ax)}")
    for image in ax.images:
        # images sit at zorder 0 by default: every visible one is data (a heatmap, a digit)
        if isinstance(image, AxesImage) and image.get_visible() and image.get_gid() != OVER_DATA:
            if _overlap(box, image.get_window_extent(renderer)):
                yield f"{item.describe()} lies on an image in {_name(ax)}"


def layout_problems(fig: Figure) -> list[str]:
    """Every layout problem of ``fig`` (see the module docstring), as sentences."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    items = _items(fig, renderer)
    problems: list[str] = []
    frame = fig.bbox
    for item in items:
        b = item.box
        if (
            b.x0 < frame.x0 - _SLACK
            or b.y0 < frame.y0 - _SLACK
            or b.x1 > frame.x1 + _SLACK
            or b.y1 > frame.y1 + _SLACK
        ):
            problems.append(f"{item.describe()} leaves the figure")
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            if _clashes(a, b) and _overlap(a.box, b.box):
                problems.append(f"{a.describe()} overlaps {b.describe()}")
    for item in items:
        if item.kind == "legend" or (item.kind == "text" and item.artist.get_gid() != OVER_DATA):
            axes = [item.owner] if item.kind == "text" else fig.axes
            for ax in axes:
                if ax.get_visible():
                    problems.extend(_covered(item, ax, renderer))
        if item.kind in ("caption", "suptitle") or (
            item.kind == "legend" and not isinstance(item.owner, Axes)
        ):
            for ax in fig.axes:  # a figure-level text stays off every axes
                if ax.get_visible() and _has_content(ax) and _overlap(item.box, ax.bbox):
                    problems.append(f"{item.describe()} lies on {_name(ax)}")
    return problems


def _has_content(ax: Axes) -> bool:
    return bool(ax.axison or ax.images or ax.lines or ax.collections or ax.patches or ax.texts)


def assert_clean_layout(fig: Figure, where: str) -> None:
    """Fail, listing every problem, when :func:`layout_problems` finds any."""
    problems = layout_problems(fig)
    assert not problems, f"{where}: the figure's layout has problems:\n  " + "\n  ".join(problems)
