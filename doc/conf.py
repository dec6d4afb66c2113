"""Sphinx configuration of the sklearn-amm documentation.

Build from the repository root with ``bash doc/build.sh`` (warnings are
errors, and the doctests run too) or ``make -C doc html``. The build needs
the package installed (``pip install -e ".[doc,examples,test]"``) and no
network:

* the user-guide figures are drawn at build time by
  ``figures/make_figures.py`` from real runs of the installed package, and
  redrawn only when the package or the script changed;
* intersphinx links to scikit-learn, NumPy, SciPy and Python are made only
  for the projects whose inventory can be read: a local
  ``<name>-objects.inv`` in the directory named by the environment variable
  SKLEARN_AMM_INTERSPHINX_DIR, Sphinx's own cache from an earlier online
  build, or the project's site if it answers (set SKLEARN_AMM_DOC_OFFLINE=1
  to skip asking). A project with no inventory is left out of the mapping,
  so offline builds have plain-text references instead of a "failed to
  reach any of the inventories" warning, which ``-W`` would turn into an
  error.
"""

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import sklearn_amm
import sklearn_amm.datasets
import sklearn_amm.exceptions
from sphinx.util import logging

logger = logging.getLogger("sklearn_amm_doc")

DOC_DIR = Path(__file__).resolve().parent

# -- Project -----------------------------------------------------------------

project = "sklearn-amm"
author = "the sklearn-amm developers"
copyright = f"2026, {author}"
release = sklearn_amm.__version__
version = release

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "figures", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"
pygments_style = "sphinx"
# Doctest flags such as "# doctest: +NORMALIZE_WHITESPACE" are for pytest,
# not for readers.
trim_doctest_flags = True

# -- autodoc, autosummary and numpydoc ---------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
# The class template lists the members; numpydoc should not list them again.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- intersphinx -------------------------------------------------------------

# A directory holding ``<name>-objects.inv`` files (e.g. ``sklearn-objects.inv``)
# for machines without network access that have copies of the inventories.
INVENTORY_DIR_VARIABLE = "SKLEARN_AMM_INTERSPHINX_DIR"
# Set to 1 to skip probing the projects' sites (e.g. on a machine known to be
# offline, where even a failing DNS look-up is not wanted).
OFFLINE_VARIABLE = "SKLEARN_AMM_DOC_OFFLINE"

INTERSPHINX_TARGETS = {
    "sklearn": "https://scikit-learn.org/stable/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "python": "https://docs.python.org/3/",
}


def _site_answers(url, timeout=5):
    """Whether ``url`` answers a HEAD request (through any configured proxy)."""
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def _inventory_locations(name, target, doctree_dir):
    """The inventory locations Sphinx can read for one project, best first."""
    locations = []
    local_dir = os.environ.get(INVENTORY_DIR_VARIABLE)
    if local_dir:
        local = Path(local_dir) / f"{name}-objects.inv"
        if local.is_file():
            locations.append(str(local.resolve()))
    # Sphinx keeps the inventories it downloaded next to the doctrees; with
    # the remote location in the mapping it reads that copy without network.
    cached = Path(doctree_dir) / "__intersphinx_cache__" / f"{name}_objects.inv"
    if cached.is_file():
        locations.append(None)
    elif os.environ.get(OFFLINE_VARIABLE, "0") in ("", "0") and _site_answers(
        target + "objects.inv"
    ):
        locations.append(None)
    return locations


def set_intersphinx_mapping(app, config):
    """Map only the projects with a readable inventory (runs before intersphinx)."""
    mapping = {}
    for name, target in INTERSPHINX_TARGETS.items():
        locations = _inventory_locations(name, target, app.doctreedir)
        if locations:
            mapping[name] = (target, tuple(locations))
        else:
            logger.info(
                f"intersphinx: no inventory for {name!r} (offline); references "
                "to it are rendered as plain text."
            )
    config.intersphinx_mapping = mapping


# Filled by set_intersphinx_mapping when the configuration is read.
intersphinx_mapping = {}
# A cached inventory is used whatever its age: an offline build must not
# decide that it has expired and try the network.
intersphinx_cache_limit = -1
intersphinx_timeout = 10

# -- sphinx-gallery ----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Only plot_*.py scripts are gallery examples; demo.py is a command-line
    # demo, not a gallery page.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"^(?!plot_)",
    "doc_module": ("sklearn_amm",),
    "backreferences_dir": "modules/generated",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "min_reported_time": 1,
}

# -- HTML --------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-amm {release}"
html_theme_options = {
    "navbar_end": ["theme-switcher"],
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "api": []}
html_show_sourcelink = False

# -- Build-time steps ----------------------------------------------------------

FIGURE_SCRIPT = DOC_DIR / "figures" / "make_figures.py"
FIGURE_DIR = DOC_DIR / "figures" / "generated"
FIGURE_STAMP = FIGURE_DIR / ".stamp"


def _newest_source_time():
    """Newest modification time of the figure scripts and the package's files."""
    package_dir = Path(sklearn_amm.__file__).resolve().parent
    sources = list(FIGURE_SCRIPT.parent.glob("*.py"))
    for pattern in ("*.py", "_kernels/*.so", "_kernels/*.pyd"):
        sources.extend(package_dir.glob(pattern))
    return max(path.stat().st_mtime for path in sources)


def make_figures(app):
    """Draw the user-guide figures from real runs, unless they are up to date."""
    if FIGURE_STAMP.is_file() and FIGURE_STAMP.stat().st_mtime >= _newest_source_time():
        logger.info("user-guide figures are up to date")
        return
    logger.info("drawing the user-guide figures (figures/make_figures.py) ...")
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, str(FIGURE_SCRIPT), "--output-dir", str(FIGURE_DIR)],
        check=True,
    )
    FIGURE_STAMP.touch()
    logger.info(f"figures drawn in {time.perf_counter() - start:.0f} s")


def check_api_coverage(app):
    """Warn (an error under -W) about public names missing from the API reference."""
    text = (DOC_DIR / "api.rst").read_text()
    listed = set(re.findall(r"^\s{3}(\w+)\s*$", text, flags=re.MULTILINE))
    # The version string is documented in the prose of api.rst.
    public = set(sklearn_amm.__all__) - {"__version__"}
    public |= set(sklearn_amm.datasets.__all__)
    public |= set(sklearn_amm.exceptions.__all__)
    for name in sorted(public - listed):
        logger.warning(f"public name {name!r} is missing from doc/api.rst")


# A numpydoc parameter line, ``name : type``; its type may mention fitted
# attributes such as ``(n_codebooks_, 4)``.
_PARAMETER_LINE = re.compile(r"^(\s*\*{0,2}\w+ : )(.*)$")
# A word ending in an underscore outside backquotes, which reStructuredText
# reads as a hyperlink reference ("Unknown target name").
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?![`\w])")


def quote_attribute_names_in_types(app, what, name, obj, options, lines):
    """Quote ``n_codebooks_``-like names in numpydoc type specifications.

    scikit-learn's docstrings write ``(`n_features_in_`,)``; ours sometimes
    leave the name bare, which reStructuredText takes for a link target.
    Quoting them here keeps the docstrings readable in a terminal as they are.
    """
    for i, line in enumerate(lines):
        match = _PARAMETER_LINE.match(line)
        if match:
            head, spec = match.groups()
            lines[i] = head + _TRAILING_UNDERSCORE.sub(r"``\1``", spec)


def plain_text_for_unresolved_docstring_references(app, env, node, contnode):
    """Render unresolved references of docstrings into scikit-learn's docs as text.

    Methods inherited from scikit-learn (``set_output``, ``score``,
    ``get_metadata_routing``...) refer to labels and glossary terms of
    scikit-learn's documentation. With scikit-learn's inventory loaded they
    are links; without it (offline), or if scikit-learn renamed a label,
    they become plain text rather than a warning, which -W would turn into
    an error. Only references from docstrings are treated so: those of the
    user guide must resolve.
    """
    if node.get("refdomain") != "std" or node.get("reftype") not in ("ref", "term"):
        return None
    if ":docstring of " not in (node.source or ""):
        return None
    logger.verbose(f"unresolved {node['reftype']} {node['reftarget']!r} in a docstring")
    return contnode


def setup(app):
    app.connect("autodoc-process-docstring", quote_attribute_names_in_types, priority=400)
    app.connect("missing-reference", plain_text_for_unresolved_docstring_references)
    # intersphinx normalises the mapping at priority 800: fill it in first.
    app.connect("config-inited", set_intersphinx_mapping, priority=400)
    app.connect("builder-inited", check_api_coverage)
    app.connect("builder-inited", make_figures)
