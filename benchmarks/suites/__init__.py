"""asv suites of sklearn-amm; ``common`` holds what they share.

Run them from the repository root (see ``benchmarks/README.md``)::

    asv run --python=same --quick --set-commit-hash=$(git rev-parse HEAD)
"""
