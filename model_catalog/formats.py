"""String formats of the GPU node pool settings, with the plain-language description every error message uses."""

from __future__ import annotations

#: Karpenter duration (consolidateAfter, expireAfter): hours, minutes, seconds, e.g. "30m" or "1h30m", or "Never".
DURATION_OR_NEVER_PATTERN = r"^(([0-9]+(s|m|h))+|Never)$"
#: Karpenter AMI alias for the EKS-optimized AL2023 AMIs: a dated release or latest.
AL2023_ALIAS_PATTERN = r"^al2023@(latest|v[0-9]{8})$"

FORMAT_DESCRIPTIONS: dict[str, str] = {
    DURATION_OR_NEVER_PATTERN: 'a duration such as "30m", "12h" or "1h30m", or "Never"',
    AL2023_ALIAS_PATTERN: "an Amazon Linux 2023 alias, al2023@v<YYYYMMDD> (an EKS AMI release) or al2023@latest",
}
