"""Nothing half-written, nothing lost: every file bposim writes is whole or absent (a kill mid-write leaves the good
file there before), a full disk or a read-only volume is one line naming the file and the reason (exit status 2, no
traceback), a finished sweep reads a read-only directory without writing, and two sweeps never share a directory.

The full-disk and read-only cases mount a small tmpfs, which needs root on Linux; elsewhere they are skipped with
the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_runner import ROOT, bposim, command, environment
from scenario_texts import helpdesk_data

from bposim.experiment import Experiment, ExperimentError
from bposim.experiment.storage import ResultsDirectory, saved_rows
from bposim.files import (
    DirectoryBusy,
    DirectoryLock,
    WriteError,
    check_writable,
    remove_leftovers,
    write_atomically,
    write_text_atomically,
)
from bposim.scenario import Scenario

SWEEP = """\
name: desk_sweep
model: desk.yaml
replications: REPLICATIONS
seed: 5
keep: KEEP
factors:
  agent_groups.team.agents: AGENTS
"""


def desk(folder: Path, end: str = "12:00", name: str = "desk.yaml") -> Path:
    """The helpdesk from 08:00 to `end` (about 1,000 calls in four hours); returns its scenario file."""
    path = folder / name
    path.write_text(yaml.safe_dump(helpdesk_data({"horizon.end": end}), sort_keys=False))
    return path


def first_hour() -> Scenario:
    """The helpdesk from 08:00 to 09:00."""
    return Scenario.model_validate(helpdesk_data({"horizon.end": "09:00"}))


def sweep_file(
    folder: Path, replications: int = 2, keep: str = "summary", agents: str = "[10, 12]", end: str = "12:00"
) -> Path:
    """An experiment file over the desk in `folder` (the results go wherever --out says)."""
    folder.mkdir(parents=True, exist_ok=True)
    desk(folder, end)
    path = folder / "sweep.yaml"
    path.write_text(SWEEP.replace("REPLICATIONS", str(replications)).replace("KEEP", keep).replace("AGENTS", agents))
    return path


def start(*args: object) -> subprocess.Popen[str]:
    """`python -m bposim ARGS` in the background, from the project root, taking Ctrl-C as a user's terminal would:
    SIGINT's default action restored in the child, in case some library in this test process set it ignored (a
    disposition a child inherits, and then Python raises no KeyboardInterrupt)."""
    return subprocess.Popen(
        command(*args),
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509 (a test's one child)
    )


def failed_with(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Assert exit status 2 with a plain message holding every fragment and no traceback (what was done before the
    failure may be on stdout); return the message."""
    message = " ".join(result.stderr.split())
    assert result.returncode == 2, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and directory under `folder` (hidden ones too) with its size and modification time."""
    found = {}
    for entry in [folder, *folder.rglob("*")]:
        status = entry.stat()
        found[str(entry.relative_to(folder))] = (status.st_size, status.st_mtime_ns)
    return found


def read_whole(path: Path) -> object:
    """Read a table, summary or scenario file to its end (raises if it is truncated)."""
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return yaml.safe_load(path.read_text())


def temporary_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob(".*.tmp"))


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# -- mounts ------------------------------------------------------------------------------------------------------


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """`tmpfs("256k")` mounts a tmpfs of that size under tmp_path and returns it; unmounted at the end. Skips where
    this machine cannot mount one (not root, not Linux, no mount command, a container without the right)."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        if not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("mounting a tmpfs needs root on Linux (the mount command)")
        point = tmp_path / f"volume{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(point)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        if subprocess.run(["umount", str(point)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)


def remount(point: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(point)], check=True, capture_output=True)


def fill(volume: Path) -> None:
    """Fill the volume to the last byte."""
    with open(volume / "filler", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass


# -- atomic writes -----------------------------------------------------------------------------------------------

SLOW_WRITER = """
import sys, time
from pathlib import Path
from bposim.files import write_atomically

target, ready = Path(sys.argv[1]), Path(sys.argv[2])

def slow(handle):
    handle.write(b"half of a new file " * 10_000)
    handle.flush()
    ready.touch()
    time.sleep(120)
    handle.write(b"the other half")

write_atomically(target, slow)
"""

SLOW_REPORT = """
import os, sys, time
from pathlib import Path
import bposim.files
from bposim.report import write_report

run, page, ready = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
real_fsync = os.fsync

def fsync_then_stall(descriptor):
    real_fsync(descriptor)
    ready.touch()   # the new page is written in full under its temporary name, not yet renamed into place
    time.sleep(120)

bposim.files.os.fsync = fsync_then_stall
write_report(run, page)
"""


def kill_when_ready(command: list[str], ready: Path) -> None:
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: ready.exists() or process.poll() is not None, "the writer to reach its slow part")
        assert process.poll() is None, process.stderr.read()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()


def test_a_writer_killed_mid_write_leaves_the_file_there_before(tmp_path: Path) -> None:
    target = tmp_path / "cells.parquet"
    target.write_bytes(b"the good file")
    kill_when_ready([sys.executable, "-c", SLOW_WRITER, str(target), str(tmp_path / "ready")], tmp_path / "ready")
    assert target.read_bytes() == b"the good file"
    leftovers = temporary_files(tmp_path)
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > 0  # the half-written file was never in place
    assert sorted(path.name for path in tmp_path.iterdir() if not path.name.endswith(".tmp")) == [
        "cells.parquet",
        "ready",
    ]
    assert remove_leftovers(tmp_path) == 1 and not temporary_files(tmp_path)  # its writer is gone


def test_a_report_killed_while_writing_leaves_the_old_report(tmp_path: Path) -> None:
    from bposim.run import simulate

    run = tmp_path / "run"
    run.mkdir()
    simulate(first_hour(), seed=1).save(run)
    page = run / "report.html"
    page.write_text("<html>the good report of yesterday</html>")
    ready = tmp_path / "ready"
    kill_when_ready([sys.executable, "-c", SLOW_REPORT, str(run), str(page), str(ready)], ready)
    assert page.read_text() == "<html>the good report of yesterday</html>"
    (written,) = temporary_files(run)
    assert written.name.startswith(".report.html.") and written.stat().st_size > 100_000  # the whole new page
    assert "plotly" in written.read_text()


def test_a_failing_writer_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.write_text("{}")

    def broken(handle) -> None:
        handle.write(b'{"half": ')
        raise ValueError("cannot serialise")

    with pytest.raises(ValueError, match="cannot serialise"):
        write_atomically(target, broken)
    assert target.read_text() == "{}" and [path.name for path in tmp_path.iterdir()] == ["summary.json"]
    with pytest.raises(WriteError) as caught:
        write_text_atomically(tmp_path / "missing" / "report.html", "<html></html>")
    assert str(caught.value) == f"{tmp_path / 'missing' / 'report.html'}: cannot write (No such file or directory)"


def test_threads_writing_one_file_each_write_it_whole(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    texts = [json.dumps({"writer": n, "padding": "x" * 200_000}) for n in range(8)]
    threads = [threading.Thread(target=write_text_atomically, args=(target, text)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_text() in texts and not temporary_files(tmp_path)


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "roster.yaml"
    target.write_text("old")
    target.chmod(0o640)
    write_text_atomically(target, "new")
    assert target.read_text() == "new" and target.stat().st_mode & 0o777 == 0o640


# -- a full disk ---------------------------------------------------------------------------------------------------


def test_run_on_a_full_disk_names_the_file_and_keeps_the_tables_there_before(tmp_path: Path, tmpfs) -> None:
    volume = tmpfs("256k")
    out = volume / "run"
    first = bposim("run", desk(tmp_path, "08:30", "short.yaml"), "--out", out)  # about 120 kB: it fits
    assert first.returncode == 0, first.stderr
    before = {path.name: path.read_bytes() for path in out.iterdir()}

    longer = bposim("run", desk(tmp_path), "--out", out)  # about 280 kB: it does not
    failed_with(longer, f"{out}/", ": cannot write (No space left on device)")
    assert not temporary_files(volume)
    for path in out.iterdir():  # every file is the one there before or a whole new one
        if path.read_bytes() != before.get(path.name):
            read_whole(path)
    assert json.loads((out / "summary.json").read_text()) == json.loads(before["summary.json"])

    report = bposim("report", out)  # the page is several MB: it does not fit
    failed_with(report, f"{out / 'report.html'}: cannot write (No space left on device)")
    assert not (out / "report.html").exists() and not temporary_files(volume)

    fill(volume)
    started = time.monotonic()
    full = bposim("run", desk(tmp_path), "--out", out)
    failed_with(full, f"{out}: cannot write (No space left on device)")  # before simulating, not after
    assert time.monotonic() - started < 60
    roster = bposim("staff", ROOT / "models" / "helpdesk_shifts.yaml", "--report", volume / "roster.html")
    failed_with(roster, f"{volume}: cannot write (No space left on device)")


def test_a_sweep_that_fills_the_disk_keeps_its_finished_tasks_and_carries_on(tmp_path: Path, tmpfs) -> None:
    experiment = sweep_file(tmp_path / "inputs", keep="all", agents="[10, 11, 12, 13]")  # 8 tasks of ~110 kB
    volume = tmpfs("400k")
    out = volume / "sweep"
    result = bposim("sweep", experiment, "--out", out, "--workers", "1")
    message = failed_with(result, f"{out}/", ": cannot write (No space left on device)", "run the same command")
    assert message.count("error:") == 1
    rows = saved_rows(out / "tasks")
    assert 1 <= len(rows) < 8, rows
    assert (out / "tasks" / "rows.jsonl").read_bytes().endswith(b"\n")  # whole lines only
    finished = {
        path: path.stat().st_mtime_ns
        for row in rows
        for path in (out / "tables" / str(row["cell"]) / str(row["replication"])).iterdir()
    }
    assert not temporary_files(volume) and not (out / "results.parquet").exists() and not (out / ".lock").exists()

    remount(volume, "size=64m")  # space freed
    again = bposim("sweep", experiment, "--out", out, "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert f"{len(rows)} of 8 tasks already done" in " ".join(again.stderr.split())
    assert {path: path.stat().st_mtime_ns for path in finished} == finished  # reused, not redone
    assert saved_rows(out / "tasks")[: len(rows)] == rows
    results = pd.read_parquet(out / "results.parquet")
    assert len(results) == 8 and not results.duplicated(["cell", "replication"]).any()
    assert not temporary_files(volume) and not (out / ".lock").exists()
    assert json.loads((out / "manifest.json").read_text())["finished"]


# -- a read-only volume ----------------------------------------------------------------------------------------------


def test_a_finished_sweep_on_a_read_only_volume_is_read_without_writing(tmp_path: Path, tmpfs) -> None:
    experiment = sweep_file(tmp_path / "inputs")
    volume = tmpfs("16m")
    out, run = volume / "sweep", volume / "run"
    for args in (("sweep", experiment, "--out", out, "--workers", "1"), ("run", desk(tmp_path), "--out", run)):
        done = bposim(*args)
        assert done.returncode == 0, done.stderr
    remount(volume, "ro")
    before = listing(volume)

    again = bposim("sweep", experiment, "--out", out, "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert "all 4 tasks already done" in " ".join(again.stderr.split())
    assert "desk_sweep:" in again.stdout and f"Results in {out}/" in " ".join(again.stdout.split())
    assert listing(volume) == before

    failed_with(
        bposim("sweep", experiment, "--out", out, "--workers", "1", "--report"),
        f"{out / 'report.html'}: cannot write (Read-only file system)",
    )
    failed_with(bposim("report", out), f"{out / 'report.html'}: cannot write (Read-only file system)")
    failed_with(
        bposim("report", run, "-o", volume / "run.html"), f"{volume / 'run.html'}: cannot write (Read-only file system)"
    )
    elsewhere = bposim("report", out, "-o", tmp_path / "report.html")
    assert elsewhere.returncode == 0 and (tmp_path / "report.html").stat().st_size > 100_000, elsewhere.stderr
    failed_with(bposim("run", desk(tmp_path), "--out", run), f"{run}: cannot write (Read-only file system)")
    failed_with(bposim("run", desk(tmp_path), "--out", volume / "new"), f"{volume / 'new'}", "(Read-only file system)")
    failed_with(
        bposim("staff", ROOT / "models" / "helpdesk_shifts.yaml", "--out", volume / "roster.yaml"),
        f"{volume}: cannot write (Read-only file system)",
    )
    assert listing(volume) == before


def test_report_without_output_names_the_page_it_cannot_write(tmp_path: Path) -> None:
    from bposim.run import simulate

    simulate(first_hour(), seed=1).save(tmp_path)
    (tmp_path / "report.html").mkdir()  # something that is not a file is in the way
    failed_with(bposim("report", tmp_path), f"{tmp_path / 'report.html'}: cannot write (Is a directory)")


# -- one sweep per directory -----------------------------------------------------------------------------------------


def test_a_second_sweep_on_the_same_directory_is_refused_naming_the_first(tmp_path: Path) -> None:
    experiment = sweep_file(tmp_path / "inputs", replications=4000, agents="[11]", end="10:00")  # stopped early
    out = tmp_path / "out"
    first = start("sweep", experiment, "--out", out, "--workers", "1")
    try:
        wait_for(lambda: saved_rows(out / "tasks") or first.poll() is not None, "a first task")
        assert first.poll() is None, first.communicate()
        holder = json.loads((out / ".lock").read_text())
        assert holder["pid"] == first.pid and holder["host"] == socket.gethostname()

        second = bposim("sweep", experiment, "--out", out, "--workers", "1")
        failed_with(
            second,
            f"{out}: in use by another sweep (pid {first.pid} on host {socket.gethostname()}, since {holder['since']})",
        )
        assert first.poll() is None, "the first sweep finished before the second was refused: make it longer"
        first.send_signal(signal.SIGINT)  # Ctrl-C
        _, errors = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 130, errors
    assert not (out / ".lock").exists() and saved_rows(out / "tasks")


def test_a_lock_left_by_a_killed_sweep_is_taken_over(tmp_path: Path) -> None:
    experiment = sweep_file(tmp_path / "inputs", agents="[11]", end="09:00")
    out = tmp_path / "out"
    out.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (out / ".lock").write_text(
        json.dumps({"pid": gone.pid, "host": socket.gethostname(), "since": "2026-01-01T00:00:00+00:00"})
    )
    (out / ".manifest.json.999999999-1-abcd.tmp").write_text("half a manifest")  # that sweep was killed mid-write
    result = bposim("sweep", experiment, "--out", out, "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert f"took over the lock left by pid {gone.pid}" in " ".join(result.stderr.split())
    assert not (out / ".lock").exists() and not temporary_files(out)
    assert len(pd.read_parquet(out / "results.parquet")) == 2


def test_lock_holders_alive_or_elsewhere_are_respected(tmp_path: Path) -> None:
    lock = DirectoryLock(tmp_path)
    (tmp_path / ".lock").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": "now"}))
    with pytest.raises(DirectoryBusy, match=f"pid {os.getpid()} on host"):
        lock.acquire()
    (tmp_path / ".lock").write_text(json.dumps({"pid": 1, "host": "another-host", "since": "now"}))
    experiment = Experiment(first_hour(), replications=1)
    with pytest.raises(ExperimentError) as caught:
        ResultsDirectory(tmp_path, experiment).open()
    assert caught.value.problems == [
        f"in use by another sweep (pid 1 on host another-host, since now); wait for it "
        f"to finish or stop it; if that process is gone, delete {tmp_path / '.lock'}"
    ]
    (tmp_path / ".lock").write_text("")  # a lock being written this very moment
    with pytest.raises(DirectoryBusy, match="still writing its lock file"):
        lock.acquire()
    os.utime(tmp_path / ".lock", (time.time() - 60, time.time() - 60))  # ... or by a process killed before it could
    with lock:
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid() and lock.taken_over == {}
    assert not (tmp_path / ".lock").exists()


def test_leftovers_of_live_writers_are_kept(tmp_path: Path) -> None:
    mine = tmp_path / f".report.html.{os.getpid()}-1-abcd.tmp"
    mine.write_text("a report being written by a live process")
    assert remove_leftovers(tmp_path) == 0 and mine.exists()


def test_check_writable_leaves_nothing_behind(tmp_path: Path) -> None:
    check_writable(tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(WriteError, match="cannot write"):
        check_writable(tmp_path / "absent")


def test_of_many_taking_over_a_stale_lock_at_once_one_holds_it(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / ".lock").write_text(json.dumps({"pid": gone.pid, "host": socket.gethostname(), "since": "then"}))
    locks = [DirectoryLock(tmp_path) for _ in range(8)]
    barrier = threading.Barrier(len(locks))

    def take(lock: DirectoryLock) -> None:
        barrier.wait()
        with contextlib.suppress(DirectoryBusy):
            lock.acquire()

    threads = [threading.Thread(target=take, args=(lock,)) for lock in locks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    (holder,) = [lock for lock in locks if lock.held]
    assert (tmp_path / ".lock").read_bytes() == holder._content and not temporary_files(tmp_path)
    holder.release()
    assert not (tmp_path / ".lock").exists()
