"""Interactive explorers (ipywidgets) with static matplotlib fallbacks.

Every explorer is an :class:`Explorer`: ``.show()`` displays the widget (or a static figure
where no widget frontend is present), ``.update(**values)`` recomputes and returns the
figure (what the tests drive), ``.fingerprint()`` hashes the pixels.
"""

from .explorer import Choice, Explorer, Slider, Toggle, widgets_available
from .distributions import TransformExplorer
from .functions import FunctionExplorer

__all__ = ["Choice", "Explorer", "FunctionExplorer", "Slider", "Toggle",
           "TransformExplorer", "widgets_available"]
