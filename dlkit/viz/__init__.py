"""Interactive explorers (ipywidgets) with static matplotlib fallbacks.

Every explorer is an :class:`Explorer`: ``.show()`` displays the widget (or a static figure
where no widget frontend is present), ``.update(**values)`` recomputes and returns the
figure (what the tests drive), ``.fingerprint()`` hashes the pixels.
"""

from .activations import ActivationExplorer
from .attention import AttentionHeatmaps, QueryKeyPlayground
from .boundary import DecisionBoundaryExplorer
from .capacity import HiddenUnitsExplorer
from .depth import DepthExplorer
from .distributions import TransformExplorer
from .episode import EpisodeReplay
from .explain import ExplanationExplorer
from .explorer import OVER_DATA, Choice, Explorer, Slider, Toggle, legend_beside, widgets_available
from .feature_maps import FeatureMapExplorer
from .functions import FunctionExplorer
from .gates import GateInspector
from .gradient_flow import GradientFlowExplorer
from .graph import GraphExplorer, TrainingCurves
from .graph_view import GraphEmbeddingView
from .kernels import KernelExplorer
from .latent import LatentExplorer
from .monitor import TrainingMonitor
from .regularization import RegularizationExplorer
from .replay import TrainingReplay
from .roc import ThresholdExplorer
from .speed_chart import SpeedChart
from .temperature import TemperatureExplorer
from .trajectories import TrajectoryExplorer

__all__ = [
    "Choice",
    "DecisionBoundaryExplorer",
    "Explorer",
    "FunctionExplorer",
    "Slider",
    "Toggle",
    "TransformExplorer",
    "widgets_available",
    "legend_beside",
    "OVER_DATA",
]
__all__ += ["ActivationExplorer", "HiddenUnitsExplorer"]
__all__ += ["ThresholdExplorer"]
__all__ += ["TrajectoryExplorer"]
__all__ += ["GraphExplorer", "TrainingCurves"]
__all__ += ["DepthExplorer"]
__all__ += ["FeatureMapExplorer", "KernelExplorer"]
__all__ += ["RegularizationExplorer"]
__all__ += ["GateInspector", "GradientFlowExplorer", "TemperatureExplorer"]
__all__ += ["AttentionHeatmaps", "QueryKeyPlayground"]
__all__ += ["LatentExplorer"]
__all__ += ["TrainingReplay"]
__all__ += ["SpeedChart", "TrainingMonitor"]
__all__ += ["ExplanationExplorer"]
__all__ += ["EpisodeReplay", "GraphEmbeddingView"]
