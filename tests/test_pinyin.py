"""Pinyin readings, with pypinyin loaded without its phrase dictionary."""

import importlib.abc
import importlib.util
import os
import sys
import types

import pytest

from bot.core.text import pinyin as pinyin_module
from bot.core.text.pinyin import full_pinyin, fuzzy_keys, readings


def test_pypinyin_is_loaded_without_phrases_and_single_characters_read_as_before():
    import pypinyin.constants

    assert pypinyin.constants.PHRASES_DICT == {}
    # single characters read the same: heteronyms in the order pypinyin gives them
    assert readings("行")[:2] == ("xing", "hang")
    assert full_pinyin("社保") == "shebao" and readings("绿") == ("lv", "lu")
    assert fuzzy_keys("社保") == ["sebao"] and fuzzy_keys("执照")[0] == fuzzy_keys("执造")[0] == "zizao"


@pytest.mark.parametrize("before", [None, "", "0"])
def test_the_switch_is_set_for_the_import_only(monkeypatch, before):
    """PYPINYIN_NO_PHRASES is "1" while pypinyin is imported, and the environment is as it was afterwards."""
    seen = []

    class Recorder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path=None, target=None):
            return importlib.util.spec_from_loader(name, self) if name == "pypinyin" else None

        def create_module(self, spec):
            return types.ModuleType(spec.name)

        def exec_module(self, module):
            seen.append(os.environ.get("PYPINYIN_NO_PHRASES"))

    monkeypatch.delitem(sys.modules, "pypinyin")  # put back afterwards, with the real module
    monkeypatch.setattr(sys, "meta_path", [Recorder(), *sys.meta_path])
    if before is None:
        monkeypatch.delenv("PYPINYIN_NO_PHRASES", raising=False)
    else:
        monkeypatch.setenv("PYPINYIN_NO_PHRASES", before)
    pinyin_module._import_pypinyin()
    assert seen == ["1"]
    assert os.environ.get("PYPINYIN_NO_PHRASES") == before
    pinyin_module._import_pypinyin()  # already imported: nothing happens
    assert seen == ["1"]
