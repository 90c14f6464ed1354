"""Generated requests across every implemented route: never a 5xx, always a documented response.

Each response also passes the OpenAPI contract check in ``Api.call`` (status documented, body of its
schema), so every 4xx carries a valid error envelope.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NOT_YET: set[str] = set()  # routes whose handlers are placeholders (none now)
EXAMPLES = 1_200  # generated requests; the issue asks for at least 1,000

FIELD_NAMES = ["email", "firstName", "lastName", "company", "customAttributes", "tags", "status", "name", "subject",
               "html", "text", "templateId", "fromEmail", "fromName", "audience", "startAt", "pacing", "dailyLimit",
               "sendingWindow", "unknown"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=False),
                    st.text(max_size=60), st.sampled_from(["a@pivotr.example.com", "x@gmail.com", "{{firstName}}",
                                                           "{{nope}}", "Asia/Kolkata", "valid", "bounced", "draft"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                           max_leaves=12)
objects = st.fixed_dictionaries({}, optional={name: json_values for name in FIELD_NAMES})
bodies = st.one_of(
    st.none(),
    objects.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=120),  # not JSON at all
    st.just("{" * 200),
    # hostile: nesting far past any bound (json.loads recursed into a RecursionError: a 500), and size
    st.sampled_from(["[" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000, '{"email": ' + "[" * 40 + "]" * 40 + "}"]),
    st.integers(256 * 1024 + 1, 300 * 1024).map(lambda n: '{"name": "' + "x" * n + '"}'),
)
segments = st.text(st.characters(blacklist_characters="/?#%", blacklist_categories=("Cs",)), min_size=1, max_size=80)
queries = st.dictionaries(st.sampled_from(["limit", "nextToken", "status", "tag", "days", "other"]),
                          st.text(st.characters(blacklist_categories=("Cs",)), max_size=40), max_size=4)
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", "text/csv", ""])


def test_generated_requests_never_get_a_5xx(api) -> None:
    # Given a few real items, so generated ids sometimes exist
    template = api.post("/templates", {"name": "t", "subject": "s", "text": "b"}).body["id"]
    campaign = api.post("/campaigns", {"name": "c", "templateId": template, "fromEmail": "a@pivotr.example.com",
                                       "audience": {"statuses": ["valid"]}}).body["id"]
    lead = api.post("/leads", {"email": "fuzz@example.com"}).body["id"]
    routes = sorted(set(api.routes) - NOT_YET)
    statuses: list[int] = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(route=st.sampled_from(routes), id_=st.one_of(st.sampled_from([template, campaign, lead]), segments),
           body=bodies, query=queries, content_type=content_types)
    def one_request(route: str, id_: str, body: str | None, query: dict[str, str], content_type: str) -> None:
        method, template_path = route.split(" ", 1)
        path = template_path.replace("{id}", id_)
        # When the request arrives / Then it is answered without a server error (the contract is checked in Api)
        reply = api.call(method, path, raw=body, query=query, headers={"content-type": content_type})
        statuses.append(reply.status)
        assert reply.status < 500, (route, path, body, query, reply.body)

    one_request()
    assert len(statuses) >= 1_000
    assert {200, 400}.issubset(statuses)  # it reached real behaviour and real validation


def test_every_route_that_reads_a_body_refuses_hostile_json_with_an_envelope(api) -> None:
    """Issue 15 item 2, reproduced on the old code: ``"[" * 100000`` on POST /leads and POST /leads/import
    raised RecursionError, answered 500."""
    body_routes = [r for r in sorted(api.routes) if r.split(" ")[0] in ("POST", "PUT") and "unsubscribe" not in r]
    assert {"POST /leads", "POST /leads/import", "POST /campaigns", "PUT /templates/{id}"} <= set(body_routes)
    for route in body_routes:
        method, path = route.split(" ", 1)
        path = path.replace("{id}", "x1")
        for body, status in (("[" * 100_000, 400), ('{"a": ' + "[" * 33 + "]" * 33 + "}", 400),
                             ('{"name": "' + "x" * (1100 * 1024) + '"}', 413)):  # over every route's limit
            reply = api.call(method, path, raw=body, headers={"content-type": "application/json"})
            # 404 is fine where the item must exist first; never a 5xx, always the error envelope
            assert reply.status in (status, 404, 415), (route, reply.status, str(reply.body)[:200])
            assert set(reply.body) >= {"error"}, (route, reply.body)
