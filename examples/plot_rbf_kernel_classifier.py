"""
An RBF-kernel classifier with approximate feature maps
======================================================

A kernel approximation such as
:class:`~sklearn.kernel_approximation.Nystroem` or
:class:`~sklearn.kernel_approximation.RBFSampler` followed by a linear
classifier is a fast stand-in for an RBF-kernel SVM. Both feature maps
spend most of their time in one matrix product: ``X @ random_weights_`` for
random Fourier features, ``X @ components_.T`` for Nystroem (the RBF kernel
is computed from these dot products and exact squared norms).
:class:`~sklearn_amm.MaddnessRBFSampler` and
:class:`~sklearn_amm.MaddnessNystroem` take the same parameters, draw the
same random weights or basis rows, and compute that product with MADDNESS.
They drop into a pipeline in place of the scikit-learn transformers.
"""

# %%
# The pipelines
# -------------
# Digits (64 pixels, 10 classes), scaled to [0, 1], mapped to 300 features
# of the RBF kernel ``exp(-0.1 * ||x - y||^2)``, then classified by a
# linear SVM trained with SGD.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.kernel_approximation import Nystroem, RBFSampler
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_amm import MaddnessNystroem, MaddnessRBFSampler

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
kernel = dict(gamma=0.1, n_components=300, random_state=0)


def accuracy(feature_map):
    pipe = make_pipeline(MinMaxScaler(), feature_map, SGDClassifier(random_state=0))
    return pipe.fit(X_train, y_train).score(X_test, y_test)


# %%
# Exact and approximate feature maps
# ----------------------------------
# The MADDNESS encoding is learned from the training rows as they reach the
# feature map, i.e. after scaling. More codebooks approximate the product
# better.
n_codebooks = [8, 16, 32]
maps = {
    "RBFSampler": (RBFSampler, MaddnessRBFSampler),
    "Nystroem": (Nystroem, MaddnessNystroem),
}
exact_scores, approx_scores = {}, {}
for name, (exact_cls, maddness_cls) in maps.items():
    exact_scores[name] = accuracy(exact_cls(**kernel))
    approx_scores[name] = [
        accuracy(maddness_cls(**kernel, n_codebooks=C)) for C in n_codebooks
    ]
    row = zip(n_codebooks, approx_scores[name])
    print(f"{name:<10} exact: {exact_scores[name]:.4f}  MADDNESS:",
          " ".join(f"C={C}: {s:.4f}" for C, s in row))

# %%
# Test accuracy against the number of codebooks
# ---------------------------------------------
# The approximate pipelines stay within a point or two of the exact ones
# from 16 codebooks on. The classifier is trained on the approximate
# features, so it adapts to the approximation.
fig, ax = plt.subplots(figsize=(5, 3.5))
for (name, scores), color in zip(approx_scores.items(), ["C0", "C1"]):
    ax.plot(n_codebooks, scores, "o-", color=color, label=f"Maddness{name}")
    ax.axhline(exact_scores[name], color=color, linestyle="--", label=f"{name} (exact)")
ax.set_xscale("log", base=2)
ax.set_xticks(n_codebooks, [str(C) for C in n_codebooks])
ax.set_xlabel("number of codebooks C")
ax.set_ylabel("test accuracy")
ax.set_title("Digits, RBF kernel + linear SVM")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()
