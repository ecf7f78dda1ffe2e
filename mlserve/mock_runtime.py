"""Run the real Pulumi program in-process under Pulumi's mock runtime, and record what it registers.

No CLI, no plugins, no cluster, no network: ``pulumi.runtime.set_mocks`` replaces the engine, and a recording
monitor keeps every registration (type, name, parent, dependencies, options, inputs). Config reaches the program
exactly as the engine would hand it over: object values as JSON text, scalars as strings, secrets marked secret.
Secret values in ``Pulumi.<stack>.yaml`` are ciphertext that only the CLI can decrypt, so here they become a
placeholder that stays marked secret (and is masked in every output).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from model_catalog.environment import Environment, known_stacks, load_stack_document
from model_catalog.errors import ConfigurationError, Problem, allowed_list, did_you_mean
from model_catalog.settings import PROJECT, stack_file_name

SECRET_PLACEHOLDER = "[secret: set with `pulumi config set --secret`; decrypted only by the Pulumi CLI]"
UNKNOWN = rpc.UNKNOWN
SECRET_SIG = rpc._special_sig_key
SECRET_MARK = rpc._special_secret_sig

#: Outputs a provider computes at deploy time, per resource type: the mocks echo inputs and add these (a
#: function of the inputs, or UNKNOWN where nothing offline can know the value).
COMPUTED_OUTPUTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    # Known only once the image is pushed (or, without push, built).
    "docker:index/image:Image": lambda inputs: {"repoDigest": UNKNOWN},
    # Assigned by AWS; the program derives the repository address from settings instead (exact at preview).
    "aws:ecr/repository:Repository": lambda inputs: {"arn": UNKNOWN, "registryId": UNKNOWN, "repositoryUrl": UNKNOWN},
    # A generated password exists only once the provider runs; never invent one (it would look real in the render).
    "random:index/randomPassword:RandomPassword": lambda inputs: {"result": UNKNOWN, "bcryptHash": UNKNOWN},
}

#: Answers to provider functions (invokes) the program calls, per token: each value a function of the call's
#: arguments, or UNKNOWN. Never a made-up credential: a render must not look as if it had reached a cloud account.
#: Any other token fails the render, so a new invoke has to be added here deliberately.
INVOKE_ANSWERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    # ECR push credentials: a 12-hour token only AWS can issue.
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda args: {
        "authorizationToken": UNKNOWN,
        "expiresAt": UNKNOWN,
        "id": UNKNOWN,
        "password": UNKNOWN,
        "proxyEndpoint": UNKNOWN,
        "region": args.get("region") or UNKNOWN,
        "registryId": args.get("registryId") or UNKNOWN,
        "userName": UNKNOWN,
    },
}


#: Answers to reads of existing cluster objects (``Resource.get``), per type: the object as a function of its id.
#: Whatever the live cluster would say about it (its metadata, with the UID) is UNKNOWN offline: top-level, because
#: a nested unknown reaches the program as None outside a preview. Any other read fails the render.
READ_ANSWERS: dict[str, Callable[[str], dict[str, Any]]] = {
    # The cluster guard reads kube-system (components/cluster_guard.py).
    "kubernetes:core/v1:Namespace": lambda id_: {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": UNKNOWN,
    },
    # monitoring.mode existing: the preflight reads of the CRDs the stack's objects are instances of.
    "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": lambda id_: {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": UNKNOWN,
    },
}


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None
    dependencies: list[str]
    options: dict[str, Any]
    inputs: dict[str, Any]


@dataclass
class MockRun:
    stack: str
    registrations: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    environment: Environment | None = None
    on_register: Callable[[MockRun], None] | None = None
    """Called after each registration (progress reporting); reads ``registrations`` and ``environment``."""


def wire_properties(struct: Any) -> dict[str, Any]:
    """Inputs exactly as they crossed the wire: a secret stays marked where it is (``rpc.deserialize_properties``
    would mark the whole enclosing object or list secret, hiding its other fields from review) and an unknown
    stays the UNKNOWN sentinel. The output writer masks both."""
    return json_format.MessageToDict(struct)


class _RenderMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.resource_id and args.typ in READ_ANSWERS:  # a read (Resource.get): nothing was registered
            return args.resource_id, READ_ANSWERS[args.typ](args.resource_id)
        outputs = dict(args.inputs)
        computed = COMPUTED_OUTPUTS.get(args.typ)
        if computed is not None:
            outputs.update(computed(args.inputs))
        return f"{args.name}-id", outputs

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        answer = INVOKE_ANSWERS.get(args.token)
        if answer is None:
            raise RuntimeError(
                f"the program called {args.token} during render; an offline render answers only the provider "
                f"functions in mlserve/mock_runtime.py INVOKE_ANSWERS ({', '.join(sorted(INVOKE_ANSWERS))})"
            )
        return answer(dict(args.args)), []


class _RecordingMonitor(mocks.MockMonitor):
    def __init__(self, run: MockRun, mock_impl: pulumi.runtime.Mocks):
        super().__init__(mock_impl)
        self.run = run

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = wire_properties(request.object)
        options: dict[str, Any] = {}
        if request.protect:
            options["protect"] = True
        if request.retainOnDelete:
            options["retainOnDelete"] = True
        if request.deleteBeforeReplace:
            options["deleteBeforeReplace"] = True
        if request.ignoreChanges:
            options["ignoreChanges"] = sorted(request.ignoreChanges)
        if request.replaceOnChanges:
            options["replaceOnChanges"] = sorted(request.replaceOnChanges)
        if request.HasField("customTimeouts"):
            timeouts = {k: getattr(request.customTimeouts, k) for k in ("create", "update", "delete")}
            if any(timeouts.values()):
                options["customTimeouts"] = {k: v for k, v in timeouts.items() if v}
        if request.replace_with:
            options["replaceWith"] = sorted(request.replace_with)
        if request.aliasSpecs:
            options["aliases"] = len(request.aliasSpecs)
        self.run.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                provider=request.provider.rpartition("::")[0] or None,  # "<urn>::<id>" -> urn
                dependencies=sorted(set(request.dependencies)),
                options=options,
                inputs=inputs,
            )
        )
        if self.run.on_register is not None:
            self.run.on_register(self.run)
        return response

    def ReadResource(self, request):  # noqa: N802 - gRPC method name
        if request.type not in READ_ANSWERS:
            raise RuntimeError(
                f"the program read a {request.type} during render; an offline render answers only the reads in "
                f"mlserve/mock_runtime.py READ_ANSWERS ({', '.join(sorted(READ_ANSWERS))})"
            )
        response = super().ReadResource(request)
        self.run.registrations.append(
            Registration(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=True,
                provider=request.provider.rpartition("::")[0] or None,
                dependencies=sorted(set(request.dependencies)),
                options={"read": request.id},
                inputs={},
            )
        )
        return response

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them: a child's type is qualified by its parent's full qualified type,
        except under the root stack (the stock mock prefixes ``pulumi:pulumi:Stack$`` and keeps one level)."""
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != "pulumi:pulumi:Stack":
                type_ = f"{parent_type}${type_}"
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{type_}::{name}"


def _engine_value(value: Any, path: str, secret: list[bool]) -> Any:
    """A stack-file value as the engine passes it to the program; `secure:` leaves become the placeholder."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            secret[0] = True
            return SECRET_PLACEHOLDER
        return {k: _engine_value(v, f"{path}.{k}", secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_engine_value(v, f"{path}[{i}]", secret) for i, v in enumerate(value)]
    return value


def engine_config(project_dir: Path, stack: str) -> tuple[dict[str, str], list[str]]:
    """Read Pulumi.<stack>.yaml into the engine's config shape: key -> string (objects as JSON), secret keys."""
    doc = load_stack_document(project_dir, stack)
    if doc is None:
        stacks = known_stacks(project_dir)
        raise ConfigurationError(
            [
                Problem(
                    stack_file_name(stack),
                    1,
                    1,
                    "",
                    f"no stack '{stack}': {stack_file_name(stack)} does not exist (stacks: {allowed_list(stacks)});"
                    f"{did_you_mean(stack, stacks)}",
                )
            ]
        )
    data = doc.data if isinstance(doc.data, dict) else {}
    raw = data.get("config") or {}
    if not isinstance(raw, dict):
        raise ConfigurationError([doc.problem(("config",), "'config' must be a mapping of key: value")])
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        secret = [False]
        engine = _engine_value(value, key, secret)
        if isinstance(engine, (dict, list)):
            config[key] = json.dumps(engine)
        elif isinstance(engine, bool):
            config[key] = "true" if engine else "false"
        else:
            config[key] = "" if engine is None else str(engine)
        if secret[0]:
            secret_keys.append(key)
    return config, sorted(secret_keys)


def run_program(
    project_dir: Path,
    stack: str,
    program: Callable[[], Environment | None],
    config: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    on_register: Callable[[MockRun], None] | None = None,
) -> MockRun:
    """Run ``program`` as stack ``stack`` under mocks; ConfigurationError propagates before anything registers."""
    if config is None:
        config, secret_keys = engine_config(project_dir, stack)
    run = MockRun(stack=stack, on_register=on_register)
    impl = _RenderMocks()
    runtime_settings.ROOT.set(None)  # a fresh root stack per run, so several renders can share a process
    # ...and no failure of an earlier run in this process (a wrong cluster, say) left to re-raise in this one.
    runtime_settings.SETTINGS.rpc_manager.clear()
    with runtime_settings.SETTINGS.lock:
        runtime_settings.SETTINGS.outputs.clear()
    pulumi.runtime.set_mocks(impl, project=PROJECT, stack=stack, preview=False, monitor=_RecordingMonitor(run, impl))
    pulumi.runtime.set_all_config(dict(config), list(secret_keys or []))

    async def body() -> None:
        run.environment = program()
        # The mock root stack was finished before the program ran, so read its exports directly.
        root = runtime_settings.get_root_resource()
        exports = await pulumi.Output.from_input(getattr(root, "outputs", {})).future(with_unknowns=True)
        run.outputs = dict(exports or {})

    _sync_await(run_pulumi_func(body))
    run.registrations.sort(key=lambda r: r.urn)
    return run
