"""Fast approximate matrix products with MADDNESS, for scikit-learn."""

from ._maddness import MaddnessTransformer

__version__ = "0.1.0.dev0"

__all__ = ["MaddnessTransformer", "__version__"]
