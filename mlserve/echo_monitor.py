"""The mock engine shared by the render (mlserve/mock_runtime.py) and the benchmark's floor programs
(mlserve/bench_floor.py), so both run on the same engine: the registration for mocks that echo inputs
(``EchoMonitor``) and how the SDK's calls into the engine are made (``engine_calls``). Imports only the SDK."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import pathlib
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import resource_pb2, source_pb2


class EchoMonitor(mocks.MockMonitor):
    """Pulumi's mock monitor for mocks that echo a resource's inputs as its outputs (``_RenderMocks``; the
    benchmark's floor programs use it too): the request's serialized inputs are returned as they came, instead of
    being deserialized, handed to the mocks and serialized again (the same outputs, without two conversions of
    every object). Types in ``stock_types`` (mocks that compute outputs), imports and the root stack take the stock path."""

    def __init__(self, mock_impl: pulumi.runtime.Mocks, stock_types: frozenset[str] = frozenset()):
        super().__init__(mock_impl)
        self.stock_types = stock_types
        self._wire: dict[str, Any] = {}

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        if request.type == "pulumi:pulumi:Stack" or request.type in self.stock_types or request.importId:
            return _off_loop(super().RegisterResource, request)
        urn = self.make_urn(request.parent, request.type, request.name)
        id_ = f"{request.name}-id"
        self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, id_, {})
        self._wire[urn] = request.object
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=request.object)

    def Invoke(self, request):  # noqa: N802 - gRPC method name
        return _off_loop(self._invoke, request)

    def _invoke(self, request):
        if request.tok == "pulumi:pulumi:getResource":  # the state of an echoed resource, deserialized when asked
            urn = rpc.deserialize_properties(request.args).get("urn")
            if urn in self._wire:
                state = rpc.deserialize_properties(self._wire.pop(urn))
                self.resources[urn] = self.resources[urn]._replace(state=state)
        return super().Invoke(request)

    def ReadResource(self, request):  # noqa: N802 - gRPC method name
        return _off_loop(super().ReadResource, request)


#: The thread the stock mock monitor's calls run on (``_off_loop``), started on first use.
_STOCK_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mock-monitor")


def _off_loop(call: Callable[[Any], Any], request: Any) -> Any:
    """``call(request)`` off the event loop's thread. Pulumi's stock mock monitor (reads, invokes, the mocks that
    compute outputs) turns the mocks' answers into a response with ``_sync_await``, which runs the calling thread's
    event loop until it is done: called inline (``InlineExecutor``) on the loop's own thread, that would run other
    registrations inside this one. So those calls run on a thread of their own, as under the SDK's thread pool; the
    echo path, which never touches the loop, stays inline."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call(request)
    return _STOCK_THREAD.submit(contextvars.copy_context().run, call, request).result()  # with the run's settings


class InlineExecutor(ThreadPoolExecutor):
    """Runs each call at once, in the calling thread. The SDK makes every call into the engine (register, read,
    invoke) through the event loop's default executor, as blocking gRPC calls off the loop's thread; the mock
    monitor's calls are plain Python that returns at once, so a thread per call only adds a hand-off: the worker
    thread, the wake-up of the loop, the two threads taking turns with the interpreter lock. (A ThreadPoolExecutor
    only because asyncio accepts nothing else as a loop's default executor; it never starts a thread.)"""

    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the awaiting coroutine, as from a worker thread
            future.set_exception(exc)
        return future


@functools.cache
def _frame_uri(filename: str) -> str | None:
    try:
        return pathlib.Path(filename).as_uri()
    except BaseException:  # as the SDK's _get_source_position_for_frame: no position
        return None


def stack_trace() -> source_pb2.StackTrace:
    """The SDK's ``pulumi.runtime.resource._get_stack_trace``, the same message, without its costs: the SDK takes
    a ``traceback.extract_stack()`` of every frame on the stack for each resource (reading each frame's source
    line through linecache, with an ``os.stat`` of its file) and converts every file name to a URI through
    pathlib, to keep only file names and line numbers. Here: a walk of the frames, one URI per file.
    tests/test_mock_engine.py compares the two."""
    frame = sys._getframe()  # this function stands where the SDK's is: counted as the innermost frame
    inits = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            inits += 1
            if inits == 3:  # the concrete resource's constructor: its callers are the program's frames
                break
        frame = frame.f_back
    if frame is None or frame.f_back is None:
        return source_pb2.StackTrace()
    frames = []
    caller = frame.f_back
    while caller is not None:
        filename, line = caller.f_code.co_filename, caller.f_lineno
        uri = _frame_uri(filename) if filename != "" and line is not None else None
        position = source_pb2.SourcePosition(uri=uri, line=line) if uri is not None else None
        frames.append(source_pb2.StackFrame(pc=position))
        caller = caller.f_back
    return source_pb2.StackTrace(frames=frames)


@contextlib.contextmanager
def engine_calls() -> Iterator[None]:
    """While a program runs under the mock engine: the SDK's calls into the engine run inline (``InlineExecutor``)
    and its stack traces are taken by ``stack_trace``. Both give the engine the same requests in the same order;
    the previous executor and the SDK's own function are restored afterwards."""
    loop = asyncio.get_event_loop()
    previous = getattr(loop, "_default_executor", None)
    sdk_stack_trace = sdk_resource._get_stack_trace
    loop.set_default_executor(InlineExecutor())
    sdk_resource._get_stack_trace = stack_trace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = sdk_stack_trace
        loop._default_executor = previous  # set_default_executor refuses None, what a fresh loop has
