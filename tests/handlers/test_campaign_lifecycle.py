"""Whole campaign lifecycles as a stateful property test (hypothesis RuleBasedStateMachine).

Any sequence of: start, pause (between invocations or while SES is taking an e-mail), an audience
edited while paused, resume, abort; deliveries, duplicate and concurrent redeliveries of any queued
batch; a process dying at any AWS call; Lambda killing an invocation at its timeout; secret reads
failing; SendMessageBatch entries failing; SES answering slowly, resetting, 5xx, throttling or
refusing; lead status changes, unsubscribes, bounces and complaints at any time; verify-first on or off.

Invariants after every step:
- no (campaign, lead) reaches SES again after a request SES may have taken;
- nothing is claimed after a pause is acknowledged: at most the e-mails its answer called in flight
  reach SES until the next start;
- every slot the gate gives honours the start time, the window, the daily limit and the pacing, and
  no e-mail reaches SES before its slot or outside the window;
- suppressed addresses are never mailed;
- a completed campaign has no open recipient; a running one always has its next tick in flight (in
  the sending queue, or in its DLQ where the alarm fires);
- at the end (faults cleared, the campaign resumed and run out), every recipient is sent, skipped,
  failed or unconfirmed, and the campaign's summary reports them.

``make test`` runs it derandomized (a fixed set of examples); ``make soak`` runs it long and random.
"""

from __future__ import annotations

import copy
import json
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from pivotr.domain import sending, unsubscribe
from pivotr.domain.leads import lead_id
from simulator import notifications as ses
from simulator.clock import START
from simulator.event_source import LambdaQueue
from tests.ses_stub import MAYBE_TAKEN, Answer

SOAK = os.environ.get("SOAK") == "1"
N = 8  # leads: 0-4 valid, 5-7 new; even ones tagged "t"
EMAILS = [f"person{i}@example.com" for i in range(N)]
IDS = [lead_id(e) for e in EMAILS]
INVALID_AFTER_VERIFY = {IDS[5]}  # what the verifier stand-in says of the new leads: this one is invalid
AUDIENCES = [{"statuses": ["valid"]}, {"statuses": ["valid", "new"]}, {"tags": ["t"]}, {"leadIds": IDS[1:6]}]
FAULTS = st.one_of(
    st.none(), st.none(),
    st.tuples(st.just("crash"), st.integers(1, 12)),  # the process dies at its k-th AWS call
    st.tuples(st.just("stall"), st.tuples(st.integers(1, 12), st.sampled_from([10.0, 35.0]))),  # a slow AWS answer

    st.tuples(st.just("secret"), st.just(1)),  # a Secrets Manager read fails
    st.tuples(st.just("batch"), st.integers(1, 3)),  # SendMessageBatch entries reported failed
    st.tuples(st.just("ses"), st.lists(st.sampled_from(list(Answer)), min_size=1, max_size=3)),  # SES's next answers
)
REACH: Counter = Counter()  # what the examples exercised, so the test can show it tested something


@dataclass
class Model:
    campaign: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    suppressed_at: dict[str, int] = field(default_factory=dict)  # lead -> SES request count when suppressed
    pause_ack: tuple[int, int] | None = None  # (SES requests of the campaign at the ack, e-mails in flight)
    slots: set[tuple[str, float]] = field(default_factory=set)  # every (lead, due) the gate gave
    events: int = 0


class World:
    """The dev plan's mailer on moto (strict: SES stub, faults, clock-driven timeouts), reset per example."""

    def __init__(self, mailer: Any, handler_module: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.mailer, self.model = mailer, Model()
        verify = handler_module("verify-email")
        verify.service.verifier.check = lambda email, timeout=0: {
            "Status": "Invalid" if lead_id(email) in INVALID_AFTER_VERIFY else "Valid"}
        self.verify = LambdaQueue(mailer.service.verification.url, verify.handler, mailer.clock, timeout=15.0,
                                  faults=mailer.faults)
        store = mailer.service.dispatcher.recipients
        real_release = store.release

        def release(campaign_id: str, run_id: str, slots: list[tuple[str, float]]) -> None:
            self.model.slots |= set(slots)  # a redelivered tick carries out the same plan again
            real_release(campaign_id, run_id, slots)

        monkeypatch.setattr(store, "release", release)
        mailer.api.get("/leads")  # loads api-leads, which creates the signing key's secret from the plan
        self.key = unsubscribe.KeyRing.parse(boto3.client("secretsmanager").get_secret_value(
            SecretId="pivotr-mailer-dev-unsubscribe-signing-key")["SecretString"]).current

    def reset(self) -> None:
        mailer = self.mailer
        for table in mailer.tables.values():
            keys = [k["AttributeName"] for k in table.key_schema]
            with table.batch_writer() as batch:
                for item in table.scan(ProjectionExpression=", ".join(f"#k{i}" for i in range(len(keys))),
                                       ExpressionAttributeNames={f"#k{i}": k for i, k in enumerate(keys)})["Items"]:
                    batch.delete_item(Key=item)
        for queue in (mailer.queue, self.verify):
            moto_queue = queue._moto_queue()
            for q in (moto_queue, moto_queue.dead_letter_queue):
                q._messages, q._pending_messages = [], set()
        mailer.stub.reset()
        mailer.clock.now = START  # each example on its own: the same start, the same pacing draws
        mailer.service.rng = random.Random(7)
        faults = mailer.faults
        faults.crash_at, faults.stall_at, faults.secret_failures, faults.batch_failures = None, None, 0, 0
        mailer.service.delivery._campaign_cache.clear()
        mailer.service.delivery._template_cache.clear()
        mailer.confirmed = 0
        self.model = Model()
        mailer.add_leads([{"id": IDS[i], "email": EMAILS[i], "status": "valid" if i < 5 else "new",
                           "firstName": f"P{i}", "tags": ["t"] if i % 2 == 0 else []} for i in range(N)])

    # -- reading the world ----------------------------------------------------------------------
    def campaign(self) -> dict[str, Any]:
        return self.mailer.read(self.model.campaign)

    def requests(self) -> list[Any]:
        return [r for r in self.mailer.stub.requests if r.campaign == self.model.campaign]

    def run(self, until: Any, max_steps: int = 3_000) -> None:
        """Both consumers as Lambda polls them, side by side, the clock jumping to the next visible
        message when both queues are idle, until ``until()`` holds or nothing is left."""
        queues = (self.verify, self.mailer.queue)
        unchecked = 5  # invocations since ``until`` was last asked (only they change what it reads)
        for _ in range(max_steps):
            if unchecked >= 5:
                if until():
                    return
                unchecked = 0
            if any(queue.step() for queue in queues):
                unchecked += 1
                continue
            times = [t for t in (queue.next_visible_at() for queue in queues) if t is not None]
            if not times:
                return
            self.mailer.clock.now = max(self.mailer.clock.now, min(times) + 0.001)
        raise AssertionError(f"still running after {max_steps} steps: {self.campaign()}")

    def messages(self) -> list[dict[str, Any]]:
        moto_queue = self.mailer.queue._moto_queue()
        return [json.loads(m.body) for q in (moto_queue, moto_queue.dead_letter_queue) for m in q._messages]


class CampaignLifecycle(RuleBasedStateMachine):
    world: World  # set by the test before the machine runs

    def __init__(self) -> None:
        super().__init__()
        self.world.reset()
        self.m = self.world.mailer
        self.model = self.world.model

    # -- the campaign ---------------------------------------------------------------------------
    @initialize(audience=st.sampled_from(AUDIENCES), verify_first=st.booleans(), paced=st.booleans(),
                # a binding daily limit or a closing window costs a simulated day of ticks: drawn less often
                daily=st.sampled_from([500, 500, 500, 3]), window=st.sampled_from([False, False, True]),
                scheduled=st.booleans(),
                ses_script=st.lists(st.sampled_from(list(Answer)), max_size=4), fault=FAULTS)
    def create_and_start(self, audience: dict, verify_first: bool, paced: bool, daily: int, window: bool,
                         scheduled: bool, ses_script: list[Answer], fault: tuple[str, Any] | None) -> None:
        self.m.stub.behaviours.extend(ses_script)  # SES's first answers in this example
        self._arm(fault)
        now = self.m.clock()
        fields: dict[str, Any] = {"audience": audience, "verifyFirst": verify_first, "dailyLimit": daily,
                                  "pacing": {"minDelaySeconds": 20, "maxDelaySeconds": 40} if paced else
                                  {"minDelaySeconds": 0, "maxDelaySeconds": 0}}
        if window:  # open for the next three hours of UTC, then closed until tomorrow
            hour = int(sending.iso(now)[11:13])
            fields["sendingWindow"] = {"startHour": hour, "endHour": (hour + 3) % 24, "timeZone": "UTC"}
        if scheduled:
            fields["startAt"] = sending.iso(now + 1_800).replace("Z", "+00:00")
        self.model.campaign = self.m.campaign(**fields)
        self.model.config = self.m.read(self.model.campaign)
        self.start()

    @rule()
    def start(self) -> None:
        before = self.world.campaign()["status"]
        reply = self.m.api.post(f"/campaigns/{self.model.campaign}/start")
        if before in ("draft", "paused"):
            assert reply.status in (200, 503), reply.body  # 503: SQS refused the first tick, nothing changed
            if reply.status == 200:
                self.model.pause_ack = None
        else:
            assert reply.status == 409, reply.body

    @precondition(lambda self: self.world.campaign()["status"] == "running")
    @rule(while_ses_takes_an_email=st.booleans())
    def pause(self, while_ses_takes_an_email: bool) -> None:
        def pause(_: Any = None) -> None:
            reply = self.m.api.post(f"/campaigns/{self.model.campaign}/pause")
            assert reply.status in (200, 409), reply.body  # 409: it paused or completed itself meanwhile
            if reply.status == 200:
                self.model.pause_ack = (len(self.world.requests()), reply.body["inFlight"])
                REACH["pause"] += 1
                REACH["pause with e-mails in flight"] += reply.body["inFlight"] > 0

        if while_ses_takes_an_email:
            self.m.stub.during = pause  # inside the next SendEmail request, while its batch holds claims
        else:
            pause()

    @precondition(lambda self: self.world.campaign()["status"] == "paused")
    @rule(audience=st.sampled_from(AUDIENCES))
    def edit_audience(self, audience: dict) -> None:
        assert self.m.api.put(f"/campaigns/{self.model.campaign}", {"audience": audience}).status == 200

    @precondition(lambda self: len(self.world.requests()) >= 4)  # late, so most examples run on
    @rule()
    def abort(self) -> None:
        before = self.world.campaign()["status"]
        reply = self.m.api.post(f"/campaigns/{self.model.campaign}/abort")
        assert reply.status == (200 if before in ("draft", "running", "paused") else 409), reply.body

    # -- Lambda and SQS, and what goes wrong there ----------------------------------------------

    @rule(steps=st.integers(1, 6), fault=FAULTS)
    def deliver(self, steps: int, fault: tuple[str, Any] | None) -> None:
        self._arm(fault)
        for _ in range(steps):
            if not (self.m.queue.step() or self.world.verify.step()):
                times = [t for t in (q.next_visible_at() for q in (self.m.queue, self.world.verify)) if t is not None]
                if not times:
                    return
                self.m.clock.now = max(self.m.clock.now, min(times) + 0.001)

    def _arm(self, fault: tuple[str, Any] | None) -> None:
        faults = self.m.faults
        if fault is None:
            return
        kind, value = fault
        if kind == "crash":
            faults.crash_at = value
        elif kind == "stall":  # 35 s: Lambda kills the invocation at 30 s, whatever it was doing
            faults.stall_at, faults.stall = value
        elif kind == "secret":
            faults.fail_secret_reads(value)
        elif kind == "batch":
            faults.batch_failures = value
        else:
            self.m.stub.behaviours.extend(value)

    @rule(concurrently=st.booleans())
    def deliver_a_batch_twice(self, concurrently: bool) -> None:
        queue = self.m.queue
        records = queue.receive()
        if not records:
            return
        if concurrently:  # the copy runs while the first delivery is inside its SES call (if it makes one)
            self.m.stub.during = lambda _: queue.invoke(copy.deepcopy(records))
        else:
            queue.invoke(copy.deepcopy(records))
        failed = queue.invoke(records)
        self.m.stub.during = None
        if failed is not None:
            done = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(records) if r["messageId"] not in failed]
            if done:
                boto3.client("sqs").delete_message_batch(QueueUrl=queue.url, Entries=done)

    # -- meanwhile: time, leads, feedback -------------------------------------------------------
    @rule(event=st.sampled_from(["wait", "status", "unsubscribe", "bounce", "complaint", "send events"]),
          i=st.integers(0, N - 1), seconds=st.sampled_from([30, 300, 3_600]))
    def meanwhile(self, event: str, i: int, seconds: int) -> None:
        lead = IDS[i]
        if event == "wait":
            self.m.clock.advance(seconds)
        elif event == "status" and lead not in self.model.suppressed_at:
            self.m.set_lead(lead, status=["new", "valid", "risky"][seconds % 3])
        elif event == "unsubscribe":
            token = unsubscribe.sign(unsubscribe.Subscription(lead, self.model.campaign), self.world.key)
            assert self.m.api.post("/unsubscribe", query={"token": token}, raw="List-Unsubscribe=One-Click").status == 200
            self.model.suppressed_at.setdefault(lead, len(self.m.stub.requests))
        elif event in ("bounce", "complaint"):
            self.model.events += 1
            mail = {**ses.tagged(self.model.campaign, lead), "messageId": f"m-{self.model.events}"}
            section = ({"complainedRecipients": [{"emailAddress": EMAILS[i]}], "timestamp": "2026-11-18T10:00:00.000Z"}
                       if event == "complaint" else ses.bounce(email=EMAILS[i]))
            body = ses.event(event.capitalize(), section, mail)
            assert self.m.feedback(ses.sns(body, f"sns-{self.model.events}")) == {"batchItemFailures": []}
            self.model.suppressed_at.setdefault(lead, len(self.m.stub.requests))
        elif event == "send events":
            self.m.confirm_sends()

    # -- invariants -----------------------------------------------------------------------------
    @invariant()
    def never_twice(self) -> None:
        seen: set[str] = set()
        for request in self.world.requests():
            assert request.lead not in seen, f"{request.lead} reached SES again after a request SES may have taken"
            if request.answer in MAYBE_TAKEN:
                seen.add(request.lead)

    @invariant()
    def nothing_claimed_after_a_pause(self) -> None:
        if self.model.pause_ack is not None:
            count, in_flight = self.model.pause_ack
            assert len(self.world.requests()) - count <= in_flight

    @invariant()
    def suppressed_addresses_are_never_mailed(self) -> None:
        for index, request in enumerate(self.m.stub.requests):
            assert index < self.model.suppressed_at.get(request.lead, index + 1), f"{request.lead} mailed after suppression"

    @invariant()
    def the_gate_honours_the_campaign(self) -> None:
        config = self.model.config
        if not config:
            return
        slots = sorted(self.model.slots, key=lambda slot: slot[1])
        start_at = sending.start_at(config)
        per_day = Counter(sending.day_key(config, due) for _, due in slots)
        assert all(n <= config["dailyLimit"] for n in per_day.values()), per_day
        for _, due in slots:
            assert due >= start_at and sending.in_window(config, due)
        gap = config["pacing"]["minDelaySeconds"]
        assert all(b[1] - a[1] >= gap for a, b in zip(slots, slots[1:])), slots
        first_slot: dict[str, float] = {}
        for lead, due in slots:
            first_slot.setdefault(lead, due)
        for request in self.world.requests():
            assert request.at >= first_slot[request.lead] - 0.001, "sent before its slot"
            assert sending.in_window(config, request.at), "sent outside the window"

    @invariant()
    def completed_means_nothing_open_and_running_means_a_tick_in_flight(self) -> None:
        if not self.model.campaign:
            return
        campaign = self.world.campaign()
        if campaign["status"] == "completed":
            open_ = [r for r in self.m.recipients(self.model.campaign).values() if r["status"] in sending.OPEN]
            assert not open_, open_
        if campaign["status"] == "running":
            ticks = [m for m in self.world.messages() if m.get("runId") == campaign["runId"] and "tick" in m]
            assert ticks, "a running campaign with no dispatch tick in its queue or DLQ"

    # -- the end ---------------------------------------------------------------------------------
    def teardown(self) -> None:
        if not self.model.campaign:
            return
        m = self.m  # armed faults stay: each is finite, and running out meets them
        m.stub.during = None
        self._redrive()
        for round_ in range(6):  # resume what paused (itself, or by the test), then run it out
            if round_ == 2:
                m.stub.behaviours.clear()  # SES answers still queued (each refusal pauses the campaign once more)
            if self.world.campaign()["status"] in ("paused", "draft"):
                statuses = [m.api.post(f"/campaigns/{self.model.campaign}/start").status for _ in range(4)]
                assert 200 in statuses and set(statuses) <= {200, 409, 503}, statuses  # 503: SQS refused; retried
                self.model.pause_ack = None
            self.world.run(until=lambda: self.world.campaign()["status"] in ("completed", "aborted", "paused"))
            self._redrive()
        campaign = self.world.campaign()
        REACH.update({f"fault: {k}": v for k, v in m.faults.fired.items()})
        REACH.update(f"SES answer: {r.answer}" for r in self.world.requests())
        REACH[f"ended {campaign['status']}"] += 1
        REACH.update(f"recipient {status}" for status, n in (campaign.get("summary") or {}).items() for _ in range(int(n)))
        m.faults.fired.clear()
        self.never_twice()
        self.nothing_claimed_after_a_pause()
        self.suppressed_addresses_are_never_mailed()
        self.the_gate_honours_the_campaign()
        if campaign["status"] == "aborted":
            return
        assert campaign["status"] == "completed", campaign
        recipients = self.m.recipients(self.model.campaign)
        assert all(r["status"] in sending.CLOSED for r in recipients.values())
        # the summary as of now: Send events after completion moved unconfirmed ones to sent (a 0 may remain)
        assert {k: v for k, v in campaign["summary"].items() if v} == dict(Counter(r["status"] for r in recipients.values()))

    def _redrive(self) -> None:
        """What the operator does when the DLQ alarm fires: move its messages back to the queue."""
        for queue in (self.m.queue, self.world.verify):
            moto_queue = queue._moto_queue()
            dlq = moto_queue.dead_letter_queue
            bodies = [message.body for message in dlq._messages]
            dlq._messages, dlq._pending_messages = [], set()
            for start in range(0, len(bodies), 10):
                boto3.client("sqs").send_message_batch(QueueUrl=queue.url, Entries=[
                    {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start:start + 10])])


def tour() -> None:
    """One scripted lifecycle through the same machine and invariants that meets every SES answer and
    every fault, so what the test reaches does not hang on the random draws."""
    machine = CampaignLifecycle()
    invariants = [machine.never_twice, machine.nothing_claimed_after_a_pause, machine.suppressed_addresses_are_never_mailed,
                  machine.the_gate_honours_the_campaign, machine.completed_means_nothing_open_and_running_means_a_tick_in_flight]

    def step(action: Any, *args: Any, **kwargs: Any) -> None:
        action(*args, **kwargs)
        for check in invariants:
            check()

    step(machine.create_and_start, audience={"statuses": ["valid", "new"]}, verify_first=False, paced=True, daily=500,
         window=False, scheduled=False, fault=None, ses_script=[
             Answer.OK, Answer.SLOW, Answer.RESET, Answer.ERROR_5XX, Answer.THROTTLE, Answer.REJECT, Answer.ACCOUNT])
    step(machine.pause, while_ses_takes_an_email=True)
    step(machine.deliver, steps=4, fault=("crash", 4))
    step(machine.meanwhile, event="unsubscribe", i=N - 1, seconds=30)  # after the snapshot, before its turn: skipped
    for fault in (("stall", (3, 35.0)), ("secret", 1), ("batch", 2), None, None, None, ("ses", [Answer.SANDBOX])):
        step(machine.start)  # resumes after the test's pause and after each account-level refusal
        step(machine.deliver, steps=4, fault=fault)
    machine.teardown()


def test_campaign_lifecycles_keep_their_promises(strict_mailer, handler_module, monkeypatch) -> None:
    CampaignLifecycle.world = World(strict_mailer, handler_module, monkeypatch)
    REACH.clear()
    tour()
    run_state_machine_as_test(CampaignLifecycle, settings=settings(
        max_examples=400 if SOAK else 20, stateful_step_count=40 if SOAK else 25, derandomize=not SOAK,
        deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=True,
        # no explain phase: its line tracer slows every AWS call a hundredfold; shrinking only when soaking
        phases=[Phase.explicit, Phase.generate, Phase.shrink] if SOAK else [Phase.explicit, Phase.generate]))
    # The tour and the examples reached what the invariants are about
    wanted = {"pause", "pause with e-mails in flight", "ended completed", "recipient sent", "recipient unconfirmed",
              "recipient skipped", "fault: crash", "fault: stall", "fault: secret", "fault: batch", "fault: killed",
              *(f"SES answer: {answer}" for answer in Answer)}
    assert not wanted - set(+REACH), f"never exercised: {sorted(wanted - set(+REACH))}; reached: {dict(REACH)}"
