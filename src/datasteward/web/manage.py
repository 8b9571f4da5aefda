"""Pages for stewards (login): the home page of the logged-in site."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from datasteward.web.auth import current_account
from datasteward.web.site import SiteDep


@get("/manage", opt={"role": "viewer"}, sync_to_thread=True, name="manage")
def home(request: Request[Any, Any, Any], site: SiteDep) -> Template:
    return Template(
        "manage/home.html",
        context={"account": current_account(request), "dataset": site.project.recipe.dataset},
    )


ROUTES = [home]
