"""What a MaddnessClassifier's lookup tables are fitted for (``table_objective``).

The trees are always learned for the product ``X @ coef_.T``. The tables
then either stay the product's (``"product"``) or are fitted to the labels:
a multinomial (binary: logistic) regression of the labels on the rows'
codes, with a prior centred on the product tables (``"log_loss"``, see
``_decision_tables``), then optionally the split thresholds, tables and
intercepts trained together on the same loss (``"fine_tuned"``, see
``_fine_tuning``).
"""

import numpy as np
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    column_or_1d,
)

from ._decision_tables import class_indices_of, log_loss_tables
from ._fine_tuning import fine_tune
from ._maddness_interface import replace_tables
from ._tables import build_tables

# "auto" fine-tunes only with at least this many training rows per table
# entry of a class (16 per codebook): with fewer, the fine-tuned thresholds
# and tables fit the rows' noise. On 1,437 digits, fine-tuning lost 0.2
# points to the product tables at 16 codebooks (5.6 rows per entry) and 0.45
# at 32 (2.8), and gained 1.5 at 8 (11); on Fashion-MNIST, 20,000 rows at 32
# codebooks (39 per entry) gain 3.6 points.
_MIN_ROWS_PER_TABLE_ENTRY = 6

# Table objectives whose tables are a logistic model of the labels.
LABEL_OBJECTIVES = ("log_loss", "fine_tuned")


def _labels_cover(classes, y, sample_weight):
    """Whether every class has a training row of positive weight.

    Tables fitted to the labels need every class of the inner model among
    them; a FrozenEstimator may be given rows labelled by its own
    predictions, which can miss some.
    """
    y = np.asarray(y)
    if sample_weight is not None:
        y = y[np.asarray(sample_weight) > 0]
    return bool(np.isin(classes, y).all())


def resolve_table_objective(table_objective, classes, X, y, sample_weight, n_codebooks):
    """The objective to fit, ``"auto"`` resolved for these training rows."""
    objective = str(table_objective)
    if objective != "auto":
        return objective
    covered = _labels_cover(classes, y, sample_weight)
    if sample_weight is None:
        n_rows = len(X)
    else:
        n_rows = int(np.count_nonzero(np.asarray(sample_weight) > 0))
    enough = n_rows >= _MIN_ROWS_PER_TABLE_ENTRY * 16 * n_codebooks
    return "fine_tuned" if covered and enough else "product"


def fit_label_tables(
    amm, X, y, classes, intercept, sample_weight, fine_tuned, random_state
):
    """Replace ``amm``'s product tables by tables fitted for the decision.

    The trees stay those learned for the product; the tables and
    intercepts become the multinomial (binary: logistic) regression of
    the labels on the training rows' codes, with a prior centred on the
    product tables (see ``_decision_tables``). With ``fine_tuned``, the
    split thresholds, tables and intercepts are then trained together on
    the same loss (see ``_fine_tuning``); the split columns stay those of
    the product's trees.

    Returns
    -------
    intercept : ndarray of shape (n_outputs,)
        The intercepts fitted with the tables.
    temperature : float
        The factor turning the product tables' decision values into
        log-odds, towards which the log-loss tables are shrunk.
    """
    y = column_or_1d(y, warn=True)
    # A FrozenEstimator's fit ignores y, so nothing has checked it yet.
    check_consistent_length(X, y)
    class_indices = class_indices_of(y, np.asarray(classes))
    codes = amm.encode(X)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
    tables, intercept, temperature = log_loss_tables(
        codes,
        class_indices,
        len(classes),
        build_tables(amm.prototypes_, amm.weights_),
        intercept,
        sample_weight,
    )
    thresholds = None
    if fine_tuned:
        thresholds, tables, intercept = fine_tune(
            X,
            class_indices,
            len(classes),
            amm.split_dims_,
            amm.split_thresholds_,
            tables,
            intercept,
            sample_weight=sample_weight,
            random_state=random_state,
        )
    replace_tables(amm, tables, thresholds, X, sample_weight)
    return intercept, temperature
