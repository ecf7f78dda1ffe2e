"""The mock engine's call settings (mlserve/echo_monitor.py ``engine_calls``): the same requests as the SDK's own
code paths, made more cheaply."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest
from pulumi.runtime import resource as sdk_resource

from mlserve.echo_monitor import InlineExecutor, engine_calls, stack_trace
from tests.helpers import ROOT

SDK_STACK_TRACE = sdk_resource._get_stack_trace


class _Base:  # the SDK's Resource.__init__
    def __init__(self, take):
        self.trace = take()


class _Custom(_Base):  # CustomResource.__init__
    def __init__(self, take):
        super().__init__(take)


class _Concrete(_Custom):  # a resource class, e.g. apps.v1.Deployment
    def __init__(self, take):
        super().__init__(take)


def _program(take):  # the program's frames, above the concrete class
    def helper():
        return _Concrete(take).trace

    return helper()


def _both(call):
    """The SDK's trace and ours, each taken from the same place."""
    return call(SDK_STACK_TRACE), call(stack_trace)


def test_the_same_trace_as_the_sdk_below_three_constructors():
    sdk, ours = _both(_program)
    assert len(sdk.frames) > 3  # the program's frames: helper, _program, this test, pytest's
    assert ours == sdk
    assert sdk.frames[0].pc.uri.endswith("/tests/test_mock_engine.py")


def test_the_same_trace_from_frames_without_a_file_uri():
    """A relative file name has no file URI and an empty one no position: those frames carry no position."""
    namespace: dict = {}
    exec(compile("def relative(call, f):\n    return f(call)\n", "relative.py", "exec"), namespace)
    exec(compile("def nameless(call, f):\n    return f(call)\n", "", "exec"), namespace)
    for outer in ("relative", "nameless"):
        sdk, ours = _both(lambda take, outer=outer: namespace[outer](take, _program))
        assert ours == sdk
        assert any(not frame.HasField("pc") for frame in sdk.frames)


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_an_empty_trace_with_fewer_than_three_constructors(depth):
    classes = [None, _Base, _Custom]
    call = (lambda take: take()) if depth == 0 else (lambda take: classes[depth](take).trace)
    sdk, ours = _both(call)
    assert list(ours.frames) == list(sdk.frames) == []


def test_inline_executor_runs_each_call_in_the_calling_thread_and_passes_on_errors():
    loop = asyncio.new_event_loop()
    threads = threading.active_count()
    try:
        loop.set_default_executor(InlineExecutor())
        assert loop.run_until_complete(loop.run_in_executor(None, threading.get_ident)) == threading.get_ident()

        def fails():
            raise ValueError("the monitor refused")

        with pytest.raises(ValueError, match="the monitor refused"):
            loop.run_until_complete(loop.run_in_executor(None, fails))
        assert threading.active_count() == threads  # no worker thread was started
    finally:
        loop.close()


def test_engine_calls_restores_the_sdk_and_the_loop():
    loop = asyncio.get_event_loop()
    before = getattr(loop, "_default_executor", None)
    with engine_calls():
        assert sdk_resource._get_stack_trace is stack_trace
        assert isinstance(loop._default_executor, InlineExecutor)
    assert sdk_resource._get_stack_trace is SDK_STACK_TRACE
    assert getattr(loop, "_default_executor", None) is before
    with pytest.raises(RuntimeError), engine_calls():
        raise RuntimeError("a failed run")
    assert sdk_resource._get_stack_trace is SDK_STACK_TRACE


def test_the_collector_checkpoint_frees_young_cycles_and_freezes_the_survivors():
    """interpreter.checkpoint(), in its own interpreter (it freezes that process's heap for good)."""
    code = """
import gc, weakref
from mlserve import interpreter
class Node:
    pass
gc.disable()
garbage = Node(); garbage.me = garbage; dead = weakref.ref(garbage); del garbage
kept = Node(); kept.me = kept
frozen_before = gc.get_freeze_count()
interpreter.checkpoint()
assert dead() is None, "young cyclic garbage collected"
assert gc.get_freeze_count() > frozen_before, "survivors frozen"
assert not any(o is kept for o in gc.get_objects()), "the survivor is out of the collector's view"
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_batch_render_checkpoints_the_collector_after_each_model(monkeypatch, tmp_path):
    from mlserve import interpreter
    from mlserve.render import run_stack

    calls = []
    monkeypatch.setattr(interpreter, "BATCH", True)
    monkeypatch.setattr(interpreter, "tune", lambda: None)
    monkeypatch.setattr(interpreter, "checkpoint", lambda: calls.append(1))
    run = run_stack(ROOT, "prod")
    assert len(calls) == len(run.environment.models) > 1
    monkeypatch.setattr(interpreter, "BATCH", False)
    calls.clear()
    run_stack(ROOT, "prod")
    assert calls == []
