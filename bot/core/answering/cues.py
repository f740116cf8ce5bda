"""Conversational cues loaded from intents/*.yaml: fillers, aspects, small talk, appeal, exemption, bundle."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.knowledge import KnowledgeError
from bot.core.resources import data_dir, read_yaml
from bot.core.text.function import subject_chars
from bot.core.text.normalize import compact
from bot.core.text.trie import PhraseTrie

from .names import NameRules, load_names

ASPECTS = ("overview", "materials", "conditions", "time", "fee", "location", "online", "process")


def _alternation(words: list[str], patterns: Sequence[str] = ()) -> re.Pattern[str]:
    words = sorted({w for w in words if w}, key=len, reverse=True)
    parts = [re.escape(w) for w in words] + [f"(?:{p})" for p in patterns]
    return re.compile("|".join(parts)) if parts else re.compile(r"(?!x)x")


def _compile_cue(cue: object) -> list[re.Pattern[str]] | None:
    """A cue of intents/emergency.yaml: a phrase, or a list of word lists (one word of each must appear)."""
    if isinstance(cue, str) and compact(cue):
        return [_alternation([compact(cue)])]
    if isinstance(cue, list) and cue and all(isinstance(g, list) and g for g in cue):
        if all(isinstance(w, str) for g in cue for w in g):
            return [_alternation([compact(w) for w in g]) for g in cue]
    return None


# "十几次", "几十个": a rough number, not the question word 几
_APPROXIMATE = re.compile(r"[十百千万]几|几[十百千万]")


@dataclass
class Emergency:
    """Emergency triage on the normalised text: the kind of danger, or None."""

    kinds: dict[str, list[list[re.Pattern[str]]]] = field(default_factory=dict)
    masked: list[str] = field(default_factory=list)
    past: list[str] = field(default_factory=list)
    ongoing: list[str] = field(default_factory=list)
    procedure: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.masked_re = _alternation(self.masked)
        self.past_re = _alternation(self.past)
        self.ongoing_re = _alternation(self.ongoing)
        self.procedure_re = _alternation(self.procedure)
        # the single-phrase cues of every kind in one alternation: most messages are ruled out in one search
        phrases: dict[str, str] = {}
        for kind, cues in self.kinds.items():
            for groups in cues:
                if len(groups) == 1:
                    for p in groups[0].pattern.split("|"):
                        phrases.setdefault(p, kind)
        self._phrase_kind = {re.sub(r"\\(.)", r"\1", p): k for p, k in phrases.items()}
        self._phrases = re.compile("|".join(sorted(phrases, key=len, reverse=True))) if phrases else None
        self._combos = [(k, g) for k, cues in self.kinds.items() for g in cues if len(g) > 1]
        # one search tells whether any combination can match at all (most messages: none)
        self._combo_any = (
            re.compile("|".join(g[0].pattern for _, g in self._combos)) if self._combos else None
        )

    def kind(self, text: str) -> str | None:
        if not text:
            return None
        text = self.masked_re.sub("|", text)
        found = None
        if self._phrases is not None:
            m = self._phrases.search(text)
            if m:
                found = self._phrase_kind.get(m.group(0))
                text = self._phrases.sub("|", text)
        if found is None and self._combo_any is not None and self._combo_any.search(text):
            for kind, groups in self._combos:
                if all(g.search(text) for g in groups):
                    found = kind
                    for g in groups:
                        text = g.sub("|", text)
                    break
        if found is None:
            return None
        # the context is read without the cue itself: "晕过去了" is not the past tense "过去了"
        if self.procedure_re.search(text):
            return None
        if self.past_re.search(text) and not self.ongoing_re.search(text):
            return None
        return found


@dataclass
class Topics:
    """Messages about the service itself: the centre's facts, or the person's own 诉求."""

    centre_names: list[str] = field(default_factory=list)
    centre_asks: list[str] = field(default_factory=list)
    centre_alone: list[str] = field(default_factory=list)
    status_subjects: list[str] = field(default_factory=list)
    status_asks: list[str] = field(default_factory=list)
    status_phrases: list[str] = field(default_factory=list)
    status_max_chars: int = 30

    def __post_init__(self) -> None:
        self.centre_name_re = _alternation(self.centre_names)
        self.centre_ask_re = _alternation(self.centre_asks)
        self.centre_alone_re = _alternation(self.centre_alone)
        self.status_subject_re = _alternation(self.status_subjects)
        self.status_ask_re = _alternation(self.status_asks)
        self.status_phrase_re = _alternation(self.status_phrases)

    def is_status(self, flat: str) -> bool:
        if len(flat) > self.status_max_chars:
            return False
        if self.status_phrase_re.search(flat):
            return True
        return bool(self.status_subject_re.search(flat) and self.status_ask_re.search(flat))

    def centre_ask(self, flat: str) -> bool:
        return bool(self.centre_ask_re.search(flat))

    def about_centre_alone(self, flat: str) -> bool:
        """Hours, transport, parking: with nothing else named, these ask about the centre ("几点下班")."""
        return bool(self.centre_alone_re.search(flat))

    def names_centre(self, flat: str) -> bool:
        return bool(self.centre_name_re.search(flat))


@dataclass
class Cues:
    fillers: list[str] = field(default_factory=list)
    question_words: list[str] = field(default_factory=list)
    aspect_nouns: list[str] = field(default_factory=list)
    aspects: list[tuple[str, list[str]]] = field(default_factory=list)  # ordered rules
    multi: list[bool] = field(default_factory=list)  # per rule: specific enough to answer alongside another
    # per rule: regular expressions besides the plain cues ("带[些点]?(什么|啥)"), for the variants people type
    aspect_patterns: list[list[str]] = field(default_factory=list)
    generic_words: list[str] = field(default_factory=list)
    people_words: list[str] = field(default_factory=list)
    actions: dict[str, int] = field(default_factory=dict)  # word -> kind of act
    generic_procedures: list[str] = field(default_factory=list)
    # the words that end the name of a document or licence (证, 许可证, 执照…): the nouns before them say which
    documents: list[str] = field(default_factory=list)
    default_aspect: str = "overview"
    smalltalk: dict[str, list[str]] = field(default_factory=dict)
    appeal: dict[str, float] = field(default_factory=dict)
    smalltalk_short_chars: int = 16
    long_message_chars: int = 80
    long_message_weight: float = 0.0
    # kinds of problem told without a complaint word: (weight, word lists), one word of every list must appear
    appeal_problems: list[tuple[float, list[re.Pattern[str]]]] = field(default_factory=list)
    statement_weight: float = 0.0
    statement_min_chars: int = 8
    question_marks: list[str] = field(default_factory=list)
    question_endings: list[str] = field(default_factory=list)
    narrative_marks: list[str] = field(default_factory=list)
    # questions that ask for help with what was just told ("…一直漏水，怎么办", "…有人管吗")
    help_questions: list[str] = field(default_factory=list)
    appeal_threshold: float = 2.0
    appeal_weak_threshold: float = 1.0
    exemption: list[str] = field(default_factory=list)
    # words that ask about a certificate itself ("这个证明", "去哪开"): after a 免证明 answer such a follow-up
    # stays on the certificate, any other goes back to the item of the conversation
    certificate_words: list[str] = field(default_factory=list)
    bundle: list[str] = field(default_factory=list)
    emergency: Emergency = field(default_factory=Emergency)
    topics: Topics = field(default_factory=Topics)
    # formal names -> everyday words and families of variants (intents/names.yaml)
    names: NameRules = field(default_factory=NameRules)

    def __post_init__(self) -> None:
        self.filler_re = _alternation(self.fillers)
        patterns = self.aspect_patterns if len(self.aspect_patterns) == len(self.aspects) else []
        self.aspect_res = [
            (a, _alternation(c, patterns[n] if patterns else ())) for n, (a, c) in enumerate(self.aspects)
        ]
        self.strip_words = {*self.fillers, *self.question_words, *self.aspect_nouns}
        if len(self.multi) != len(self.aspects):
            self.multi = [False] * len(self.aspects)
        # words removed before deciding whether a message has a subject of its own: question and aspect words,
        # fillers, and generic words of doing ("拿到", "申请")
        self.non_subject_words = {
            *self.strip_words,
            *self.generic_words,
            *self.people_words,
            *(w for _, cues in self.aspects for w in cues),
        }
        self.smalltalk_res = {k: _alternation(v) for k, v in self.smalltalk.items()}
        self.smalltalk_all = _alternation([w for v in self.smalltalk.values() for w in v] + self.fillers)
        self.appeal_trie = PhraseTrie(self.appeal)
        self._problem_any = (
            re.compile("|".join(groups[0].pattern for _, groups in self.appeal_problems))
            if self.appeal_problems
            else None
        )
        self.question_mark_re = _alternation(self.question_marks)
        self.narrative_re = _alternation(self.narrative_marks)
        self.help_question_re = _alternation(self.help_questions)
        self.exemption_re = _alternation(self.exemption)
        self.document_re = _alternation(self.documents)
        self.certificate_re = _alternation(self.certificate_words)
        self.bundle_re = _alternation(self.bundle)

    # -- detectors -------------------------------------------------------------------------------------
    def appeal_score(self, text: str) -> float:
        found = set(self.appeal_trie.findall(text))
        score = sum(self.appeal[m] for m in found)
        if self._problem_any is not None and self._problem_any.search(text):
            score += max(
                (w for w, groups in self.appeal_problems if all(g.search(text) for g in groups)), default=0.0
            )
        # a long message leans to 诉求, unless it asks how to do something ("请问…要带什么")
        if self.is_long(text) and not any(self.appeal[m] <= -1.0 for m in found):
            score += self.long_message_weight
        return score

    def is_statement(self, text: str, raw: str = "") -> bool:
        """A message that asks nothing (no question word, no question mark) and is long enough to tell
        something: "驾校收了钱两个月都没安排练车"."""
        if "?" in raw or "？" in raw or self.question_mark_re.search(_APPROXIMATE.sub("", text)):
            return False
        if any(text.endswith(e) for e in self.question_endings):
            return False
        if self.narrative_marks and not self.narrative_re.search(text):
            return False
        return len(subject_chars(text)) >= self.statement_min_chars

    def asks_help_after_story(self, text: str, raw: str = "") -> bool:
        """A story that ends by asking for help: "楼上漏水漏到我家天花板了，怎么办" tells something and asks what to do
        about it (not how to get a service: that is `asks_how`)."""
        found = list(self.help_question_re.finditer(text))
        m = found[-1] if found else None
        if m is None or len(text) - m.end() > 2 or self.asks_how(text):
            return False
        story = text[: m.start()]
        return self.is_statement(story, raw.split("?")[0].split("？")[0] if raw else "")

    def asks_how(self, text: str) -> bool:
        """The message asks how to get something done (a question cue of appeal.yaml: "请问", "要带什么")."""
        return any(self.appeal[m] <= -1.0 for m in self.appeal_trie.findall(text))

    def is_long(self, text: str) -> bool:
        """A long message, counted in characters that can carry meaning (a run of 啊 is not a story)."""
        return len(text) > self.long_message_chars and len(subject_chars(text)) > self.long_message_chars

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
        for kind in ("help", "goodbye", "thanks", "ack", "greeting"):
            r = self.smalltalk_res.get(kind)
            n = sum(len(m) for m in r.findall(text) if not loose or len(m) >= 2) if r is not None else 0
            if n > best_len:
                best, best_len = kind, n
        # loosely, the small talk must still be a good part of the message, not one word in a question
        if loose and best_len * 5 < len(text) * 2:
            return None
        return best

    def about_certificate(self, text: str) -> bool:
        return bool(self.certificate_re.search(text))

    def aspect_cue(self, text: str) -> str | None:
        """The aspect a question explicitly asks about, or None when it names none."""
        for name, rx in self.aspect_res:
            if rx.search(text):
                return name
        return None

    def aspect(self, text: str) -> str:
        return self.aspect_cue(text) or self.default_aspect

    def aspects_asked(self, text: str) -> list[str]:
        """Every aspect a question asks about, in the order it asks them: "要什么材料 多少钱 在哪办" asks three.
        Besides the main aspect (`aspect`), only rules marked `multi` (specific cues) add one."""
        found: dict[str, int] = {}
        main = None
        for n, (name, rx) in enumerate(self.aspect_res):
            m = rx.search(text)
            if m is None or name in found:
                continue
            if main is None:
                main = name
            elif not self.multi[n]:
                continue
            found[name] = m.start()
        return sorted(found, key=found.__getitem__)


def _read(path: Path) -> dict:
    try:
        data = read_yaml(path) or {}
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
    generic = words(fdata.get("generic_words", []), "fillers.yaml: generic_words")
    people = words(fdata.get("people_words", []), "fillers.yaml: people_words")
    generic_procedures = words(fdata.get("generic_procedures", []), "fillers.yaml: generic_procedures")
    documents = words(fdata.get("documents", []), "fillers.yaml: documents")
    actions: dict[str, int] = {}
    for n, group in enumerate(fdata.get("actions") or []):
        for w in words(group, f"fillers.yaml: actions 第 {n + 1} 组"):
            actions.setdefault(w, n)
    asp = _read(root / "aspects.yaml")
    aspects: list[tuple[str, list[str]]] = []
    multi: list[bool] = []
    patterns: list[list[str]] = []
    for n, rule in enumerate(asp.get("rules") or [], 1):
        name = rule.get("aspect") if isinstance(rule, dict) else None
        if name not in ASPECTS:
            problems.append(
                f"intents/aspects.yaml: 第 {n} 条规则的 aspect「{name}」无效（应为 {', '.join(ASPECTS)} 之一）"
            )
            continue
        aspects.append((name, words(rule.get("cues", []), f"aspects.yaml: 第 {n} 条规则 cues")))
        multi.append(bool(rule.get("multi", False)))
        rule_patterns = []
        for pat in rule.get("patterns", []) or []:
            try:
                re.compile(str(pat))
                rule_patterns.append(str(pat))
            except re.error as exc:
                problems.append(
                    f"intents/aspects.yaml: 第 {n} 条规则 patterns「{pat}」不是有效的正则表达式：{exc}"
                )
        patterns.append(rule_patterns)
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
    statement = ap.get("statement") or {}
    problems_: list[tuple[float, list[re.Pattern[str]]]] = []
    for kind, rules in (ap.get("problems") or {}).items():
        if not isinstance(rules, list):
            problems.append(f"intents/appeal.yaml: problems.{kind}: 必须是列表")
            continue
        for n, rule in enumerate(rules, 1):
            where = f"intents/appeal.yaml: problems.{kind} 第 {n} 条"
            weight = rule.get("weight") if isinstance(rule, dict) else None
            compiled = _compile_cue(rule.get("all")) if isinstance(rule, dict) else None
            if not isinstance(weight, int | float) or compiled is None:
                problems.append(f"{where}: 应为 {{weight: 数字, all: [[词, …], [词, …]]}}")
                continue
            problems_.append((float(weight), compiled))
    ex_data = _read(root / "exemption.yaml")
    ex = words(ex_data.get("cues", []), "exemption.yaml: cues")
    certificate = words(ex_data.get("certificate_words", []), "exemption.yaml: certificate_words")
    bu = words(_read(root / "bundle.yaml").get("cues", []), "bundle.yaml: cues")
    em = _read(root / "emergency.yaml")
    kinds: dict[str, list[list[re.Pattern[str]]]] = {}
    for kind, cues in (em.get("kinds") or {}).items():
        if not isinstance(cues, list):
            problems.append(f"intents/emergency.yaml: kinds.{kind}: 必须是列表")
            continue
        for n, cue in enumerate(cues, 1):
            compiled = _compile_cue(cue)
            if compiled is None:
                problems.append(
                    f"intents/emergency.yaml: kinds.{kind} 第 {n} 条: 应为短语，或由词语列表组成的列表（每组至少一个词）"
                )
                continue
            kinds.setdefault(str(kind), []).append(compiled)
    neg = em.get("negative") or {}
    emergency = Emergency(
        kinds=kinds,
        masked=words(em.get("masked", []), "emergency.yaml: masked"),
        past=words(neg.get("past", []), "emergency.yaml: negative.past"),
        ongoing=words(neg.get("ongoing", []), "emergency.yaml: negative.ongoing"),
        procedure=words(neg.get("procedure", []), "emergency.yaml: negative.procedure"),
    )
    tp = _read(root / "topics.yaml")
    centre, status = tp.get("centre") or {}, tp.get("status") or {}
    topics = Topics(
        centre_names=words(centre.get("names", []), "topics.yaml: centre.names"),
        centre_asks=words(centre.get("asks", []), "topics.yaml: centre.asks"),
        centre_alone=words(centre.get("alone", []), "topics.yaml: centre.alone"),
        status_subjects=words(status.get("subjects", []), "topics.yaml: status.subjects"),
        status_asks=words(status.get("asks", []), "topics.yaml: status.asks"),
        status_phrases=words(status.get("phrases", []), "topics.yaml: status.phrases"),
        status_max_chars=int(status.get("max_chars", 30)),
    )
    if problems:
        raise KnowledgeError(problems)
    return Cues(
        fillers=fillers,
        question_words=question_words,
        aspect_nouns=aspect_nouns,
        aspects=aspects,
        multi=multi,
        aspect_patterns=patterns,
        generic_words=generic,
        people_words=people,
        actions=actions,
        generic_procedures=generic_procedures,
        documents=documents,
        default_aspect=default,
        smalltalk=st,
        appeal=appeal,
        smalltalk_short_chars=int(st_data.get("short_message_chars", 16)),
        appeal_threshold=float(ap.get("threshold", 2.0)),
        appeal_weak_threshold=float(ap.get("weak_threshold", 1.0)),
        long_message_chars=int(long_message.get("chars", 80)),
        long_message_weight=float(long_message.get("weight", 0.0)),
        appeal_problems=problems_,
        statement_weight=float(statement.get("weight", 0.0)),
        statement_min_chars=int(statement.get("min_chars", 8)),
        question_marks=words(statement.get("question_marks", []), "appeal.yaml: statement.question_marks"),
        question_endings=words(
            statement.get("question_endings", []), "appeal.yaml: statement.question_endings"
        ),
        narrative_marks=words(statement.get("narrative_marks", []), "appeal.yaml: statement.narrative_marks"),
        help_questions=words(statement.get("help_questions", []), "appeal.yaml: statement.help_questions"),
        exemption=ex,
        certificate_words=certificate,
        bundle=bu,
        emergency=emergency,
        topics=topics,
        names=load_names(root),
    )
