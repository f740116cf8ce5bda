"""Typed model of the 政策库 (knowledge/policies/): facts about each 惠企政策 and who qualifies, as structured
conditions. Templates turn them into text; the matcher evaluates the conditions against an enterprise profile.

Every condition names one field of a profile (bot/core/policies/profile.py). A policy applies when all of its
`conditions` hold and, when it has `any_of`, at least one of those groups holds too ("增值税小规模纳税人、小型微利
企业和个体工商户" is three groups). Numbers are in the units the national rules use: people, 万元, percent, years.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SIZES = ("大型", "中型", "小型", "微型")
ENTITIES = ("企业", "个体工商户", "农民专业合作社", "社会组织")
TAXPAYERS = ("一般纳税人", "小规模纳税人")
CLAIM_MODES = ("免申即享", "即申即享", "依申请")
ClaimMode = Literal["免申即享", "即申即享", "依申请"]

# the numeric fields of a profile a condition may bound, with their unit (shown in reasons)
NUMBERS: dict[str, str] = {
    "employees": "人",  # 从业人数
    "revenue": "万元",  # 年营业收入
    "assets": "万元",  # 资产总额
    "taxable_income": "万元",  # 年应纳税所得额
    "monthly_sales": "万元",  # 月销售额
    "years": "年",  # 成立年限（整年）
    "layoff_rate": "%",  # 上年度裁员率
    "disabled_count": "人",  # 安置残疾人人数
    "disabled_ratio": "%",  # 残疾人占在职职工比例
    "new_hire_ratio": "%",  # 当年新招用符合条件人员占在职职工比例
}


class Strict(BaseModel):
    # unknown keys are typos in YAML: rejected, so a misspelt condition never silently vanishes
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bound(Strict):
    """A numeric condition: min/max inclusive ("不超过300人" is max 300), above/below exclusive ("超过100人")."""

    min: float | None = None
    max: float | None = None
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _sensible(self) -> Bound:
        if self.min is None and self.max is None and self.above is None and self.below is None:
            raise ValueError("至少写明 min、max、above、below 之一")
        low = max((v for v in (self.min, self.above) if v is not None), default=None)
        high = min((v for v in (self.max, self.below) if v is not None), default=None)
        if low is not None and high is not None and low > high:
            raise ValueError(f"下限 {low:g} 大于上限 {high:g}")
        return self


class IndustryRule(Strict):
    """国民经济行业分类 (GB/T 4754-2017) codes: a section letter (C), a division (65), a group (591) or a class
    (7010). `include` empty means every industry except those in `exclude`."""

    include: list[str] = []
    exclude: list[str] = []

    @field_validator("include", "exclude", mode="before")
    @classmethod
    def _codes(cls, v: object) -> object:
        # YAML reads 65 as a number; a division code is two digits ("06")
        if isinstance(v, list):
            return [f"{c:02d}" if isinstance(c, int) else c for c in v]
        return v

    @model_validator(mode="after")
    def _something(self) -> IndustryRule:
        if not self.include and not self.exclude:
            raise ValueError("include 和 exclude 不能都为空")
        return self


class Conditions(Strict):
    """Who qualifies. Every field given must hold."""

    entity: list[Literal["企业", "个体工商户", "农民专业合作社", "社会组织"]] | None = None
    size: list[Literal["大型", "中型", "小型", "微型"]] | None = None
    taxpayer: list[Literal["一般纳税人", "小规模纳税人"]] | None = None
    industry: IndustryRule | None = None
    place: list[str] | None = None  # 属地: the enterprise is registered there
    recognitions: list[str] | None = None  # holds at least one of these (资质/认定)
    facts: dict[str, bool] | None = None  # each stated fact must be so (研发投入: true)
    employees: Bound | None = None
    revenue: Bound | None = None
    assets: Bound | None = None
    taxable_income: Bound | None = None
    monthly_sales: Bound | None = None
    years: Bound | None = None
    layoff_rate: Bound | None = None
    disabled_count: Bound | None = None
    disabled_ratio: Bound | None = None
    new_hire_ratio: Bound | None = None

    @field_validator("entity", "size", "taxpayer", "place", "recognitions")
    @classmethod
    def _not_empty(cls, v: list | None) -> list | None:
        if v is not None and not v:
            raise ValueError("列表不能为空（不限时请删去该字段）")
        return v

    @field_validator("facts")
    @classmethod
    def _facts(cls, v: dict | None) -> dict | None:
        if v is not None and not v:
            raise ValueError("不能为空（不限时请删去该字段）")
        return v

    def fields(self) -> list[str]:
        return [name for name in type(self).model_fields if getattr(self, name) is not None]


class Claim(Strict):
    """How the benefit is claimed: 免申即享 (no application: the department finds the enterprise from data),
    即申即享 (a short declaration, granted at once), or 依申请 (an application with materials, through a channel)."""

    mode: ClaimMode
    how: str
    channel: str = ""
    materials: list[str] = []
    item: str | None = None  # the 办事指南 entry of the knowledge base that handles the application

    @model_validator(mode="after")
    def _complete(self) -> Claim:
        if self.mode == "依申请" and not self.materials:
            raise ValueError("依申请的政策必须写明 materials（申请材料）")
        if self.mode != "免申即享" and not self.channel:
            raise ValueError(f"{self.mode}的政策必须写明 channel（办理渠道）")
        return self


class Validity(Strict):
    start: dt.date
    end: dt.date | None = None  # None: no end date (长期执行)

    @model_validator(mode="after")
    def _ordered(self) -> Validity:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} 早于 start {self.start}")
        return self


class Policy(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    aliases: list[str] = Field(min_length=1)  # what people call it ("研发加计扣除"): "为什么没有…" finds it
    department: str  # the local department that handles it (departments.yaml), for staff and reports
    issuer: str  # 发文机关
    document: str  # 文号
    level: str  # 国家 / the example district
    summary: str
    amount: str  # the amount or the rate, in words
    claim: Claim
    valid: Validity
    conditions: Conditions = Conditions()
    any_of: list[Conditions] = []
    notes: list[str] = []
    source: str
    updated: dt.date

    @field_validator("any_of")
    @classmethod
    def _groups(cls, v: list[Conditions]) -> list[Conditions]:
        if len(v) == 1:
            raise ValueError("any_of 至少要有两组条件（只有一组时请并入 conditions）")
        return v
