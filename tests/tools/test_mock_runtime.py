"""The mock runtime and output writer: provider functions answered only from the offline table, secrets masked
where they sit, unknowns marked."""

from __future__ import annotations

import pulumi
import pytest
from pulumi.output import Unknown

from mlserve.mock_runtime import INVOKE_ANSWERS, SECRET_MARK, SECRET_SIG, UNKNOWN, run_program, settle
from mlserve.output import SECRET_TEXT, UNKNOWN_TEXT, clean
from tests.helpers import BASE_SETTINGS, ROOT, engine_config


def run(program):
    return run_program(ROOT, "dev", program, config=engine_config(BASE_SETTINGS), secret_keys=[])


def test_a_provider_function_without_an_offline_answer_fails_the_render():
    def program():
        pulumi.runtime.invoke("aws:index/getCallerIdentity:getCallerIdentity", {})

    with pytest.raises(Exception, match="offline render answers only the provider functions in"):
        run(program)


def test_a_program_that_waits_for_its_registrations_gets_their_failure_there():
    """An async program awaiting ``settle()`` between parts (the render, between models): the registrations so far
    have completed when it returns, and one that failed stops the program there with the error the render would
    otherwise report at the end."""
    import pulumi_kubernetes as k8s

    registered: list[str] = []
    seen_after_first_wait: list[str] = []

    async def program():
        k8s.core.v1.ConfigMap("first", data={"a": "b"})
        await settle()
        seen_after_first_wait.extend(registered)
        k8s.core.v1.ConfigMap.get("not-answered-offline", "default/x")
        await settle()
        k8s.core.v1.ConfigMap("never", data={"a": "b"})

    with pytest.raises(Exception, match="offline render answers only the reads in"):
        run_program(
            ROOT,
            "dev",
            program,
            config=engine_config(BASE_SETTINGS),
            secret_keys=[],
            on_register=lambda r: registered.append(r.registrations[-1].name),
        )
    assert seen_after_first_wait == ["first"]
    assert "never" not in registered


@pytest.mark.parametrize("token", sorted(INVOKE_ANSWERS))
def test_offline_answers_echo_their_arguments_or_are_unknown(token):
    args = {"registryId": "444455556666", "region": "eu-west-1"}
    answer = INVOKE_ANSWERS[token](args)
    for key, value in answer.items():
        assert value == UNKNOWN or value == args.get(key), f"{token}.{key} is made up: {value!r}"


def test_a_secret_mapping_keeps_its_keys_and_masks_every_value():
    secret = {SECRET_SIG: SECRET_MARK, "value": {".dockerconfigjson": '{"auths": {}}', "other": {"a": "b"}}}
    assert clean({"stringData": secret}) == {
        "stringData": {".dockerconfigjson": SECRET_TEXT, "other": {"a": SECRET_TEXT}}
    }


def test_a_secret_scalar_or_list_is_masked_whole():
    assert clean({SECRET_SIG: SECRET_MARK, "value": "hunter2"}) == SECRET_TEXT
    assert clean({SECRET_SIG: SECRET_MARK, "value": ["a", "b"]}) == SECRET_TEXT
    assert clean({SECRET_SIG: SECRET_MARK, "value": None}) == SECRET_TEXT


def test_unknowns_are_marked_whether_sentinel_or_deserialized():
    assert clean([UNKNOWN, Unknown()]) == [UNKNOWN_TEXT, UNKNOWN_TEXT]
