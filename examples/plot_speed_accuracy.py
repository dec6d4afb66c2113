"""
The speed–accuracy trade-off
============================

More codebooks make MADDNESS more accurate and slower. This example
measures both on two of the paper's kinds of products, one core each:

* a softmax-classifier-like product, 512 input columns and 10 outputs
  (rows of a noisy low-rank matrix stand in for the embeddings);
* the difference-of-Gaussians image filters, every 5x5 RGB patch of a photo
  (75 columns) times 2 filters.

Speed is the time of the exact float32 product with BLAS on one thread
divided by the time of ``transform`` on one thread, for Fortran-ordered
float32 rows. The numbers depend on the machine and on the compiled kernels
of the installed build; the plot marks the break-even line.
"""

# %%
# The machine
# -----------
# The speed of ``transform`` depends on the instruction set the compiled
# kernels use on this CPU and on their threads, which
# :func:`~sklearn_amm.show_config` prints. Both timings below run on one
# thread.
import time

import matplotlib.pyplot as plt
import numpy as np
import sklearn
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter
from threadpoolctl import threadpool_limits

import sklearn_amm
from sklearn_amm import MaddnessTransformer
from sklearn_amm.datasets import load_image_filter_task, make_low_rank_product

sklearn_amm.show_config()

# %%
# Two tasks
# ---------
X_train, X_test, B = make_low_rank_product(
    n_train=5000, n_test=10000, n_features=512, n_outputs=10, rank=16
)
X_dog_train, X_dog_test, B_dog = load_image_filter_task("dog")
tasks = {
    "512 columns x 10 outputs (low rank)": (X_train, X_test, B),
    # Every 4th training patch is plenty to learn 16 leaves per codebook.
    "DoG 5x5 filters, 75 columns x 2 outputs": (X_dog_train[::4], X_dog_test, B_dog),
}
for name, (train, test, weights) in tasks.items():
    print(f"{name}: {train.shape[0]} training rows, {test.shape[0]} test rows")

# %%
# Accuracy and speed at each number of codebooks
# ----------------------------------------------
# Accuracy is ``1 - NMSE`` (the R2 of the approximation for a single
# output). Each time is the fastest of 7 runs: other work on the machine can
# only add time.


def best_seconds(function, *args, repeats=7):
    """Fastest of ``repeats`` calls of ``function(*args)``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return min(times)


# ``transform`` reads only the columns its trees compare, and checks just
# those for NaN and infinity as it encodes them (see the user guide's
# "NaN and infinity"), so it is as fast as under
# ``sklearn.config_context(assume_finite=True)``; we time both to show it.
n_codebooks = [4, 8, 16, 32]
results = {}
for name, (train, test, weights) in tasks.items():
    test = np.asfortranarray(test, dtype=np.float32)
    weights32 = weights.astype(np.float32)
    Y = test.astype(np.float64) @ weights
    with threadpool_limits(limits=1):
        exact_seconds = best_seconds(np.matmul, test, weights32)
    print(f"{name}: exact product {exact_seconds * 1e3:.2f} ms")
    rows = []
    for C in n_codebooks:
        amm = MaddnessTransformer(weights, n_codebooks=C).fit(train)
        Y_hat = amm.transform(test)
        accuracy = 1 - np.mean((Y - Y_hat) ** 2) / np.var(Y)
        with threadpool_limits(limits=1):
            checked = best_seconds(amm.transform, test)
            with sklearn.config_context(assume_finite=True):
                unchecked = best_seconds(amm.transform, test)
        rows.append((C, accuracy, exact_seconds / checked, exact_seconds / unchecked))
        print(f"  C={C:>2}: 1 - NMSE {accuracy:.4f}, transform {checked * 1e3:6.2f} ms "
              f"({exact_seconds / checked:5.1f}x), with assume_finite "
              f"{unchecked * 1e3:6.2f} ms ({exact_seconds / unchecked:5.1f}x)")
    results[name] = rows

# %%
# The trade-off
# -------------
# Each point is one ``n_codebooks``; up and to the right is better. Points
# left of the dashed line are slower than the exact product.
fig, ax = plt.subplots(figsize=(8, 5.6), layout="constrained")
for (name, rows), color in zip(results.items(), ["tab:blue", "tab:orange"]):
    C, accuracy, checked, unchecked = map(np.array, zip(*rows))
    ax.plot(checked, accuracy, "o-", color=color, label=f"{name}, transform")
    ax.plot(unchecked, accuracy, "x:", color=color, label=f"{name}, assume_finite")
    for c, x, y in zip(C, checked, accuracy):
        ax.annotate(f"C={c}", (x, y), xytext=(5, -12), textcoords="offset points",
                    fontsize=8)
ax.axvline(1.0, color="black", ls=":", lw=1.5, label="break-even with BLAS")
ax.set_xscale("log")
ax.xaxis.set_major_locator(FixedLocator([0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500]))
ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}x"))
ax.xaxis.set_minor_formatter(NullFormatter())
ax.set_xlabel("speed-up over the exact float32 product (one thread, log scale)")
ax.set_ylabel("accuracy kept, 1 - NMSE")
ax.set_title("MADDNESS: accuracy against speed, one point per n_codebooks")
ax.grid(True, which="both", alpha=0.3)
fig.legend(loc="outside lower center", ncol=2, fontsize=8)
plt.show()

# %%
# Reading the plot
# ----------------
# Halving ``n_codebooks`` halves the work of the table lookups and the
# comparisons of the encoder, and costs accuracy. How much speed a given
# accuracy buys depends on the shape: with 512 input columns each codebook
# stands for many multiply-adds of the exact product, with 75 columns and
# 2 outputs for few.
#
# The two curves of each task lie on each other: a check of every value of
# ``X`` for NaN, as most estimators make, would read all of ``X`` and could
# cost more than the approximate product itself, but the encoder checks
# only the values it compares, as it compares them. The user guide's page
# "What approximate products buy, and when" discusses the shapes and memory
# layouts where MADDNESS pays.
