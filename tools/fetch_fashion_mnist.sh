#!/bin/sh
# Unpack the 60,000 Fashion-MNIST training images and labels from Debian's
# dataset-fashion-mnist package into a cache directory, where
# sklearn_amm.datasets.load_fashion_mnist_train finds them.
#
# Usage: tools/fetch_fashion_mnist.sh [DIRECTORY]
#
# DIRECTORY defaults to ${SKLEARN_AMM_DATA:-$HOME/.cache/sklearn_amm}/fashion-mnist.
# Needs apt-get and dpkg (Debian or Ubuntu) with dataset-fashion-mnist in the
# package lists (run `apt-get update` first if it is not found). Only the
# training files are kept: the package's test files stay out of the cache,
# so nothing in this project can evaluate on them by accident.
# Running it again when the files are there does nothing.
set -eu

target="${1:-${SKLEARN_AMM_DATA:-$HOME/.cache/sklearn_amm}/fashion-mnist}"
images="train-images-idx3-ubyte.gz"
labels="train-labels-idx1-ubyte.gz"

if [ -f "$target/$images" ] && [ -f "$target/$labels" ]; then
    echo "Fashion-MNIST training files already in $target"
    exit 0
fi

mkdir -p "$target"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# apt-get download writes into the current directory and needs no root.
(cd "$work" && apt-get download dataset-fashion-mnist)
dpkg -x "$work"/dataset-fashion-mnist_*.deb "$work/unpacked"
source_dir="$work/unpacked/usr/share/datasets/fashion-mnist"
cp "$source_dir/$images" "$source_dir/$labels" "$target/"
echo "Fashion-MNIST training files written to $target"
