"""What the fake Graph API serves for WABA 123: Meta-shaped phone numbers, templates and analytics."""
from calendar import timegm

from fake_graph import FakeGraph, Reply, quick_settings
from pipelines.sources.graph_api import GraphSettings

DAY = timegm((2026, 11, 27, 0, 0, 0))      # the day the analytics below describe
OLD_DAY = timegm((2025, 6, 2, 0, 0, 0))   # a conversation-based-pricing day
TOKEN = "EAAGtestTOKENdoNotLeak0123456789abcdef"
WABA = "123"
V = "/v24.0"

PHONE_PAGES = [
    [{"id": "1111", "display_phone_number": "+1 555-000-1111", "verified_name": "Acme", "quality_rating": "GREEN",
      "whatsapp_business_manager_messaging_limit": "TIER_10K", "messaging_limit_tier": "TIER_10K",
      "status": "CONNECTED", "name_status": "APPROVED", "throughput": {"level": "STANDARD"}}],
    [{"id": "2222", "display_phone_number": "+44 20 0000 2222", "verified_name": "Acme UK", "quality_rating": "YELLOW",
      "messaging_limit_tier": "TIER_1K", "status": "CONNECTED", "name_status": "PENDING_REVIEW",
      "throughput": {"level": "HIGH"}}],
]


def template(n: int) -> dict:
    return {"id": f"9{n:03d}", "name": f"promo_{n}", "language": "en_US", "status": "APPROVED",
            "category": "MARKETING", "previous_category": "TRANSACTIONAL" if n == 0 else None,
            "sub_category": "CUSTOM", "parameter_format": "POSITIONAL",
            "components": [{"type": "BODY", "text": f"Hello {{{{1}}}}, offer {n}"}],
            "quality_score": {"score": "GREEN", "date": 1764000000}, "rejected_reason": "NONE"}


TEMPLATE_PAGES = [[template(n) for n in range(0, 5)], [template(n) for n in range(5, 10)],
                  [template(n) for n in range(10, 12)]]

PRICING = {"currency": "USD", "id": WABA, "pricing_analytics": {"data": [{"data_points": [
    {"start": DAY, "end": DAY + 86400, "country": "BR", "phone_number": "15550001111", "tier": "0:MAX",
     "pricing_type": "REGULAR", "pricing_category": "MARKETING", "volume": 120, "cost": 7.5},
    {"start": DAY, "end": DAY + 86400, "country": "IN", "phone_number": "15550001111", "tier": "0:100000",
     "pricing_type": "REGULAR", "pricing_category": "UTILITY", "volume": 40, "cost": 0.0784},
    {"start": DAY, "end": DAY + 86400, "country": "BR", "phone_number": "15550001111",
     "pricing_type": "FREE_CUSTOMER_SERVICE", "pricing_category": "SERVICE", "volume": 300},
]}]}}

CONVERSATIONS = {"currency": "USD", "id": WABA, "conversation_analytics": {"data": [{"data_points": [
    {"start": OLD_DAY, "end": OLD_DAY + 86400, "conversation": 12, "phone_number": "15550001111", "country": "GB",
     "conversation_type": "REGULAR", "conversation_direction": "BUSINESS_INITIATED",
     "conversation_category": "MARKETING", "cost": 0.66},
]}]}}


def template_analytics(ids: list[str]) -> dict:
    return {"data": [{"granularity": "DAILY", "product_type": "cloud_api", "data_points": [
        {"template_id": tid, "start": DAY, "end": DAY + 86400, "sent": 10, "delivered": 9, "read": 5,
         "clicked": [{"type": "quick_reply_button", "button_content": "Yes", "count": 2},
                     {"type": "url_button", "button_content": "Shop", "count": 1}],
         "cost": [{"type": "amount_spent", "value": 0.45}, {"type": "cost_per_delivered", "value": 0.05}]}
        for tid in ids]}], "paging": {"cursors": {"before": "X", "after": "Y"}}}


def serve_world(fake: FakeGraph) -> None:
    """Register every call a fetch of WABA 123 makes."""
    fake.paged(f"{V}/{WABA}/phone_numbers", PHONE_PAGES, token=TOKEN)
    fake.paged(f"{V}/{WABA}/message_templates", TEMPLATE_PAGES, token=TOKEN)
    fake.add(f"{V}/{WABA}#pricing_analytics", Reply(body=PRICING))
    fake.add(f"{V}/{WABA}#conversation_analytics", Reply(body=CONVERSATIONS))
    ids = [t["id"] for page in TEMPLATE_PAGES for t in page]
    fake.add(f"{V}/{WABA}/template_analytics", Reply(body=template_analytics(ids[:10])),
             Reply(body=template_analytics(ids[10:])))


def world_settings(fake: FakeGraph, **overrides) -> GraphSettings:
    """Client settings for this world's token and WABA against the fake server (quick timeouts and backoffs)."""
    return quick_settings(fake, TOKEN, (WABA,), **overrides)
