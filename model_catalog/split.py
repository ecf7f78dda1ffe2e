"""Split environments: one platform stack and one stack per team (docs/team-stacks.md).

A team stack's file holds only what is the team's: its catalog, its namespace (the one its platform declared for
it), the cluster (the platform's), its Secrets and ``ml-serving:split``. Everything shared (registry, GPU capacity,
monitoring, ingress, network, routing, weights cache) is read from the platform stack's file, so the two can never
disagree; the team sees the platform's monitoring as an existing one (``monitoring.mode: existing``). The checks
across stacks (an unknown team, a missing platform, a namespace or cluster the platform does not have, a model in
two teams' catalogs) are located in the file that has to change. No Pulumi import here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from .errors import ConfigurationError, Problem, allowed_list, did_you_mean
from .settings import PROJECT, StackSettings, decode_config_value, parse_settings, stack_file_name
from .yaml_source import SourceDocument, load_yaml

SPLIT = f"{PROJECT}:split"
#: Settings a team stack inherits from its platform stack (and must not set itself).
INHERITED = ("registry", "gpuNodePool", "monitoring", "ingress", "network", "routing", "weightsCache")
#: What the platform's own Prometheus is called (components/monitoring.py prometheus_url, mode managed); the team
#: stack checks at deploy time that the platform exported exactly this URL (stacks/program.py).
PROMETHEUS_URL = "http://{namespace}-monitoring-prometheus.{monitoring}.svc.cluster.local:9090"
#: A `secure:` leaf of another stack's file: ciphertext only that stack's secrets provider can decrypt.
FOREIGN_SECRET = "[secret of another stack]"


@dataclass(frozen=True)
class Platform:
    """The platform stack a team stack belongs to, validated."""

    stack: str
    settings: StackSettings

    def prometheus_url(self) -> str:
        mon = self.settings.monitoring
        if mon.mode == "existing":
            assert mon.existing is not None
            return mon.existing.prometheus_url
        return PROMETHEUS_URL.format(namespace=self.settings.environment.namespace, monitoring=mon.namespace)


def is_stack_name(value: Any) -> bool:
    """A name the settings accept for a stack (a DNS label): only such a name is ever turned into a file path."""
    return isinstance(value, str) and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", value) is not None


def split_of(config: Mapping[str, Any]) -> dict[str, Any]:
    """The raw ``ml-serving:split`` value of a stack's config ({} when absent or not a mapping)."""
    value = decode_config_value(config.get(SPLIT))
    return value if isinstance(value, dict) else {}


def stack_file_config(doc: SourceDocument) -> tuple[dict[str, Any], set[str]]:
    """A stack file's ``config:`` as values (not engine strings) and which keys hold a `secure:` leaf (those leaves
    become FOREIGN_SECRET: another stack's secrets are never decrypted here)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    raw = data.get("config") if isinstance(data.get("config"), dict) else {}
    secret: set[str] = set()

    def plain(key: str, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"secure"}:
                secret.add(key)
                return FOREIGN_SECRET
            return {k: plain(key, v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(key, v) for v in value]
        return value

    return {str(k): plain(str(k), v) for k, v in raw.items()}, secret


def _role(project_dir: FsPath, stack: str) -> tuple[str | None, Any]:
    """A stack file's split.role and split.platform as written (None, None when it cannot be read)."""
    path = project_dir / stack_file_name(stack)
    if not path.is_file():
        return None, None
    try:
        config, _ = stack_file_config(load_yaml(path, shown_as=stack_file_name(stack)))
    except ConfigurationError:
        return None, None
    split = split_of(config)
    return split.get("role", "single"), split.get("platform")


def platform_of(project_dir: FsPath, stack: str) -> str | None:
    """The platform stack a team stack names in its file, when that stack is one (split.role platform); else None
    (not a team stack, or a mistake the stack's own validation reports)."""
    role, platform = _role(project_dir, stack)
    if role != "team" or not is_stack_name(platform) or platform == stack:
        return None
    return platform if _role(project_dir, platform)[0] == "platform" else None


Locate = Callable[[tuple[str | int, ...], str], Problem]


def _locator(stack: str, doc: SourceDocument | None) -> Locate:
    def locate(path: tuple[str | int, ...], message: str) -> Problem:
        key = f"{PROJECT}:{path[0]}"
        shown = ".".join([key, *(str(p) for p in path[1:])])
        if doc is None:
            return Problem(stack_file_name(stack), 1, 1, shown, message)
        return doc.problem(("config", key, *path[1:]), message, shown_path=shown)

    return locate


def team_config(
    project_dir: FsPath,
    stack: str,
    config: Mapping[str, Any],
    secret_keys: set[str],
    doc: SourceDocument | None,
    known: list[str],
) -> tuple[dict[str, Any], set[str], Platform | None, list[Problem]]:
    """A team stack's config with the platform's shared settings in it, its platform, and what is wrong; any other
    stack's config unchanged."""
    split = split_of(config)
    platform_stack = split.get("platform")
    if split.get("role") != "team" or not is_stack_name(platform_stack):
        # (Not a team stack, or a platform name that is no DNS label: the settings' own checks report it.)
        return dict(config), set(secret_keys), None, []
    here = _locator(stack, doc)
    problems: list[Problem] = []
    for key in INHERITED:
        if f"{PROJECT}:{key}" in config:
            problems.append(
                here(
                    (key,),
                    f"a team stack inherits '{PROJECT}:{key}' from its platform stack '{platform_stack}' "
                    f"({stack_file_name(platform_stack)}); remove it here, or change it there for every team",
                )
            )
    path = project_dir / stack_file_name(platform_stack)
    if platform_stack == stack or not path.exists():
        others = [s for s in known if s != stack]
        problems.append(
            here(
                ("split", "platform"),
                f"no platform stack '{platform_stack}': a team stack names the stack of its environment that has "
                f"split.role 'platform' (stacks: {allowed_list(others)});{did_you_mean(platform_stack, others)}",
            )
        )
        return dict(config), set(secret_keys), None, problems
    platform_doc = load_yaml(path, shown_as=stack_file_name(platform_stack))
    platform_config, platform_secrets = stack_file_config(platform_doc)
    role = split_of(platform_config).get("role", "single")
    if role != "platform":
        problems.append(
            here(
                ("split", "platform"),
                f"stack '{platform_stack}' ({stack_file_name(platform_stack)}) is not a platform stack (its "
                f"split.role is '{role}'); name the stack with split.role 'platform' of this environment",
            )
        )
        return dict(config), set(secret_keys), None, problems
    try:
        platform_settings = parse_settings(platform_config, platform_secrets, platform_stack, platform_doc)
    except ConfigurationError as exc:
        return dict(config), set(secret_keys), None, [*problems, *exc.problems]
    platform = Platform(platform_stack, platform_settings)
    composed = dict(config)
    for key in INHERITED:
        full = f"{PROJECT}:{key}"
        if full in platform_config:
            if full in platform_secrets:
                problems.append(
                    _locator(platform_stack, platform_doc)(
                        (key,),
                        "holds a secret, which team stacks cannot decrypt (each stack has its own secrets); a "
                        "split environment's shared settings are plain values",
                    )
                )
            composed[full] = json.dumps(platform_config[full])
    if isinstance(platform_config.get(f"{PROJECT}:gpuNodePool"), dict):
        # The platform's GPU nodes, and their one device plugin (the platform installs it), are the team's too.
        pools = {**platform_config[f"{PROJECT}:gpuNodePool"], "installDevicePlugin": False}
        composed[f"{PROJECT}:gpuNodePool"] = json.dumps(pools)
    if platform_settings.monitoring.enabled and platform_settings.monitoring.mode == "managed":
        mon = platform_settings.monitoring
        seen = {
            "enabled": True,
            "mode": "existing",
            "namespace": mon.namespace,
            "existing": {"prometheusUrl": platform.prometheus_url()},
            "scrapeInterval": mon.scrape_interval,
            "runbookBaseUrl": mon.runbook_base_url,
        }
        if mon.wake_hours is not None:
            seen["wakeHours"] = mon.wake_hours.model_dump(by_alias=True)
        composed[f"{PROJECT}:monitoring"] = json.dumps(seen)
    return composed, set(secret_keys), platform, problems


def team_problems(stack: str, settings: StackSettings, platform: Platform, doc: SourceDocument | None) -> list[Problem]:
    """A valid team stack's settings against its platform's: a declared team, its namespace, the same cluster."""
    here = _locator(stack, doc)
    split, declared = settings.split, platform.settings.split.teams
    platform_file = stack_file_name(platform.stack)
    assert split.team is not None
    if split.team not in declared:
        return [
            here(
                ("split", "team"),
                f"unknown team '{split.team}': platform stack '{platform.stack}' ({platform_file}) declares "
                f"{allowed_list(declared)} in split.teams;{did_you_mean(split.team, list(declared))}",
            )
        ]
    problems = []
    namespace = platform.settings.split.team_namespace(split.team, platform.settings.environment.namespace)
    if settings.environment.namespace != namespace:
        problems.append(
            here(
                ("environment", "namespace"),
                f"got '{settings.environment.namespace}'; platform stack '{platform.stack}' ({platform_file}) "
                f"creates namespace '{namespace}' for team '{split.team}', and a team's models run only there",
            )
        )
    if settings.environment.tier != platform.settings.environment.tier:
        problems.append(
            here(
                ("environment", "tier"),
                f"got '{settings.environment.tier}'; a team stack has its platform's tier "
                f"('{platform.settings.environment.tier}', {platform_file})",
            )
        )
    mine, theirs = settings.cluster.model_dump(), platform.settings.cluster.model_dump()
    for field in ("name", "context", "kube_system_uid", "kubernetes_version"):
        if mine[field] != theirs[field]:
            alias = type(settings.cluster).model_fields[field].alias or field
            problems.append(
                here(
                    ("cluster", alias),
                    f"got {mine[field]!r}; a team stack deploys to its platform's cluster: {alias} "
                    f"{theirs[field]!r} in {platform_file}",
                )
            )
    return problems


def sibling_teams(project_dir: FsPath, stack: str, platform: str, known: list[str]) -> dict[str, tuple[str, str]]:
    """The other team stacks of ``platform``: stack -> (team, catalog file as its settings name it)."""
    found = {}
    for other in known:
        path = project_dir / stack_file_name(other)
        if other == stack or not path.exists():
            continue
        config, _ = stack_file_config(load_yaml(path, shown_as=stack_file_name(other)))
        split = split_of(config)
        if split.get("role") == "team" and split.get("platform") == platform and isinstance(split.get("team"), str):
            catalog = config.get(f"{PROJECT}:catalog", "models.yaml")
            found[other] = (split["team"], catalog if isinstance(catalog, str) else "models.yaml")
    return found


def ownership_problems(
    project_dir: FsPath,
    stack: str,
    settings: StackSettings,
    catalog: SourceDocument,
    models: list[str],
    doc: SourceDocument | None,
    known: list[str],
) -> list[Problem]:
    """One stack per team, one catalog per team, and every model in exactly one team's catalog."""
    split = settings.split
    assert split.platform is not None and split.team is not None
    here = _locator(stack, doc)
    problems = []
    for other, (team, catalog_file) in sorted(sibling_teams(project_dir, stack, split.platform, known).items()):
        if team == split.team:
            problems.append(
                here(
                    ("split", "team"),
                    f"team '{team}' already has stack '{other}' ({stack_file_name(other)}); one stack per team",
                )
            )
            continue
        if catalog_file == settings.catalog:
            problems.append(
                here(
                    ("catalog",),
                    f"'{catalog_file}' is also team '{team}''s catalog (stack '{other}'); each team has a catalog "
                    "of its own (CODEOWNERS gives each its owners)",
                )
            )
            continue
        path = project_dir / catalog_file
        if not path.is_file():
            continue  # that stack's own validation names it
        try:
            theirs = load_yaml(path, shown_as=catalog_file)
        except ConfigurationError:
            continue
        data = theirs.data if isinstance(theirs.data, dict) else {}
        their_models = data.get("models") if isinstance(data.get("models"), dict) else {}
        for model in models:
            if model in their_models:
                line, _ = theirs.locate(("models", model), at_key=True)
                problems.append(
                    catalog.problem(
                        ("models", model),
                        f"model '{model}' is also in team '{team}''s catalog ({catalog_file}:{line}, stack "
                        f"'{other}'); a model belongs to one team (its owners review it, one stack deploys it): "
                        "remove it from one of them",
                        at_key=True,
                    )
                )
    return problems


@dataclass(frozen=True)
class TeamStack:
    """A team stack as CODEOWNERS needs it."""

    stack: str
    team: str
    catalog: str
    owners: tuple[str, ...]


def team_stacks(project_dir: FsPath, known: list[str]) -> list[TeamStack]:
    """Every team stack of the project with its catalog and its platform's owners for it, by stack name; raise
    ConfigurationError (located) when a team stack's settings or its platform are invalid."""
    found, problems = [], []
    for stack in known:
        path = project_dir / stack_file_name(stack)
        doc = load_yaml(path, shown_as=stack_file_name(stack))
        config, secret_keys = stack_file_config(doc)
        if split_of(config).get("role") != "team":
            continue
        composed, secret_keys, platform, found_problems = team_config(
            project_dir, stack, config, secret_keys, doc, known
        )
        problems.extend(found_problems)
        if platform is None or found_problems:
            continue
        try:
            settings = parse_settings(composed, secret_keys, stack, doc)
        except ConfigurationError as exc:
            problems.extend(exc.problems)
            continue
        wrong = team_problems(stack, settings, platform, doc)
        problems.extend(wrong)
        if wrong:
            continue
        assert settings.split.team is not None
        owners = tuple(platform.settings.split.teams[settings.split.team].owners)
        found.append(TeamStack(stack, settings.split.team, settings.catalog, owners))
    if problems:
        raise ConfigurationError(problems)
    return found
