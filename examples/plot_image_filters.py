"""
Approximating image filters
===========================

The image-filter task of the MADDNESS paper: filtering an RGB image with a
pair of small kernels is a matrix product. Each row of ``X`` is one
``k x k`` patch of the image with its three colour channels, in
channel-major order (column ``channel * k * k + row * k + col``), so
``D = 27`` columns for 3x3 patches and ``D = 75`` for 5x5 ones. Each column
of ``B`` is one kernel, applied to every channel and summed over the
channels (``M = 2``). The two filter pairs are

* the horizontal and vertical 3x3 **Sobel** kernels (edges), and
* two 5x5 **Gaussians** with sigma 1 and 2, whose difference is a
  **difference-of-Gaussians** (DoG) band-pass.

:class:`~sklearn_amm.MaddnessTransformer` learns from the patches of one
photo (224x224 centre crop of ``china.jpg``, bundled with scikit-learn) and
approximates the product for the other (``flower.jpg``). Accuracy is
``1 - NMSE`` with ``NMSE = mean((Y - Y_hat)**2) / var(Y)``.
"""

# %%
# The patches and the filters
# ---------------------------
# :func:`sklearn_amm.datasets.load_image_filter_task` builds ``X`` and ``B``
# as described above, from the photos that ship with scikit-learn.
import matplotlib.pyplot as plt
import numpy as np

from sklearn_amm import MaddnessTransformer
from sklearn_amm.datasets import load_image_filter_task

tasks = {name: load_image_filter_task(name) for name in ["sobel", "dog"]}
for name, (X_train, X_test, B) in tasks.items():
    print(f"{name}: X_train {X_train.shape}, X_test {X_test.shape}, B {B.shape}")


def one_minus_nmse(Y, Y_hat):
    return 1 - np.mean((Y - Y_hat) ** 2) / np.var(Y)


# %%
# MADDNESS against MADDNESS-PQ
# ----------------------------
# MADDNESS refits its prototypes by ridge regression
# (``optimize_prototypes=True``); MADDNESS-PQ keeps the mean of each leaf's
# training patches.
n_codebooks = [4, 8, 16, 32]
scores = {}
for name, (X_train, X_test, B) in tasks.items():
    Y = X_test @ B
    for method, optimize in [("MADDNESS", True), ("MADDNESS-PQ", False)]:
        scores[name, method] = []
        for C in n_codebooks:
            amm = MaddnessTransformer(B, n_codebooks=C, optimize_prototypes=optimize)
            Y_hat = amm.fit(X_train).transform(X_test)
            scores[name, method].append(one_minus_nmse(Y, Y_hat))
        row = zip(n_codebooks, scores[name, method])
        print(f"{name:<6} {method:<12}", " ".join(f"C={C}: {s:.3f}" for C, s in row))

fig, axes = plt.subplots(1, 2, figsize=(8, 3.5), sharey=True)
for ax, name in zip(axes, tasks):
    for method in ["MADDNESS", "MADDNESS-PQ"]:
        ax.plot(n_codebooks, scores[name, method], "o-", label=method)
    ax.set_xscale("log", base=2)
    ax.set_xticks(n_codebooks, [str(C) for C in n_codebooks])
    ax.set_xlabel("number of codebooks C")
    ax.set_title({"sobel": "Sobel, 3x3 (D=27)", "dog": "Gaussians, 5x5 (D=75)"}[name])
axes[0].set_ylabel("1 - NMSE on flower.jpg")
axes[0].set_ylim(0, 1.02)
axes[0].legend(loc="lower right")
fig.tight_layout()

# %%
# What the filtered images look like
# ----------------------------------
# The exact and approximate outputs with 16 codebooks, as images: the
# Sobel gradient magnitude and the DoG band-pass (the difference of the two
# Gaussian outputs). A DoG is the harder target: it is the small difference
# of two large, similar outputs, so their errors do not cancel.
# Both images of a row share the grey scale of the exact one.
C = 16


def filtered_image(name, out):
    """The Sobel gradient magnitude, or the DoG, as a square image."""
    side = int(round(np.sqrt(out.shape[0])))
    image = np.hypot(out[:, 0], out[:, 1]) if name == "sobel" else out[:, 0] - out[:, 1]
    return image.reshape(side, side)


fig, axes = plt.subplots(2, 2, figsize=(7, 7))
for row, (name, (X_train, X_test, B)) in zip(axes, tasks.items()):
    Y_hat = MaddnessTransformer(B, n_codebooks=C).fit(X_train).transform(X_test)
    exact = filtered_image(name, X_test @ B)
    vmin, vmax = np.percentile(exact, [1, 99])
    title = {"sobel": "Sobel magnitude", "dog": "DoG"}[name]
    for ax, image, label in [(row[0], exact, "exact"),
                             (row[1], filtered_image(name, Y_hat), f"MADDNESS, C={C}")]:
        ax.imshow(image, cmap="gray", vmin=vmin, vmax=vmax)
        ax.set_title(f"{title}, {label}", fontsize=10)
        ax.axis("off")
fig.tight_layout()
plt.show()
