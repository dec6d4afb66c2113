"""The link from an estimator's HTML representation to its API page.

scikit-learn's HTML repr (in notebooks) shows a "?" icon linking to the
estimator's documentation; by default it points to scikit-learn's site, and
only for classes of the ``sklearn`` package. These point it to this
project's API reference instead, whose pages Sphinx's autosummary names
``modules/generated/sklearn_amm.<Class>.html`` (see ``doc/api.rst``).
"""

#: Where the Sphinx documentation of ``doc/`` is published.
DOCS_URL = "https://sklearn-amm.readthedocs.io/en/latest/"


class DocLinkMixin:
    """Point the HTML repr's documentation link to this project's API page."""

    # The root package of the classes that get a link; scikit-learn builds
    # ``estimator_module`` up to the first private submodule: "sklearn_amm".
    _doc_link_module = "sklearn_amm"
    _doc_link_template = (
        DOCS_URL + "modules/generated/{estimator_module}.{estimator_name}.html"
    )
