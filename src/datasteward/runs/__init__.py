"""A run of a recipe, owned here: its layout on disk (:mod:`~datasteward.runs.layout`), which
run a command uses (:mod:`~datasteward.runs.find`), its typed statistics
(:mod:`~datasteward.runs.stats`) and reading its records (:mod:`~datasteward.runs.records`).

The executor writes a run through this package; the ledger, audit, release, rights and the CLI
read it through it. It imports nothing above ``records`` and ``errors``.
"""
