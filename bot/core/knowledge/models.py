"""Typed model of the knowledge base: facts, not prose. Templates turn these into text."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MaterialForm = Literal["原件", "复印件", "原件及复印件", "电子证照", "原件或电子证照", "填写", "照片"]
Replacement = Literal["数据共享核验", "告知承诺", "部门核查", "电子证照", "直接取消"]
Audience = Literal["个人", "法人", "个人/法人"]


class Strict(BaseModel):
    # Unknown keys are typos in YAML; reject them so a misspelt field never silently vanishes.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Material(Strict):
    name: str
    # None: the guide does not say (imported 办事指南 often list only the material's name)
    form: MaterialForm | None = "原件"
    copies: int | None = Field(default=1, ge=0)
    required: bool = True
    note: str = ""
    # id of the exemption (免证明 entry) that removed this material; the material is then shown as
    # no longer needed, with how it is verified instead.
    exempted_by: str | None = None
    # bundles only: which of the bundle's items need this material
    for_items: list[str] = []


DayUnit = Literal["工作日", "日"]


class TimeLimit(Strict):
    # 0 means 即办 (handled on the spot). Most limits are working days; laws often count natural days ("60日"),
    # so each limit carries its unit. An imported guide may state only one of the two (None: not stated).
    legal: int | None = Field(default=None, ge=0)
    legal_unit: DayUnit = "工作日"
    promised: int | None = Field(ge=0)
    promised_unit: DayUnit = "工作日"
    note: str = ""
    # the time of year when the item can (or must) be done, for items that have one: 企业年报 "每年1月1日至
    # 6月30日"; shown before the processing time, which says nothing about when to apply
    window: str = ""

    @model_validator(mode="after")
    def _one_limit_at_least(self) -> TimeLimit:
        if self.legal is None and self.promised is None:
            raise ValueError("legal 和 promised 至少写明一个")
        return self


class Benefit(Strict):
    """What a person receives, for items that pay something (津贴, 补贴, 保险金): "多少钱" asks this, not a
    fee."""

    standard: (
        str  # the amount or how it is computed, e.g. "按本人失业前缴费年限，每月为当地最低工资标准的90%"
    )
    paid: str = ""  # how and how often it is paid
    duration: str = ""  # for how long it is paid, where that is limited ("最长24个月")
    note: str = ""


class Fee(Strict):
    free: bool
    amount: str = ""  # e.g. "20元/证"; empty when free
    note: str = ""
    basis: str = ""

    @field_validator("amount")
    @classmethod
    def _amount_when_charged(cls, v: str, info):  # noqa: ANN001
        if not info.data.get("free") and not v:
            raise ValueError("收费事项必须写明 amount")
        return v


class Location(Strict):
    name: str
    address: str = ""  # empty when the name says it all (an imported 办理地点 is one line of text)
    hours: str = ""
    phone: str = ""


class Online(Strict):
    available: bool
    channel: str = ""  # e.g. 省政务服务网, “皖事通”APP, 国家政务服务平台
    url: str = ""
    fully_online: bool = False  # 全程网办
    note: str = ""


class EntryBase(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    department: str
    audience: Audience
    aliases: list[str] = Field(min_length=3)
    # colloquial life situations and cue words people use for this entry ("孩子满十六岁")
    keywords: list[str] = []
    summary: str
    legal_basis: list[str] = []
    source: str
    updated: dt.date


class Item(EntryBase):
    kind: Literal["item"] = "item"
    conditions: list[str] = Field(min_length=1)
    materials: list[Material] = Field(min_length=1)
    time_limit: TimeLimit
    fee: Fee
    benefit: Benefit | None = None
    locations: list[Location] = Field(min_length=1)
    online: Online
    process: list[str] = Field(min_length=1)
    visits: int = Field(ge=0)  # 跑动次数
    commitment: bool = False  # 告知承诺制
    tolerance: bool = False  # 容缺受理
    notes: list[str] = []


class Provenance(Strict):
    """Where an imported item came from (`python -m bot kb import`): re-importing the same sheet updates the
    item and keeps what was added by hand (aliases, keywords)."""

    file: str  # the sheet's file name
    code: str = ""  # 事项编码 as the sheet writes it
    family: str = ""  # 主项名称: the matter this item is one variant of, when the sheet says so
    item_type: str = ""  # 事项类型 (行政许可, 公共服务…)
    # columns the importer does not know, kept so that an export gives them back
    extra: dict[str, str] = {}


class ImportedItem(Item):
    """An item imported from a centre's own 办事指南 sheet. Only the name and the department are required:
    a fact the sheet does not have stays absent (None or empty), and the answer says it is not in the guide
    and where to ask, instead of inventing it."""

    audience: Audience | None = None  # type: ignore[assignment]
    aliases: list[str] = []
    summary: str = ""
    conditions: list[str] = []
    materials: list[Material] = []
    time_limit: TimeLimit | None = None  # type: ignore[assignment]
    fee: Fee | None = None  # type: ignore[assignment]
    locations: list[Location] = []
    online: Online | None = None  # type: ignore[assignment]
    process: list[str] = []
    visits: int | None = Field(default=None, ge=0)  # type: ignore[assignment]
    phone: str = ""  # 咨询电话
    guide_url: str = ""  # the full guide on the province's 政务服务网, when the sheet links it
    imported: Provenance


class Bundle(Item):
    kind: Literal["bundle"] = "bundle"  # type: ignore[assignment]
    items: list[str] = Field(min_length=1)


class Exemption(EntryBase):
    kind: Literal["exemption"] = "exemption"
    replaced_by: Replacement
    how: str  # how the fact is verified instead, in one or two sentences
    items: list[str] = Field(min_length=1)
    aliases: list[str] = Field(min_length=3)
    notes: list[str] = []


class Faq(EntryBase):
    """A reviewed question and answer from a closed 咨询 ticket, in the learned overlay (never in the files): the
    person's question is its name, the staff member's reply its answer, and it expires (the facts behind a reply
    change; staff renew it by adding it again)."""

    kind: Literal["faq"] = "faq"
    audience: Audience = "个人/法人"
    aliases: list[str] = []
    summary: str = ""
    question: str
    answer: str
    expires: dt.date
    reviewed_by: str


class Department(Strict):
    name: str
    aliases: list[str] = []
    window: str = ""
    address: str = ""
    phone: str = ""
    hours: str = ""
    # added by `kb import` because an imported item names it: its facts are not known yet (answers then give
    # the items' own phone and place, or the service centre's)
    imported: bool = False

    @model_validator(mode="after")
    def _facts_when_written_by_hand(self) -> Department:
        if not self.imported:
            missing = [f for f in ("window", "address", "phone", "hours") if not getattr(self, f)]
            if missing:
                raise ValueError(f"部门必须写明 {'、'.join(missing)}（导入时新增的部门标注 imported: true）")
        return self


class ServiceCentre(Strict):
    """The service centre of the district: where it is and when it is open (knowledge/centre.yaml)."""

    name: str
    address: str
    hours: list[str] = Field(min_length=1)
    phone: str
    transport: list[str] = []
    parking: str = ""
    holidays: str = ""
    accessibility: str = ""
    notes: list[str] = []


class Hotline(Strict):
    """A number to call at once, shown with emergencies: 燃气抢修, 供电, 供水 and the like."""

    name: str
    number: str = Field(pattern=r"^[0-9][0-9-]{2,}$")
    for_: str = Field(default="", alias="for")  # what it is for, e.g. 燃气泄漏、闻到燃气味


class AppealCategory(Strict):
    name: str
    department: str
    keywords: list[str] = Field(min_length=1)


Entry = Item | Bundle | Exemption | Faq  # an ImportedItem is an Item
