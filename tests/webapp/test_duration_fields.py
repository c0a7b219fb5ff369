"""Settings and customer-policy pages show and take durations as a number and a unit ("7 days"), store ISO 8601,
and answer a bad number with a form error that names the field (SQLite and PostgreSQL)."""

import re

from engine.services.company_settings import get_company_settings, get_customer_policy
from tests.approval_fixtures import PASSWORD
from tests.webapp.conftest import log_in

SETTINGS = {"customer_approval_enabled": "y", "approval_period": "10", "approval_period_unit": "days",
            "reminder_interval": "36", "reminder_interval_unit": "hours", "minimum_resume_period": "1",
            "minimum_resume_period_unit": "weeks", "period_end_action": "escalate"}


def _unit(page: str, name: str) -> str:
    select = re.search(rf'<select id="{name}-unit" name="{name}_unit"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.search(r'<option value="(\w+)" selected>', select).group(1)


def test_settings_show_a_number_and_a_unit_and_store_iso(ctx, client, office):
    admin, _ = office
    log_in(client, admin.email, PASSWORD)
    page = client.get("/settings").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="approval_period"[^>]*value="7"', page)
    assert _unit(page, "approval_period") == "days"
    assert "P7D" not in page and "ISO 8601" not in page
    assert client.post("/settings", data=SETTINGS).status_code == 302
    saved = get_company_settings(ctx)
    assert (saved["approval_period"], saved["reminder_interval"], saved["minimum_resume_period"]) == (
        "P10D", "PT36H", "P1W")
    page = client.get("/settings").get_data(as_text=True)
    assert _unit(page, "reminder_interval") == "hours" and _unit(page, "minimum_resume_period") == "weeks"


def test_a_bad_number_is_a_form_error_and_saves_nothing(ctx, client, office):
    admin, _ = office
    log_in(client, admin.email, PASSWORD)
    for bad in ("abc", "0", "-3", "2.5", "１"):
        response = client.post("/settings", data={**SETTINGS, "approval_period": bad})
        page = response.get_data(as_text=True)
        assert response.status_code == 400, bad
        assert 'id="approval_period-error">enter a whole number from 1 to 99999, such as 7' in page
    response = client.post("/settings", data={**SETTINGS, "approval_period_unit": "months"})
    assert response.status_code == 400 and "pick a unit: hours, days, weeks" in response.get_data(as_text=True)
    assert get_company_settings(ctx)["approval_period"] == "P7D"


def test_the_policy_page_speaks_in_words_and_takes_a_number_and_a_unit(ctx, client, office, customer):
    _, manager = office
    log_in(client, manager.email, PASSWORD)
    url = f"/customers/{customer['id']}/policy"
    page = client.get(url).get_data(as_text=True)
    assert "a period of 7 days, a reminder every 2 days" in page and "P7D" not in page
    ok = client.post(url, data={"approval_period": "2", "approval_period_unit": "weeks", "reminder_interval": "",
                                "reminder_interval_unit": "days", "period_end_action": ""})
    assert ok.status_code == 302
    policy = get_customer_policy(ctx, customer["id"], staff=manager)
    assert policy["overrides"] == {"approval_period": "P2W", "reminder_interval": "", "period_end_action": ""}
    assert "a period of 2 weeks, a reminder every 2 days" in client.get(url).get_data(as_text=True)
