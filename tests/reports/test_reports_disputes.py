"""Open disputes listed for finance: amount, reason, evidence due date, links to Stripe."""

from __future__ import annotations


def test_open_disputes_are_listed_with_their_evidence_due_date_and_stripe_link(
    report_day, world, browserless
):  # type: ignore[no-untyped-def]
    assert "processed" in world.deliver_events("charge.dispute.")
    page = browserless("finance").get("/reports").get_data(as_text=True)
    assert 'id="open-disputes"' in page
    section = page.split('id="open-disputes"')[1].split("</section>")[0]
    assert report_day.dispute_charge in section and "needs response" in section
    assert "https://dashboard.stripe.com/test/disputes/du_" in section
    assert "$20.00" in section and "fraudulent" in section
    due = section.split("<td>")[-1].split("</td>")[0]
    assert due != "—" and due[:2] == "20"  # a date: the evidence deadline
