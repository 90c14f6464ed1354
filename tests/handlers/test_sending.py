"""send-email end to end on moto provisioned from the plan: start, pacing, pause and resume, headers."""

from __future__ import annotations

from pivotr.domain.leads import lead_id


def leads(n: int, status: str = "valid", prefix: str = "lead") -> list[dict]:
    return [{"id": lead_id(f"{prefix}{i}@example.com"), "email": f"{prefix}{i}@example.com", "status": status,
             "firstName": f"Name{i}"} for i in range(n)]


def test_a_started_campaign_sends_once_to_each_eligible_lead_and_completes(mailer) -> None:
    # Given 25 valid leads and 5 unsubscribed ones
    mailer.add_leads(leads(25) + leads(5, "unsubscribed", "gone"))
    campaign = mailer.campaign()
    # When the campaign starts and the sending queue is drained
    assert mailer.api.post(f"/campaigns/{campaign}/start").status == 200
    mailer.queue.run()
    # Then each valid lead got exactly one e-mail, the campaign completed, and the metrics agree
    assert sorted(mailer.ses.leads()) == sorted(lead["id"] for lead in leads(25))
    item = mailer.read(campaign)
    assert item["status"] == "completed" and item["summary"]["sent"] == 25
    assert mailer.totals(campaign) == {"queued": 25, "sent": 25}
