"""Connected accounts (Express, Standard, Custom) and account links.

A new account has its requested capabilities `inactive` and charges/payouts disabled until
onboarding completes: through the account link's URL, or POST
/_sim/accounts/{id}/complete_onboarding.
"""

from __future__ import annotations

from typing import Any

from .. import ids, settlement
from ..collection import Obj
from ..errors import InvalidRequest, PermissionDenied, ResourceMissing
from ..events import changed, emit, snapshot
from ..params import Params, merge_metadata
from ..router import Ctx, list_page, route
from ..store import AccountState, Store

DUE = ["business_profile.mcc", "business_profile.url", "external_account",
       "individual.dob.day", "individual.first_name", "individual.last_name",
       "tos_acceptance.date", "tos_acceptance.ip"]
_UPDATABLE = ("email", "business_type", "default_currency")
_PASSTHROUGH = ("business_profile", "company", "individual", "settings", "tos_acceptance",
                "external_account", "documents")


def _requirements(due: list[str]) -> Obj:
    return {
        "alternatives": [], "current_deadline": None, "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None, "errors": [],
        "eventually_due": list(due), "past_due": list(due), "pending_verification": [],
    }


def _business_profile(src: Any) -> Obj:
    src = src if isinstance(src, dict) else {}
    out: Obj = {
        "annual_revenue": None, "estimated_worker_count": None, "mcc": None,
        "minority_owned_business_designation": None, "name": None,
        "product_description": None, "support_address": None, "support_email": None,
        "support_phone": None, "support_url": None, "url": None,
    }
    out.update({k: v for k, v in src.items() if k in out})
    return out


def _settings(country: str, display_name: str | None) -> Obj:
    return {
        "bacs_debit_payments": {"display_name": None, "service_user_number": None},
        "branding": {"icon": None, "logo": None, "primary_color": None,
                     "secondary_color": None},
        "card_issuing": {"tos_acceptance": {"date": None, "ip": None}},
        "card_payments": {"decline_on": {"avs_failure": False, "cvc_failure": False},
                          "statement_descriptor_prefix": None,
                          "statement_descriptor_prefix_kana": None,
                          "statement_descriptor_prefix_kanji": None},
        "dashboard": {"display_name": display_name, "timezone": "Etc/UTC"},
        "invoices": {"default_account_tax_ids": None, "hosted_payment_method_save": "offer"},
        "payments": {"statement_descriptor": None, "statement_descriptor_kana": None,
                     "statement_descriptor_kanji": None,
                     "statement_descriptor_prefix_kana": None,
                     "statement_descriptor_prefix_kanji": None},
        "payouts": {"debit_negative_balances": True,
                    "schedule": {"delay_days": 2, "interval": "manual"},
                    "statement_descriptor": None},
        "sepa_debit_payments": {},
    }


def new_account(store: Store, *, acct_id: str, kind: str, country: str, email: str | None,
                capabilities: list[str], currency: str) -> Obj:
    controller: Obj = {"type": "application", "is_controller": True,
                       "requirement_collection": "stripe" if kind != "custom" else "application",
                       "stripe_dashboard": {"type": kind if kind != "standard" else "full"},
                       "fees": {"payer": "application"}, "losses": {"payments": "application"}}
    if kind == "standard":
        controller = {"type": "account"}
    return {
        "id": acct_id, "object": "account",
        "business_profile": _business_profile(None),
        "business_type": None,
        "capabilities": {c: "inactive" for c in capabilities},
        "charges_enabled": False,
        "controller": controller,
        "country": country,
        "created": store.now(),
        "default_currency": currency,
        "details_submitted": False,
        "email": email,
        "external_accounts": {"object": "list", "data": [], "has_more": False,
                              "url": f"/v1/accounts/{acct_id}/external_accounts"},
        "future_requirements": _requirements([]),
        "livemode": False,
        "metadata": {},
        "payouts_enabled": False,
        "requirements": _requirements(DUE),
        "settings": _settings(country, None),
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": kind,
    }


def platform_account(store: Store) -> Obj:
    acct = new_account(store, acct_id=store.platform.id, kind="standard",
                       country=store.config.platform_country, email="platform@midway.example",
                       capabilities=["card_payments", "transfers"],
                       currency=store.config.default_currency)
    acct["capabilities"] = {"card_payments": "active", "transfers": "active"}
    acct.update({"charges_enabled": True, "payouts_enabled": True, "details_submitted": True,
                 "requirements": _requirements([])})
    acct["business_profile"]["name"] = "Midway Freight"
    return acct


def account_object(ctx: Ctx, acct_id: str) -> Obj:
    obj = ctx.platform.objects.get(acct_id)
    if obj is None or obj.get("object") != "account":
        if acct_id == ctx.platform.id:
            return platform_account(ctx.store)
        raise ResourceMissing("account", acct_id, "account")
    return obj


def complete_onboarding(store: Store, acct_id: str) -> Obj:
    obj = store.platform.objects.get(acct_id)
    if obj is None or obj.get("object") != "account":
        raise ResourceMissing("account", acct_id, "account")
    acct = store.accounts[acct_id]
    # One bank account per settlement currency: what the account can be paid out in
    # (docs.stripe.com/payments/currencies/settlement-payouts).
    banks = [{
        "id": ids.new_id("ba"), "object": "bank_account", "account": acct_id,
        "account_holder_name": None, "account_holder_type": None, "account_type": None,
        "available_payout_methods": ["standard", "instant"], "bank_name": "STRIPE TEST BANK",
        "country": obj["country"], "currency": currency,
        "default_for_currency": True, "fingerprint": "1JWtPxqbdX5Gamtz", "last4": "6789",
        "metadata": {}, "routing_number": "110000000", "status": "new",
    } for currency in settlement.currencies(store, acct)]
    external = snapshot(obj["external_accounts"])
    if not external["data"]:
        external["data"] = banks
    previous = changed(obj, {
        "capabilities": {c: "active" for c in (obj["capabilities"] or {"transfers": 1})},
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
        "requirements": _requirements([]),
        "external_accounts": external,
        "tos_acceptance": {"date": store.now(), "ip": "127.0.0.1", "user_agent": None},
    })
    if previous:
        emit(store, acct, "account.updated", obj, previous)
    return obj


@route("POST", "/v1/accounts")
def create(ctx: Ctx, p: Params) -> Obj:
    kind = p.str("type", choices=("express", "standard", "custom"))
    controller = p.dict("controller")
    country = (p.str("country") or ctx.store.config.platform_country).upper()
    email = p.str("email")
    caps = p.dict("capabilities") or {}
    metadata = p.metadata() or {}
    business_type = p.str("business_type", choices=("individual", "company",
                                                     "non_profit", "government_entity"))
    business_profile = p.dict("business_profile")
    currency = p.str("default_currency")
    for name in _PASSTHROUGH:
        if name != "business_profile":
            p.raw(name)
    p.done()
    if not ctx.acct.is_platform:
        raise PermissionDenied("Connected accounts cannot create other accounts.")
    if kind is None:
        if not controller:
            raise InvalidRequest("Missing required param: type.", code="parameter_missing",
                                 param="type")
        dashboard = (controller.get("stripe_dashboard") or {}).get("type")
        kind = {"express": "express", "none": "custom"}.get(dashboard or "", "standard")
    requested = [c for c, v in caps.items()
                 if isinstance(v, dict) and str(v.get("requested")).lower() == "true"]
    if kind != "standard" and not requested:
        requested = ["transfers"]
    acct_id = ids.new_id("acct", 16)
    obj = new_account(ctx.store, acct_id=acct_id, kind=kind, country=country, email=email,
                      capabilities=requested, currency=currency or "usd")
    obj["metadata"] = metadata
    obj["business_type"] = business_type
    if business_profile:
        obj["business_profile"] = _business_profile(business_profile)
    ctx.store.accounts[acct_id] = AccountState(acct_id, is_platform=False)
    ctx.store.add(ctx.acct, obj)
    return obj


@route("GET", "/v1/accounts/{acct_id}")
def retrieve(ctx: Ctx, p: Params, acct_id: str) -> Obj:
    p.done()
    if not ctx.acct.is_platform and acct_id != ctx.acct.id:
        raise PermissionDenied("You cannot retrieve another account.")
    return account_object(ctx, acct_id)


@route("GET", "/v1/account")
def retrieve_own(ctx: Ctx, p: Params) -> Obj:
    p.done()
    return account_object(ctx, ctx.acct.id)


@route("POST", "/v1/accounts/{acct_id}")
def update(ctx: Ctx, p: Params, acct_id: str) -> Obj:
    obj = account_object(ctx, acct_id)
    if acct_id == ctx.platform.id:
        raise PermissionDenied("The platform account cannot be updated through the simulator.")
    fields: dict[str, Any] = {}
    for name in _UPDATABLE:
        if p.has(name):
            fields[name] = p.str(name)
    metadata = p.metadata()
    profile = p.dict("business_profile")
    caps = p.dict("capabilities")
    for name in _PASSTHROUGH:
        p.raw(name)
    p.done()
    if metadata is not None:
        fields["metadata"] = merge_metadata(obj["metadata"], metadata)
    if profile:
        merged = dict(obj["business_profile"])
        merged.update({k: v for k, v in profile.items() if k in merged})
        fields["business_profile"] = merged
    if caps:
        current = dict(obj["capabilities"])
        for name, v in caps.items():
            if isinstance(v, dict) and str(v.get("requested")).lower() == "true":
                current.setdefault(name, "active" if obj["details_submitted"] else "inactive")
        fields["capabilities"] = current
    previous = changed(obj, fields)
    if previous:
        emit(ctx.store, ctx.store.accounts[acct_id], "account.updated", obj, previous)
    return obj


@route("DELETE", "/v1/accounts/{acct_id}")
def delete(ctx: Ctx, p: Params, acct_id: str) -> Obj:
    obj = account_object(ctx, acct_id)
    p.done()
    if acct_id == ctx.platform.id or not ctx.acct.is_platform:
        raise PermissionDenied("This account cannot be deleted.")
    ctx.store.remove(ctx.platform, obj)
    del ctx.store.accounts[acct_id]
    return {"id": acct_id, "object": "account", "deleted": True}


@route("GET", "/v1/accounts")
def list_accounts(ctx: Ctx, p: Params) -> Obj:
    return list_page(ctx, p, "account", "/v1/accounts", acct=ctx.platform)


@route("POST", "/v1/account_links")
def create_link(ctx: Ctx, p: Params) -> Obj:
    acct_id = p.str("account", required=True)
    refresh_url = p.str("refresh_url")
    return_url = p.str("return_url")
    p.str("type", required=True, choices=("account_onboarding", "account_update"))
    p.raw("collect")
    p.raw("collection_options")
    p.done()
    account_object(ctx, acct_id)
    now = ctx.store.now()
    token = ids.new_id("al")[3:]
    ctx.store.internal(ctx.platform, "account_links")[token] = {
        "account": acct_id, "return_url": return_url, "refresh_url": refresh_url}
    return {
        "object": "account_link",
        "created": now,
        "expires_at": now + 300,
        "url": f"{ctx.base_url}/_sim/onboarding/{token}",
    }
