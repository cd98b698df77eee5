"""Currencies Stripe supports, their minor-unit exponents and minimum charge amounts."""

from __future__ import annotations

# Stripe's presentment currencies (docs.stripe.com/currencies).
SUPPORTED: tuple[str, ...] = tuple(
    """usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd
    bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel
    gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd
    kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok
    npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos
    srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer
    zar zmw""".split()
)
_SUPPORTED_SET = frozenset(SUPPORTED)

ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())

# Stripe's minimum charge amounts, in minor units (docs.stripe.com/currencies#minimum-...).
# Currencies not listed use the equivalent of about 50 US cents at the exponent's scale.
MINIMUM_CHARGE = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50,
    "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300,
    "sgd": 50, "thb": 1000, "kwd": 150, "bhd": 190, "jod": 360, "omr": 190, "tnd": 1500,
    "krw": 700,
}


def is_supported(currency: str) -> bool:
    return currency in _SUPPORTED_SET


def exponent(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def minimum_charge(currency: str) -> int:
    if currency in MINIMUM_CHARGE:
        return MINIMUM_CHARGE[currency]
    return {0: 50, 2: 50, 3: 500}[exponent(currency)]


def format_minimum(currency: str) -> str:
    amount = minimum_charge(currency)
    exp = exponent(currency)
    major = f"{amount // 10**exp}.{amount % 10**exp:0{exp}d}" if exp else str(amount)
    return f"{major} {currency}"
