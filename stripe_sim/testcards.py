"""Stripe's test payment methods (pm_card_visa, ...) and what happens when they are charged."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MagicMethod:
    type: str  # "card" | "us_bank_account"
    brand: str = "visa"
    last4: str = "4242"
    funding: str = "credit"
    country: str = "US"
    decline_code: str | None = None  # charge fails with card_declined + this decline code
    error_code: str = "card_declined"
    # Errors about one field of the card name it in `param` and carry no decline_code
    # (https://docs.stripe.com/testing#declined-payments, https://docs.stripe.com/error-codes:
    # incorrect_cvc -> cvc, expired_card -> exp_month; processing_error has neither).
    param: str | None = None
    # Radar blocks it before the issuer sees it (https://docs.stripe.com/radar/testing and
    # https://docs.stripe.com/api/charges/object#charge_object-outcome-type: `blocked`,
    # network_status `not_sent_to_network`).
    blocked: bool = False
    bypass_pending: bool = False  # funds available at once (Stripe's 4000 0000 0000 0077)
    dispute_reason: str | None = None  # the charge succeeds, then is disputed at once
    # A bank debit that fails after processing with this failure code (an ACH return).
    bank_failure: str | None = None


# Error codes that are their own reason: Stripe sends no separate decline_code with them.
FIELD_ERRORS = frozenset({"incorrect_cvc", "expired_card", "processing_error"})

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "fraudulent": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
}

MAGIC_METHODS: dict[str, MagicMethod] = {
    "pm_card_visa": MagicMethod("card"),
    "pm_card_visa_debit": MagicMethod("card", last4="5556", funding="debit"),
    "pm_card_mastercard": MagicMethod("card", brand="mastercard", last4="4444"),
    "pm_card_amex": MagicMethod("card", brand="amex", last4="8431"),
    "pm_card_bypassPending": MagicMethod("card", last4="0077", bypass_pending=True),
    "pm_card_chargeDeclined": MagicMethod("card", last4="0002", decline_code="generic_decline"),
    "pm_card_insufficientFunds": MagicMethod(
        "card", last4="9995", decline_code="insufficient_funds"
    ),
    "pm_card_chargeDeclinedInsufficientFunds": MagicMethod(
        "card", last4="9995", decline_code="insufficient_funds"
    ),
    "pm_card_chargeDeclinedFraudulent": MagicMethod(
        "card", last4="0019", decline_code="fraudulent", blocked=True
    ),
    "pm_card_chargeDeclinedLostCard": MagicMethod("card", last4="9987", decline_code="lost_card"),
    "pm_card_chargeDeclinedExpiredCard": MagicMethod(
        "card", last4="0069", decline_code="expired_card", error_code="expired_card",
        param="exp_month",
    ),
    "pm_card_chargeDeclinedIncorrectCvc": MagicMethod(
        "card", last4="0127", decline_code="incorrect_cvc", error_code="incorrect_cvc",
        param="cvc",
    ),
    "pm_card_chargeDeclinedProcessingError": MagicMethod(
        "card", last4="0119", decline_code="processing_error", error_code="processing_error"
    ),
    "pm_card_createDispute": MagicMethod("card", last4="0259", dispute_reason="fraudulent"),
    "pm_card_createDisputeProductNotReceived": MagicMethod(
        "card", last4="2685", dispute_reason="product_not_received"
    ),
    "pm_usBankAccount": MagicMethod("us_bank_account", brand="", last4="6789"),
    # Stripe's ACH test accounts 000222222227 and 000111111113 (docs.stripe.com/payments/
    # ach-direct-debit/accept-a-payment, "Test account numbers"): processing, then failure.
    "pm_usBankAccount_insufficientFunds": MagicMethod(
        "us_bank_account", brand="", last4="2227", bank_failure="insufficient_funds"
    ),
    "pm_usBankAccount_accountClosed": MagicMethod(
        "us_bank_account", brand="", last4="1113", bank_failure="account_closed"
    ),
}

# Card numbers accepted by POST /v1/payment_methods with card[number] (and tokens tok_*).
NUMBERS = {
    "4242424242424242": "pm_card_visa",
    "4000056655665556": "pm_card_visa_debit",
    "5555555555554444": "pm_card_mastercard",
    "378282246310005": "pm_card_amex",
    "4000000000000077": "pm_card_bypassPending",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000000000009995": "pm_card_insufficientFunds",
    "4000000000000069": "pm_card_chargeDeclinedExpiredCard",
    "4000000000000259": "pm_card_createDispute",
    "4000000000002685": "pm_card_createDisputeProductNotReceived",
    "tok_visa": "pm_card_visa",
    "tok_mastercard": "pm_card_mastercard",
    "tok_bypassPending": "pm_card_bypassPending",
    "tok_chargeDeclined": "pm_card_chargeDeclined",
    "tok_createDispute": "pm_card_createDispute",
}

# Stripe's ACH test account numbers (us_bank_account[account_number]).
BANK_NUMBERS = {
    "000123456789": "pm_usBankAccount",
    "000222222227": "pm_usBankAccount_insufficientFunds",
    "000111111113": "pm_usBankAccount_accountClosed",
}
