"""`wfcomm doctor` on real conditions: this environment passes; a folder it cannot write, a
closed port, a file held by another process, a kernel spec for another Python each fail with
the exact fix line, and the exit code says so."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from wfcomm_helpers import doctor
from wfcomm_helpers.runtime.settings import database_target

PYTHON = shlex.quote(sys.executable)
HOLDER = """
import asyncio, sys
import wfcomm_helpers

async def main():
    await wfcomm_helpers.start("messaging", quiet=True)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    wfcomm_helpers.shutdown()

asyncio.run(main())
"""


def run_doctor(env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """`python -m wfcomm_helpers.doctor` in a fresh process, as a user would run it."""
    full = {k: v for k, v in os.environ.items() if k != "WFCOMM_DATABASE_URL"}
    full.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "wfcomm_helpers.doctor"],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stderr == "", done.stderr
    return done.returncode, done.stdout.splitlines()


def problem(lines: list[str], name: str) -> tuple[str, str]:
    """The problem line for check ``name`` and the fix line under it."""
    for i, line in enumerate(lines):
        if line.startswith(f"[!!] {name}: "):
            return line, lines[i + 1]
    raise AssertionError(f"no problem reported for {name!r}:\n" + "\n".join(lines))


def start_holder(data_dir: Path, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    env = {**os.environ, "WFCOMM_DATA_DIR": str(data_dir), **(extra_env or {})}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert line == "ready\n", holder.stderr.read() if holder.stderr else line
    return holder


def test_passes_here_with_the_ranges_from_the_package_metadata(data_dir: Path) -> None:
    code, lines = run_doctor({"WFCOMM_DATA_DIR": str(data_dir)})
    assert code == 0, "\n".join(lines)
    assert lines[-1] == f"All {len(lines) - 1} checks passed."
    assert all(line.startswith("[ok] ") for line in lines[:-1])
    for text in metadata.requires("wfcomm") or []:
        req = Requirement(text)
        if req.marker is None:
            have = metadata.version(req.name)
            assert f"[ok] {req.name}: {have} ({doctor.environment._range(req.specifier)})" in lines
    assert f"[ok] data folder: {data_dir} is writable" in lines
    assert "[ok] messaging database: wfcomm-messaging.sqlite is free" in lines


def test_a_data_folder_it_cannot_create_is_one_problem_with_its_fix(tmp_path: Path) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")
    code, lines = run_doctor({"WFCOMM_DATA_DIR": str(in_the_way / "data")})
    assert code == 1
    assert problem(lines, "data folder") == (
        f"[!!] data folder: cannot write to {in_the_way / 'data'} (Not a directory)",
        "     fix: mkdir -p ~/wfcomm-data && export WFCOMM_DATA_DIR=~/wfcomm-data",
    )
    assert lines[-1] == "1 problem(s): run the fix command(s) above, then check again."


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_data_folder_is_a_problem(tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, lines = run_doctor({"WFCOMM_DATA_DIR": str(folder)})
    finally:
        folder.chmod(0o755)
    assert code == 1
    assert problem(lines, "data folder")[0] == (
        f"[!!] data folder: cannot write to {folder} (Permission denied)"
    )


def test_a_closed_postgres_port_names_the_url_without_its_password(data_dir: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on once this closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://learner:s3cret@127.0.0.1:{port}/wfcomm"
    code, lines = run_doctor({"WFCOMM_DATABASE_URL": url})
    assert code == 1
    line, fix = problem(lines, "postgres")
    assert re.fullmatch(
        rf"\[!!\] postgres: cannot reach postgresql://learner:\*\*\*@127\.0\.0\.1:{port}/wfcomm "
        r"\(.*refused.*\); start that server, or use SQLite instead:",
        line,
    ), line
    assert fix == "     fix: unset WFCOMM_DATABASE_URL"
    assert "s3cret" not in "\n".join(lines)


def test_a_database_file_in_use_by_a_running_process_is_not_a_problem(data_dir: Path) -> None:
    """A learner's own healthy kernel holds its file: the doctor must not tell them to kill it."""
    holder = start_holder(data_dir)
    try:
        path = database_target("wfcomm-messaging").sqlite_path
        assert path is not None
        owner = json.loads(Path(f"{path}.owner").read_text())
        code, lines = run_doctor({"WFCOMM_DATA_DIR": str(data_dir)})
        assert code == 0, "\n".join(lines)
        assert (
            f"[ok] messaging database: {path.name} is in use by process {holder.pid} on "
            f"{socket.gethostname()} (Python process, started {owner['started']}); to open it "
            "in another kernel, shut that one down first (Kernel > Shut Down Kernel)"
        ) in lines
        assert not any("kill" in line for line in lines)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=60)


ORPHAN = HOLDER.replace("await asyncio.to_thread(sys.stdin.readline)", "await asyncio.sleep(3600)")


def test_a_database_file_held_by_an_orphan_names_it_and_the_fix_works(data_dir: Path) -> None:
    """A kernel whose Jupyter server is gone (its parent exited) only blocks the file."""
    env = {**os.environ, "WFCOMM_DATA_DIR": str(data_dir)}
    parent = subprocess.Popen(
        ["sh", "-c", '"$0" -c "$1" </dev/null & echo $!; read _', sys.executable, ORPHAN],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    try:
        assert parent.stdout.readline() == "ready\n"
        assert parent.stdin is not None
        parent.stdin.close()  # the parent (as a Jupyter server would) exits; the holder stays
        parent.wait(timeout=30)
        path = database_target("wfcomm-messaging").sqlite_path
        assert path is not None
        owner = json.loads(Path(f"{path}.owner").read_text())
        code, lines = run_doctor({"WFCOMM_DATA_DIR": str(data_dir)})
        assert code == 1
        assert problem(lines, "messaging database") == (
            (
                f"[!!] messaging database: {path} is held by process {pid} on "
                f"{socket.gethostname()} (Python process, started {owner['started']}), whose "
                f"Jupyter server (process {parent.pid}) is gone, so no notebook can use it:"
            ),
            f"     fix: kill {pid}",
        )
        subprocess.run(
            shlex.split(problem(lines, "messaging database")[1].split("fix: ")[1]), check=True
        )
        deadline = time.monotonic() + 60
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # polls the process table for the kill's effect, with a deadline
        code, lines = run_doctor({"WFCOMM_DATA_DIR": str(data_dir)})
        assert code == 0, "\n".join(lines)
    finally:
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, 9)


def test_a_kernel_spec_for_another_python_is_a_problem(data_dir: Path, tmp_path: Path) -> None:
    other = Path(sys.base_prefix) / "bin" / "python3"
    lacks_kit = subprocess.run(
        [str(other), "-c", "import importlib.metadata as m; m.version('wfcomm')"],
        capture_output=True,
        check=False,
        cwd=tmp_path,
    )
    if not other.exists() or lacks_kit.returncode == 0:
        print(f"SKIP reason: no Python without wfcomm at {other}")
        pytest.skip(f"no Python without wfcomm at {other}")
    spec_dir = tmp_path / "jupyter" / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(other), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3",
                "language": "python",
            }
        )
    )
    code, lines = run_doctor(
        {
            "WFCOMM_DATA_DIR": str(data_dir),
            "JUPYTER_PATH": str(tmp_path / "jupyter"),
        }
    )
    assert code == 1
    assert problem(lines, "kernel") == (
        f"[!!] kernel: the python3 kernel ({spec_dir}) runs {other}, which lacks wfcomm",
        f"     fix: {PYTHON} -m ipykernel install --user --name python3",
    )


def test_a_package_outside_its_range_gets_the_pip_command() -> None:
    have = metadata.version("dbos")
    assert doctor.check_requirement(Requirement("dbos>=99,<100")) == doctor.Check(
        "dbos", False, f"{have} is outside >=99,<100", f"{PYTHON} -m pip install 'dbos>=99,<100'"
    )
    assert doctor.check_requirement(Requirement("wfcomm-no-such-dist>=1")) == doctor.Check(
        "wfcomm-no-such-dist",
        False,
        "not installed, needs >=1",
        f"{PYTHON} -m pip install 'wfcomm-no-such-dist>=1'",
    )


@pytest.mark.postgres
def test_postgres_reachable_and_executor_ids_checked(data_dir: Path, pg_url: str) -> None:
    holder = start_holder(data_dir, {"WFCOMM_DATABASE_URL": pg_url, "WFCOMM_EXECUTOR_ID": "ada"})
    try:
        code, lines = run_doctor({"WFCOMM_DATABASE_URL": pg_url, "WFCOMM_EXECUTOR_ID": "ada"})
        assert code == 1
        line, fix = problem(lines, "messaging executor id")
        assert line.startswith(
            "[!!] messaging executor id: another process runs wfcomm-messaging as executor 'ada'"
        )
        assert fix == "     fix: export WFCOMM_EXECUTOR_ID=$USER"
        assert "[ok] events executor id: 'ada' is free" in lines
        code, lines = run_doctor({"WFCOMM_DATABASE_URL": pg_url, "WFCOMM_EXECUTOR_ID": "grace"})
        assert code == 0, "\n".join(lines)
        assert "[ok] messaging executor id: 'grace' is free" in lines
    finally:
        holder.communicate("\n", timeout=30)


@pytest.mark.kernel
def test_quick_form_in_a_kernel_is_silent_when_well_also_after_start(kernel) -> None:
    ok = "'Environment check passed (python -m wfcomm_helpers.doctor shows the details).'\n"
    out = kernel.run("from wfcomm_helpers import doctor\nprint(repr(doctor.quick('messaging')))")
    assert out.stdout == ok
    kernel.run("import wfcomm_helpers\nawait wfcomm_helpers.start('messaging', quiet=True)")
    assert kernel.run("print(repr(doctor.quick('messaging')))").stdout == ok


def test_quick_form_names_the_problem_and_its_fix(tmp_path, monkeypatch, capsys) -> None:
    from wfcomm_helpers import doctor

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("WFCOMM_DATA_DIR", str(blocker / "data"))
    monkeypatch.delenv("WFCOMM_DATABASE_URL", raising=False)
    text = doctor.quick("events")
    printed = capsys.readouterr().out
    assert printed == text + "\n"
    assert text.startswith(
        "Environment check: 1 problem(s); fix, restart the kernel and re-run "
        "this cell:\n- data folder: "
    )


def test_an_old_widget_front_end_first_on_the_jupyter_path_fails(
    data_dir: Path, tmp_path: Path
) -> None:
    """ipywidgets 7's front end (major 3) in a folder JupyterLab reads before the environment's
    own copy: JupyterLab loads it, and no widget renders."""
    old = tmp_path / "old-jupyter" / "labextensions" / "@jupyter-widgets" / "jupyterlab-manager"
    old.mkdir(parents=True)
    (old / "package.json").write_text(
        json.dumps({"name": "@jupyter-widgets/jupyterlab-manager", "version": "3.0.13"})
    )
    (old / "install.json").write_text(json.dumps({"packageName": "jupyterlab_widgets"}))
    env = {"WFCOMM_DATA_DIR": str(data_dir), "JUPYTER_PATH": str(tmp_path / "old-jupyter")}
    code, lines = run_doctor(env)
    assert code == 1
    line, fix = problem(lines, "widget front end")
    assert line.startswith(
        f"[!!] widget front end: JupyterLab loads @jupyter-widgets/jupyterlab-manager 3.0.13 "
        f"from {old}, but the installed ipywidgets needs "
    ), line
    assert line.endswith("): remove that old copy"), line
    assert fix == f"     fix: rm -r {old}"
    subprocess.run(shlex.split(fix.split("fix: ")[1]), check=True)
    code, lines = run_doctor(env)
    assert code == 0, "\n".join(lines)


@pytest.mark.parametrize(
    "url", ["postgresql://u:pw-9@127.0.0.1:54x2/db", "postgresql://u@h:1/db?password=pw-9"]
)
def test_a_typo_in_the_database_url_is_one_problem_and_no_password(data_dir, url: str) -> None:
    code, lines = run_doctor({"WFCOMM_DATABASE_URL": url})
    assert code == 1
    assert "pw-9" not in "\n".join(lines)
    if "54x2" in url:
        assert problem(lines, "settings")[0] == (
            "[!!] settings: Database URL 'postgresql://u:***@127.0.0.1:54x2/db' is wrong: its "
            "port '54x2' is not a number from 1 to 65535; fix WFCOMM_DATABASE_URL or unset it "
            "to use SQLite."
        )
    else:
        assert problem(lines, "postgres")[0].startswith(
            "[!!] postgres: cannot reach postgresql://u@h:1/db?password=*** ("
        )
