"""The OpenAPI schema of /api/v1/, its two readers (Swagger UI and Redoc) under the CSP,
and the integration guide's examples run against the real API."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.drainage import GENERATOR_STATS
from playwright.sync_api import Browser, Page, expect

from campaigns.api_keys import brand_api_key_create
from campaigns.models import CampaignActivePeriod, CampaignTerms, Collaboration
from connect.api_docs import REDOC_LOAD_STYLE_HASHES
from connect.tokens import creator_token_create
from payouts.api import ORDER_EVENTS_ANSWER_EXAMPLE, ORDER_EVENTS_EXAMPLE
from payouts.api_read import COMMISSION_PAGE_EXAMPLE
from payouts.ingest import EventError, order_event_validate
from payouts.processing import order_events_process_all
from tests.campaigns.factories import CampaignFactory, CollaborationFactory
from tests.connect.factories import CreatorProfileFactory
from tests.payouts.pipeline import yesterday

pytestmark = pytest.mark.django_db

GUIDE = Path(settings.BASE_DIR) / "docs" / "integration-guide.md"
DOCS_ROUTES = {"/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/"}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    body = Client().get("/api/v1/schema/", {"format": "json"})
    assert body.status_code == 200
    parsed: dict[str, Any] = json.loads(body.content)
    return parsed


def api_routes() -> Iterator[tuple[str, Any]]:
    """Every URL of the URL conf under /api/v1/ as an OpenAPI path, with its view."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    for route, view in walk(get_resolver().url_patterns, "/"):
        if route.startswith("/api/v1/") and route not in DOCS_ROUTES:
            yield re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), view


def view_methods(view: Any) -> set[str]:
    cls = getattr(view, "cls", None)
    assert cls is not None, f"{view} is not a DRF view: the schema cannot describe it"
    return {method for method in HTTP_METHODS if hasattr(cls, method)}


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


# ---------------------------------------------------------------------------------------
# The schema


def test_the_schema_generates_without_a_warning_and_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    GENERATOR_STATS.reset()
    out = tmp_path / "schema.yml"

    # when (raises SchemaGenerationError on any warning or error, and on an invalid schema)
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    # then
    assert not GENERATOR_STATS  # no warning and no error was recorded
    assert "Schema generation summary" not in capsys.readouterr().err
    generated = yaml.safe_load(out.read_text())
    assert generated["openapi"] == "3.0.3"
    assert generated["info"]["title"] == "Connect API"


def test_every_api_url_and_method_of_the_url_conf_is_in_the_schema(
    schema: dict[str, Any],
) -> None:
    # given
    routes = dict(api_routes())
    assert "/api/v1/order-events" in routes  # the walk finds the API

    # then every route and each method its view answers is documented, and nothing else
    assert set(schema["paths"]) == set(routes)
    for path, view in routes.items():
        assert set(schema["paths"][path]) == view_methods(view), path


def test_every_operation_is_described_with_its_answers_and_errors(
    schema: dict[str, Any],
) -> None:
    operation_ids = []
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        operation_ids.append(operation["operationId"])
        assert operation.get("summary"), where
        assert len(operation.get("description", "")) > 40, where
        assert operation.get("tags"), where
        assert operation.get("security"), where
        statuses = set(operation["responses"])
        assert any(status.startswith("2") for status in statuses), where
        errors = {status for status in statuses if not status.startswith("2")}
        assert errors, where
        for status in errors:
            answer = operation["responses"][status]
            content = answer["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, where
            assert answer["description"], where
            for example in content["examples"].values():
                assert set(example["value"]) == {"code", "errors"}, where
        if method in ("post", "patch") and "requestBody" in operation:
            assert set(operation["requestBody"]["content"]) == {"application/json"}, where
    assert len(operation_ids) == len(set(operation_ids))


def test_the_error_component_matches_the_real_error_shape(schema: dict[str, Any]) -> None:
    # given a real error
    real = Client().get("/api/v1/commissions", {"status": "lost"}).json()

    # then
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == set(real) == {"code", "errors"}
    assert error["properties"]["errors"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_the_security_schemes_say_how_each_caller_authenticates(schema: dict[str, Any]) -> None:
    # given
    schemes = schema["components"]["securitySchemes"]
    paths = schema["paths"]

    # then
    assert schemes["brandApiKey"]["type"] == "http"
    assert schemes["brandApiKey"]["scheme"] == "bearer"
    assert schemes["brandApiKey"]["bearerFormat"] == "ck_live_<prefix>_<secret>"
    assert schemes["creatorToken"]["type"] == "http"
    assert schemes["creatorToken"]["scheme"] == "bearer"
    assert schemes["creatorToken"]["bearerFormat"] == "ck_pat_<prefix>_<secret>"
    assert {k: schemes["cookieAuth"][k] for k in ("type", "in", "name")} == {
        "type": "apiKey",
        "in": "cookie",
        "name": "sessionid",
    }
    assert "X-CSRFToken" in schemes["cookieAuth"]["description"]
    assert paths["/api/v1/order-events"]["post"]["security"] == [{"brandApiKey": []}]
    assert paths["/api/v1/orders/{order_id}"]["get"]["security"] == [{"brandApiKey": []}]
    assert paths["/api/v1/commissions"]["get"]["security"] == [
        {"brandApiKey": []},
        {"creatorToken": []},
        {"cookieAuth": []},
    ]
    assert paths["/api/v1/brands/{slug}/campaigns"]["post"]["security"] == [{"cookieAuth": []}]


def test_the_order_events_operation_shows_the_batch_and_its_answer(
    schema: dict[str, Any],
) -> None:
    # given
    operation = schema["paths"]["/api/v1/order-events"]["post"]
    components = schema["components"]["schemas"]

    # then the request: the batch with its limits and the example
    request = operation["requestBody"]["content"]["application/json"]
    assert request["schema"] == {"$ref": "#/components/schemas/OrderEventBatchRequest"}
    events = components["OrderEventBatchRequest"]["properties"]["events"]
    assert (events["minItems"], events["maxItems"]) == (1, 1000)
    event = components["OrderEventRequest"]
    assert set(event["required"]) == {"id", "type", "order_id", "occurred_at", "currency"}
    assert event["properties"]["amount"]["type"] == "string"
    assert [e["value"] for e in request["examples"].values()] == [ORDER_EVENTS_EXAMPLE]
    # and the answers: 202 with its example, and every error the endpoint can give
    accepted = operation["responses"]["202"]["content"]["application/json"]
    assert accepted["schema"] == {"$ref": "#/components/schemas/OrderEventsAnswer"}
    assert [e["value"] for e in accepted["examples"].values()] == [ORDER_EVENTS_ANSWER_EXAMPLE]
    assert set(operation["responses"]) == {"202", "400", "401", "403", "413", "415", "429"}
    assert operation["responses"]["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]


def test_the_commissions_list_documents_its_filters_cursor_and_pages(
    schema: dict[str, Any],
) -> None:
    # given
    operation = schema["paths"]["/api/v1/commissions"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    page = schema["components"]["schemas"]["CommissionPage"]

    # then
    assert set(parameters) == {
        "campaign",
        "creator",
        "status",
        "updated_since",
        "cursor",
        "page_size",
    }
    assert parameters["status"]["schema"]["enum"] == ["pending", "approved", "void"]
    assert parameters["updated_since"]["schema"]["format"] == "date-time"
    assert parameters["page_size"]["schema"]["maximum"] == 1000
    assert "next" in parameters["cursor"]["description"]
    assert set(page["properties"]) == {"next", "previous", "results"}
    assert page["properties"]["next"]["nullable"] is True
    assert page["properties"]["results"]["items"] == {"$ref": "#/components/schemas/Commission"}
    example = operation["responses"]["200"]["content"]["application/json"]["examples"]
    assert [e["value"] for e in example.values()] == [COMMISSION_PAGE_EXAMPLE]
    assert set(operation["responses"]) == {"200", "400", "401", "403", "429"}


def test_every_list_pages_by_cursor_with_the_same_parameters_and_answer(
    schema: dict[str, Any],
) -> None:
    lists = {
        "/api/v1/commissions": "CommissionPage",
        "/api/v1/brands/{slug}/campaigns": "CampaignPage",
        "/api/v1/campaigns/{campaign_id}/collaborations": "CollaborationPage",
    }
    components = schema["components"]["schemas"]
    for path, page in lists.items():
        operation = schema["paths"][path]["get"]
        names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert {"cursor", "page_size", "status"} <= names, path
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer == {"$ref": f"#/components/schemas/{page}"}
        assert set(components[page]["properties"]) == {"next", "previous", "results"}


def test_the_documented_commission_example_has_the_fields_of_a_real_one() -> None:
    # given a real commission read with a brand key
    campaign = CampaignFactory()
    collaboration = CollaborationFactory(campaign=campaign)
    key = brand_api_key_create(brand=campaign.brand, actor=None, name="Shop")[1]
    client = Client()
    event = {
        **ORDER_EVENTS_EXAMPLE["events"][0],
        "code": collaboration.discount_code,
        "occurred_at": yesterday().isoformat(),
    }
    client.post(
        "/api/v1/order-events",
        {"events": [event]},
        content_type="application/json",
        headers={"authorization": f"Bearer {key}"},
    )
    order_events_process_all()

    # when
    real = client.get("/api/v1/commissions", headers={"authorization": f"Bearer {key}"}).json()

    # then
    assert set(real) == set(COMMISSION_PAGE_EXAMPLE)
    documented = COMMISSION_PAGE_EXAMPLE["results"][0]  # type: ignore[index]
    assert set(real["results"][0]) == set(documented)
    assert set(real["results"][0]["campaign"]) == set(documented["campaign"])


def test_the_documented_batch_is_stored_and_a_later_one_answers_as_documented() -> None:
    # given
    campaign = CampaignFactory()
    key = brand_api_key_create(brand=campaign.brand, actor=None, name="Shop")[1]
    client = Client()

    def send(body: dict[str, Any]) -> Any:
        return client.post(
            "/api/v1/order-events",
            body,
            content_type="application/json",
            headers={"authorization": f"Bearer {key}"},
        )

    # when
    first = send(ORDER_EVENTS_EXAMPLE)
    later = send(LATER_BATCH)

    # then
    assert first.status_code == 202
    assert first.json() == {"accepted": 4, "duplicates": 0, "rejected": []}
    assert later.status_code == 202
    assert later.json() == ORDER_EVENTS_ANSWER_EXAMPLE


# The batch after the documented one, whose answer the schema and the guide show.
LATER_BATCH: dict[str, Any] = {
    "events": [
        {
            "id": "evt_1005",
            "type": "order.paid",
            "order_id": "A-1003",
            "occurred_at": "2025-03-05T10:00:00Z",
            "amount": "89.90",
            "currency": "EUR",
            "code": "OLACREATES",
        },
        {
            "id": "evt_1006",
            "type": "order.refunded",
            "order_id": "A-1003",
            "occurred_at": "2025-03-06T10:00:00Z",
            "amount": "89.90",
            "currency": "EUR",
        },
        ORDER_EVENTS_EXAMPLE["events"][0],
        {
            "id": "evt_1007",
            "type": "order.cancelled",
            "order_id": "A-1004",
            "occurred_at": "2025-03-06T11:00:00Z",
            "amount": "12.00",
            "currency": "EUR",
        },
    ]
}


# ---------------------------------------------------------------------------------------
# The readers


def _assets(html: str) -> list[str]:
    return re.findall(r'<(?:script|link)[^>]*\b(?:src|href)="([^"]+)"', html)


def _csp(response: Any) -> dict[str, list[str]]:
    directives = [d.strip().split() for d in response["Content-Security-Policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


def test_the_schema_and_both_readers_are_public(django_user_model: Any) -> None:
    for path in sorted(DOCS_ROUTES):
        assert Client().get(path).status_code == 200, path


def test_swagger_ui_loads_its_script_and_styles_from_our_static_files() -> None:
    # when
    page = Client().get("/api/v1/docs/")
    html = page.content.decode()

    # then no inline script or style, and every asset is one of our static files
    assert page.status_code == 200
    assert "<style" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assets = _assets(html)
    static = [a for a in assets if a.startswith(settings.STATIC_URL)]
    assert {Path(a).name for a in static} >= {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "api_docs.css",
    }
    for asset in static:
        assert finders.find(asset.removeprefix(settings.STATIC_URL)) is not None, asset
    # and the start-up script is a file of its own, which the site's CSP allows
    script_url = next(a for a in assets if "script=" in a)
    assert urlsplit(script_url).path == "/api/v1/docs/"
    script = Client().get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert '"/api/v1/schema/"' in script.content.decode()
    assert '"validatorUrl": null' in script.content.decode()
    assert _csp(page)["script-src"] == ["'self'"]
    assert _csp(page)["style-src"] == ["'self'"]


def test_redoc_loads_from_our_static_files_and_widens_only_its_own_style_src() -> None:
    # when
    page = Client().get("/api/v1/redoc/")
    html = page.content.decode()
    site = Client().get("/api/v1/docs/")

    # then
    assert page.status_code == 200
    assert "fonts.googleapis.com" not in html
    assert "<style" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    static = [a for a in _assets(html) if a.startswith(settings.STATIC_URL)]
    assert {Path(a).name for a in static} >= {"redoc.standalone.js", "api_redoc.js"}
    for asset in static:
        assert finders.find(asset.removeprefix(settings.STATIC_URL)) is not None, asset
    policy = _csp(page)
    nonce = re.search(r'nonce="([^"]+)"', html)
    assert nonce is not None
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce.group(1)}'", *REDOC_LOAD_STYLE_HASHES]
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]
    # and no other page gets the nonce
    assert "nonce-" not in site["Content-Security-Policy"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "shows"),
    [("/api/v1/docs/", "Send order events"), ("/api/v1/redoc/", "Send order events")],
    ids=["swagger", "redoc"],
)
def test_a_reader_renders_the_api_in_chromium_offline_with_no_csp_violation(
    live_server: Any,
    browser: Browser,
    screenshot: Callable[[Page, str], Path],
    path: str,
    shows: str,
) -> None:
    # given a page that records CSP violations and everything it loads
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.__violations.push("
        "e.violatedDirective + ' ' + e.blockedURI));"
    )
    loaded: list[str] = []
    errors: list[str] = []
    page.on("requestfinished", lambda request: loaded.append(request.url))
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )

    # when
    page.goto(f"{live_server.url}{path}")

    # then the operations are there, rendered from our own server only
    for summary in (shows, "List commissions", "Read an order"):
        shown = page.get_by_text(summary, exact=True).filter(visible=True).first
        expect(shown).to_be_visible(timeout=20_000)
    screenshot(page, path.strip("/").replace("/", "-"))
    # Redoc's sidebar footer tries Redocly's logo from their CDN: our CSP refuses it, and
    # Redoc hides the image when it fails. Nothing else is refused.
    blocked_logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert [v for v in page.evaluate("window.__violations") if blocked_logo not in v] == []
    assert [e for e in errors if blocked_logo not in e] == []
    assert loaded
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in loaded), loaded
    context.close()


# ---------------------------------------------------------------------------------------
# The integration guide


def guide_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)


def guide_json() -> list[Any]:
    """Every JSON document of the guide: its JSON blocks and the bodies its curl sends."""
    bodies = [
        body
        for block in guide_blocks("sh")
        for body in re.findall(r"<<'EOF'\n(.*?)\nEOF", block, flags=re.DOTALL)
    ]
    return [json.loads(text) for text in guide_blocks("json") + bodies]


def test_the_guide_shows_the_documented_batch_and_answers() -> None:
    # given
    blocks = guide_json()
    batches = [block for block in blocks if set(block) == {"events"}]
    answers = [block for block in blocks if "accepted" in block]

    # then
    assert ORDER_EVENTS_EXAMPLE in batches
    assert LATER_BATCH in batches
    assert ORDER_EVENTS_ANSWER_EXAMPLE in answers
    for block in blocks:
        if "code" in block and "errors" in block:
            assert set(block) == {"code", "errors"}


def test_every_event_of_the_guide_passes_the_ingest_validator_but_the_refused_one() -> None:
    refused = []
    for block in guide_json():
        if set(block) != {"events"}:
            continue  # an answer, like an order with its received events
        for event in block["events"]:
            try:
                order_event_validate(event)
            except EventError as error:
                refused.append((event["id"], str(error)))
    assert refused == [("evt_1007", "order.cancelled takes no amount: leave amount out.")]


def test_every_api_path_the_guide_names_is_in_the_schema(schema: dict[str, Any]) -> None:
    # given
    text = GUIDE.read_text()
    named = set(re.findall(r"(/api/v1/[A-Za-z0-9_\-/{}<>%.]*)", text))
    assert len(named) >= 5

    # then each resolves to a documented path (or is the documentation itself)
    for path in named:
        clean = path.rstrip(".")
        if clean in DOCS_ROUTES:
            continue
        concrete = re.sub(r"\{\w+\}|<\w+>", "1", clean)
        match = resolve(concrete)
        template = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", match.route)
        assert template in schema["paths"], path


@pytest.mark.django_db(transaction=True)
def test_the_guides_curl_and_python_examples_work_against_a_live_server(
    live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a brand with a creator whose discount code is the guide's, and a creator token
    campaign = CampaignFactory(title="Spring capsule")
    creator = CreatorProfileFactory(handle="ola")
    collaboration = CollaborationFactory(
        campaign=campaign, creator=creator, discount_code="OLACREATES"
    )
    # The guide's orders are from March 2025: the campaign ran and Ola was in it then.
    since = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    CampaignActivePeriod.objects.filter(campaign=campaign).update(started_at=since)
    CampaignTerms.objects.filter(campaign=campaign).update(effective_from=since)
    Collaboration.objects.filter(pk=collaboration.pk).update(activated_at=since)
    key = brand_api_key_create(brand=campaign.brand, actor=None, name="Shop")[1]
    token = creator_token_create(creator=creator, actor=creator.user, name="Sheet")[1]
    monkeypatch.setenv("CONNECT_API_KEY", key)
    monkeypatch.setenv("CONNECT_TOKEN", token)
    base = "https://connect.example.com"
    curl = guide_blocks("sh")
    python = guide_blocks("python")
    assert len(curl) >= 4
    assert len(python) >= 3

    # when every curl example runs in order, processing as the workers would
    outputs = []
    for block in curl:
        command = block.replace(base, live_server.url)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "CONNECT_API_KEY": key, "CONNECT_TOKEN": token},
        )
        assert result.returncode == 0, (block, result.stderr)
        outputs.append(result.stdout)
        order_events_process_all()

    # then they answered as the guide says
    answers = [json.loads(out) for out in outputs if out.strip().startswith("{")]
    assert {"accepted": 4, "duplicates": 0, "rejected": []} in answers
    assert ORDER_EVENTS_ANSWER_EXAMPLE in answers
    assert any(a.get("order_id") == "A-1001" and a["commission"] for a in answers)
    assert any(
        a.get("results") and a["results"][0]["creator"] == {"handle": "ola"} for a in answers
    )

    # when every Python example runs, in one namespace as a reader would paste them
    namespace: dict[str, Any] = {"__name__": "guide"}
    for block in python:
        exec(compile(block.replace(base, live_server.url), str(GUIDE), "exec"), namespace)  # noqa: S102
        order_events_process_all()

    # then the Python helpers did what the guide says they do
    assert namespace["answer"] == {"accepted": 0, "duplicates": 4, "rejected": []}
    handles = {c["creator"]["handle"] for c in namespace["commissions"]}
    assert handles == {"ola"}
    assert namespace["order"]["order_id"] == "A-1001"
    assert {c["order_id"] for c in namespace["my_commissions"]} <= {"A-1001", "A-1003"}
