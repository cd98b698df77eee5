"""The finance pages in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium, against the app served over HTTP on 127.0.0.1, with a
real reconciliation of the simulator and real Dramatiq workers for the re-run.

Sign in, read the list, open the latest day, filter to one kind, resolve a discrepancy (the
form first refuses an empty note), re-run the day and see the note carried to the new run,
download the CSV and check its rows against the JSON API. Screenshots of the pages are saved
under test-artifacts/ at the repository root.

In CI (CI=true) a missing Chromium fails the test; on a laptop without it the test skips.
"""

from __future__ import annotations

import csv
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from ci import IN_CI
from werkzeug.serving import make_server

from reconciliation.exports import major_text

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WAIT_S = 30


@pytest.fixture
def served(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = "Chromium is not installed (apt-get install chromium chromium-driver)"
        if IN_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must download nothing
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1500,1100",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(condition: Any, what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def shot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def test_finance_works_a_day_in_the_browser(
    report_day: Any, served: str, browser: Any, tokens: dict[str, str], worker: Any, world: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from jobs import reconciliation as recon_jobs

    recon_jobs.configure(world.http())
    try:
        driver = browser
        day = report_day.day

        # Sign in: a page asks for a session and comes back after it.
        driver.get(f"{served}/reports")
        assert "/sign-in" in driver.current_url
        driver.find_element(By.ID, "api_key").send_keys(tokens["finance"])
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for(lambda: driver.current_url.endswith("/reports"), "the reports list")
        assert "Signed in as finance person" in driver.page_source

        row = driver.find_element(
            By.CSS_SELECTOR, f'#runs-table tr[data-day="{day}"][data-account="platform"]'
        )
        assert "discrepancies" in row.text
        assert driver.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
        shot(driver, "reports-list.png")

        # The latest report, filtered to one kind.
        row.find_element(By.TAG_NAME, "a").click()
        wait_for(lambda: driver.find_elements(By.ID, "discrepancies"), "the day's page")
        first_run = driver.find_element(By.CSS_SELECTOR, ".card").text
        assert f"Run {report_day.outcome.run_id}" in first_run
        shot(driver, "reports-day.png")
        Select(driver.find_element(By.ID, "f-kind")).select_by_value("missing_in_stripe")
        driver.find_element(By.ID, "apply-filters").click()
        wait_for(lambda: "kind=missing_in_stripe" in driver.current_url, "the filter")
        rows = driver.find_elements(By.CSS_SELECTOR, "#discrepancies tbody tr[data-kind]")
        assert [r.get_attribute("data-kind") for r in rows] == ["missing_in_stripe"]

        # Resolve it: an empty note is refused with the reason, then a real note is taken.
        rows[0].find_element(By.CSS_SELECTOR, "a.work").click()
        wait_for(lambda: driver.find_elements(By.ID, "resolve-form"), "the discrepancy page")
        driver.find_element(By.ID, "resolve").click()
        error = wait_for(lambda: driver.find_elements(By.ID, "form-error"), "the form's error")
        assert "a note is required" in error[0].text
        note = "Hand-booked twice; reversal JE-1042 posted"
        driver.find_element(By.ID, "resolve-note").send_keys(note)
        shot(driver, "reports-discrepancy.png")
        driver.find_element(By.ID, "resolve").click()
        wait_for(lambda: "kind=missing_in_stripe" in driver.current_url, "back on the day")
        row = driver.find_element(By.CSS_SELECTOR, "#discrepancies tbody tr[data-kind]")
        assert row.get_attribute("data-status") == "resolved" and note in row.text

        # Re-run the day: a worker reconciles it again; the note is carried to the new run.
        driver.find_element(By.ID, "rerun").click()
        wait_for(lambda: driver.find_elements(By.ID, "pending-rerun"), "the pending banner")
        wait_for(
            lambda: (
                not driver.find_elements(By.ID, "pending-rerun")
                and f"Run {report_day.outcome.run_id} " not in driver.page_source
            ),
            "the re-run to finish",
        )
        assert "kind=missing_in_stripe" in driver.current_url  # the filter is kept
        row = driver.find_element(
            By.CSS_SELECTOR, '#discrepancies tbody tr[data-kind="missing_in_stripe"]'
        )
        assert note in row.text
        assert row.get_attribute("data-status") == "resolved"
        shot(driver, "reports-day-after-rerun.png")

        # Download the CSV and hold it against the JSON API.
        driver.get(f"{served}/reports/{day}?account=platform")
        driver.find_element(By.ID, "download-csv").click()
        target = driver.downloads / f"midway-reconciliation-{day}-platform.csv"
        wait_for(target.exists, "the CSV download")
        with target.open(newline="", encoding="utf-8") as handle:
            csv_rows = list(csv.DictReader(handle))
        api = requests.get(
            f"{served}/api/reconciliation/runs/{day}",
            headers={"Authorization": f"Bearer {tokens['finance']}"},
            timeout=10,
        )
        assert api.status_code == 200
        report = api.json()
        assert report["run_id"] != report_day.outcome.run_id  # the re-run's report
        by_fingerprint = {d["fingerprint"]: d for d in report["discrepancies"]}
        assert sorted(r["fingerprint"] for r in csv_rows) == sorted(by_fingerprint)
        for line in csv_rows:
            item = by_fingerprint[line["fingerprint"]]
            assert line["run_id"] == str(report["run_id"])
            for field in ("kind", "status", "currency"):
                assert line[field] == item[field]
            assert line["resolution_note"] == (item["resolution_note"] or "")
            for field in ("stripe_amount", "ledger_amount", "difference", "stripe_fee"):
                minor = item[field]
                assert line[f"{field}_minor"] == ("" if minor is None else str(minor))
                assert line[field] == major_text(minor, item["currency"])
        resolved = [r for r in csv_rows if r["kind"] == "missing_in_stripe"]
        assert [(r["status"], r["resolution_note"]) for r in resolved] == [("resolved", note)]
    finally:
        recon_jobs.configure(None)
        if os.environ.get("KEEP_DOWNLOADS"):
            shutil.copytree(browser.downloads, ARTIFACTS / "downloads", dirs_exist_ok=True)


def test_the_day_page_fits_a_1366_px_window_and_the_charts_their_frame(
    report_day: Any, served: str, browser: Any, tokens: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.set_window_size(1366, 900)
    driver.get(f"{served}/sign-in")
    driver.find_element(By.ID, "api_key").send_keys(tokens["finance"])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(lambda: driver.current_url.endswith("/reports"), "the reports list")
    for path in ("/reports", f"/reports/{report_day.day}"):
        driver.get(f"{served}{path}")
        wait_for(lambda: driver.find_elements(By.TAG_NAME, "h1"), path)
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 1366 px"
    shot(driver, "reports-day-1366.png")
    driver.get(f"{served}/reports")
    outside = driver.execute_script(
        """
        const out = [];
        for (const svg of document.querySelectorAll('svg.chart')) {
          const frame = svg.getBoundingClientRect();
          for (const t of svg.querySelectorAll('text')) {
            const r = t.getBoundingClientRect();
            if (r.left < frame.left - 0.5 || r.right > frame.right + 0.5 ||
                r.top < frame.top - 0.5 || r.bottom > frame.bottom + 0.5) out.push(t.textContent);
          }
        }
        return out;
        """
    )
    assert outside == [], f"chart labels outside their frame: {outside}"
