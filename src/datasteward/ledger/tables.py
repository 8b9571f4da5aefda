"""The ledger's tables (SQLAlchemy Core).

Timestamps are ISO-8601 UTC strings (``2026-11-28T01:30:00.123456Z``): they sort as text, read
the same on every database and hash to the same bytes in the event chain. JSON values are
stored as canonical JSON text for the same reason.

The migrations in ``migrations/versions`` create exactly these tables; a test checks that the
migrated schema and this module agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(128), primary_key=True),
    Column("status", String(16), nullable=False, index=True),
    Column("recipe_hash", String(64), nullable=False, index=True),
    Column("recipe_text", Text, nullable=False),
    Column("recipe_canonical", Text, nullable=False),
    Column("datasteward_version", String(32), nullable=False),
    Column("executor", String(32), nullable=False),
    Column("workers", Integer, nullable=False),
    Column("options", Text, nullable=False),
    Column("started_at", String(32), nullable=False, index=True),
    Column("finished_at", String(32)),
    Column("resumes", Integer, nullable=False),
    Column("records_in", BigInteger),
    Column("kept", BigInteger),
    Column("removed", BigInteger),
    Column("quarantined", BigInteger),
    Column("edited", BigInteger),
    Column("cpu_seconds", Float),
    Column("wall_seconds", Float),
    Column("peak_memory_bytes", BigInteger),
    Column("bytes_read", BigInteger),
    Column("bytes_written", BigInteger),
    Column("error", Text),
    #: Statistics the executor reported beyond the columns above, as canonical JSON.
    Column("extra", Text),
)

run_steps = Table(
    "run_steps",
    metadata,
    Column("run_id", String(128), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("step_id", String(128), nullable=False),
    Column("use", String(256), nullable=False),
    Column("options", Text, nullable=False),
    Column("records_in", BigInteger, nullable=False),
    Column("records_out", BigInteger, nullable=False),
    Column("removed", BigInteger, nullable=False),
    Column("edited", BigInteger, nullable=False),
    ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_run_steps_run"),
)

step_reasons = Table(
    "step_reasons",
    metadata,
    Column("run_id", String(128), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("reason", String(256), primary_key=True),
    Column("count", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["run_id", "position"],
        ["run_steps.run_id", "run_steps.position"],
        name="fk_step_reasons_step",
    ),
)

estimates = Table(
    "estimates",
    metadata,
    Column("estimate_id", Integer, primary_key=True, autoincrement=True),
    Column("recipe_hash", String(64), nullable=False, index=True),
    Column("run_id", String(128)),
    Column("created_at", String(32), nullable=False),
    Column("estimate", Text, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("rationale", Text, nullable=False),
    Column("tradeoff", Text),
    Column("decided_by", String(256), nullable=False),
    Column("recipe_hash", String(64), index=True),
    Column("decided_at", String(32), nullable=False),
)

#: Releases (issue 6): one row per release directory made by ``datasteward release`` or a
#: takedown patch.
releases = Table(
    "releases",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("dataset", String(256), nullable=False),
    Column("kind", String(16), nullable=False),  # data | takedown
    Column("run_id", String(128)),
    Column("parent", String(64)),
    Column("recipe_hash", String(64)),
    Column("records", BigInteger, nullable=False),
    Column("ids_sha256", String(64), nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("draft", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
)

#: Takedown requests; each stage (received, matched, executed, notified) is a row of
#: ``takedown_stages`` and an event.
takedowns = Table(
    "takedowns",
    metadata,
    Column("takedown_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # url | domain | sha256 | id | text
    Column("value", Text, nullable=False),
    Column("requester", String(256), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("received_at", String(32), nullable=False),
)

takedown_stages = Table(
    "takedown_stages",
    metadata,
    Column("takedown_id", Integer, primary_key=True),
    Column("stage", String(16), primary_key=True),
    Column("at", String(32), nullable=False),
    Column("detail", Text, nullable=False),  # canonical JSON
    ForeignKeyConstraint(
        ["takedown_id"], ["takedowns.takedown_id"], name="fk_takedown_stages_takedown"
    ),
)

#: Deprecations (Luccioni et al.'s framework): why, what replaces it, when, what access remains.
deprecations = Table(
    "deprecations",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("reason_kind", String(16), nullable=False),  # technical | legal | ethical | other
    Column("replacement", String(256)),
    Column("mitigation", Text),
    Column("appeal_contact", String(256)),
    Column("sunset", String(32), nullable=False),
    Column("access", String(16), nullable=False),  # archived | gated | deleted
    Column("deprecated_by", String(256), nullable=False),
    Column("deprecated_at", String(32), nullable=False),
)

#: Human review (issue 5): a drawn sample of a run's records, the records in it (the queue a
#: reviewer works through, in ``position`` order) and each judgement given. Judgements are
#: appended, never updated: the latest per item counts, and the history stays.
review_samples = Table(
    "review_samples",
    metadata,
    Column("sample_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(128), nullable=False, index=True),
    Column("name", String(256), nullable=False),
    Column("spec", Text, nullable=False),  # canonical JSON: outcome, strata, per stratum, seed
    Column("items", Integer, nullable=False),
    Column("created_by", String(256)),
    Column("created_at", String(32), nullable=False),
)

review_items = Table(
    "review_items",
    metadata,
    Column("sample_id", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("record_id", String(512), nullable=False),
    Column("stratum", String(512), nullable=False),
    Column("outcome", String(16), nullable=False),  # kept | removed
    Column("step_id", String(128)),
    Column("reason", String(256)),
    ForeignKeyConstraint(
        ["sample_id"], ["review_samples.sample_id"], name="fk_review_items_sample"
    ),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", Integer, primary_key=True, autoincrement=True),
    Column("sample_id", Integer, nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("record_id", String(512), nullable=False),
    Column("verdict", String(16), nullable=False),  # ok | problem
    Column("category", String(128)),
    Column("note", Text),
    Column("reviewer", String(256), nullable=False),
    Column("reviewed_at", String(32), nullable=False),
    ForeignKeyConstraint(
        ["sample_id", "position"],
        ["review_items.sample_id", "review_items.position"],
        name="fk_reviews_item",
    ),
)

#: The append-only, hash-chained log of every change to the tables above.
events = Table(
    "events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(64), nullable=False),
    Column("at", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("hash", name="uq_events_hash"),
)

#: One row (id = 1): the sequence number and hash of the last event. Writers lock it to
#: serialise appends, and it lets ``verify`` notice events removed from the end of the log.
chain_head = Table(
    "chain_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

#: Tables whose every row is written through an event and checked by ``verify``.
CHAINED_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        runs,
        run_steps,
        step_reasons,
        estimates,
        decisions,
        releases,
        takedowns,
        takedown_stages,
        deprecations,
        review_samples,
        review_items,
        reviews,
    )
}

#: The hash that the first event links to.
GENESIS_HASH = "0" * 64

#: Takedown requests filed on the website (issue 15): what the requester asked, confirmed by
#: e-mail, matched, decided by a steward. An approved request becomes a ``takedowns`` row
#: (``takedown_id``) that ``takedown apply`` executes. Only the sha256 of the private status
#: token is kept.
takedown_requests = Table(
    "takedown_requests",
    metadata,
    Column("request_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # url | domain | text | image_url
    Column("value", Text, nullable=False),
    Column("category", String(32), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("email", String(320), nullable=False),
    Column("evidence", Text),  # canonical JSON: stored file, sha256, type, bytes
    Column("status", String(16), nullable=False, index=True),
    Column("status_token_sha256", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("confirmed_at", String(32)),
    Column("match", Text),  # canonical JSON: records per release (counts only)
    Column("takedown_id", Integer),
    Column("decided_by", String(256)),
    Column("decided_at", String(32)),
    Column("decision_reason", Text),
    Column("result", Text),  # canonical JSON: patch releases, or the error of a failed job
    Column("notified_at", String(32)),
    UniqueConstraint("status_token_sha256", name="uq_takedown_requests_token"),
)

#: E-mails sent about takedowns: to requesters, and to the people who downloaded a version
#: that a patch release superseded.
takedown_notices = Table(
    "takedown_notices",
    metadata,
    Column("notice_id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, index=True),
    Column("version", String(64)),
    Column("email", String(320), nullable=False),
    Column("kind", String(16), nullable=False),  # requester | downloader
    Column("subject", Text, nullable=False),
    Column("sent_at", String(32), nullable=False),
    Column("error", Text),
)
CHAINED_TABLES[takedown_requests.name] = takedown_requests
CHAINED_TABLES[takedown_notices.name] = takedown_notices

#: The stewardship site (issue 15). Accounts (name, role) are chained; their credentials
#: (argon2 hashes, failed logins, lockouts) are not, so no password hash enters the event log.
web_accounts = Table(
    "web_accounts",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("role", String(16), nullable=False),  # viewer | reviewer | maintainer
    Column("added_at", String(32), nullable=False),
    Column("removed_at", String(32)),
)

web_credentials = Table(
    "web_credentials",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", String(32)),
    Column("updated_at", String(32), nullable=False),
)

#: Requests to download a gated release: who, why, which terms (their sha256) they accepted,
#: and the steward's decision. Only the sha256 of the private status token is kept.
access_requests = Table(
    "access_requests",
    metadata,
    Column("request_id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False),
    Column("name", String(256), nullable=False),
    Column("affiliation", String(512), nullable=False),
    Column("email", String(320), nullable=False),
    Column("intended_use", Text, nullable=False),
    Column("terms_sha256", String(64), nullable=False),
    Column("terms_accepted_at", String(32), nullable=False),
    Column("status", String(16), nullable=False, index=True),  # pending | approved | denied
    Column("status_token_sha256", String(64), nullable=False),
    Column("requested_at", String(32), nullable=False),
    Column("decided_by", String(128)),
    Column("decided_at", String(32)),
    Column("decision_reason", Text),
    UniqueConstraint("status_token_sha256", name="uq_access_requests_token"),
)

#: Downloads of gated files through the site (who: the access request), so the people who
#: downloaded a version can be told when it is superseded.
downloads = Table(
    "downloads",
    metadata,
    Column("download_id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False, index=True),
    Column("path", Text, nullable=False),
    Column("request_id", Integer),
    Column("at", String(32), nullable=False),
)
CHAINED_TABLES[web_accounts.name] = web_accounts
CHAINED_TABLES[access_requests.name] = access_requests
CHAINED_TABLES[downloads.name] = downloads

#: Addresses that asked to be told when a release is corrected (double opt-in; not chained:
#: unsubscribing deletes the row). Only the sha256 of the private link token is kept.
correction_subscriptions = Table(
    "correction_subscriptions",
    metadata,
    Column("subscription_id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(64), nullable=False, index=True),
    Column("email", String(320), nullable=False),
    Column("status", String(16), nullable=False),  # unconfirmed | confirmed
    Column("token_sha256", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("confirmed_at", String(32)),
    UniqueConstraint("token_sha256", name="uq_correction_subscriptions_token"),
)

#: Takedown kinds and erasure (issue 19): each request's kind (privacy, legal, copyright,
#: harmful, other), the action its policy decided (erase | patch) and where that policy came
#: from, with the request's fingerprint (sha256 hashes only), and one row per file an erasure
#: rewrote, deleted or withdrew (rows erased, sha256 before and after; never the text).
takedown_policies = Table(
    "takedown_policies",
    metadata,
    Column("takedown_id", Integer, primary_key=True, autoincrement=False),
    Column("category", String(16), nullable=False),  # privacy | legal | copyright | harmful | other
    Column("action", String(16), nullable=False),  # erase | patch
    Column("policy_source", String(256), nullable=False),
    Column("value_sha256", String(64), nullable=False),
    Column("probe", Text),  # canonical JSON of sha256 hashes
    Column("decided_at", String(32), nullable=False),
)

takedown_erasures = Table(
    "takedown_erasures",
    metadata,
    Column("erasure_id", Integer, primary_key=True, autoincrement=True),
    Column("takedown_id", Integer, nullable=False, index=True),
    Column("place", Text, nullable=False),  # a path relative to the project
    Column("action", String(16), nullable=False),  # rewritten | deleted | withdrawn
    Column("rows_erased", BigInteger, nullable=False),
    Column("sha256_before", String(64)),
    Column("sha256_after", String(64)),
    Column("at", String(32), nullable=False),
)
CHAINED_TABLES[takedown_policies.name] = takedown_policies
CHAINED_TABLES[takedown_erasures.name] = takedown_erasures
