"""Webhook bodies shaped the way Meta sent them in each period (Cloud envelopes and bare On-Prem bodies)."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from functools import lru_cache
from typing import NamedTuple

import orjson

from pipelines.sample import model
from pipelines.sample.world import Customer, PhoneNumber

def _ts(day) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


PMP_START_TS = _ts(model.PMP_START)
SERVICE_CHARGED_TS = _ts(model.SERVICE_CHARGED)
V24_TS = _ts(model.WEBHOOK_V24)
BSUID_TS = _ts(model.BSUID_START)
BSUID_SEND_TS = _ts(model.BSUID_SEND_START)

ERRORS = {
    131049: ("This message was not delivered to maintain healthy ecosystem engagement.",
             "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."),
    131050: ("Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
             "The user has stopped marketing messages from this business."),
    131026: ("Message undeliverable", "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number."),
    131047: ("Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number."),
    130472: ("User's number is part of an experiment", "Failed to send message because this user's phone number is part of an experiment"),
}


def envelope(waba_id: str, field: str, value: dict, time: int | None = None) -> dict:
    entry = {"id": waba_id, "changes": [{"value": value, "field": field}]} if time is None else \
        {"id": waba_id, "time": time, "changes": [{"value": value, "field": field}]}
    return {"object": "whatsapp_business_account", "entry": [entry]}


def metadata(phone: PhoneNumber) -> dict:
    return {"display_phone_number": phone.display, "phone_number_id": phone.phone_number_id}


# The bodies of the `messages` field, serialised around a phone number's constant part: the bytes orjson gives for
# the whole envelope, without building its five nested objects for every delivery.
_REST = b',"rest_of_value":0'


@lru_cache(maxsize=None)
def _frame(waba_id: str, display: str, phone_number_id: str) -> tuple[bytes, bytes]:
    """(prefix, suffix): orjson's envelope(...) of a `messages` value holding only its product and metadata, split
    where the value's further members go."""
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": display, "phone_number_id": phone_number_id},
             "rest_of_value": 0}
    prefix, suffix = orjson.dumps(envelope(waba_id, "messages", value)).split(_REST)
    return prefix, suffix


def messages_body(phone: PhoneNumber, contacts: list | None, messages: list) -> bytes:
    """orjson.dumps(envelope(waba_id, "messages", messages_value(phone, contacts, messages)))."""
    prefix, suffix = _frame(phone.waba.waba_id, phone.display, phone.phone_number_id)
    if contacts is None:
        return b"".join((prefix, b',"messages":', orjson.dumps(messages), suffix))
    return b"".join((prefix, b',"contacts":', orjson.dumps(contacts), b',"messages":', orjson.dumps(messages), suffix))


def statuses_body(phone: PhoneNumber, statuses: list, contacts: list | None = None) -> bytes:
    """orjson.dumps(envelope(waba_id, "messages", statuses_value(phone, statuses, contacts)))."""
    prefix, suffix = _frame(phone.waba.waba_id, phone.display, phone.phone_number_id)
    if not contacts:
        return b"".join((prefix, b',"statuses":', orjson.dumps(statuses), suffix))
    return b"".join((prefix, b',"contacts":', orjson.dumps(contacts), b',"statuses":', orjson.dumps(statuses), suffix))


def contact(c: Customer, ts: int) -> dict:
    out: dict = {"profile": {"name": c.name}}
    if c.wa_id and not c.bsuid_only:
        out["wa_id"] = c.wa_id
    if ts >= BSUID_TS:
        out["user_id"] = c.user_id
    return out


def messages_value(phone: PhoneNumber, contacts: list | None, messages: list) -> dict:
    value = {"messaging_product": "whatsapp", "metadata": metadata(phone)}
    if contacts is not None:
        value["contacts"] = contacts
    value["messages"] = messages
    return value


def statuses_value(phone: PhoneNumber, statuses: list, contacts: list | None = None) -> dict:
    value = {"messaging_product": "whatsapp", "metadata": metadata(phone)}
    if contacts:
        value["contacts"] = contacts
    value["statuses"] = statuses
    return value


# ---------------------------------------------------------------- inbound content

LIST_ROWS = (("plan_basic", "Basic plan", "R$ 29/month"), ("plan_plus", "Plus plan", "R$ 49/month"),
             ("store_sp", "São Paulo store", "Av. Paulista"), ("track_order", "Track my order", "Latest status"))
REACTIONS = ("👍", "❤️", "😂", "🙏", "😮")
TEXTS = ("Hi, is my order on the way?", "Olá, quero saber o prazo de entrega", "Can I change my delivery address?",
         "Thanks!", "What time do you open tomorrow?", "Mera order kab aayega?", "I need an invoice please",
         "ok", "Do you ship to Lagos?", "My code did not arrive", "Quiero cancelar mi pedido")
UNSUPPORTED = ("poll", "edit", "button", "pool")


def inbound_message(r: random.Random, mtype: str, mid: str, c: Customer, ts: int, phone: PhoneNumber) -> dict:
    msg: dict = {}
    if not c.bsuid_only:
        msg["from"] = c.wa_id
    if ts >= BSUID_TS:
        msg["from_user_id"] = c.user_id
    msg["id"] = mid
    msg["timestamp"] = ts if r.random() < model.P_INT_TIMESTAMP else str(ts)
    if mtype == "text":
        msg["text"] = {"body": r.choice(TEXTS)}
    elif mtype == "interactive":
        kind = r.choice(("button_reply", "list_reply", "nfm_reply"))
        if kind == "button_reply":
            inner = {"type": kind, kind: {"id": f"btn_{r.randrange(1, 4)}", "title": r.choice(("Yes", "No", "Talk to agent"))}}
        elif kind == "list_reply":
            rid, title, desc = r.choice(LIST_ROWS)
            inner = {"type": kind, kind: {"id": rid, "title": title, "description": desc}}
        else:
            answer = {"flow_token": f"ft-{r.randrange(10**8)}", "rating": r.randrange(1, 6), "comment": r.choice(("great", "slow delivery", ""))}
            inner = {"type": kind, kind: {"response_json": orjson.dumps(answer).decode(), "body": "Sent", "name": "flow"}}
        if c.last_out_id:
            msg["context"] = {"from": phone.display, "id": c.last_out_id}
        msg["interactive"] = inner
    elif mtype == "button":
        msg["context"] = {"from": phone.display, "id": c.last_template_id}
        label = r.choice(c.last_template_buttons)
        msg["button"] = {"payload": label.upper().replace(" ", "_"), "text": label}
    elif mtype == "reaction":
        reaction = {"message_id": c.last_out_id}
        roll = r.random()
        if roll < 0.8:
            reaction["emoji"] = r.choice(REACTIONS)
        elif roll < 0.9:
            reaction["emoji"] = ""
        msg["reaction"] = reaction
    elif mtype in ("image", "sticker", "video"):
        mime = {"image": "image/jpeg", "sticker": "image/webp", "video": "video/mp4"}[mtype]
        media = {"mime_type": mime, "sha256": f"{r.getrandbits(256):064x}", "id": str(r.randrange(10**15, 10**16))}
        if mtype == "image" and r.random() < 0.3:
            media["caption"] = "see attached"
        msg[mtype] = media
    elif mtype == "document":
        msg["document"] = {"filename": f"receipt_{r.randrange(1000, 9999)}.pdf", "mime_type": "application/pdf",
                           "sha256": f"{r.getrandbits(256):064x}", "id": str(r.randrange(10**15, 10**16))}
    elif mtype == "audio":
        msg["audio"] = {"mime_type": "audio/ogg; codecs=opus", "sha256": f"{r.getrandbits(256):064x}",
                        "id": str(r.randrange(10**15, 10**16)), "voice": True}
    elif mtype == "location":
        msg["location"] = {"latitude": round(r.uniform(-30, 30), 6), "longitude": round(r.uniform(-80, 80), 6),
                           "name": "Home", "address": "Rua Augusta 100"}
    elif mtype == "contacts":
        msg["contacts"] = [{"name": {"formatted_name": "Maria Souza", "first_name": "Maria"},
                            "phones": [{"phone": "+55 11 98888-7777", "wa_id": "5511988887777", "type": "CELL"}]}]
    elif mtype == "order":
        qty = r.randrange(1, 4)
        msg["order"] = {"catalog_id": "880012345678901", "text": "please deliver after 6pm",
                        "product_items": [{"product_retailer_id": f"SKU-{r.randrange(100, 999)}", "quantity": qty,
                                           "item_price": 49.9, "currency": "USD"}]}
    elif mtype == "unsupported":
        msg["errors"] = [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                          "error_data": {"details": "Message type is currently not supported."}}]
        msg["unsupported"] = {"type": r.choice(UNSUPPORTED)}
    msg["type"] = mtype
    return msg


def add_referral(r: random.Random, msg: dict, clid: str) -> None:
    ad = r.randrange(10**14, 10**15)
    msg["referral"] = {
        "source_url": f"https://fb.me/{ad:x}", "source_id": str(ad), "source_type": "ad",
        "body": "Free shipping this week", "headline": "Chat with us", "media_type": "image",
        "image_url": f"https://scontent.xx.fbcdn.net/v/{ad}.jpg", "ctwa_clid": clid,
        "welcome_message": {"text": "Hi! How can we help?"},
    }


def system_message(kind: str, mid: str, ts: int, c: Customer, old_wa: str | None, new_wa: str | None,
                   old_uid: str | None, new_uid: str | None, r: random.Random) -> dict:
    msg: dict = {}
    if old_wa:
        msg["from"] = old_wa
    if ts >= BSUID_TS and old_uid:
        msg["from_user_id"] = old_uid
    msg["id"] = mid
    msg["timestamp"] = str(ts)
    if kind in ("user_changed_number", "customer_changed_number"):
        system = {"body": f"User {c.name} changed from {old_wa} to {new_wa}", "wa_id": new_wa, "type": kind}
        if kind == "customer_changed_number":
            system["new_wa_id"] = new_wa
    elif kind == "user_changed_user_id":
        system = {"body": f"User {c.name} changed their user id", "user_id": new_uid, "type": kind}
    else:
        system = {"body": f"{c.name}'s security code changed", "customer": old_wa, "type": kind}
        msg["identity"] = {"acknowledged": True, "created_timestamp": ts - r.randrange(60, 3600), "hash": f"{r.getrandbits(64):016x}"}
    msg["system"] = system
    msg["type"] = "system"
    return msg


# ---------------------------------------------------------------- statuses and pricing


class Charge(NamedTuple):  # a tuple: a frozen dataclass costs a microsecond to build, for every message
    """How Meta priced one outbound message: `category` is what the webhook reports, `ptype` the PMP pricing type."""

    category: str
    ptype: str  # regular | free_customer_service | free_entry_point
    conversation_id: str  # per-message under PMP, per 24 h/72 h window under CBP or FEP
    model: str  # CBP | PMP, by the send time in the WABA's timezone

    @property
    def free_entry_point(self) -> bool:
        return self.ptype == "free_entry_point"


def pricing_object(charge: Charge) -> dict:
    if charge.model == "CBP":
        billable = charge.ptype == "regular"
        return {"billable": billable, "pricing_model": "CBP", "category": charge.category}
    return {"billable": charge.ptype == "regular", "pricing_model": "PMP", "type": charge.ptype, "category": charge.category}


def conversation_object(charge: Charge, ts: int, with_expiration: bool, expiration: int) -> dict | None:
    if ts >= V24_TS and not charge.free_entry_point:
        return None
    conv: dict = {"id": charge.conversation_id}
    if with_expiration:
        conv["expiration_timestamp"] = str(expiration)
    conv["origin"] = {"type": charge.category}
    return conv


def status_object(mid: str, status: str, ts: int, c: Customer, to_phone: bool, charge: Charge | None,
                  expiration: int, error_code: int | None = None, href_relative: bool = False) -> dict:
    st: dict = {"id": mid, "status": status, "timestamp": str(ts)}
    if to_phone:
        st["recipient_id"] = c.wa_id
    if ts >= BSUID_TS and not (status == "failed" and to_phone):
        st["recipient_user_id"] = c.user_id
    if charge is not None:
        conv = conversation_object(charge, ts, status == "sent", expiration)
        if conv is not None:
            st["conversation"] = conv
        st["pricing"] = pricing_object(charge)
    if error_code is not None:
        title, details = ERRORS[error_code]
        href = "/documentation/business-messaging/whatsapp/support/error-codes" if href_relative else \
            "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
        st["errors"] = [{"code": error_code, "title": title, "message": title, "error_data": {"details": details}, "href": href}]
    return st


def onprem_status(mid: str, status: str, ts: int, recipient: str, charge: Charge | None, expiration: int) -> dict:
    st: dict = {"id": mid, "recipient_id": recipient, "status": status, "timestamp": str(ts)}
    if charge is not None:
        conv: dict = {"id": charge.conversation_id}
        if status == "sent":
            conv["expiration_timestamp"] = str(expiration)
        conv["origin"] = {"type": charge.category}
        st["conversation"] = conv
        st["pricing"] = pricing_object(charge)
    return st


def onprem_failed(mid: str, ts: int, recipient: str, code: int) -> dict:
    title, details = ERRORS[code]
    return {"id": mid, "recipient_id": recipient, "status": "failed", "timestamp": str(ts),
            "errors": [{"code": code, "title": title, "details": details}]}


# ---------------------------------------------------------------- management fields


def template_status_value(t, event: str, reason: str | None, other_info: tuple[str, str] | None = None) -> dict:
    value = {"event": event, "message_template_id": t.template_id, "message_template_name": t.name,
             "message_template_language": t.language, "reason": reason, "message_template_category": t.category}
    if other_info:
        value["other_info"] = {"title": other_info[0], "description": other_info[1]}
    if event == "DISABLED":
        value["disable_info"] = {"disable_date": "DISABLE_DATE"}
    return value


def template_quality_value(t, previous: str, new: str) -> dict:
    return {"previous_quality_score": previous, "new_quality_score": new, "message_template_id": t.template_id,
            "message_template_name": t.name, "message_template_language": t.language}


def template_category_impending(t, correct: str, at: int) -> dict:
    return {"message_template_id": t.template_id, "message_template_name": t.name, "message_template_language": t.language,
            "correct_category": correct, "new_category": t.category, "category_update_timestamp": at}


def template_category_completed(t, previous: str, new: str) -> dict:
    return {"message_template_id": t.template_id, "message_template_name": t.name, "message_template_language": t.language,
            "previous_category": previous, "new_category": new}


def user_preferences_value(phone: PhoneNumber, c: Customer, value: str, ts: int) -> dict:
    pref: dict = {}
    if not c.bsuid_only:
        pref["wa_id"] = c.wa_id
    if ts >= BSUID_TS:
        pref["user_id"] = c.user_id
    pref.update({"detail": "User requested to stop marketing messages" if value == "stop" else "User requested to resume marketing messages",
                 "category": "marketing_messages", "value": value, "timestamp": ts})
    return {"messaging_product": "whatsapp", "metadata": metadata(phone), "contacts": [contact(c, ts)], "user_preferences": [pref]}

