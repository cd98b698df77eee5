"""Pure parts: the SVG chart, money display, age buckets."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reconciliation.overview import bucket_of
from web.charts import Bar, bar_chart
from web.pages import money

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_draws_one_bar_per_day_with_negatives_below_zero():
    bars = [Bar("2026-03-01", 10), Bar("2026-03-02", 0), Bar("2026-03-03", -5)]
    svg = ET.fromstring(str(bar_chart(bars, title="Net <usd>", fmt=lambda v: f"{v}¢")))
    rects = svg.findall(f"{SVG}rect")
    assert len(rects) == 3
    heights = [int(r.get("height")) for r in rects]
    assert heights[0] == 2 * heights[2] and heights[1] == 0
    zero = int(svg.find(f"{SVG}line").get("y1"))
    assert int(rects[0].get("y")) + heights[0] == zero and int(rects[2].get("y")) == zero
    assert rects[2].get("class") == "bar neg"
    assert rects[0].find(f"{SVG}title").text == "2026-03-01: 10¢"
    assert svg.find(f"{SVG}title").text == "Net <usd>"  # escaped in the markup, parsed back


def test_an_empty_chart_is_still_valid_svg():
    svg = ET.fromstring(str(bar_chart([Bar("2026-03-01", 0)], title="t")))
    assert svg.findall(f"{SVG}rect")[0].get("height") == "0"


def test_money_uses_each_currencys_decimals():
    assert money(123456789, "usd") == "$1,234,567.89"
    assert money(-1500000, "jpy") == "-¥1,500,000"
    assert money(1234567, "kwd") == "KWD 1,234.567"
    assert money(None, "usd") == "—"


def test_age_buckets():
    assert [bucket_of(d) for d in (0, 1, 2, 7, 8, 30, 31, 400, -1)] == [0, 0, 1, 1, 2, 2, 3, 3, 0]
