"""The stewardship site (``datasteward serve``; ``pip install 'datasteward[web]'``).

Public pages for a dataset and its releases, gated downloads, takedown requests from the
people in the data, and the stewards' pages (review, triage, access requests) over the same
project and ledger. Start with :func:`datasteward.web.app.create_app`; see docs/serve.md.
This package imports Litestar, so only the ``serve`` command and its tests import it.
"""

from __future__ import annotations
