"""Takedown requests from the people in the data: intake, confirmation, a steward's decision,
execution as a background job, and the e-mails that tell people what happened.

Not web-specific: ``datasteward serve`` (``datasteward.web``) is one front end over it.
"""

from __future__ import annotations
