"""Labels and probabilities from decision values, for both MADDNESS classifiers.

MaddnessClassifier and MaddnessClassifierCV compute their decision values
(approximate, exact for the rows that fall back) and derive labels and
probabilities from them as the inner linear model derives its own.
"""

from sklearn.utils.metaestimators import available_if

from ._docstrings import fill_docstring
from ._labels import labels_from_scores
from ._validation import check_fitted


def _has_probabilities(self):
    """``available_if`` check of ``predict_proba`` and ``predict_log_proba``."""
    return self._probabilities_available()


@fill_docstring
class DecisionClassifierMixin:
    """``predict``, ``predict_proba`` and ``predict_log_proba`` from decision values.

    A class defines ``decision_function``, ``classes_`` and:

    ``_probability_links()``, the ``(proba, log_proba)`` links from its
    decision values to probabilities (see ``_probability``), which raises
    AttributeError when there are none. A class whose probabilities may come
    from elsewhere overrides ``_probabilities`` and
    ``_probabilities_available``.
    """

    def predict(self, X):
        """Predict class labels from the decision values.

        {rows_parameters}

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``classes_[1]`` where the binary score is positive, else the
            class of the largest score (see :meth:`decision_function`).
        """
        scores = self.decision_function(X)
        return labels_from_scores(self.classes_, scores)

    @available_if(_has_probabilities)
    def predict_proba(self, X):
        """Class probabilities from the decision values.

        Only available when the inner model has ``predict_proba`` with a
        known link from its decision values (see Notes of
        :class:`MaddnessClassifier`), or the tables are fitted for a label
        objective. When MaddnessClassifierCV keeps the exact model, they are
        the inner model's own.

        {rows_parameters}

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            In the order of ``classes_``. For more than two classes,
            column-major (Fortran-ordered) when the decision values are (see
            :meth:`decision_function`): the link is applied in place.
        """
        check_fitted(self)
        return self._probabilities(X, log=False)

    @available_if(_has_probabilities)
    def predict_log_proba(self, X):
        """Logarithm of the class probabilities of :meth:`predict_proba`.

        {rows_parameters}

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            In the order of ``classes_``; column-major (Fortran-ordered)
            when :meth:`predict_proba`'s array is.
        """
        check_fitted(self)
        return self._probabilities(X, log=True)

    def _probabilities_available(self):
        """True, or raise AttributeError: there are no probabilities."""
        self._probability_links()
        return True

    def _probabilities(self, X, log):
        """The probabilities of X, or their logarithms, by the links."""
        proba_link, log_link = self._probability_links()
        proba = proba_link(self.decision_function(X))
        return log_link(proba) if log else proba
