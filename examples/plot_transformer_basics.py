"""
MaddnessTransformer basics
==========================

:class:`~sklearn_amm.MaddnessTransformer` approximates the product
``X @ B`` of rows ``X`` with a matrix ``B`` known ahead of time. This
example fits one, compares its output with the exact product, and looks at
what it learned: the codes of each row, and the 8-bit lookup tables whose
entries add up to the approximate product.
"""

# %%
# Fit on training rows, transform new rows
# ----------------------------------------
# :func:`~sklearn_amm.datasets.make_low_rank_product` draws rows of a noisy
# rank-8 matrix with 64 columns and a 64 x 16 Gaussian matrix ``B``. The
# transformer learns from the training rows only; ``B`` is its ``weights``
# parameter.
import matplotlib.pyplot as plt
import numpy as np

from sklearn_amm import MaddnessTransformer
from sklearn_amm.datasets import make_low_rank_product

X_train, X_test, B = make_low_rank_product(n_train=10000, n_test=2000)
amm = MaddnessTransformer(B, n_codebooks=16).fit(X_train)

Y = X_test @ B
Y_hat = amm.transform(X_test)
print(f"X_test {X_test.shape} @ B {B.shape} -> Y_hat {Y_hat.shape}")
print(f"R2 of the approximation (MaddnessTransformer.score): {amm.score(X_test):.4f}")
print(f"NMSE, the paper's error measure: {np.mean((Y - Y_hat) ** 2) / np.var(Y):.4f}")

# %%
# The approximate product against the exact one, for two of the 16 outputs.
fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), layout="constrained")
for ax, m in zip(axes, [0, 1]):
    ax.scatter(Y[:, m], Y_hat[:, m], s=4, alpha=0.4)
    low, high = Y[:, m].min(), Y[:, m].max()
    ax.plot([low, high], [low, high], color="black", lw=1, label="y = x")
    ax.set_xlabel(f"exact (X_test @ B)[:, {m}]")
    ax.set_ylabel(f"MADDNESS approximation, output {m}")
    ax.set_title(f"output {m}")
    ax.legend(loc="upper left")
fig.suptitle("Approximate against exact product on 2000 test rows")
plt.show()

# %%
# Codes: 16 comparisons-only hashes per row
# -----------------------------------------
# Each of the 16 codebooks owns a block of 4 contiguous columns and a hash
# tree of depth 4; a row's code in a codebook is the leaf it reaches (0 to
# 15). ``encode`` returns them.
print("column blocks:", amm.codebook_bounds_)
print("columns compared by the tree of codebook 0, level by level:", amm.split_dims_[0])
codes = amm.encode(X_test[:12])
print("codes of the first 3 test rows:\n", codes[:3])

fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
image = ax.imshow(codes, cmap="tab20", vmin=-0.5, vmax=19.5, aspect="auto")
for (n, c), code in np.ndenumerate(codes):
    ax.text(c, n, code, ha="center", va="center", fontsize=8)
ax.set_xlabel("codebook")
ax.set_ylabel("test row")
ax.set_title("Codes of 12 test rows: one 4-bit leaf id per codebook")
plt.show()

# %%
# Lookup tables: the product is a sum of table entries
# ----------------------------------------------------
# For each output ``m``, codebook ``c`` and leaf ``k`` the table holds the
# product of the leaf's prototype with ``B[:, m]``, quantized to one byte
# with an offset per output and codebook and one scale per output. Summing
# the entries a row's codes select, and de-quantizing, gives its product.
row, m = 0, 0
print("tables:", amm.luts_.shape, amm.luts_.dtype, f"scale of output {m}: {amm.lut_scale_[m]:.3f}")
entries = amm.luts_[m, np.arange(amm.n_codebooks_), codes[row]].astype(int)
byte_sum = entries.sum()
by_hand = byte_sum / amm.lut_scale_[m] + amm.lut_offsets_[m].sum()
print(f"row {row}, output {m}: entries {entries.tolist()}")
print(f"exact byte sum {byte_sum} -> {by_hand:.3f}; exact product {Y[row, m]:.3f}")
print(f"transform (averaging, bias removed): {Y_hat[row, m]:.3f}")

# %%
# Without weights: the reconstruction of X
# ----------------------------------------
# ``weights=None`` stands for the identity: ``transform`` then returns the
# sum of the selected prototypes, MADDNESS's reconstruction of the row.
recon = MaddnessTransformer(n_codebooks=16).fit(X_train)
print(f"R2 of the reconstruction of X_test: {recon.score(X_test):.4f}")

# %%
# float32 in, float32 out
# -----------------------
# The output keeps float32 input in float32. The encoder reads only the
# compared columns, so Fortran (column-major) order is the layout to prefer
# for large inputs.
X32 = np.asfortranarray(X_test, dtype=np.float32)
Y_hat32 = amm.transform(X32)
print(f"{Y_hat32.dtype}, largest difference from the float64 output: "
      f"{np.abs(Y_hat32 - Y_hat).max():.1e}")
