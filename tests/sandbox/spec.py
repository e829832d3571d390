"""Check sandbox responses against Twilio's OpenAPI response schemas (../shared/twilio-oai).

``assert_conforms(body, "trusthub.v1.customer_profile")`` validates with the OAS 3.0 validator
(``nullable`` understood) AND checks that every property of the schema is present and no other:
Twilio always sends every field, with null where there is nothing.
"""

from __future__ import annotations

import copy
import json
import os
from functools import lru_cache
from pathlib import Path

from openapi_schema_validator import OAS30Validator

SPEC_DIR = Path(os.environ.get("A2P_TWILIO_OAI_DIR") or Path(__file__).resolve().parents[3] / "shared" / "twilio-oai")
FILES = {"trusthub": "twilio_trusthub_v1.json", "messaging": "twilio_messaging_v1.json", "api": "twilio_api_v2010.json"}

# Where the spec's own examples contradict its schema, the sandbox follows the example (ENDPOINTS.md 2.3):
# a PENDING brand has identity_status null.
NULLABLE_OVERRIDES = {("messaging.v1.brand_registrations", "identity_status")}


@lru_cache(maxsize=None)
def _components(host: str) -> dict:
    path = SPEC_DIR / FILES[host]
    components = copy.deepcopy(json.loads(path.read_text())["components"])
    for schema_name, prop in NULLABLE_OVERRIDES:
        schemas = components["schemas"]
        if schema_name in schemas:
            ref = schemas[schema_name]["properties"][prop]["$ref"].rsplit("/", 1)[-1]
            schemas[schema_name]["properties"][prop] = {
                "type": "string", "nullable": True, "enum": [*schemas[ref]["enum"], None]}
    return components


def schema(name: str) -> tuple[dict, dict]:
    host = {"trusthub": "trusthub", "messaging": "messaging", "api": "api"}[name.split(".")[0]]
    components = _components(host)
    return components["schemas"][name], components


def assert_conforms(body: dict, name: str, *, exact: bool = True) -> None:
    sch, components = schema(name)
    OAS30Validator({"$ref": f"#/components/schemas/{name}", "components": components}).validate(body)
    if exact and "properties" in sch:
        expected = set(sch["properties"])
        missing = expected - set(body)
        extra = set(body) - expected
        assert not missing and not extra, f"{name}: missing {sorted(missing)}, unexpected {sorted(extra)}"


def assert_page_conforms(body: dict, key: str, item_schema: str) -> None:
    assert set(body) == {key, "meta"}, sorted(body)
    assert body["meta"]["key"] == key
    assert set(body["meta"]) == {"first_page_url", "key", "next_page_url", "page", "page_size",
                                 "previous_page_url", "url"}
    for item in body[key]:
        assert_conforms(item, item_schema)
