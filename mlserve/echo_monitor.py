"""The mock engine's registration for mocks that echo inputs: shared by the render (mlserve/mock_runtime.py) and
the benchmark's floor programs (mlserve/bench_floor.py), so both run on the same engine. Imports only the SDK."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime.proto import resource_pb2


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
            return super().RegisterResource(request)
        urn = self.make_urn(request.parent, request.type, request.name)
        id_ = f"{request.name}-id"
        self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, id_, {})
        self._wire[urn] = request.object
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=request.object)

    def Invoke(self, request):  # noqa: N802 - gRPC method name
        if request.tok == "pulumi:pulumi:getResource":  # the state of an echoed resource, deserialized when asked
            urn = rpc.deserialize_properties(request.args).get("urn")
            if urn in self._wire:
                state = rpc.deserialize_properties(self._wire.pop(urn))
                self.resources[urn] = self.resources[urn]._replace(state=state)
        return super().Invoke(request)
