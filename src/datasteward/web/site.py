"""The state the site's handlers share: settings, the open ledger, the project's recipe."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from litestar.di import NamedDependency

from datasteward.web.page_cache import PageCache
from datasteward.web.releases import ReleaseCache

if TYPE_CHECKING:
    from datasteward.ledger import Ledger
    from datasteward.project import Project
    from datasteward.web.settings import WebSettings


class Site:
    """One per application: handlers receive it as the ``site`` dependency.

    (A plain class, not a dataclass: Litestar would try to validate a dataclass argument.)
    """

    def __init__(self, settings: WebSettings, project: Project) -> None:
        self.settings = settings
        self.project = project
        self.releases = ReleaseCache(project.directory)
        #: Public pages rendered for visitors without a session (see web/page_cache.py).
        self.pages = PageCache()
        self._ledger: Ledger | None = None
        self._lock = threading.Lock()

    @property
    def directory(self) -> Path:
        return self.project.directory

    @property
    def ledger(self) -> Ledger:
        """The project's ledger, opened (and migrated) on first use, kept open."""
        if self._ledger is None:
            with self._lock:
                if self._ledger is None:
                    from datasteward.ledger import Ledger

                    self._ledger = Ledger.open(self.project.directory, self.project.ledger_url)
        return self._ledger

    @property
    def access(self) -> Ledger:
        """The ledger, for its site methods (accounts, access requests, downloads)."""
        return self.ledger

    @property
    def access_mode(self) -> str:
        """``open`` or ``gated`` (the recipe's ``[release] access``)."""
        return self.project.recipe.release.access

    @property
    def terms(self) -> str:
        """The terms a person accepts to download a gated release (``[release] terms``)."""
        return self.project.recipe.release.terms

    @property
    def publish_audit(self) -> bool:
        """Whether release pages show the audit summary (``[release] publish_audit``)."""
        return self.project.recipe.release.publish_audit

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


#: How a handler asks for the site: ``def page(site: SiteDep) -> ...`` (Litestar 2.23+ wants
#: dependencies marked explicitly; an unmarked ``site: Site`` warns).
SiteDep = NamedDependency[Site]
