"""Content-addressed tags: the same build inputs give the same tag; any change to them gives a new one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from components.build_context import content_tag, context_files
from model_catalog.schema import ImageBuild


@pytest.fixture
def project(tmp_path: Path) -> Path:
    context = tmp_path / "images" / "svc"
    (context / "pkg").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
    (context / "app.py").write_text("print('hi')\n")
    (context / "pkg" / "model.json").write_text("{}\n")
    (context / "notes.md").write_text("scratch\n")
    (context / ".dockerignore").write_text("# docs stay out\n*.md\n**/__pycache__\n")
    return tmp_path


BUILD = ImageBuild.model_validate({"context": "images/svc"})


def test_the_same_context_always_gives_the_same_tag(project):
    assert content_tag(project, BUILD) == content_tag(project, BUILD)
    assert content_tag(project, BUILD).startswith("ctx-") and len(content_tag(project, BUILD)) == 4 + 16


def test_touching_a_file_without_changing_it_keeps_the_tag(project):
    before = content_tag(project, BUILD)
    os.utime(project / "images" / "svc" / "app.py", (1, 1))
    assert content_tag(project, BUILD) == before


@pytest.mark.parametrize(
    "change",
    [
        lambda ctx: (ctx / "app.py").write_text("print('changed')\n"),
        lambda ctx: (ctx / "pkg" / "extra.txt").write_text("new file\n"),
        lambda ctx: (ctx / "pkg" / "model.json").rename(ctx / "pkg" / "renamed.json"),
        lambda ctx: (ctx / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY app.py /app/\n"),
        lambda ctx: (ctx / "app.py").chmod(0o755),
    ],
    ids=["content", "new-file", "rename", "dockerfile", "mode"],
)
def test_any_change_to_what_the_builder_sees_changes_the_tag(project, change):
    before = content_tag(project, BUILD)
    change(project / "images" / "svc")
    assert content_tag(project, BUILD) != before


def test_files_excluded_by_dockerignore_do_not_count(project):
    before = content_tag(project, BUILD)
    (project / "images" / "svc" / "notes.md").write_text("edited notes\n")
    cache = project / "images" / "svc" / "pkg" / "__pycache__"
    cache.mkdir()
    (cache / "x.pyc").write_bytes(b"\0")
    assert content_tag(project, BUILD) == before
    assert context_files(project / "images" / "svc") == [".dockerignore", "Dockerfile", "app.py", "pkg/model.json"]


@pytest.mark.parametrize(
    "other",
    [
        {"context": "images/svc", "args": {"VERSION": "2"}},
        {"context": "images/svc", "target": "runtime"},
        {"context": "images/svc", "platform": "linux/arm64"},
    ],
)
def test_build_inputs_are_part_of_the_address(project, other):
    assert content_tag(project, ImageBuild.model_validate(other)) != content_tag(project, BUILD)


def test_negated_patterns_bring_files_back_and_star_stays_in_one_directory(tmp_path):
    context = tmp_path / "c"
    (context / "sub").mkdir(parents=True)
    for name in ("a.py", "b.txt", "sub/c.py", "Dockerfile"):
        (context / name).write_text(name)
    (context / ".dockerignore").write_text("*\n!*.py\n")
    # `*` and `!*.py` apply to the top directory only: sub/ is excluded as a whole, sub/c.py with it.
    assert context_files(context) == ["a.py"]


def test_a_link_counts_by_its_target_path_and_the_hash_never_follows_it(project):
    context = project / "images" / "svc"
    (context / "current.json").symlink_to("pkg/model.json")
    tag = content_tag(project, BUILD)
    assert "current.json" in context_files(context)
    (context / "current.json").unlink()
    (context / "current.json").symlink_to("app.py")
    assert content_tag(project, BUILD) != tag


def test_hashing_a_context_with_a_link_out_or_a_fifo_fails_fast_instead_of_reading_it(project, tmp_path):
    context = project / "images" / "svc"
    os.mkfifo(context / "pipe")  # reading it would block forever
    (context / "host").symlink_to("/etc/hostname")
    with pytest.raises(ValueError, match="'host' is a symbolic link to '/etc/hostname', outside the build context"):
        content_tag(project, BUILD)
