"""Issue 11, item 13: a body cut mid-transfer is a malformed response (retried, the fetch goes on), and a
server that hands out new cursors forever is followed only up to a cap.

Against the local fake of Meta's Graph API (a real HTTP server on 127.0.0.1). Paging per Meta's "Graph
API: Paginated results" page (cursor-based pagination: follow `paging.next` until it is absent).
"""
from datetime import date, datetime, timezone

import pytest

from fake_graph import Reply, fake  # noqa: F401 (fake: the server fixture)
from graph_world import PHONE_PAGES, V, WABA, serve_world, world_settings
from pipelines.sources.graph_api import GraphApiError, GraphClient, GraphSettings
from pipelines.sources.graph_fetch import fetch_business_manager

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=timezone.utc)


def test_a_body_cut_mid_transfer_is_retried_as_malformed_not_unreachable(fake):
    good = {"data": PHONE_PAGES[0]}
    fake.add(f"{V}/{WABA}/phone_numbers", Reply(body=good, cut_after=10), Reply(body=good))
    with GraphClient(world_settings(fake), sleep=lambda _: None) as client:
        page = client.get(client.request("phone_numbers", f"/{WABA}/phone_numbers", {"limit": 100}))
    assert page.body == good
    assert fake.hits(f"{V}/{WABA}/phone_numbers") == 2


def test_a_body_always_cut_fails_that_call_only_and_the_fetch_goes_on(fake, landing):
    serve_world(fake)
    fake.add(f"{V}/{WABA}/phone_numbers", Reply(body={"data": PHONE_PAGES[0]}, cut_after=10))
    result = fetch_business_manager(world_settings(fake), landing, since=date(2026, 11, 1), until=date(2026, 11, 28),
                                    log=lambda _: None, now=NOW)
    assert len(result.failures) == 1 and "malformed response" in result.failures[0]
    assert "cannot reach" not in result.failures[0]
    # The calls after it still ran and were saved.
    assert any("/message_templates/" in str(p) for p in result.files)


def test_paging_stops_at_the_cap_and_says_so(fake):
    fake.paged(f"{V}/{WABA}/phone_numbers", [[{"id": str(n)}] for n in range(6)])
    with GraphClient(world_settings(fake, max_pages=3), sleep=lambda _: None) as client:
        pages = []
        with pytest.raises(GraphApiError, match="stopped after 3 pages"):
            for page in client.pages(client.request("phone_numbers", f"/{WABA}/phone_numbers", {"limit": 100})):
                pages.append(page)
    assert len(pages) == 3


def test_the_page_cap_defaults_to_ten_thousand():
    assert GraphSettings("t", ("1",)).max_pages == 10_000
