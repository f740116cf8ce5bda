"""`python -m bot db copy` carries the 惠企政策 tables (migration 11), and a profile its owner deleted is deleted
from the target on the next copy: a deleted profile must not survive a move to another database."""

from tests.test_db_copy import run


async def test_profiles_and_questions_are_copied_and_a_deleted_profile_is_deleted(
    engine, tmp_path, clock, capsys
):
    from bot.core.storage.sqlite import open_sqlite_store

    path = tmp_path / "zwfw.db"
    src = await open_sqlite_store(path, clock=clock)
    await src.policies.save_profile("u1", {"规模": "小微", "行业": "65"}, clock.now(), subscribed=True)
    await src.policies.save_profile("u2", {"规模": "中型"}, clock.now(), notified={"p": "f"})
    await src.policies.log_question("软件企业有什么补贴", ["rd-super-deduction"], True, clock.now())
    await src.close()
    assert await run("db", "copy", "--from", str(path), "--to", engine.database) == 0
    assert "全部一致" in capsys.readouterr().out
    dst = await engine.open(clock=clock)
    try:
        u1 = await dst.policies.get_profile("u1")
        assert u1.profile == {"规模": "小微", "行业": "65"} and u1.subscribed
        assert (await dst.policies.get_profile("u2")).notified == {"p": "f"}
        day = clock.now()
        assert [
            q.key for q in await dst.policies.top_policies(day.replace(hour=0), day.replace(hour=23), 5)
        ] == ["rd-super-deduction"]
    finally:
        await dst.close()
    src = await open_sqlite_store(path, clock=clock)
    assert await src.policies.delete_profile("u1")
    await src.close()
    assert await run("db", "copy", "--from", str(path), "--to", engine.database) == 0
    out = capsys.readouterr().out
    assert "全部一致" in out
    dst = await engine.open(clock=clock)
    try:
        assert await dst.policies.get_profile("u1") is None
        assert await dst.policies.get_profile("u2") is not None
    finally:
        await dst.close()
