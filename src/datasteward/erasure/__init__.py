"""Erasure: taking a record down everywhere in a project, provably (issue 19).

A takedown whose kind's policy is ``erase`` (privacy and legal by default) does more than the
patch release of :mod:`datasteward.release.build.takedown`: every superseded release that held
the record becomes a tombstone (:mod:`datasteward.release.build.withdraw`), and the record is
erased from the project's runs, audit outputs, samples and caches (:mod:`.rewrite`), each
rewrite recorded in the ledger. :mod:`.fingerprint` keeps what a later proof needs — sha256
hashes of the text, of windows of it, of the URL — and :mod:`.scan` is that proof
(``datasteward takedown verify``).
"""
