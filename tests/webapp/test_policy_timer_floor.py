"""A reminder every microsecond is refused on the policy forms, next to its field, and nothing is saved."""

from engine.services.company_settings import get_company_settings, get_customer_policy
from tests.webapp.conftest import log_in


def test_a_tiny_reminder_interval_on_a_customer_policy_is_refused(ctx, client, office, customer):
    _, manager = office
    assert log_in(client, manager.email).status_code == 302
    url = f"/customers/{customer['id']}/policy"
    for tiny in ("PT0.000001S", "PT0S", "PT59S"):
        bad = client.post(url, data={"approval_period": "", "reminder_interval": tiny, "period_end_action": ""})
        body = bad.get_data(as_text=True)
        assert bad.status_code == 400 and "reminder_interval-error" in body and "at least 60 seconds" in body
    assert get_customer_policy(ctx, customer["id"], staff=manager)["overrides"]["reminder_interval"] == ""
    ok = client.post(url, data={"approval_period": "", "reminder_interval": "PT1M", "period_end_action": ""})
    assert ok.status_code == 302


def test_a_tiny_duration_in_the_company_settings_is_refused(ctx, client, office):
    admin, _ = office
    assert log_in(client, admin.email).status_code == 302
    bad = client.post("/settings", data={"approval_period": "P7D", "reminder_interval": "P2D",
                                         "minimum_resume_period": "PT0.5S", "period_end_action": "escalate"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "minimum_resume_period-error" in body and "at least 60 seconds" in body
    assert get_company_settings(ctx)["minimum_resume_period"] == "P1D"
