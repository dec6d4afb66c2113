"""Matrix-product tasks for examples, benchmarks and tests.

Each function returns training rows, test rows and the known matrix ``B``
of one task, built from synthetic data or from data that ships with
scikit-learn, so nothing is downloaded, except
:func:`load_fashion_mnist_train`, which reads files unpacked beforehand by
``tools/fetch_fashion_mnist.sh``.
"""

import gzip
import os
from pathlib import Path

import numpy as np
from sklearn.datasets import load_sample_images

__all__ = ["make_low_rank_product", "load_image_filter_task", "load_fashion_mnist_train"]

# IDX type codes (the third byte of the magic number) and their big-endian dtypes.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_FASHION_TRAIN_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")


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


def read_idx(path):
    """Parse one IDX file (the MNIST format), gzip-compressed or not.

    The header is two zero bytes, a type code, the number of dimensions
    ``ndim``, then ``ndim`` big-endian uint32 sizes; the data follow in C
    order. A file whose name ends in ``.gz`` is decompressed first.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    array : ndarray
        The data, in native byte order, with the shape of the header.

    Raises
    ------
    ValueError
        If the header is not an IDX header or the data do not match it.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number).")
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header_end = 4 + 4 * ndim
    shape = tuple(int(n) for n in np.frombuffer(raw[4:header_end], dtype=">u4"))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header_end != expected:
        raise ValueError(
            f"{path}: header gives shape {shape} ({expected} bytes of data), "
            f"the file has {len(raw) - header_end}."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _fashion_mnist_dir(data_home):
    if data_home is not None:
        return Path(data_home)
    root = os.environ.get("SKLEARN_AMM_DATA")
    root = Path(root) if root else Path.home() / ".cache" / "sklearn_amm"
    return root / "fashion-mnist"


def _find_idx(directory, stem):
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    return None


def load_fashion_mnist_train(data_home=None, dtype=np.float64):
    """The 60,000 training images of Fashion-MNIST and their labels.

    28x28 grey-level photos of clothing in 10 classes (Xiao, Rasul and
    Vollgraf, 2017), read from the IDX files ``train-images-idx3-ubyte`` and
    ``train-labels-idx1-ubyte`` (gzip-compressed or not). Only the training
    files are read: the dataset's own test set is kept untouched, so
    evaluate on a split of these rows. Nothing is downloaded; unpack the
    files first with ``tools/fetch_fashion_mnist.sh`` (from Debian's
    ``dataset-fashion-mnist`` package).

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        Directory holding the two files. By default
        ``$SKLEARN_AMM_DATA/fashion-mnist``, or
        ``~/.cache/sklearn_amm/fashion-mnist`` if ``SKLEARN_AMM_DATA`` is not
        set, where the fetch script writes them.
    dtype : data-type, default=np.float64
        dtype of ``X``, with pixel values 0..255 (0 is the background).

    Returns
    -------
    X : ndarray of shape (60000, 784)
        The images, one row each, row-major pixels.
    y : ndarray of shape (60000,), dtype=int64
        The labels, 0..9.

    Raises
    ------
    FileNotFoundError
        If a file is missing; the message says how to get it.

    Examples
    --------
    >>> from sklearn_amm.datasets import load_fashion_mnist_train
    >>> X, y = load_fashion_mnist_train()  # doctest: +SKIP
    >>> X.shape, y.shape  # doctest: +SKIP
    ((60000, 784), (60000,))
    """
    directory = _fashion_mnist_dir(data_home)
    paths = [_find_idx(directory, stem) for stem in _FASHION_TRAIN_FILES]
    missing = [stem for stem, path in zip(_FASHION_TRAIN_FILES, paths) if path is None]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST training files {missing} not found in {directory}. "
            f"Unpack them with `tools/fetch_fashion_mnist.sh {directory}` "
            "(from Debian's dataset-fashion-mnist package), or pass data_home "
            "or set SKLEARN_AMM_DATA to where they are."
        )
    images, labels = (read_idx(path) for path in paths)
    if images.ndim != 3 or labels.shape != images.shape[:1]:
        raise ValueError(
            f"Images of shape {images.shape} and labels of shape {labels.shape} "
            "do not match."
        )
    X = images.reshape(len(images), -1).astype(dtype)
    return X, labels.astype(np.int64)
