"""The estimator tags of the transformers that compute ``X @ B`` approximately.

MaddnessTransformer, MaddnessProjection and the drop-ins for scikit-learn's
kernel approximations read dense, finite rows (MADDNESS compares feature
values with thresholds) and return the rows' float dtype.
"""


class DenseFloatTransformerMixin:
    """Tags of a transformer of dense, finite float rows that keeps their dtype.

    Goes before :class:`~sklearn.base.TransformerMixin` in the bases, which
    sets the transformer tags this one changes.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags
