"""Every action a workflow uses is pinned by a full commit SHA whose tag comment and SHA are the ones
docs/pins-provenance.md lists as verified against the action's upstream repository."""

from __future__ import annotations

import re

from tests.helpers import ROOT

USES = re.compile(r"^\s*-?\s*uses:\s*(?P<action>[\w.-]+/[\w.-]+)@(?P<ref>\S+)(?:\s*#\s*(?P<tag>v[\w.]+))?", re.M)
ROW = re.compile(r"^\| `(?P<action>[\w.-]+/[\w.-]+)` \| (?P<tag>v[\w.]+)[^|]*\| `(?P<sha>[0-9a-f]{40})` \|", re.M)


def test_every_action_is_pinned_to_the_verified_sha_of_its_tag():
    verified = {
        m["action"]: (m["tag"], m["sha"])
        for m in ROW.finditer((ROOT / "docs" / "pins-provenance.md").read_text(encoding="utf-8"))
    }
    assert len(verified) >= 4
    used = []
    for workflow in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for m in USES.finditer(workflow.read_text(encoding="utf-8")):
            used.append(m["action"])
            where = f"{workflow.name}: {m['action']}@{m['ref']}"
            assert re.fullmatch(r"[0-9a-f]{40}", m["ref"]), f"{where} is not pinned by a full commit SHA"
            assert m["action"] in verified, f"{where}: not in docs/pins-provenance.md section 6"
            assert (m["tag"], m["ref"]) == verified[m["action"]], f"{where} # {m['tag']} differs from the verified pin"
    assert set(used) == set(verified), "docs/pins-provenance.md lists actions no workflow uses"
