"""Takedown requests from the public, without the web layer: filing, e-mail confirmation,
the match preview, a steward's decision, execution as a job, and the e-mails (received by a
real SMTP server on 127.0.0.1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from takedown_kit import body, build_project, copy_project, released_urls, smtp_server

from datasteward.errors import ReleaseError, TakedownRequestError
from datasteward.ledger import Ledger
from datasteward.release.build import takedown
from datasteward.requests import decide, intake, jobs, notify, tokens
from datasteward.requests.mail import Mailer, MailOptions

pytest.importorskip("aiosmtpd", reason="pip install 'datasteward[dev]'")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project(tmp_path_factory.mktemp("demo") / "proj")


@pytest.fixture
def project(demo: Path, tmp_path: Path) -> Path:
    return copy_project(demo, tmp_path / "proj")


def _form(url: str, **kw: str) -> intake.TakedownForm:
    values = {
        "kind": "url",
        "value": url,
        "category": "privacy",
        "explanation": "This article names me.",
        "email": "person@example.net",
    }
    values.update(kw)
    return intake.TakedownForm(**values)


@pytest.mark.slow
def test_a_request_is_matched_decided_executed_and_told(project: Path) -> None:
    url = released_urls(project)[3]
    released = len(released_urls(project))
    filed = intake.file_request(project, _form(url))  # privacy: its category erases
    with Ledger.open(project) as ledger:
        row = ledger.web_request(filed.request_id)
        assert row is not None and row["status"] == "unconfirmed"
        # the ledger keeps the token's hash, never the token
        assert row["status_token_sha256"] == tokens.token_digest(filed.status_token)
        assert filed.status_token not in json.dumps([e.payload for e in ledger.events()])
    assert intake.request_value(project, row) == url
    row = intake.confirm(project, filed.request_id)
    assert row["status"] == "matched"
    assert json.loads(row["match"]) == {"releases": {"1.0.0": 1}, "latest_run": 1}
    # confirmed and matched, but nothing is removed without a steward: the CLI's `apply`
    # does not see it either
    with pytest.raises(ReleaseError, match="no pending takedown request"):
        takedown.apply(project)
    assert not (project / "releases" / "1.0.1").exists()

    tid = decide.approve(project, filed.request_id, by="ana")
    with pytest.raises(TakedownRequestError, match="approved: it cannot be approved"):
        decide.approve(project, filed.request_id, by="bo")  # a second steward, too late
    store = jobs.JobStore(project)
    job = store.create(kind="takedown", request_id=filed.request_id)
    seen: list[str] = []

    def work(p: Path, rid: int, progress: decide.Progress) -> dict[str, object]:
        def spy(done: int, total: int, message: str) -> None:
            seen.append(message)
            progress(done, total, message)

        return decide.execute(p, rid, progress=spy)

    done = jobs.run_job(store, job["job_id"], work)
    assert done["state"] == "done", done
    assert done["result"]["patches"] == {"1.0.0": "1.0.1"}
    assert done["result"]["removed"] == {"1.0.0": 1}
    assert store.get(job["job_id"]) == done  # persisted: a reload reads the same state
    assert seen[0].startswith("matching") and seen[-1] == "done"
    assert url not in released_urls(project, "1.0.1")
    assert len(released_urls(project, "1.0.1")) == released - 1
    with Ledger.open(project) as ledger:
        t = next(t for t in ledger.list_takedowns() if t.takedown_id == tid)
        assert t.status == "notified" and t.requester == "person@example.net"
        row = ledger.web_request(filed.request_id)
        assert row is not None and row["status"] == "executed"
        assert json.loads(row["result"])["erased"]["withdrawn"] == ["1.0.0"]
        assert ledger.verify().ok
        # an erasing request: the append-only ledger never held the URL itself
        assert url not in json.dumps([e.payload for e in ledger.events()])
    assert intake.request_value(project, row) is None  # the pending value is gone too

    with smtp_server() as inbox:
        mailer = Mailer(MailOptions(smtp_url=inbox.url, sender="stewards@example.org"))
        sent = notify.notify_outcome(
            project,
            mailer,
            filed.request_id,
            dataset="news-demo",
            status_url="http://127.0.0.1/t/x",
            page_url=lambda v: f"http://127.0.0.1/r/{v}",
        )
        msgs = inbox.wait_for(1)
    assert sent == 1 and len(msgs) == 1
    assert msgs[0]["To"] == "person@example.net"
    assert "was executed" in msgs[0]["Subject"]
    assert "1.0.0 is replaced by 1.0.1" in body(msgs[0])
    with Ledger.open(project) as ledger:
        assert ledger.web_request(filed.request_id)["notified_at"]  # type: ignore[index]
        assert [n["kind"] for n in ledger.list_notices(request_id=filed.request_id)] == [
            "requester"
        ]


def test_declined_with_the_reason_the_requester_reads(project: Path) -> None:
    filed = intake.file_request(project, _form("https://example.org/not-in-the-data"))
    row = intake.confirm(project, filed.request_id)
    assert json.loads(row["match"]) == {"releases": {}, "latest_run": 0}
    with pytest.raises(TakedownRequestError, match="needs a reason"):
        decide.decline(project, filed.request_id, by="ana", reason="  ")
    row = decide.decline(project, filed.request_id, by="ana", reason="No record has this URL.")
    assert row["status"] == "declined"
    subject, text = notify.outcome(dataset="d", row=row, status_url="u")
    assert "declined" in subject and "No record has this URL." in text
    with pytest.raises(TakedownRequestError, match="declined: it cannot be approved"):
        decide.approve(project, filed.request_id, by="bo")


def test_an_unconfirmed_request_cannot_be_approved(project: Path) -> None:
    filed = intake.file_request(project, _form(released_urls(project)[0]))
    with pytest.raises(TakedownRequestError, match="unconfirmed: it cannot be approved"):
        decide.approve(project, filed.request_id, by="ana")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "everything", "field `kind`"),
        ("value", "not a url", "field `value`: a URL starts with"),
        ("email", "nobody", "field `email`"),
        ("email", "a@b.c\r\nBcc: x@y.z", "field `email`"),
        ("category", "spite", "field `category`"),
    ],
)
def test_bad_fields_are_named(field: str, value: str, message: str) -> None:
    form = _form("https://example.org/a", **{field: value})
    with pytest.raises(TakedownRequestError, match=message):
        intake.check_form(form)


def test_text_snippets_need_three_characters() -> None:
    with pytest.raises(TakedownRequestError, match="at least 3 characters"):
        intake.check_form(_form("ab", kind="text"))


def test_evidence_is_type_checked_size_limited_and_kept_outside_releases(project: Path) -> None:
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    stored = intake.store_evidence(project, pdf, filename="letter.pdf")
    assert stored["type"] == "application/pdf" and stored["bytes"] == len(pdf)
    path = project / stored["path"]
    assert path.read_bytes() == pdf
    assert (project / "releases") not in path.parents
    elf = Path("/bin/true").read_bytes()  # a real executable: not evidence
    with pytest.raises(TakedownRequestError, match="not a PDF, PNG, JPEG or UTF-8 text"):
        intake.store_evidence(project, elf, filename="true")
    with pytest.raises(TakedownRequestError, match="over the limit"):
        intake.store_evidence(project, b"a" * (intake.EVIDENCE_MAX_BYTES + 1))


def test_confirmation_links_are_signed_and_expire() -> None:
    secret = b"s" * 32
    token = tokens.sign(secret, "confirm", 7, max_age=60, now=1000.0)
    assert tokens.unsign(secret, "confirm", token, now=1030.0) == 7
    with pytest.raises(TakedownRequestError, match="expired"):
        tokens.unsign(secret, "confirm", token, now=1061.0)
    forged = token.replace("7.", "8.", 1)
    with pytest.raises(TakedownRequestError, match="not valid"):
        tokens.unsign(secret, "confirm", forged, now=1030.0)
    with pytest.raises(TakedownRequestError, match="not valid"):
        tokens.unsign(b"x" * 32, "confirm", token, now=1030.0)  # another site's secret
    with pytest.raises(TakedownRequestError, match="not valid"):
        tokens.unsign(secret, "download", token, now=1030.0)  # another purpose


def test_smtp_credentials_do_not_belong_in_the_project() -> None:
    with pytest.raises(TakedownRequestError, match="holds credentials"):
        Mailer(MailOptions(smtp_url="smtp://user:secret@mail.example.org"))


def test_an_unreachable_smtp_server_is_recorded_not_fatal(project: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    mailer = Mailer(MailOptions(smtp_url=f"smtp://127.0.0.1:{port}", timeout=2))
    ok = notify.send(project, mailer, to="a@example.net", message=("s", "b"), kind="requester")
    assert ok is False
    with Ledger.open(project) as ledger:
        (notice,) = ledger.list_notices()
    assert f"127.0.0.1:{port}" in notice["error"]


def test_people_who_downloaded_the_superseded_version_are_told(project: Path) -> None:

    with Ledger.open(project) as ledger:
        access = ledger
        for who in ("ada", "bob"):
            req = access.request_access(
                version="1.0.0", name=who, affiliation="Uni", email=f"{who}@example.edu",
                intended_use="research", terms_sha256="0" * 64, status_token_sha256=who * 16,
            )  # fmt: skip
            access.decide_access(req.request_id, approve=True, by="ana")
        access.record_download(version="1.0.0", path="manifest.json", request_id=1)
        access.record_download(version="1.0.0", path="data/part-0.parquet", request_id=1)
        # bob was approved but never downloaded: he is not told
    filed = intake.file_request(project, _form(released_urls(project)[2]))
    intake.confirm(project, filed.request_id)
    decide.approve(project, filed.request_id, by="ana")
    decide.execute(project, filed.request_id)
    with smtp_server() as inbox:
        mailer = Mailer(MailOptions(smtp_url=inbox.url))
        sent = notify.notify_outcome(
            project, mailer, filed.request_id, dataset="news-demo",
            status_url="s", page_url=lambda v: f"http://127.0.0.1/releases/{v}",
        )  # fmt: skip
        msgs = inbox.wait_for(2)
    assert sent == 2
    by_to = {m["To"]: m for m in msgs}
    assert set(by_to) == {"person@example.net", "ada@example.edu"}
    notice = by_to["ada@example.edu"]
    assert "1.0.0 is superseded by 1.0.1" in notice["Subject"]
    assert "http://127.0.0.1/releases/1.0.1" in body(notice)
    with Ledger.open(project) as ledger:
        kinds = [(n["kind"], n["version"]) for n in ledger.list_notices()]
    assert kinds == [("requester", None), ("downloader", "1.0.0")]


def test_a_job_left_running_by_a_stopped_server_is_finished_on_resume(project: Path) -> None:
    url = released_urls(project)[4]
    filed = intake.file_request(project, _form(url, category="copyright"))
    intake.confirm(project, filed.request_id)
    decide.approve(project, filed.request_id, by="ana")
    store = jobs.JobStore(project)
    job = store.create(kind="takedown", request_id=filed.request_id)
    job.update(state="running", message="started")  # the server died here
    store.save(job)
    threads = jobs.resume(
        jobs.JobStore(project), lambda p, rid, pr: decide.execute(p, rid, progress=pr)
    )
    assert len(threads) == 1
    threads[0].join(120)
    done = store.get(job["job_id"])
    assert done is not None and done["state"] == "done", done
    assert done["result"]["patches"] == {"1.0.0": "1.0.1"}
    assert url not in released_urls(project, "1.0.1")
    assert jobs.resume(store, lambda p, rid, pr: {}) == []  # nothing left to resume


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('smtp = "smtp://127.0.0.1:25"', r"unknown key `smtp` in \[web\]"),
        ('smtp_url = "http://mail.example.org"', "must start with smtp:// or smtps://"),
    ],
)
def test_the_web_table_of_the_recipe(table: str, message: str, tmp_path: Path) -> None:
    from takedown_kit import RECIPE

    from datasteward.errors import RecipeError
    from datasteward.recipe.model import parse_recipe

    web = parse_recipe(RECIPE + '\n[web]\nsmtp_url = "smtps://mail.example.org"\n', tmp_path)
    assert web.web.smtp_url == "smtps://mail.example.org" and web.web.base_url is None
    with pytest.raises(RecipeError, match=message):
        parse_recipe(RECIPE + f"\n[web]\n{table}\n", tmp_path / "datasteward.toml")


IMAGE_RECIPE = """\
[dataset]
name = "photos"
description = "Open Images photos under CC BY (their credits), an image-text test set."
homepage = "https://example.org/photos"

[[sources]]
name = "openimages"
format = "csv"
path = "data/credits.csv"
id_field = "ImageID"
text_field = "Title"
url_field = "OriginalURL"
license = "CC-BY-2.0"
"""


def test_an_image_url_takes_down_that_image(tmp_path: Path) -> None:
    """The form's "an image (its URL)" matches image-text records by their image URL (the
    Open Images credits in tests/data: one row per photo)."""
    import csv
    import shutil

    from takedown_kit import REPO

    from datasteward.executors.local import LocalExecutor, RunOptions
    from datasteward.recipe import load_recipe
    from datasteward.release.build.make import make_release

    credits = REPO / "tests" / "data" / "image-text" / "openimages-cc-by-photos" / "credits.csv"
    root = tmp_path / "photos"
    (root / "data").mkdir(parents=True)
    shutil.copy(credits, root / "data" / "credits.csv")
    (root / "datasteward.toml").write_text(IMAGE_RECIPE, "utf-8")
    LocalExecutor(load_recipe(root), RunOptions(workers=1)).run()
    make_release(root, "1.0.0", draft=True)
    with credits.open(newline="", encoding="utf-8") as fh:
        image = list(csv.DictReader(fh))[5]["OriginalURL"]
    assert image in released_urls(root)
    filed = intake.file_request(root, _form(image, kind="image_url", category="copyright"))
    row = intake.confirm(root, filed.request_id)
    assert json.loads(row["match"])["releases"] == {"1.0.0": 1}
    decide.approve(root, filed.request_id, by="ana")
    result = decide.execute(root, filed.request_id)
    assert result["patches"] == {"1.0.0": "1.0.1"}
    assert image not in released_urls(root, "1.0.1")
    assert len(released_urls(root, "1.0.1")) == len(released_urls(root)) - 1


def test_a_text_snippet_takes_down_every_record_naming_it(project: Path) -> None:
    """A person's name as it appears in the text (C4's first page names a BBQ teacher): the
    records holding it leave the patch release, and the name never enters the ledger."""
    import pyarrow.parquet as pq

    name = "Tony Balay"

    def texts(version: str) -> list[str]:
        files = sorted((project / "releases" / version / "data").glob("*.parquet"))
        return [t for f in files for t in pq.read_table(f, columns=["text"]).column(0).to_pylist()]

    holding = sum(name.lower() in t.lower() for t in texts("1.0.0"))
    assert holding >= 1
    filed = intake.file_request(project, _form(name, kind="text"))  # privacy: erases
    row = intake.confirm(project, filed.request_id)
    assert json.loads(row["match"])["releases"] == {"1.0.0": holding}
    decide.approve(project, filed.request_id, by="ana")
    decide.execute(project, filed.request_id)
    assert not any(name.lower() in t.lower() for t in texts("1.0.1"))
    with Ledger.open(project) as ledger:
        assert name not in json.dumps([e.payload for e in ledger.events()])
