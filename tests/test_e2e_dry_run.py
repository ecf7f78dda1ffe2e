"""How the server-side dry-run reads kubectl's answers and prepares masked Secrets (the run itself needs the local
control plane: `make e2e-dry-run`)."""

from __future__ import annotations

import subprocess

from mlserve.e2e_dry_run import PLACEHOLDER, DryRunResult, _collect, _unmask


def completed(stdout: str, stderr: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(["kubectl"], code, stdout, stderr)


def test_accepted_objects_errors_and_warnings_are_counted_apart():
    result = DryRunResult("dev", objects=3)
    _collect(
        completed(
            "deployment.apps/a serverside-applied (server dry run)\nservice/a serverside-applied (server dry run)\n",
            'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false\n'
            "Warning: autoscaling/v2beta2 HorizontalPodAutoscaler is deprecated\n"
            'Error from server (Invalid): error when applying patch: NodePool "x" is invalid\n',
            1,
        ),
        result,
    )
    assert result.accepted == 2
    assert len(result.pod_security_warnings) == 1 and len(result.other_warnings) == 1
    assert result.errors == ['Error from server (Invalid): error when applying patch: NodePool "x" is invalid']
    assert not result.ok


def test_a_failing_kubectl_without_a_message_is_still_an_error():
    result = DryRunResult("dev", objects=1)
    _collect(completed("", "", 1), result)
    assert result.errors and not result.ok


def test_all_accepted_without_warnings_is_ok():
    result = DryRunResult("dev", objects=1)
    _collect(completed("namespace/ml-dev serverside-applied\n", ""), result)
    assert result.ok


def test_masked_secret_payloads_become_a_placeholder_map_and_are_counted():
    secret = {"kind": "Secret", "stringData": "[secret]", "data": {"k": "dg=="}}
    assert _unmask(secret) == 1
    assert secret["stringData"] == PLACEHOLDER and secret["data"] == {"k": "dg=="}
    assert _unmask({"kind": "ConfigMap", "data": "[secret]"}) == 0
