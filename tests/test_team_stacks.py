"""A split environment (docs/team-stacks.md): the platform stack and two team stacks of examples/team-stacks render;
a change to one team's catalog changes that team's render only; the team stacks read the platform's outputs
through a StackReference answered from the platform's own render; bad splits are located errors (exit 2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlserve.__main__ import EXIT_INVALID, main
from mlserve.mock_runtime import StackOutputs
from mlserve.render import render, run_stack
from model_catalog.split import platform_of
from tests.helpers import ROOT

EXAMPLE = ROOT / "examples" / "team-stacks"
STACKS = ("prod", "prod-nlp", "prod-vision")


def copy_example(directory: Path) -> Path:
    project = directory / "project"
    shutil.copytree(EXAMPLE, project)
    shutil.copy2(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    return project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


@pytest.fixture(scope="module")
def example_render(tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """The example's three stacks rendered once, unchanged."""
    directory = tmp_path_factory.mktemp("example")
    return rendered(copy_example(directory), directory / "out")


def rendered(project: Path, out: Path) -> dict[str, dict[str, bytes]]:
    """Every stack's render: stack -> file (relative to its output directory) -> bytes."""
    files = {}
    for stack in STACKS:
        render(project, stack, out / stack, progress=False)
        root = out / stack
        files[stack] = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    return files


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_change_to_one_teams_catalog_changes_only_that_teams_render(project, tmp_path, example_render):
    before = example_render
    assert sorted(before["prod-nlp"]) != sorted(before["prod-vision"])
    # nlp scales further and gains a model; nothing else changes.
    catalog = project / "teams" / "nlp" / "models.yaml"
    edit(catalog, "maxReplicas: 10", "maxReplicas: 12")
    text = catalog.read_text(encoding="utf-8")
    second = text[text.index("  review-sentiment:") :].replace("review-sentiment:", "review-toxicity:", 1)
    catalog.write_text(text + "\n" + second, encoding="utf-8")
    after = rendered(project, tmp_path / "after")
    assert after["prod"] == before["prod"]
    assert after["prod-vision"] == before["prod-vision"]
    changed = {f for f in after["prod-nlp"] if after["prod-nlp"][f] != before["prod-nlp"].get(f)}
    assert "manifests/ml-prod-nlp--deployment--review-toxicity.yaml" in changed
    assert "manifests/ml-prod-nlp--scaledobject--review-sentiment.yaml" in changed
    assert all("review-" in f or f == "resources.json" or "overview" in f for f in changed), changed


def test_the_platform_has_the_shared_part_and_the_teams_only_their_models(example_render):
    files = example_render
    platform = files["prod"]
    assert "manifests/_cluster--namespace--ml-prod-nlp.yaml" in platform
    assert "manifests/_cluster--namespace--ml-prod-vision.yaml" in platform
    assert not [f for f in platform if "--deployment--" in f]
    nlp = [f for f in files["prod-nlp"] if f.startswith("manifests/")]
    assert "manifests/ml-prod-nlp--deployment--review-sentiment.yaml" in nlp
    # The team's objects are in its namespace, and its dashboards in the platform's monitoring namespace.
    assert all(
        f.startswith(("manifests/ml-prod-nlp--", "manifests/ml-prod-monitoring--configmap--ml-prod-nlp-")) for f in nlp
    )
    assert not [f for f in nlp if "--namespace--" in f]
    # The platform's Prometheus operator watches every team's namespace.
    prometheus = json.loads(platform["resources.json"])
    chart = next(r for r in prometheus["resources"] if r["name"] == "monitoring-kube-prometheus-stack")
    watched = chart["inputs"]["values"]["prometheusOperator"]["namespaces"]["additional"]
    assert watched == ["ml-prod-nlp", "ml-prod-vision"]


def test_a_team_stack_reads_the_platforms_outputs_through_a_stack_reference(project, example_render):
    platform = json.loads(example_render["prod"]["resources.json"])
    run = run_stack(project, "prod-nlp")
    reference = next(r for r in run.registrations if r.type == "pulumi:pulumi:StackReference")
    assert reference.options == {"read": "organization/ml-serving/prod"}
    provider = next(r for r in run.registrations if r.type == "pulumi:providers:kubernetes" and r.name == "kubernetes")
    assert reference.urn in provider.dependencies  # every object waits for the platform check
    # The namespace the team exports is the one the platform's render exported for it.
    assert run.outputs["namespace"] == platform["outputs"]["teams"]["nlp"]["namespace"] == "ml-prod-nlp"


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ({"teams": {"vision": {"namespace": "ml-prod-vision"}}}, "exports no team 'nlp' (it has: vision)"),
        ({"teams": {"nlp": {"namespace": "elsewhere"}}}, "created namespace 'elsewhere' for team 'nlp'"),
        (
            {"teams": {"nlp": {"namespace": "ml-prod-nlp"}}, "monitoring": {"prometheus": "http://other:9090"}},
            "runs Prometheus at 'http://other:9090', but this stack's autoscalers would query "
            "'http://ml-prod-monitoring-prometheus.ml-prod-monitoring.svc.cluster.local:9090'",
        ),
    ],
)
def test_a_team_stack_refuses_a_platform_that_has_not_deployed_what_it_needs(project, monkeypatch, outputs, message):
    from mlserve import render as render_module

    monkeypatch.setattr(render_module, "platform_outputs", lambda *_: {"prod": StackOutputs(outputs, [])})
    with pytest.raises(Exception, match="deploy the platform stack first: pulumi up -s prod") as info:
        run_stack(project, "prod-nlp")
    assert message in str(info.value)


def test_render_all_knows_each_team_stacks_platform(project):
    assert {stack: platform_of(project, stack) for stack in STACKS} == {
        "prod": None,
        "prod-nlp": "prod",
        "prod-vision": "prod",
    }


def test_render_all_renders_the_platform_and_every_team(project, tmp_path, capsys):
    assert main(["render", "--all", "--project-dir", str(project), "--out", str(tmp_path / "all")]) == 0
    for stack in STACKS:
        assert (tmp_path / "all" / stack / "resources.json").is_file()


def invalid(project: Path, stack: str, capsys) -> list[str]:
    assert main(["validate", "--project-dir", str(project), "--stack", stack]) == EXIT_INVALID
    return capsys.readouterr().err.splitlines()


def test_an_unknown_team_is_located_and_lists_the_platforms_teams(project, capsys):
    edit(project / "Pulumi.prod-nlp.yaml", "team: nlp", "team: nlpp")
    lines = invalid(project, "prod-nlp", capsys)
    assert (
        "Pulumi.prod-nlp.yaml:8:11: ml-serving:split.team: unknown team 'nlpp': platform stack 'prod' "
        "(Pulumi.prod.yaml) declares 'nlp', 'vision' in split.teams; did you mean 'nlp'?"
    ) in lines, lines


def test_a_model_in_two_teams_catalogs_is_located_in_both(project, capsys):
    edit(project / "teams" / "nlp" / "models.yaml", "  review-sentiment:", "  resnet50:")
    lines = invalid(project, "prod-nlp", capsys)
    assert any(
        line.startswith(
            "teams/nlp/models.yaml:6:3: models.resnet50: model 'resnet50' is also in team 'vision''s "
            "catalog (teams/vision/models.yaml:6, stack 'prod-vision')"
        )
        for line in lines
    ), lines


@pytest.mark.parametrize(
    ("file", "old", "new", "stack", "expected"),
    [
        (
            "Pulumi.prod-nlp.yaml",
            "platform: prod",
            "platform: prd",
            "prod-nlp",
            "Pulumi.prod-nlp.yaml:7:15: ml-serving:split.platform: no platform stack 'prd': a team stack names the "
            "stack of its environment that has split.role 'platform' (stacks: 'prod', 'prod-vision'); did you mean "
            "'prod'?",
        ),
        (
            "Pulumi.prod-nlp.yaml",
            "platform: prod",
            "platform: prod-vision",
            "prod-nlp",
            "Pulumi.prod-nlp.yaml:7:15: ml-serving:split.platform: stack 'prod-vision' (Pulumi.prod-vision.yaml) is "
            "not a platform stack (its split.role is 'team'); name the stack with split.role 'platform' of this "
            "environment",
        ),
        (
            "Pulumi.prod-nlp.yaml",
            "namespace: ml-prod-nlp",
            "namespace: ml-prod-text",
            "prod-nlp",
            "Pulumi.prod-nlp.yaml:12:16: ml-serving:environment.namespace: got 'ml-prod-text'; platform stack 'prod' "
            "(Pulumi.prod.yaml) creates namespace 'ml-prod-nlp' for team 'nlp', and a team's models run only there",
        ),
        (
            "Pulumi.prod-nlp.yaml",
            "name: ml-prod-eks",
            "name: ml-other-eks",
            "prod-nlp",
            "Pulumi.prod-nlp.yaml:16:11: ml-serving:cluster.name: got 'ml-other-eks'; a team stack deploys to its "
            "platform's cluster: name 'ml-prod-eks' in Pulumi.prod.yaml",
        ),
        (
            "Pulumi.prod-nlp.yaml",
            "  ml-serving:catalog: teams/nlp/models.yaml\n",
            "  ml-serving:catalog: teams/nlp/models.yaml\n  ml-serving:registry:\n    type: none\n",
            "prod-nlp",
            "Pulumi.prod-nlp.yaml:11:5: ml-serving:registry: a team stack inherits 'ml-serving:registry' from its "
            "platform stack 'prod' (Pulumi.prod.yaml); remove it here, or change it there for every team",
        ),
        (
            "Pulumi.prod-nlp.yaml",
            "catalog: teams/nlp/models.yaml",
            "catalog: teams/vision/models.yaml",
            "prod-nlp",
            "Pulumi.prod-nlp.yaml:9:23: ml-serving:catalog: 'teams/vision/models.yaml' is also team 'vision''s "
            "catalog (stack 'prod-vision'); each team has a catalog of its own (CODEOWNERS gives each its owners)",
        ),
        (
            "Pulumi.prod-vision.yaml",
            "team: vision",
            "team: nlp",
            "prod-vision",
            "Pulumi.prod-vision.yaml:8:11: ml-serving:split.team: team 'nlp' already has stack 'prod-nlp' "
            "(Pulumi.prod-nlp.yaml); one stack per team",
        ),
        (
            "Pulumi.prod.yaml",
            "    role: platform\n",
            "    role: platform\n    team: nlp\n",
            "prod",
            "Pulumi.prod.yaml:8:11: ml-serving:split.team: 'team' is only for role 'team' (this stack's role is "
            "'platform')",
        ),
        (
            "Pulumi.prod.yaml",
            "      nlp:\n",
            "      nlp:\n        namespace: ml-prod-vision\n",
            "prod",
            "Pulumi.prod.yaml:10:9: ml-serving:split.teams.vision: team 'vision' would run in namespace "
            "'ml-prod-vision', already taken by team 'nlp'; give it its own (split.teams.vision.namespace)",
        ),
    ],
    ids=[
        "missing-platform",
        "not-a-platform",
        "other-namespace",
        "other-cluster",
        "shared-setting-in-team",
        "shared-catalog",
        "two-stacks-one-team",
        "team-field-on-platform",
        "one-namespace-two-teams",
    ],
)
def test_a_bad_split_is_one_located_error(project, capsys, file, old, new, stack, expected):
    edit(project / file, old, new)
    lines = invalid(project, stack, capsys)
    assert expected in lines, "\n".join(lines)


def test_a_team_gpu_model_runs_on_the_gpu_nodes_the_platform_declares(example_render):
    platform = json.loads(example_render["prod"]["resources.json"])
    charts = sorted(r["name"] for r in platform["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart")
    # One device plugin and one DCGM exporter for the declared GPU nodes, installed by the platform only.
    assert "gpu-nodes-device-plugin-chart" in charts and "monitoring-dcgm-exporter" in charts
    vision = json.loads(example_render["prod-vision"]["resources.json"])
    assert not [r for r in vision["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart"]
    deployment = example_render["prod-vision"]["manifests/ml-prod-vision--deployment--object-detector.yaml"].decode()
    assert "eks.amazonaws.com/nodegroup: ml-prod-gpu-l4" in deployment


def test_a_gpu_model_on_an_accelerator_the_platform_has_no_nodes_for_is_located(project, capsys):
    catalog = project / "teams" / "vision" / "models.yaml"
    edit(catalog, "gpu: {accelerator: nvidia-l4, count: 1}", "gpu: {accelerator: nvidia-h100, count: 1}")
    lines = invalid(project, "prod-vision", capsys)
    assert (
        "teams/vision/models.yaml:36:26: models.object-detector.resources.gpu.accelerator: team stack 'prod-vision' "
        "has no 'nvidia-h100' nodes: its platform stack 'prod' (Pulumi.prod.yaml) declares nvidia-l4 in "
        "ml-serving:gpuNodePool.existing"
    ) in lines, lines


def test_karpenter_on_a_split_platform_is_refused_until_gpu_budgets_exist(project, capsys):
    edit(project / "Pulumi.prod.yaml", "    provider: existing\n", "    provider: karpenter\n    nodeRole: r\n")
    lines = invalid(project, "prod", capsys)
    assert any(
        "ml-serving:gpuNodePool.provider: got 'karpenter'; a split environment's platform" in line for line in lines
    ), lines


def test_the_examples_codeowners_gives_each_team_its_catalog_and_stack_file(project, capsys):
    assert main(["codeowners", "--project-dir", str(project), "--check"]) == 0
    text = (project / "CODEOWNERS").read_text(encoding="utf-8")
    assert "/teams/nlp/models.yaml @acme/nlp-ml nlp-oncall@acme.example\n" in text
    assert "/Pulumi.prod-vision.yaml @acme/vision-ml\n" in text


def test_codeowners_rewrites_only_its_section_and_check_finds_a_stale_one(project, capsys):
    codeowners = project / "CODEOWNERS"
    edit(project / "Pulumi.prod.yaml", '["@acme/vision-ml"]', '["@acme/vision"]')
    assert main(["codeowners", "--project-dir", str(project), "--check"]) == 1
    assert "out of date; run: mlserve codeowners" in capsys.readouterr().err
    before = codeowners.read_text(encoding="utf-8")
    assert main(["codeowners", "--project-dir", str(project)]) == 0
    after = codeowners.read_text(encoding="utf-8")
    assert "/teams/vision/models.yaml @acme/vision\n" in after
    # The user's lines outside the section are kept as they were.
    assert after.split("# BEGIN")[0] == before.split("# BEGIN")[0] and "* @acme/ml-platform\n" in after
    assert main(["codeowners", "--project-dir", str(project), "--check"]) == 0


def test_codeowners_of_an_invalid_team_stack_is_a_located_error(project, capsys):
    edit(project / "Pulumi.prod-nlp.yaml", "team: nlp", "team: nope")
    assert main(["codeowners", "--project-dir", str(project)]) == EXIT_INVALID
    assert "Pulumi.prod-nlp.yaml:8:11: ml-serving:split.team: unknown team 'nope'" in capsys.readouterr().err


def test_an_owner_that_is_no_user_team_or_email_is_an_error(project, capsys):
    edit(project / "Pulumi.prod.yaml", '["@acme/vision-ml"]', '["vision team"]')
    lines = invalid(project, "prod", capsys)
    assert any("ml-serving:split.teams.vision.owners[0]" in line and "CODEOWNERS owner" in line for line in lines), (
        lines
    )


def test_a_secret_output_of_the_platform_stays_secret_through_the_reference(project, tmp_path):
    import pulumi

    from mlserve.mock_runtime import run_program

    def program():
        reference = pulumi.StackReference("platform", "organization/ml-serving/prod")
        pulumi.export("token", reference.get_output("token"))
        pulumi.export("plain", reference.get_output("plain"))

    references = {"prod": StackOutputs({"token": "s3cr3t", "plain": "visible"}, ["token"])}
    run = run_program(project, "prod-nlp", program, references=references)
    assert run.secret_outputs == ["token"]
    assert run.outputs["plain"] == "visible"
    summary_dir = tmp_path / "out"
    from mlserve.output import write_render

    write_render(run, summary_dir, project)
    written = (summary_dir / "resources.json").read_text(encoding="utf-8")
    assert "s3cr3t" not in written
    assert json.loads(written)["outputs"] == {"plain": "visible", "token": "[secret]"}


def test_a_reference_to_a_stack_the_render_did_not_render_first_is_refused(project):
    import pulumi

    from mlserve.mock_runtime import run_program

    def program():
        pulumi.export("x", pulumi.StackReference("other", "organization/ml-serving/staging").outputs)

    with pytest.raises(Exception, match="answers only references to the stacks it rendered first"):
        run_program(project, "prod-nlp", program, references={})


def test_render_all_reports_a_team_whose_platform_failed_without_rendering_it(project, tmp_path, capsys):
    edit(project / "Pulumi.prod.yaml", "tier: prod", "tier: production")
    assert main(["render", "--all", "--project-dir", str(project), "--out", str(tmp_path / "all")]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "Pulumi.prod.yaml:14:11: ml-serving:environment.tier: got 'production'" in err
    assert "stack 'prod-nlp' not rendered: its platform stack 'prod' failed" in err
    assert not (tmp_path / "all" / "prod-nlp").exists()


def test_render_all_ends_when_team_stacks_name_each_other(project, tmp_path, capsys):
    edit(project / "Pulumi.prod-nlp.yaml", "platform: prod", "platform: prod-vision")
    edit(project / "Pulumi.prod-vision.yaml", "platform: prod", "platform: prod-nlp")
    assert main(["render", "--all", "--project-dir", str(project), "--out", str(tmp_path / "all")]) == EXIT_INVALID
    assert "is not a platform stack (its split.role is 'team')" in capsys.readouterr().err


def test_render_all_starts_a_team_stack_only_after_its_platform_finished(project, tmp_path, monkeypatch, capsys):
    from mlserve.commands import render as render_command

    events: list[str] = []

    class Finished:
        """A render process that has finished by the time it is first polled."""

        def __init__(self, command, **_):
            self.stack = command[command.index("--stack") + 1]
            self.returncode = None
            events.append(f"start {self.stack}")

        def poll(self):
            if self.returncode is None:
                self.returncode = 0
                events.append(f"done {self.stack}")
            return self.returncode

        def communicate(self):
            return f"rendered {self.stack}\n", ""

    monkeypatch.setattr(render_command.subprocess, "Popen", Finished)
    assert main(["render", "--all", "--jobs", "3", "--project-dir", str(project), "--out", str(tmp_path)]) == 0
    # With room for three at once, only the platform starts first; both teams start once it is done.
    assert events[:2] == ["start prod", "done prod"]
    assert sorted(events[2:4]) == ["start prod-nlp", "start prod-vision"]


def test_a_secret_in_a_setting_the_teams_inherit_is_located_in_the_platform_file(project, capsys):
    external = (
        "    type: external\n    address: registry.acme.example/ml\n    username:\n      secure: AAABAMh0ZXN0\n"
        "  ml-serving:registryPassword:\n    secure: AAABAPw0cmQ=\n"
    )
    edit(
        project / "Pulumi.prod.yaml", '    type: ecr\n    region: eu-west-1\n    accountId: "444455556666"\n', external
    )
    lines = invalid(project, "prod-nlp", capsys)
    assert any(
        line.startswith("Pulumi.prod.yaml:")
        and "ml-serving:registry: holds a secret, which team stacks cannot decrypt" in line
        for line in lines
    ), lines
    assert not any("AAABAMh0ZXN0" in line for line in lines)
