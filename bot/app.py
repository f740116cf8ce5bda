"""The composition root: `build(settings)` makes the parts of the assistant in order and hands back an `App`.

Every command asks the App for what it needs, so settings are resolved once and the same way everywhere.
The order is chosen so that what fails fast fails first: the data folders are checked, the database is opened
(a bad file is reported in well under a second), then the knowledge base, the cues, the matcher and the
templates are loaded. When a step fails, everything opened before it is closed again, so a failed start-up
exits instead of hanging on a database thread, and the error names the path that is wrong.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.clock import Clock, SystemClock
from bot.core.resources import DataNotFound, data_dir
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.core.answering.context import ContextStore
    from bot.core.assistant import Answering, Assistant, TicketDesk
    from bot.core.knowledge import KnowledgeBase
    from bot.core.knowledge.loop import ReloadResult
    from bot.core.media import MediaLimits
    from bot.core.media_store import LocalMediaStore
    from bot.core.policies.desk import PolicyDesk
    from bot.core.routing import Routing
    from bot.core.storage import Store
    from bot.core.storage.url import DatabaseTarget
    from bot.core.tickets.domain.sla import SlaPolicies
    from bot.core.tickets.intake.draft import Draft
    from bot.core.tickets.workflow.config import WorkflowConfig

log = logging.getLogger(__name__)


RELOAD_WORDS = "commands/knowledge.html.j2"  # what the admins are told about a reload


class StartupError(Exception):
    """The assistant cannot start; the message (Chinese) names the path or setting that is wrong."""


@dataclass(frozen=True)
class DataPaths:
    knowledge: Path
    intents: Path
    templates: Path

    @classmethod
    def resolve(cls, settings: Settings) -> DataPaths:
        def one(configured: Path | None, name: str, label: str) -> Path:
            try:
                path = configured or data_dir(name)
            except DataNotFound as exc:
                raise StartupError(str(exc)) from None
            if not path.is_dir():
                raise StartupError(f"{label}目录不存在：{path}")
            return path

        return cls(
            knowledge=one(settings.knowledge_dir, "knowledge", "知识库"),
            intents=one(settings.intents_dir, "intents", "对话规则（intents）"),
            templates=one(settings.templates_dir, "templates", "模板"),
        )


@dataclass
class App:
    settings: Settings
    clock: Clock
    paths: DataPaths
    answering: Answering
    assistant: Assistant
    store: Store | None = None
    _closed: bool = field(default=False, repr=False)
    _reloading: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def kb(self) -> KnowledgeBase:
        return self.answering.kb

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self.assistant.close()

    async def reload(self) -> ReloadResult:
        """Read the knowledge base (and the learned overlay) again and answer from it from now on, without a
        restart. The new base is loaded, validated and indexed in a worker thread while the old one keeps
        answering, then swapped in with one assignment; a base that fails validation is not swapped in, and the
        result says why. Reloads run one at a time."""
        from bot.core.knowledge import KnowledgeError
        from bot.core.knowledge.loop import ReloadResult

        async with self._reloading:
            started = time.perf_counter()
            now = self.clock.now()
            try:
                learned = await self.store.learned.active(now) if self.store is not None else []
                answering = await asyncio.to_thread(load_answering, self.paths, learned, now.date())
            except KnowledgeError as exc:
                return ReloadResult(False, seconds=time.perf_counter() - started, problems=list(exc.problems))
            except (StartupError, OSError) as exc:
                return ReloadResult(False, seconds=time.perf_counter() - started, problems=[str(exc)])
            except Exception as exc:  # keep serving the old base whatever went wrong, and say what it was
                log.exception("reloading the knowledge base failed")
                return ReloadResult(
                    False, seconds=time.perf_counter() - started, problems=[f"{type(exc).__name__}: {exc}"]
                )
            self.answering = answering
            self.assistant.swap_answering(answering)
            result = ReloadResult(
                True,
                entries=len(answering.kb.entries),
                seconds=time.perf_counter() - started,
                skipped=list(answering.overlay_skipped),
            )
            log.info("knowledge base reloaded: %d entries in %.2f s", result.entries, result.seconds)
            return result

    def reload_on_sighup(self, loop: asyncio.AbstractEventLoop) -> bool:
        """`kill -HUP <pid>` reloads the knowledge base; a failure is logged and sent to the admins. False where
        the platform has no SIGHUP (Windows)."""
        if not hasattr(signal, "SIGHUP"):
            return False

        def reload_later() -> None:
            task = loop.create_task(self._reload_and_tell())
            self._signal_tasks.add(task)
            task.add_done_callback(self._signal_tasks.discard)

        self._signal_tasks: set[asyncio.Task[None]] = set()
        try:
            loop.add_signal_handler(signal.SIGHUP, reload_later)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            return False
        return True

    async def _reload_and_tell(self) -> None:
        from bot.core.messages import Notification, Recipient, Reply

        result = await self.reload()
        if result.ok:
            return
        log.error("knowledge base reload refused, the old base keeps serving: %s", "; ".join(result.problems))
        outbox = self.assistant.outbox
        if outbox is not None:
            html = self.assistant.texts.say(RELOAD_WORDS, "reload_refused", problems=result.problems[:20])
            await outbox.enqueue(Notification(Recipient("admins", ""), Reply(html)))


def load_policies(kb: KnowledgeBase) -> SlaPolicies:
    """The SLA policies and working calendar of the knowledge base (its sla.yaml and calendar.yaml); a bad
    file stops start-up like any other knowledge file."""
    from bot.core.knowledge import KnowledgeError
    from bot.core.tickets.domain.calendar import CalendarError
    from bot.core.tickets.domain.sla import SlaConfigError, policies_from_kb

    try:
        return policies_from_kb(kb)
    except (CalendarError, SlaConfigError) as exc:
        raise KnowledgeError([str(exc)]) from None


def load_workflow(kb: KnowledgeBase) -> WorkflowConfig:
    """The loop's settings of the knowledge base (its workflow.yaml); a bad file stops start-up like any other
    knowledge file."""
    from bot.core.knowledge import KnowledgeError
    from bot.core.tickets.workflow.config import WorkflowConfigError, workflow_from_kb

    try:
        return workflow_from_kb(kb)
    except WorkflowConfigError as exc:
        raise KnowledgeError([str(exc)]) from None


def load_routing(kb: KnowledgeBase, root: Path | None = None) -> Routing:
    """The 派单目录 and 属地 places of the knowledge base (bot/core/routing); a wrong file stops start-up with
    the file, the entry and the field, like any other knowledge file."""
    from bot.core.routing import Routing

    return Routing(kb, root)


def load_answering(paths: DataPaths, learned: Sequence[Any] = (), today: Any = None) -> Answering:
    """The knowledge base (with the learned overlay laid over it), the cues, the matcher and the renderer:
    everything that answers questions."""
    import datetime as dt

    from bot.core.answering.cues import load_cues
    from bot.core.answering.matcher import Matcher
    from bot.core.answering.render import Renderer
    from bot.core.assistant import Answering
    from bot.core.knowledge import load_knowledge
    from bot.core.knowledge.overlay import apply_overlay

    kb = load_knowledge(paths.knowledge)
    skipped: list[str] = []
    if learned:
        overlaid = apply_overlay(kb, learned, today or dt.date.today())
        kb, skipped = overlaid.kb, overlaid.skipped
    cues = load_cues(paths.intents)
    renderer = Renderer(kb, paths.templates)
    missing = renderer.missing_templates()
    if missing:
        raise StartupError(f"模板目录 {paths.templates} 缺少模板：{'、'.join(missing)}")
    return Answering(
        kb=kb,
        matcher=Matcher(kb, cues),
        renderer=renderer,
        templates_dir=paths.templates,
        overlay_skipped=tuple(skipped),
    )


def database_target(settings: Settings) -> DatabaseTarget:
    """The database the settings name (DATABASE_URL, else DATABASE_PATH); a StartupError when it names none."""
    from bot.core.storage import StoreOpenError
    from bot.core.storage.engines import database_target as target_of

    try:
        return target_of(settings.database)
    except StoreOpenError as exc:
        raise StartupError(str(exc)) from None


async def open_database(settings: Settings, clock: Clock | None = None, *, migrate: bool = True) -> Store:
    """The store on either engine (bot/core/storage), with the pool size and timeout of the settings; a
    database that cannot be used is a StartupError naming it (never its password)."""
    from bot.core.storage import StoreOpenError
    from bot.core.storage import open_store as open_any

    target = database_target(settings)
    if target.path is not None:
        try:
            target.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartupError(
                f"无法创建诉求数据库所在目录 {target.path.parent}：{exc.strerror or exc}"
            ) from None
    try:
        return await open_any(
            target,
            tz=settings.timezone,
            clock=clock or SystemClock(settings.timezone),
            pool_size=settings.database_pool_size,
            timeout_seconds=settings.database_timeout_seconds,
            migrate=migrate,
        )
    except StoreOpenError as exc:
        raise StartupError(str(exc)) from None


async def open_store(settings: Settings, clock: Clock) -> Store:
    """The ticket database the settings name, on its engine; see open_database."""
    return await open_database(settings, clock)


async def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    tickets: bool = True,
    answering: Answering | None = None,
    extra_admins: frozenset[str] = frozenset(),
) -> App:
    """Build the assistant. `answering` lets tests share one loaded knowledge base between many apps;
    `extra_admins` are ids outside Telegram's (the console's staff member)."""
    clock = clock or SystemClock(settings.timezone)
    paths = DataPaths.resolve(settings)
    store = await open_store(settings, clock) if tickets else None
    try:
        # imported only now: a bad path or database is reported before the heavy modules load
        from bot.core.assistant import Assistant

        if answering is None:
            learned = await store.learned.active(clock.now()) if store is not None else []
            answering = load_answering(paths, learned, clock.now().date())
        policies = load_policies(answering.kb)
        routing = load_routing(answering.kb, paths.knowledge)
        desk = None
        policy_desk = _policy_desk(settings, clock, store, answering, paths)
        assistant: Assistant | None = None
        if store is not None:
            # the intake asks the matcher in use now (after a reload, the new one)
            current = lambda: assistant.answering if assistant is not None else answering  # noqa: E731
            desk = await _ticket_desk(
                settings, clock, store, answering, policies, paths, extra_admins, current
            )
            desk.commands.policies = policy_desk
            await _learning_routing(desk, routing, store, clock)
            # the official notice of a provisional year may have arrived since the last start
            await desk.service.sync_calendar()
        assistant = Assistant(
            answering,
            clock,
            desk,
            policies=policies,
            context_ttl_minutes=settings.context_ttl_minutes,
            policy_desk=policy_desk,
            contexts=_contexts(settings, clock, store),
            review_days=settings.knowledge_review_days,
        )
    except BaseException:
        if store is not None:
            await store.close()
        raise
    app = App(settings, clock, paths, answering, assistant, store)
    if desk is not None:
        from bot.core.knowledge.loop import KnowledgeLoop

        # staff teach and reload through the commands (/gaps, /teach, /reload, the 加入知识库 button)
        desk.commands.knowledge = KnowledgeLoop(
            store,
            clock,
            current=lambda: app.assistant.answering,
            reload=app.reload,
            faq_days=settings.faq_expiry_days,
        )
    for line in answering.overlay_skipped:
        log.warning("learned overlay: %s", line)
    return app


async def _ticket_desk(
    settings: Settings,
    clock: Clock,
    store: Store,
    answering: Answering,
    policies: SlaPolicies,
    paths: DataPaths,
    extra_admins: frozenset[str],
    current: Callable[[], Answering] | None = None,
) -> TicketDesk:
    from bot.core.assistant import TicketDesk
    from bot.core.texts import Texts
    from bot.core.tickets.attachments import AttachmentDesk
    from bot.core.tickets.commands.dispatch import TicketCommands
    from bot.core.tickets.intake.flow import IntakeFlow
    from bot.core.tickets.service import TicketService

    admins = {str(i) for i in settings.admin_ids} | set(extra_admins)
    texts = Texts(paths.templates)
    service = TicketService(
        store,
        answering.kb,
        clock,
        policies,
        admins,
        texts,
        load_workflow(answering.kb),
        media_limits=media_limits(settings),
        media_keeper=media_keeper(settings),
    )
    intake = IntakeFlow(
        service,
        store.state,
        answering.kb,
        clock,
        texts,
        looks_new=_looks_new(current or (lambda: answering)),
    )
    return TicketDesk(
        store=store,
        service=service,
        commands=TicketCommands(service),
        intake=intake,
        attachments=AttachmentDesk(service, store.state, intake),
    )


def media_limits(settings: Settings) -> MediaLimits:
    """MEDIA_KINDS, MEDIA_MAX_MB and MEDIA_MAX_COUNT as the core's limits."""
    from bot.core.media import MB, MediaLimits

    return MediaLimits(
        kinds=frozenset(settings.media_kinds),
        max_bytes=settings.media_max_mb * MB,
        max_count=settings.media_max_count,
    )


def media_keeper(settings: Settings) -> LocalMediaStore | None:
    """Local copies of attachments only when MEDIA_STORE_DIR is set; the channel supplies how to fetch a file
    (`Assistant.set_media_fetch`) once it is connected."""
    if settings.media_store_dir is None:
        return None
    from bot.core.media_store import LocalMediaStore

    return LocalMediaStore(settings.media_store_dir, fetch=None)


def _policy_desk(
    settings: Settings, clock: Clock, store: Store | None, answering: Answering, paths: DataPaths
) -> PolicyDesk | None:
    """The 惠企政策 desk when the knowledge base has a 政策库 (knowledge/policies/), else None."""
    if not answering.kb.policies:
        return None
    from bot.core.policies.desk import PolicyDesk
    from bot.core.policies.extract import load_policy_cues
    from bot.core.texts import Texts

    return PolicyDesk(
        answering.kb.policies,
        clock,
        Texts(paths.templates),
        store,
        cues=load_policy_cues(paths.intents),
        expiring_days=settings.policy_expiring_days,
        push_hours=settings.policy_push_hours,
        state_minutes=settings.context_ttl_minutes,
    )


def _contexts(settings: Settings, clock: Clock, store: Store | None) -> ContextStore | None:
    """Dialogue contexts in the database when several processes may answer one person (DIALOGUE_CONTEXT);
    None: in this process's memory."""
    if store is None or not settings.shared_dialogue_context:
        return None
    from bot.core.answering.context import SharedContextStore

    return SharedContextStore(clock, store.state, settings.context_ttl_minutes)


async def _learning_routing(desk: TicketDesk, routing: Routing, store: Store, clock: Clock) -> None:
    """Routing that learns from this deployment's tickets: the service tells it of staff changes, and the
    model the database holds (if any) is loaded now."""
    from bot.core.routing.learning import RoutingDesk

    learning = RoutingDesk(routing, store, clock)
    desk.service.routing = learning
    await learning.refresh()


def _looks_new(current: Callable[[], Answering]) -> Callable[[str, Draft], str | None]:
    """During an intake: does a typed message look like a new question, or a problem other than the one being
    filed? (Then the person is asked instead of the text being taken as an answer.)"""
    from bot.core.tickets.classify import classify

    def looks(text: str, draft: Draft) -> str | None:
        answering = current()
        u = answering.matcher.understand(text)
        if u.intent in ("item", "exemption") and u.target is not None and not u.ambiguous:
            return "question"
        if u.intent == "appeal" and draft.category is not None:
            ranked = classify(text, answering.kb)
            if ranked and ranked[0][1] > 0 and ranked[0][0] != draft.category:
                return "complaint"
        return None

    return looks


@asynccontextmanager
async def running(settings: Settings, **kwargs: object) -> AsyncIterator[App]:
    """`async with running(settings) as app:` builds the app and always closes it."""
    app = await build(settings, **kwargs)  # type: ignore[arg-type]
    try:
        yield app
    finally:
        await app.aclose()
