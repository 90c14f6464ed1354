"""Leads: the use cases behind api-leads. The suppression list outranks every edit: an address that
bounced, complained or unsubscribed stays so whatever a create or an update asks."""

from __future__ import annotations

from typing import Any

from pivotr.data.dynamo import ConditionFailed, Table
from pivotr.data.suppression import SuppressionList
from pivotr.domain import leads
from pivotr.env import LeadsEnv
from pivotr.errors import conflict, invalid, not_found
from pivotr.services import Body
from pivotr.timestamps import now


class LeadService:
    def __init__(self, env: LeadsEnv) -> None:
        self.leads = Table(env.leads_table)
        self.suppression = SuppressionList(env.suppression_table)

    def lead(self, id_: str) -> dict[str, Any]:
        lead = self.leads.get({"id": id_})
        if lead is None:
            raise not_found("lead", id_)
        return lead

    def create(self, body: Any) -> dict[str, Any]:
        lead = leads.new_lead(body, now())
        reason = self.suppression.reason_for(lead["id"])
        if reason:  # the address opted out, bounced or complained before: a new record cannot undo that
            lead["status"] = reason
        try:
            self.leads.put_new(lead)
        except ConditionFailed:
            raise conflict("DUPLICATE_EMAIL", f"A lead with e-mail {lead['email']} exists", field="email",
                           existingId=lead["id"]) from None
        return lead

    def edit(self, id_: str, body: Body) -> dict[str, Any]:
        current = self.lead(id_)
        values = leads.changes(body(), current, now())
        status = values.get("status", current["status"])
        if status != current["status"] and current["status"] in leads.SUPPRESSION_REASONS:
            raise conflict("SUPPRESSED", f"The lead is {current['status']}: its address is on the suppression list "
                           "and is never mailed again", field="status", currentStatus=current["status"])
        if status != current["status"] and status in leads.FEEDBACK_ONLY:
            raise invalid([{"field": "status", "message": "bounced and complained are set by SES feedback only"}])
        if status != current["status"] and status == leads.UNSUBSCRIBED:  # an opt-out taken by hand
            self.suppression.add(current["id"], status, values["updatedAt"], current["email"])
        try:
            return self.leads.update({"id": current["id"]}, values)
        except ConditionFailed:
            raise not_found("lead", id_) from None

    def delete(self, id_: str) -> None:
        try:
            self.leads.delete({"id": id_})
        except ConditionFailed:
            raise not_found("lead", id_) from None
