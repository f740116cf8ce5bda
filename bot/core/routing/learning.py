"""Learning from the centre's own tickets: labelled examples from staff changes, retraining, and the gate.

- Every transfer (including a dispatch from the dispatcher's queue) and every category changed by staff is a
  labelled example: the ticket's text and the unit it was given (`record`). A transfer back to the dispatcher
  says only "not here", so it teaches nothing and is not kept.
- `retrain` takes the examples in time order, the newest per ticket (the staff's last word), holds back the
  most recent `HOLD_BACK` share (at least `MIN_HOLD_BACK`), trains a candidate on the rest, and routes the
  held-back tickets with the candidate and with the current model (no model: the rules alone). The score is
  the share routed *surely and rightly* (a ticket sent to the dispatcher's queue scores nothing). A candidate
  that scores below the current one is stored as rejected and never switched in. The held-back tickets are
  always newer than anything either model was trained on, so the comparison is fair.
- The model is stored in the database (routing_models), so every process of a deployment uses the same one;
  `refresh` picks up a model another process switched in. Nothing trained elsewhere is ever loaded.
- The Scheduler calls `due` from its tick: a retrain runs when `RETRAIN_EVERY` has passed since the last one and
  new examples arrived; an admin can run one at any time (`/retrain`, `python -m bot routing retrain`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Protocol

from bot.core.clock import Clock
from bot.core.storage.protocols import MetaRepository, RoutingExample, RoutingModelRow, RoutingRepository

from .learned import NgramModel
from .router import Decision, Routing

log = logging.getLogger(__name__)

MIN_EXAMPLES = 40
HOLD_BACK = 0.1
MIN_HOLD_BACK = 20
MAX_HOLD_BACK = 1000
RETRAIN_EVERY = dt.timedelta(hours=24)
LAST_TRAINED = "routing_last_trained"  # meta key: when the last retrain ran (ISO)


class RoutingStore(Protocol):
    """What routing needs of a Store: its examples and models, and the meta table (when it last trained)."""

    @property
    def routing(self) -> RoutingRepository: ...
    @property
    def meta(self) -> MetaRepository: ...


@dataclass(frozen=True)
class RetrainResult:
    outcome: str  # switched | rejected | too_few
    examples: int
    held_back: int = 0
    score: float = 0.0  # the candidate's, on the held-back tickets
    baseline: float = 0.0  # the current model's (or the rules'), on the same tickets
    seconds: float = 0.0
    model_id: int | None = None


def latest_per_ticket(examples: list[RoutingExample], dispatcher: str) -> list[RoutingExample]:
    """The staff's last word on each ticket, in time order; examples that teach nothing are left out."""
    last: dict[int | tuple[str, int], RoutingExample] = {}
    for i, e in enumerate(examples):
        key = e.ticket_id if e.ticket_id is not None else ("no-ticket", i)
        last.pop(key, None)  # re-insert: dict order follows the latest example
        last[key] = e
    return [e for e in last.values() if e.unit and e.unit != dispatcher and e.text.strip()]


def score(routing: Routing, model: NgramModel | None, examples: list[RoutingExample]) -> float:
    """Share of the examples the router (with this model) sends surely to their unit."""
    if not examples:
        return 0.0
    right = 0
    for e in examples:
        d = routing.route(e.text, model=model)
        right += d.sure and e.unit in (d.unit, d.line_unit)
    return right / len(examples)


class RoutingDesk:
    """The routing of one deployment: the Routing (派单目录, 属地, current model) and its store."""

    def __init__(
        self, routing: Routing, store: RoutingStore, clock: Clock, *, min_examples: int = MIN_EXAMPLES
    ):
        self.routing = routing
        self.store = store
        self.clock = clock
        self.min_examples = min_examples
        self.model_id: int | None = None
        self.last_example = 0  # the newest example the model in use was trained on
        self._lock = asyncio.Lock()
        self._next_check: dt.datetime | None = None

    @property
    def dispatcher(self) -> str:
        return self.routing.dispatcher

    def route(self, text: str, place: str | None = None) -> Decision:
        return self.routing.route(text, place)

    def reload(self) -> bool:
        """Read the 派单目录 and places again (an admin's edits; the knowledge reload calls this). A wrong file
        raises KnowledgeError naming it, and the routing goes on with what it had."""
        return self.routing.reload()

    async def refresh(self) -> bool:
        """Load the active model of the database when it is not the one in use; True when it changed."""
        row = await self.store.routing.active_model()
        if row is None or row.id == self.model_id:
            return False
        try:
            model = await asyncio.to_thread(NgramModel.from_bytes, row.data)
        except (ValueError, OSError, KeyError) as exc:
            log.error("routing model %s cannot be read (%s); routing goes on without it", row.id, exc)
            return False
        self.routing.set_model(model)
        self.model_id, self.last_example = row.id, row.last_example
        return True

    async def record(
        self,
        *,
        ticket_id: int | None,
        text: str,
        unit: str,
        kind: str,
        actor: str,
        previous: str | None = None,
        category: str | None = None,
    ) -> None:
        """Keep a staff change as a labelled example (a failure is logged: the change itself has happened)."""
        if not text.strip() or not unit or unit == self.dispatcher:
            return
        example = RoutingExample(
            text=text,
            unit=unit,
            kind=kind,
            actor=actor,
            at=self.clock.now(),
            ticket_id=ticket_id,
            category=category,
            previous=previous,
        )
        try:
            await self.store.routing.add_example(example)
        except Exception:  # noqa: BLE001 - learning is a side effect; the transfer must not fail for it
            log.exception("could not record the routing example of ticket %s", ticket_id)

    async def retrain(self) -> RetrainResult:
        """Train a candidate on all but the newest examples and switch it in unless it scores worse."""
        async with self._lock:
            started = self.clock.now()
            t0 = asyncio.get_running_loop().time()
            await self.refresh()
            examples = latest_per_ticket(await self.store.routing.examples(), self.dispatcher)
            await self.store.meta.set(LAST_TRAINED, started.isoformat())
            n = len(examples)
            if n < self.min_examples or len({e.unit for e in examples}) < 2:
                return RetrainResult("too_few", n)
            k = min(MAX_HOLD_BACK, max(MIN_HOLD_BACK, round(n * HOLD_BACK)))
            train, held = examples[:-k], examples[-k:]
            if len({e.unit for e in train}) < 2:
                return RetrainResult("too_few", n)
            candidate = await asyncio.to_thread(
                NgramModel.train, [e.text for e in train], [e.unit for e in train]
            )
            new = await asyncio.to_thread(score, self.routing, candidate, held)
            old = await asyncio.to_thread(score, self.routing, self.routing.model, held)
            better = new >= old
            row = RoutingModelRow(
                id=0,
                created_at=started,
                examples=len(train),
                last_example=max(e.id or 0 for e in train),
                held_back=len(held),
                score=new,
                baseline=old,
                active=better,
                # a rejected candidate is kept as a record of the attempt, without its numbers
                data=await asyncio.to_thread(candidate.to_bytes) if better else b"",
            )
            model_id = await self.store.routing.save_model(row, activate=better)
            if better:
                self.routing.set_model(candidate)
                self.model_id, self.last_example = model_id, row.last_example
            seconds = asyncio.get_running_loop().time() - t0
            log.info(
                "routing retrained on %d tickets (%d held back): %.1f%% against %.1f%%, %s",
                len(train),
                len(held),
                new * 100,
                old * 100,
                "switched in" if better else "kept the current model",
            )
            return RetrainResult(
                "switched" if better else "rejected", n, len(held), new, old, seconds, model_id
            )

    async def due(self, now: dt.datetime) -> RetrainResult | None:
        """From the scheduler's tick: retrain when the last one is `RETRAIN_EVERY` old and examples arrived
        since; also pick up a model another process switched in. Checks the database at most every 10 min."""
        if self._next_check is not None and now < self._next_check:
            return None
        self._next_check = now + dt.timedelta(minutes=10)
        await self.refresh()
        last = await self.store.meta.get(LAST_TRAINED)
        if last is not None and now - dt.datetime.fromisoformat(last) < RETRAIN_EVERY:
            return None
        if not await self.store.routing.examples(after_id=self.last_example, limit=1):
            return None
        return await self.retrain()

    async def models(self, limit: int = 5) -> list[RoutingModelRow]:
        return await self.store.routing.models(limit)
