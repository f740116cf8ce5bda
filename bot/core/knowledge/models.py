"""Typed model of the knowledge base: facts, not prose. Templates turn these into text."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MaterialForm = Literal["原件", "复印件", "原件及复印件", "电子证照", "原件或电子证照", "填写", "照片"]
Replacement = Literal["数据共享核验", "告知承诺", "部门核查", "电子证照", "直接取消"]
Audience = Literal["个人", "法人", "个人/法人"]


class Strict(BaseModel):
    # Unknown keys are typos in YAML; reject them so a misspelt field never silently vanishes.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Material(Strict):
    name: str
    form: MaterialForm = "原件"
    copies: int = Field(default=1, ge=0)
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
    # so each limit carries its unit.
    legal: int | None = Field(default=None, ge=0)
    legal_unit: DayUnit = "工作日"
    promised: int = Field(ge=0)
    promised_unit: DayUnit = "工作日"
    note: str = ""
    # the time of year when the item can (or must) be done, for items that have one: 企业年报 "每年1月1日至
    # 6月30日"; shown before the processing time, which says nothing about when to apply
    window: str = ""


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
    address: str
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


class Department(Strict):
    name: str
    aliases: list[str] = []
    window: str
    address: str
    phone: str
    hours: str


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
    # 属地派单: a 诉求 pinned inside a 街道/乡镇 whose boundary names a department (knowledge/boundaries) goes there
    by_place: bool = False


Entry = Item | Bundle | Exemption
