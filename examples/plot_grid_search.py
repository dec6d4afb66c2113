"""
Tuning MADDNESS with a grid search
==================================

:meth:`MaddnessTransformer.score <sklearn_amm.MaddnessTransformer.score>`
is the R2 of the approximation of ``X @ weights`` against the exact
product. It needs no labels, so
:class:`~sklearn.model_selection.GridSearchCV` can tune MADDNESS on
unlabelled rows. This example searches ``n_codebooks`` and the prototype
refit, picks the cheapest setting within a tolerance of the best, and then
tunes a wrapped classifier's own parameter and ``n_codebooks`` together.
"""

# %%
# Search n_codebooks and the ridge refit
# --------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV

from sklearn_amm import MaddnessTransformer
from sklearn_amm.datasets import make_low_rank_product

X_train, X_test, B = make_low_rank_product(n_train=6000, n_test=2000)
param_grid = {"n_codebooks": [2, 4, 8, 16, 32], "optimize_prototypes": [False, True]}
search = GridSearchCV(MaddnessTransformer(B), param_grid, cv=3).fit(X_train)
print("most accurate:", search.best_params_, f"R2 {search.best_score_:.4f}")

# %%
# Cross-validated R2 of every setting. The ridge refit (MADDNESS) beats the
# bucket means (MADDNESS-PQ) at every ``n_codebooks``, and more codebooks
# are always more accurate, so the most accurate setting is simply the
# largest one.
results = search.cv_results_
fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
for optimize, label in [(True, "MADDNESS (ridge refit)"), (False, "MADDNESS-PQ (bucket means)")]:
    rows = results["param_optimize_prototypes"] == optimize
    C = results["param_n_codebooks"][rows].astype(int)
    ax.errorbar(C, results["mean_test_score"][rows], yerr=results["std_test_score"][rows],
                marker="o", capsize=3, label=label)
ax.set_xscale("log", base=2)
ax.set_xticks(param_grid["n_codebooks"], [str(C) for C in param_grid["n_codebooks"]])
ax.set_xlabel("n_codebooks")
ax.set_ylabel("R2 of the approximate product (3-fold CV)")
ax.set_title("GridSearchCV over MaddnessTransformer")
ax.grid(alpha=0.3)
ax.legend(loc="lower right")
plt.show()

# %%
# The cheapest setting within a tolerance
# ---------------------------------------
# Speed falls as ``n_codebooks`` grows, so what we want is the smallest
# ``n_codebooks`` whose score is close enough to the best. ``refit`` accepts
# a callable that picks, from ``cv_results_``, the index of the setting to
# refit on the whole training set. (Here we apply it to the results above;
# passing ``refit=cheapest_within_tolerance`` to ``GridSearchCV`` does both
# at once.)
from sklearn.base import clone  # noqa: E402

TOLERANCE = 0.05


def cheapest_within_tolerance(cv_results):
    scores = cv_results["mean_test_score"]
    good = np.flatnonzero(scores >= scores.max() - TOLERANCE)
    return int(good[np.argmin(cv_results["param_n_codebooks"][good])])


chosen = results["params"][cheapest_within_tolerance(results)]
cheap = clone(search.estimator).set_params(**chosen).fit(X_train)
print(f"within {TOLERANCE} of the best R2:", chosen)
print(f"test R2: {cheap.score(X_test):.4f} (most accurate: {search.score(X_test):.4f})")

# %%
# A wrapped model: inner and MADDNESS parameters together
# -------------------------------------------------------
# The wrappers score like the model they wrap (here accuracy), so one search
# can tune the classifier's regularization and ``n_codebooks`` at once. In a
# pipeline, the wrapper's parameters get its step name as prefix, and the
# inner model's parameters one more ``estimator__``.
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from sklearn_amm import MaddnessClassifier  # noqa: E402

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
pipe = make_pipeline(MinMaxScaler(), MaddnessClassifier(LogisticRegression(max_iter=1000)))
grid = {
    "maddnessclassifier__estimator__C": [0.1, 1.0],
    "maddnessclassifier__n_codebooks": [8, 16],
}
search = GridSearchCV(pipe, grid, cv=3).fit(X_train, y_train)
print("best:", search.best_params_, f"CV accuracy {search.best_score_:.4f}")
print(f"test accuracy: {search.score(X_test, y_test):.4f}")

# %%
# Mean cross-validated accuracy of each pair of parameters.
scores = search.cv_results_["mean_test_score"].reshape(
    len(grid["maddnessclassifier__estimator__C"]), len(grid["maddnessclassifier__n_codebooks"])
)
fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
image = ax.imshow(scores, cmap="viridis")
for (i, j), value in np.ndenumerate(scores):
    ax.text(j, i, f"{value:.3f}", ha="center", va="center",
            color="white" if value < scores.mean() else "black")
ax.set_xticks(range(scores.shape[1]), grid["maddnessclassifier__n_codebooks"])
ax.set_yticks(range(scores.shape[0]), grid["maddnessclassifier__estimator__C"])
ax.set_xlabel("n_codebooks")
ax.set_ylabel("LogisticRegression C")
ax.set_title("Digits: CV accuracy of the wrapped model")
fig.colorbar(image, ax=ax, label="accuracy")
plt.show()
