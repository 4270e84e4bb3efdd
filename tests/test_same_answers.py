"""A harvest's answers: one digest of every document it read, in order (incremental.same_answers)."""

from __future__ import annotations

from types import SimpleNamespace

from wwc_pipeline.http_conditional import ValidatorLog
from wwc_pipeline.incremental import ANSWERS_KEY, replay_of


def answered(*bodies: str | None, etag: str | None = None) -> ValidatorLog:
    log = ValidatorLog()
    for number, body in enumerate(bodies):
        response = SimpleNamespace(
            headers={"ETag": etag} if etag else {},
            request=SimpleNamespace(url=f"http://127.0.0.1:9/page/{number}"),
            history=[],
        )
        log.note(SimpleNamespace(method="GET", secrets=False), response, body)
    return log


def test_the_same_bodies_in_the_same_order_are_the_same_answers():
    assert answered("a" * 64, "b" * 64).answers() == answered("a" * 64, "b" * 64).answers()
    assert answered("a" * 64, "b" * 64).answers() != answered("b" * 64, "a" * 64).answers()
    assert answered("a" * 64).answers() != answered("a" * 64, "b" * 64).answers()


def test_no_answers_without_every_body_digest():
    assert answered().answers() is None
    assert answered("a" * 64, None).answers() is None


def test_a_portal_without_validators_keeps_its_answers_for_the_next_run():
    portal = SimpleNamespace(platform="ckan", url="http://127.0.0.1:9/")
    replay = replay_of(portal, answered("a" * 64), server_total=1)
    assert replay is not None and replay["pages"] is None and replay[ANSWERS_KEY]
    with_validators = replay_of(portal, answered("a" * 64, etag='"v1"'), server_total=1)
    page = {"url": "http://127.0.0.1:9/page/0", "etag": '"v1"', "last_modified": None}
    assert with_validators["pages"] == [page]
    assert replay_of(portal, answered(None), server_total=1) is None
