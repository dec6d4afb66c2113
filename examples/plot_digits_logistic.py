"""
Faster inference for a trained logistic regression
===================================================

A multinomial :class:`~sklearn.linear_model.LogisticRegression` scores a row
with the product ``x @ coef_.T``. :class:`~sklearn_amm.MaddnessClassifier`
replaces that product by MADDNESS: each row is encoded by a few comparisons
and its scores are sums of table entries. This example wraps a model
trained on the digits (8x8 images, 64 pixels, 10 classes) and shows how the
test accuracy depends on the number of codebooks ``C``.
"""

# %%
# Train the exact model
# ---------------------
# Any fitted linear classifier can be wrapped. Passing it through
# :class:`~sklearn.frozen.FrozenEstimator` keeps it as it is: the wrapper's
# ``fit`` then only learns the MADDNESS encoding from the training rows.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sklearn_amm import MaddnessClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
exact = LogisticRegression(max_iter=5000).fit(X_train, y_train)
exact_accuracy = exact.score(X_test, y_test)
print(f"exact model: test accuracy {exact_accuracy:.4f}")

# %%
# Wrap it at several numbers of codebooks
# ---------------------------------------
# Each codebook encodes a block of the 64 pixels in 4 bits; more codebooks
# are more accurate and slower. ``predict_proba`` applies the model's own
# softmax to the approximate scores.
n_codebooks = [4, 8, 16, 32]
accuracies, agreements = [], []
for C in n_codebooks:
    clf = MaddnessClassifier(FrozenEstimator(exact), n_codebooks=C)
    clf.fit(X_train, y_train)
    accuracies.append(clf.score(X_test, y_test))
    agreements.append(np.mean(clf.predict(X_test) == exact.predict(X_test)))
    print(f"C={C:>2}: test accuracy {accuracies[-1]:.4f}, "
          f"same prediction as the exact model for {agreements[-1]:.1%} of rows")

proba = clf.predict_proba(X_test[:1])
print("probabilities of the first test digit (C=32):", np.round(proba, 3))

# %%
# Accuracy against the number of codebooks
# ----------------------------------------
# With 16 codebooks the wrapped model loses about a point or two of
# accuracy on this split; with 32 (two pixels per codebook) it is close to
# the exact model. ``benchmarks/wrappers_accuracy.py`` repeats this over 30
# splits (mean loss 1.5 points at C=16, 0.8 at C=32) and times
# ``decision_function``.
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(n_codebooks, accuracies, "o-", label="MaddnessClassifier")
ax.axhline(exact_accuracy, color="k", linestyle="--", label="exact LogisticRegression")
ax.set_xscale("log", base=2)
ax.set_xticks(n_codebooks, [str(C) for C in n_codebooks])
ax.set_xlabel("number of codebooks C")
ax.set_ylabel("test accuracy")
ax.set_title("Digits, 10 classes")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
