"""Conversational cues loaded from intents/*.yaml: fillers, aspects, small talk, appeal, exemption, bundle."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.knowledge import KnowledgeError
from bot.core.resources import data_dir
from bot.core.text.normalize import compact
from bot.core.text.trie import PhraseTrie

ASPECTS = ("overview", "materials", "conditions", "time", "fee", "location", "online", "process")


def _alternation(words: list[str]) -> re.Pattern[str]:
    words = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words)) if words else re.compile(r"(?!x)x")


@dataclass
class Cues:
    fillers: list[str] = field(default_factory=list)
    question_words: list[str] = field(default_factory=list)
    aspect_nouns: list[str] = field(default_factory=list)
    aspects: list[tuple[str, list[str]]] = field(default_factory=list)  # ordered rules
    default_aspect: str = "overview"
    smalltalk: dict[str, list[str]] = field(default_factory=dict)
    appeal: dict[str, float] = field(default_factory=dict)
    smalltalk_short_chars: int = 16
    long_message_chars: int = 80
    long_message_weight: float = 0.0
    appeal_threshold: float = 2.0
    appeal_weak_threshold: float = 1.0
    exemption: list[str] = field(default_factory=list)
    bundle: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.filler_re = _alternation(self.fillers)
        self.aspect_res = [(a, _alternation(c)) for a, c in self.aspects]
        self.strip_words = {*self.fillers, *self.question_words, *self.aspect_nouns}
        self.smalltalk_res = {k: _alternation(v) for k, v in self.smalltalk.items()}
        self.smalltalk_all = _alternation([w for v in self.smalltalk.values() for w in v] + self.fillers)
        self.appeal_trie = PhraseTrie(self.appeal)
        self.exemption_re = _alternation(self.exemption)
        self.bundle_re = _alternation(self.bundle)

    # -- detectors -------------------------------------------------------------------------------------
    def appeal_score(self, text: str) -> float:
        score = sum(self.appeal[m] for m in set(self.appeal_trie.findall(text)))
        if len(text) > self.long_message_chars:
            score += self.long_message_weight
        return score

    def smalltalk_kind(self, text: str, *, loose: bool = False) -> str | None:
        """The kind of small talk when the message is nothing but small talk — or, `loose`, when a short
        message has a small-talk cue at all (used once nothing else claimed it)."""
        if not text.strip():
            return None
        if loose:
            if len(text) > self.smalltalk_short_chars:
                return None
        else:
            rest = self.smalltalk_all.sub(" ", text).replace(" ", "")
            if len(rest) > 1:
                return None
        # the kind whose cue covers most of the message: "您好" is a greeting although "好" alone is thanks
        best, best_len = None, 0
        for kind in ("help", "goodbye", "thanks", "greeting"):
            r = self.smalltalk_res.get(kind)
            n = sum(len(m) for m in r.findall(text) if not loose or len(m) >= 2) if r is not None else 0
            if n > best_len:
                best, best_len = kind, n
        # loosely, the small talk must still be a good part of the message, not one word in a question
        if loose and best_len * 5 < len(text) * 2:
            return None
        return best

    def aspect_cue(self, text: str) -> str | None:
        """The aspect a question explicitly asks about, or None when it names none."""
        for name, rx in self.aspect_res:
            if rx.search(text):
                return name
        return None

    def aspect(self, text: str) -> str:
        return self.aspect_cue(text) or self.default_aspect


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeError([f"{path.name}: YAML 格式错误: {exc}"]) from exc
    except OSError as exc:
        raise KnowledgeError([f"{path}: 无法读取: {exc}"]) from exc
    if not isinstance(data, dict):
        raise KnowledgeError([f"{path.name}: 顶层必须是映射"])
    return data


def load_cues(root: Path | str | None = None) -> Cues:
    root = Path(root) if root else data_dir("intents")
    problems: list[str] = []

    def words(v: object, where: str) -> list[str]:
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            problems.append(f"intents/{where}: 必须是字符串列表")
            return []
        return [compact(x) for x in v]

    fdata = _read(root / "fillers.yaml")
    fillers = words(fdata.get("fillers", []), "fillers.yaml: fillers")
    question_words = words(fdata.get("question_words", []), "fillers.yaml: question_words")
    aspect_nouns = words(fdata.get("aspect_nouns", []), "fillers.yaml: aspect_nouns")
    asp = _read(root / "aspects.yaml")
    aspects: list[tuple[str, list[str]]] = []
    for n, rule in enumerate(asp.get("rules") or [], 1):
        name = rule.get("aspect") if isinstance(rule, dict) else None
        if name not in ASPECTS:
            problems.append(
                f"intents/aspects.yaml: 第 {n} 条规则的 aspect「{name}」无效（应为 {', '.join(ASPECTS)} 之一）"
            )
            continue
        aspects.append((name, words(rule.get("cues", []), f"aspects.yaml: 第 {n} 条规则 cues")))
    default = asp.get("default", "overview")
    if default not in ASPECTS:
        problems.append(f"intents/aspects.yaml: default 取值 {default} 无效")
    st_data = _read(root / "smalltalk.yaml")
    st = {k: words(v, f"smalltalk.yaml: smalltalk.{k}") for k, v in (st_data.get("smalltalk") or {}).items()}
    ap = _read(root / "appeal.yaml")
    appeal: dict[str, float] = {}
    for section in ("cues", "question_cues"):
        for k, v in (ap.get(section) or {}).items():
            if not isinstance(v, int | float):
                problems.append(f"intents/appeal.yaml: {section}.{k}: 权重必须是数字")
                continue
            appeal[compact(str(k))] = float(v)
    long_message = ap.get("long_message") or {}
    ex = words(_read(root / "exemption.yaml").get("cues", []), "exemption.yaml: cues")
    bu = words(_read(root / "bundle.yaml").get("cues", []), "bundle.yaml: cues")
    if problems:
        raise KnowledgeError(problems)
    return Cues(
        fillers=fillers,
        question_words=question_words,
        aspect_nouns=aspect_nouns,
        aspects=aspects,
        default_aspect=default,
        smalltalk=st,
        appeal=appeal,
        smalltalk_short_chars=int(st_data.get("short_message_chars", 16)),
        appeal_threshold=float(ap.get("threshold", 2.0)),
        appeal_weak_threshold=float(ap.get("weak_threshold", 1.0)),
        long_message_chars=int(long_message.get("chars", 80)),
        long_message_weight=float(long_message.get("weight", 0.0)),
        exemption=ex,
        bundle=bu,
    )
