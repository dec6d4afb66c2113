"""Tests of sklearn_amm.datasets: the IDX parser and the Fashion-MNIST loader."""

import gzip

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_amm.datasets import load_fashion_mnist_train, read_idx


def write_idx(path, array, type_code, compress):
    """An IDX file written by hand: magic, big-endian sizes, big-endian data."""
    header = bytes([0, 0, type_code, array.ndim])
    header += np.array(array.shape, dtype=">u4").tobytes()
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if compress else open
    with opener(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    "type_code, dtype",
    [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
     (0x0D, np.float32), (0x0E, np.float64)],
)
def test_read_idx_round_trip(tmp_path, type_code, dtype, compress):
    # Values past 255 for the wide types catch a parser that ignores byte order.
    array = (np.arange(2 * 3 * 4) * (1 if dtype in (np.uint8, np.int8) else 300))
    array = array.reshape(2, 3, 4).astype(dtype)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array, type_code, compress)
    parsed = read_idx(path)
    assert parsed.dtype == np.dtype(dtype)
    assert parsed.dtype.isnative
    assert_array_equal(parsed, array)


def test_read_idx_one_dimension(tmp_path):
    labels = np.array([3, 0, 9, 1], dtype=np.uint8)
    write_idx(tmp_path / "labels", labels, 0x08, compress=False)
    assert_array_equal(read_idx(tmp_path / "labels"), labels)


def test_read_idx_rejects_bad_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(bytes([1, 0, 8, 1, 0, 0, 0, 1, 7]))
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


def test_read_idx_rejects_truncated_data(tmp_path):
    path = tmp_path / "short"
    write_idx(path, np.zeros((4, 5), dtype=np.uint8), 0x08, compress=False)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match=r"shape \(4, 5\)"):
        read_idx(path)


def fake_fashion_dir(directory, n_images, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n_images, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_images, dtype=np.uint8)
    suffix = ".gz" if compress else ""
    write_idx(directory / f"train-images-idx3-ubyte{suffix}", images, 0x08, compress)
    write_idx(directory / f"train-labels-idx1-ubyte{suffix}", labels, 0x08, compress)
    return images, labels


@pytest.mark.parametrize("compress", [False, True])
def test_loader_reads_data_home(tmp_path, compress):
    images, labels = fake_fashion_dir(tmp_path, 7, compress)
    X, y = load_fashion_mnist_train(data_home=tmp_path, dtype=np.float32)
    assert X.shape == (7, 784) and X.dtype == np.float32
    assert_array_equal(X, images.reshape(7, 784))
    assert y.dtype == np.int64
    assert_array_equal(y, labels)


def test_loader_finds_environment_variable(tmp_path, monkeypatch):
    (tmp_path / "fashion-mnist").mkdir()
    images, _ = fake_fashion_dir(tmp_path / "fashion-mnist", 3, compress=True)
    monkeypatch.setenv("SKLEARN_AMM_DATA", str(tmp_path))
    X, _ = load_fashion_mnist_train()
    assert_array_equal(X, images.reshape(3, 784))


def test_loader_says_how_to_get_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="fetch_fashion_mnist.sh"):
        load_fashion_mnist_train(data_home=tmp_path)
    # One file without the other is as unusable as none.
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8), 0x08, False)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_fashion_mnist_train(data_home=tmp_path)


def test_loader_rejects_mismatched_files(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8),
              0x08, False)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(2, np.uint8), 0x08, False)
    with pytest.raises(ValueError, match="do not match"):
        load_fashion_mnist_train(data_home=tmp_path)


def test_real_fashion_mnist_training_set():
    try:
        X, y = load_fashion_mnist_train()
    except FileNotFoundError as error:
        pytest.skip(str(error))
    assert X.shape == (60000, 784)
    assert X.min() == 0 and X.max() == 255
    # The training set is balanced: 6,000 images of each of the 10 classes.
    assert_array_equal(np.bincount(y), np.full(10, 6000))
