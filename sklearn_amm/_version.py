"""sklearn-amm's version: the one place it is written.

``pyproject.toml`` reads it from here at build time
(``[tool.setuptools.dynamic]``), so the installed metadata and
``sklearn_amm.__version__`` cannot disagree.
"""

__version__ = "0.1.0.dev0"
