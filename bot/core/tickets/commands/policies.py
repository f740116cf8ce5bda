"""惠企政策 commands: /profile (a person's own enterprise profile: view, edit, delete, subscribe), /unsubscribe
(stop the 直达快享 push) and /policystats (staff: counts only, never a profile). A profile is only ever read by
its owner's user id; the words people type after /profile are data (intents/policies.yaml `commands`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.core.callbacks import Prefix, data
from bot.core.messages import Button, Incoming, Reply
from bot.core.policies.profile import KEYS, NUMBER_KEYS, Profile, ProfileError
from bot.core.policies.texts import ASK, PROFILE
from bot.core.storage.protocols import SavedProfile

from .registry import REGISTRY

if TYPE_CHECKING:
    from bot.core.policies.desk import PolicyDesk

    from .registry import Context


def _desk(c: Context) -> PolicyDesk | None:
    desk = c.policies
    return desk if desk is not None and desk.can_save else None


def _unavailable(c: Context) -> list[Reply]:
    return [Reply(c.texts.say(PROFILE, "unavailable"))]


@REGISTRY.command("profile", who="anyone", menus=("citizen",))
async def profile(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    if msg.is_group:
        return [Reply(c.texts.say(PROFILE, "private_only"))]  # a profile is never shown to anyone else
    desk = _desk(c)
    if desk is None:
        return _unavailable(c)
    words = desk.cues.get("commands", {})
    uid = msg.user_id
    word = rest.strip().lower()
    if word in words.get("delete", []):
        return [Reply(c.texts.say(PROFILE, "deleted", found=await desk.delete(uid)))]
    if word in words.get("subscribe", []):
        found = await desk.set_subscribed(uid, True)
        return [Reply(c.texts.say(PROFILE, "subscribed" if found else "empty"))]
    if word in words.get("unsubscribe", []):
        return [Reply(c.texts.say(PROFILE, "unsubscribed", found=await desk.set_subscribed(uid, False)))]
    saved = await desk.saved(uid)
    if rest.strip():
        try:
            newer = _edit(desk, rest.strip(), words)
        except ProfileError as exc:
            return [Reply(c.texts.say(PROFILE, "bad_value", problem=str(exc)))]
        if newer is None or newer.is_empty():
            return [Reply(c.texts.say(PROFILE, "not_understood", text=rest.strip()[:40]))]
        current = desk.profile_from(saved.profile) if saved is not None else Profile()
        # typing the profile after /profile is the person's own request to keep it: their consent
        await desk.save(uid, current.merged(newer), subscribe=None)
        saved = await desk.saved(uid)
        return [Reply(c.texts.say(PROFILE, "updated")), _view(c, desk, saved)]
    if saved is None:
        return [Reply(c.texts.say(PROFILE, "empty"))]
    return [_view(c, desk, saved)]


def _view(c: Context, desk: PolicyDesk, saved: SavedProfile) -> Reply:
    lines = desk.texts.profile_lines(desk.profile_from(saved.profile))
    html = c.texts.say(
        PROFILE, "view", lines=lines, subscribed=saved.subscribed, consented=saved.consented_at
    )

    def button(kind: str, *parts: str) -> Button:
        return Button(c.texts.say(ASK, "button", kind=kind), data(Prefix.POLICY, *parts))

    toggle = button("unsubscribe", "unsub") if saved.subscribed else button("subscribe", "sub")
    return Reply(html, [[toggle], [button("list", "list")], [button("delete", "del")]])


def _edit(desk: PolicyDesk, text: str, words: dict[str, list[str]]) -> Profile | None:
    """`/profile 从业人数 50`, `/profile 研发投入 是`, or a sentence (`/profile 我们是50人的软件公司`)."""
    key, _, value = text.partition(" ")
    value = value.strip()
    known = {*KEYS, *NUMBER_KEYS, *desk.library.facts}
    if key in known and value:
        raw: Any = value
        if key in desk.library.facts:
            low = value.lower()
            if low in words.get("yes", []):
                raw = True
            elif low in words.get("no", []):
                raw = False
        elif key in NUMBER_KEYS:
            got = desk.extractor.extract(f"{key}{value}", desk.today()).profile.numbers
            raw = next(iter(got.values())).json() if got else value
        elif KEYS.get(key) == "recognitions":
            raw = [v for v in value.replace("，", "、").replace(",", "、").split("、") if v]
        return Profile.from_json({key: raw}, desk.library)
    return desk.extractor.extract(text, desk.today()).profile


@REGISTRY.command("unsubscribe", who="anyone", menus=("citizen",))
async def unsubscribe(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    desk = _desk(c)
    if desk is None:
        return _unavailable(c)
    return [Reply(c.texts.say(PROFILE, "unsubscribed", found=await desk.set_subscribed(msg.user_id, False)))]


@REGISTRY.command("policystats", who="staff", menus=("staff", "admin"))
async def policystats(c: Context, msg: Incoming, rest: str) -> list[Reply]:
    await c.service.require_staff(msg.user_id)
    desk = _desk(c)
    if desk is None:
        return _unavailable(c)
    return [Reply(await desk.staff_summary())]
