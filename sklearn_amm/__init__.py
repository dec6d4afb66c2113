"""Fast approximate matrix products with MADDNESS, for scikit-learn."""

from ._classifier_cv import MaddnessClassifierCV
from ._config import show_config
from ._dask import map_row_chunks
from ._classifier import MaddnessClassifier
from ._estimators import skops_trusted_types
from ._fourier_features import MaddnessRBFSampler, MaddnessSkewedChi2Sampler
from ._maddness import MaddnessTransformer
from ._nystroem import MaddnessNystroem
from ._persistence import InconsistentVersionWarning
from ._projection import MaddnessProjection
from ._regressor import MaddnessRegressor
from ._version import __version__

__all__ = [
    "InconsistentVersionWarning",
    "MaddnessClassifier",
    "MaddnessClassifierCV",
    "MaddnessNystroem",
    "MaddnessProjection",
    "MaddnessRBFSampler",
    "MaddnessRegressor",
    "MaddnessSkewedChi2Sampler",
    "MaddnessTransformer",
    "__version__",
    "map_row_chunks",
    "show_config",
    "skops_trusted_types",
]
