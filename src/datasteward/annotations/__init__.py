"""Annotations: crowd labels as data (read, quarantine, pseudonymise), agreement between
annotators, aggregation into one label per item, ranked label issues, the labour behind the
labels and representation against declared targets.

The optional extra ``datasteward[annotations]`` (crowd-kit, krippendorff) is needed for the
reference implementations; this package's own numpy code does the fast paths.
"""

from __future__ import annotations
