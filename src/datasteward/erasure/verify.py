"""``datasteward takedown verify REQUEST``: prove that an erasure left nothing behind.

The request's fingerprint (sha256 hashes of the records' texts, of windows of them, of their
URLs, and their ids — recorded in the ledger before the erasure) is looked for in every file
of the project (:func:`datasteward.erasure.scan.scan_project`). The verdict names each place
still holding something; ids are allowed where accountability needs them (the ledger, the
suppression list, the receipts, a release's ``status.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from datasteward.erasure.fingerprint import Fingerprint
from datasteward.erasure.scan import Finding, Progress, scan_project
from datasteward.errors import ReleaseError
from datasteward.ledger import Ledger
from datasteward.release.build.takedown import pending_file


@dataclass
class ErasureProof:
    takedown_id: int
    records: int
    findings: list[Finding] = field(default_factory=list)
    unfinished: bool = False
    files_erased: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings and not self.unfinished


def verify_request(
    project: Path, takedown_id: int, *, progress: Progress | None = None
) -> ErasureProof:
    project = Path(project)
    with Ledger.open(project) as ledger:
        known = {t.takedown_id: t for t in ledger.list_takedowns()}
        if takedown_id not in known:
            raise ReleaseError(
                f"no takedown request #{takedown_id} in the ledger",
                hint="`datasteward takedown list` shows the requests",
            )
        policy = ledger.takedown_policy(takedown_id)
        erased = ledger.takedown_erasures(takedown_id)
    if policy is None or policy.action != "erase":
        what = f"its policy is {policy.action!r}" if policy else "it has no recorded policy"
        raise ReleaseError(
            f"takedown request #{takedown_id} erased nothing: {what}",
            hint="only requests whose kind's policy is `erase` (privacy and legal by default) "
            "are erased; set [takedown.policy] in the recipe for other kinds",
        )
    if policy.probe is None:
        raise ReleaseError(
            f"takedown request #{takedown_id} has not been applied yet (no fingerprint)",
            hint="run `datasteward takedown apply` first",
        )
    fp = Fingerprint.from_dict(policy.probe)
    proof = ErasureProof(takedown_id, len(fp.ids), files_erased=len(erased))
    proof.unfinished = pending_file(project, takedown_id).exists()
    proof.findings = scan_project(project, fp, progress=progress)
    return proof
