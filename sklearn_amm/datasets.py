"""Matrix-product tasks for examples, benchmarks and tests.

Each function returns training rows, test rows and the known matrix ``B``
of one task, built from synthetic data or from data that ships with
scikit-learn, so nothing is downloaded.
"""

import numpy as np
from sklearn.datasets import load_sample_images

__all__ = ["make_low_rank_product", "load_image_filter_task"]


def make_low_rank_product(
    n_train=20000,
    n_test=4000,
    n_features=64,
    n_outputs=16,
    rank=8,
    noise=0.1,
    random_state=0,
):
    """Rows of a noisy low-rank Gaussian matrix and a Gaussian known matrix.

    ``A = Z @ W + noise * E`` with ``Z`` (n_train + n_test, rank), ``W``
    (rank, n_features) and ``E`` standard Gaussian, split into training and
    test rows; ``B`` is (n_features, n_outputs) standard Gaussian. With the
    defaults and ``random_state=0`` (drawn in the order Z, W, E, B from
    ``np.random.default_rng``), this is the synthetic task on which the
    authors' learner was measured, so results can be compared number for
    number.

    Parameters
    ----------
    n_train : int, default=20000
        Training rows.
    n_test : int, default=4000
        Test rows.
    n_features : int, default=64
        Columns of ``A``.
    n_outputs : int, default=16
        Columns of ``B``.
    rank : int, default=8
        Rank of the noise-free part of ``A``.
    noise : float, default=0.1
        Standard deviation of the added Gaussian noise.
    random_state : int or numpy.random.Generator, default=0
        Seed of ``np.random.default_rng``.

    Returns
    -------
    X_train : ndarray of shape (n_train, n_features)
    X_test : ndarray of shape (n_test, n_features)
    B : ndarray of shape (n_features, n_outputs)

    Examples
    --------
    >>> from sklearn_amm.datasets import make_low_rank_product
    >>> X_train, X_test, B = make_low_rank_product(n_train=100, n_test=10)
    >>> X_train.shape, X_test.shape, B.shape
    ((100, 64), (10, 64), (64, 16))
    """
    rng = np.random.default_rng(random_state)
    n_rows = n_train + n_test
    Z = rng.normal(size=(n_rows, rank))
    W = rng.normal(size=(rank, n_features))
    E = rng.normal(size=(n_rows, n_features))
    A = Z @ W + noise * E
    B = rng.normal(size=(n_features, n_outputs))
    return A[:n_train], A[n_train:], B


def _gaussian_kernel(size, sigma):
    offsets = np.arange(size) - (size - 1) / 2
    bump = np.exp(-(offsets**2) / (2 * sigma**2))
    kernel = np.outer(bump, bump)
    return kernel / kernel.sum()


def _filter_pair(name):
    if name == "sobel":
        # The two 3x3 Sobel kernels (horizontal and vertical gradients), halved
        # as in the authors' task.
        horizontal = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 2
        return [horizontal, horizontal.T]
    if name == "dog":
        return [_gaussian_kernel(5, 1.0), _gaussian_kernel(5, 2.0)]
    raise ValueError(f"filters must be 'sobel' or 'dog', got {name!r}.")


def image_patches(image, size):
    """All ``size`` x ``size`` patches of an (H, W, channels) image, channel-major.

    Column ``channel * size**2 + row * size + col`` of a patch holds that
    pixel, the 'chw' order of the authors' task.

    Returns
    -------
    patches : ndarray of shape ((H - size + 1) * (W - size + 1), channels * size**2)
    """
    windows = np.lib.stride_tricks.sliding_window_view(image, (size, size), axis=(0, 1))
    return windows.reshape(-1, image.shape[2] * size * size)


def _centre_crop(image, crop):
    if crop is None:
        return image
    top = (image.shape[0] - crop) // 2
    left = (image.shape[1] - crop) // 2
    return image[top : top + crop, left : left + crop]


def load_image_filter_task(filters="dog", crop=224, dtype=np.float32):
    """Patches of scikit-learn's two sample photos and a pair of image filters.

    The paper's image-filter task: every patch of an RGB image times a pair of
    filters (applied to each colour channel and summed) gives two filtered
    images. The rows of the first photo (``china.jpg``) are for training, those
    of the second (``flower.jpg``) for testing.

    Parameters
    ----------
    filters : {"dog", "sobel"}, default="dog"
        ``"dog"``: two 5x5 Gaussians with sigma 1 and 2, whose difference is a
        difference-of-Gaussians band-pass (75 input columns). ``"sobel"``: the
        horizontal and vertical 3x3 Sobel kernels (27 input columns).
    crop : int or None, default=224
        Side of the centre crop of each photo, as in the paper; None keeps
        the whole photo (427 x 640 pixels).
    dtype : {np.float32, np.float64}, default=np.float32
        dtype of the patches, with pixel values 0..255.

    Returns
    -------
    X_train : ndarray of shape (n_patches, n_features)
    X_test : ndarray of shape (n_patches, n_features)
    B : ndarray of shape (n_features, 2)

    Examples
    --------
    >>> from sklearn_amm.datasets import load_image_filter_task
    >>> X_train, X_test, B = load_image_filter_task("sobel")
    >>> X_train.shape, B.shape
    ((49284, 27), (27, 2))
    """
    kernels = _filter_pair(filters)
    size = kernels[0].shape[0]
    images = load_sample_images().images
    n_channels = images[0].shape[2]
    B = np.stack([np.tile(k.ravel(), n_channels) for k in kernels], axis=1)
    X_train, X_test = (
        image_patches(_centre_crop(image, crop), size).astype(dtype) for image in images
    )
    return X_train, X_test, B
