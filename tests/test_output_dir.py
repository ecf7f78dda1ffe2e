"""The render owns its output directory and only that: refusals, atomic replacement, one writer at a time."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlserve import output_dir
from mlserve.__main__ import EXIT_INVALID, main
from mlserve.output_dir import MARKER, OutputError, check_owned, replace_owned_directory
from tests.helpers import ROOT


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def refused(argv: list[str], capsys) -> str:
    assert main(argv) == EXIT_INVALID
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    return captured.err


def test_render_out_dot_refuses_and_deletes_nothing(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    (work / ".git").mkdir(parents=True)
    (work / "notes.txt").write_text("mine")
    before = snapshot(work)
    monkeypatch.chdir(work)
    err = refused(["render", "--out", ".", "--project-dir", str(ROOT)], capsys)
    assert f"--out .: refused: {work.resolve()} is the current directory" in err
    assert snapshot(work) == before and (work / ".git").is_dir()


def test_render_out_home_refuses_even_a_marked_home(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    home.mkdir()
    (home / MARKER).write_text("")
    (home / ".bashrc").write_text("keep me")
    monkeypatch.setenv("HOME", str(home))
    err = refused(["render", "--out", str(home)], capsys)
    assert "is your home directory ($HOME)" in err
    assert (home / ".bashrc").read_text() == "keep me"


@pytest.mark.parametrize("place", ["/", "project", "parent-of-cwd"])
def test_render_refuses_the_root_the_project_and_anything_above_the_current_directory(place, tmp_path, monkeypatch):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    out = {"/": Path("/"), "project": ROOT, "parent-of-cwd": Path("..")}[place]
    with pytest.raises(OutputError, match="refused"):
        check_owned(out, ROOT)


def test_a_non_empty_directory_without_the_marker_is_refused_and_left_alone(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    err = refused(["render", "--out", str(out)], capsys)
    assert f"refused: {out.resolve()} is not empty and was not written by a render (no {MARKER} file" in err
    assert snapshot(out) == {"thesis.tex": b"years of work"}


def test_a_file_where_the_directory_should_be_is_refused(tmp_path, capsys):
    (tmp_path / "out").write_text("a file")
    assert "exists and is not a directory" in refused(["render", "--out", str(tmp_path / "out")], capsys)
    assert (tmp_path / "out").read_text() == "a file"


def test_an_unwritable_place_is_exit_2_naming_the_path(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    err = refused(["render", "--out", str(tmp_path / "file" / "out")], capsys)
    assert f"--out {tmp_path / 'file' / 'out'}: cannot write" in err and "File exists" in err


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's read-only /sys to be unwritable as root")
def test_a_directory_nobody_may_write_is_exit_2(capsys):
    err = refused(["render", "--out", "/sys/kernel/mlserve-out"], capsys)
    assert "--out /sys/kernel/mlserve-out: cannot write" in err


def test_a_render_writes_the_marker_and_replaces_only_a_marked_directory(tmp_path):
    out = tmp_path / "out"
    replace_owned_directory(out, {"a.txt": "1", "sub/b.txt": "2"})
    assert snapshot(out) == {MARKER: output_dir.MARKER_TEXT.encode(), "a.txt": b"1", "sub/b.txt": b"2"}
    replace_owned_directory(out, {"c.txt": "3"})
    assert sorted(snapshot(out)) == [MARKER, "c.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name != ".out.render-lock"] == ["out"]


def test_a_render_from_before_the_marker_is_recognised_by_its_exact_shape(tmp_path):
    out = tmp_path / "old"
    (out / "manifests").mkdir(parents=True)
    (out / "manifests" / "a.yaml").write_text("kind: X\n")
    (out / "resources.json").write_text("{}")
    replace_owned_directory(out, {"resources.json": "[]"})
    assert sorted(snapshot(out)) == [MARKER, "resources.json"]
    (tmp_path / "other" / "manifests").mkdir(parents=True)
    (tmp_path / "other" / "resources.json").write_text("{}")
    (tmp_path / "other" / "notes.md").write_text("mine")
    with pytest.raises(OutputError, match="is not empty and was not written by a render"):
        replace_owned_directory(tmp_path / "other", {})


def test_an_empty_directory_is_taken(tmp_path):
    (tmp_path / "empty").mkdir()
    replace_owned_directory(tmp_path / "empty", {})
    assert (tmp_path / "empty" / MARKER).is_file()


def test_a_failure_midway_leaves_the_previous_render_intact(tmp_path, monkeypatch):
    out = tmp_path / "out"
    replace_owned_directory(out, {f"f{i}.txt": "old" for i in range(10)})
    before = snapshot(out)
    real_write = Path.write_text
    calls = []

    def failing_write(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 5:
            raise OSError(28, "No space left on device", str(self))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing_write)
    with pytest.raises(OutputError, match="No space left on device; nothing was changed"):
        replace_owned_directory(out, {f"f{i}.txt": "new" for i in range(10)})
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.render-lock", "out"]


def test_a_killed_render_leaves_the_previous_output_intact(tmp_path):
    """A real render in a subprocess, killed with SIGKILL while it writes its manifests."""
    out = tmp_path / "out"
    assert main(["render", "--stack", "dev", "--out", str(out)]) == 0
    before = snapshot(out)
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        real = Path.write_text
        count = [0]
        def write_then_die(self, *args, **kwargs):
            count[0] += 1
            if count[0] == 8:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(self, *args, **kwargs)
        Path.write_text = write_then_die
        from mlserve.__main__ import main
        main(["render", "--stack", "prod", "--out", {str(out)!r}])
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=300, check=False)
    assert result.returncode == -signal.SIGKILL
    assert snapshot(out) == before
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-")]
    assert len(leftovers) == 1  # the killed render's staging directory, hidden, and removed by the next render
    assert main(["render", "--stack", "dev", "--out", str(out)]) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp-")]
    assert snapshot(out) == before


def test_two_renders_into_one_directory_do_not_interleave(tmp_path, monkeypatch):
    out = tmp_path / "out"
    replace_owned_directory(out, {"a.txt": "first"})
    lock = os.open(tmp_path / ".out.render-lock", os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as another render would hold it
        monkeypatch.setattr(output_dir, "LOCK_WAIT_SECONDS", 0.5)
        with pytest.raises(OutputError, match=r"another render is writing .*out \(it holds .*\.out\.render-lock\)"):
            replace_owned_directory(out, {"a.txt": "second"})
    finally:
        os.close(lock)
    assert (out / "a.txt").read_text() == "first"
    replace_owned_directory(out, {"a.txt": "second"})
    assert (out / "a.txt").read_text() == "second"
