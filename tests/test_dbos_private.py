"""A DBOS release that moves a private name, or a wake-up hook that raises, leaves the kit
working on DBOS's public behaviour: ``start()`` works and says so in one line, and every
pattern's workflow ends SUCCESS with its right result. Each case is simulated on the real DBOS
objects (``monkeypatch`` deletes the name, or makes what the hook calls raise), on SQLite, where
the kit hooks both value writes and sends."""

from __future__ import annotations

import importlib
import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from dbos import DBOS

import wfcomm_helpers
from wfcomm_helpers import events, messaging, streaming
from wfcomm_helpers.patterns.compute import fibonacci_result
from wfcomm_helpers.patterns.lookup import workflow_result, workflow_summary
from wfcomm_helpers.runtime import dbos_private, wakeup

BASE, N = 5, 2
WAKEUP_LINE = "wfcomm: the same-process wake-up"
# Output is captured with redirect_*, not capsys: DBOS's log handler keeps the sys.stderr it
# found at launch, and capsys closes its stand-in after the test.


def test_every_private_name_is_in_the_installed_dbos() -> None:
    """Fails on a DBOS release that moved one: dbos_private's docstring then needs updating."""
    for module, name in dbos_private.MODULE_NAMES:
        assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


async def run_every_pattern() -> None:
    """Each pattern's workflow, read the way its notebook reads it, ends SUCCESS and right."""
    results = [fibonacci_result(BASE + i) for i in range(N)]

    wid = await events.start_events(N, fib_base=BASE)
    assert await events.get_event(wid, events.WorkflowEvent.STATUS, 30) is not None
    assert await workflow_result(wid, timeout=30) == results
    assert (await workflow_summary(wid)).status == "SUCCESS"

    wid = await messaging.start_messaging(N, timeout_seconds=30, fib_base=BASE)
    assert await DBOS.get_event_async(wid, messaging.WAITING_EVENT, 30) is not None
    await messaging.send_decision(wid, True, "go")
    assert await workflow_result(wid, timeout=30) == {"status": "completed", "results": results}
    assert (await workflow_summary(wid)).status == "SUCCESS"

    wid = await streaming.start_streaming(N, fib_base=BASE)
    values = [value async for _, value in streaming.follow_stream(wid)]
    assert [v["result"] for v in values if v["type"] == "result"] == results
    assert len(values) == 2 * N + 2
    assert await workflow_result(wid, timeout=30) == results
    assert (await workflow_summary(wid)).status == "SUCCESS"


def wakeup_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(WAKEUP_LINE)]


def delete(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    """Remove ``name`` from ``owner`` (a module, an instance, or a class and its bases)."""
    cls = owner if isinstance(owner, type) else type(owner)
    places = [] if owner is cls else [owner]
    places += [base for base in cls.__mro__ if name in vars(base)]
    for place in places:
        if name in vars(place):
            monkeypatch.delattr(place, name)
    assert not hasattr(owner, name)


#: Names DBOS itself does not touch while it launches: deleted before start().
BEFORE_START = [("module", module, name) for module, name in dbos_private.MODULE_NAMES[1:]] + [
    ("class", "SystemDatabase", name)
    for name in ("_signal_notification", "send_bulk", "recv_check")
]
#: Names DBOS needs to launch: deleted once it runs, before the wake-up is installed again.
AFTER_LAUNCH = [
    ("module", *dbos_private.MODULE_NAMES[0]),
    ("instance", "DBOS", dbos_private.INSTANCE_NAME),
] + [("instance", "SystemDatabase", name) for name in dbos_private.SYSTEM_DATABASE_NAMES[3:]]


def owner_of(kind: str, where: str) -> Any:
    if kind == "module":
        return importlib.import_module(where)
    sys_db = dbos_private.system_database()
    if where == "DBOS":
        return dbos_private.dbos_instance()
    return type(sys_db) if kind == "class" else sys_db


@pytest.mark.parametrize(("kind", "where", "name"), BEFORE_START)
async def test_start_without_a_private_name(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, kind: str, where: str, name: str
) -> None:
    await wfcomm_helpers.start("test", quiet=True)  # to know DBOS's own classes
    owner = owner_of(kind, where)
    wfcomm_helpers.shutdown()
    stdout, stderr = io.StringIO(), io.StringIO()
    with monkeypatch.context() as release, redirect_stdout(stdout), redirect_stderr(stderr):
        delete(release, owner, name)
        await wfcomm_helpers.start("test")
    try:
        out, err = stdout.getvalue(), stderr.getvalue()
        assert out.startswith("DBOS ") and "is running app wfcomm-test" in out
        assert len(wakeup_lines(err)) == 1 and name in err, err
        assert not wakeup.is_installed()
        await run_every_pattern()
    finally:
        wfcomm_helpers.shutdown()


@pytest.mark.parametrize(("kind", "where", "name"), AFTER_LAUNCH)
async def test_install_without_a_private_name(
    dbos_app: Any, monkeypatch: pytest.MonkeyPatch, kind: str, where: str, name: str
) -> None:
    wakeup.uninstall()
    stderr = io.StringIO()
    with monkeypatch.context() as release, redirect_stderr(stderr):
        delete(release, owner_of(kind, where), name)
        assert wakeup.install(wake_receivers=True) is False
    err = stderr.getvalue()
    assert len(wakeup_lines(err)) == 1 and name in err, err
    assert not wakeup.is_installed()
    await run_every_pattern()


async def test_a_raising_hook_fails_nothing(dbos_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wake-up looks waiting readers up with the waiter maps' ``get``, which DBOS itself
    calls only on PostgreSQL: here only the kit's hook meets the error."""
    waiter_maps = type(dbos_private.waiters("recv"))

    def changed_in_a_new_release(self: Any, key: str) -> Any:
        raise TypeError("get() takes a shard key now")

    monkeypatch.setattr(waiter_maps, "get", changed_in_a_new_release)
    stderr = io.StringIO()
    with redirect_stderr(stderr):
        await run_every_pattern()
    assert wakeup_lines(stderr.getvalue()) == [
        "wfcomm: the same-process wake-up failed (TypeError: get() takes a shard key now) and "
        "is now off; readers wake on DBOS's poll or NOTIFY instead (slower, still correct)."
    ]
    assert not wakeup.is_installed()


SHUTDOWN_LINE = "wfcomm: shutdown leaves async workflows running"


@pytest.mark.parametrize("how", ["deleted", "renamed"])
async def test_shutdown_without_the_workflow_task_set(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """``deleted``: the DBOS instance loses the set once its workflows ran (DBOS itself adds to
    it while it starts one); ``renamed``: the kit looks for a name this DBOS does not have, from
    the first start on. Either way shutdown says so in one line, and DBOS starts and runs every
    pattern again."""
    if how == "renamed":
        monkeypatch.setattr(dbos_private, "TASKS_NAME", "_workflow_tasks_before_a_rename")
    for _ in range(2):
        await wfcomm_helpers.start("test", quiet=True)
        try:
            await run_every_pattern()
        finally:
            stderr = io.StringIO()
            with monkeypatch.context() as release, redirect_stderr(stderr):
                if how == "deleted":
                    delete(release, dbos_private.dbos_instance(), dbos_private.TASKS_NAME)
                wfcomm_helpers.shutdown()
        err = stderr.getvalue()
        assert [line for line in err.splitlines() if line.startswith("wfcomm:")] == [
            f"{SHUTDOWN_LINE}, this DBOS release lacks DBOS.{dbos_private.TASKS_NAME}; one still "
            "waiting may print an error when its wait ends (start() resumes it)."
        ], err
        assert "Traceback" not in err, err
