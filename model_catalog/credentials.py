"""Credential screening of plain values: catalog env values, weights URIs, build args, labels, annotations, hosts.

Plain values end up in the stack state, the rendered manifests and the cluster, readable by anyone who can read
those. A value that looks like a credential is an error pointing at the place for it (`secretEnv`,
`weights.credentialsSecret`), and a message never quotes it.

The detection is Yelp's detect-secrets (a maintained secrets scanner, used here as a library): its token-shape
plugins (AWS keys, GitHub, GitLab, Slack, JWT, PEM private keys, Stripe, OpenAI, PyPI, npm, ...), its basic-auth
URL rule and its two Shannon-entropy plugins with their default limits (base64 4.5, hex 3.0 bits per character).
Additions here, each for a gap of that rule set: Hugging Face tokens (`hf_...`, no plugin upstream); URL userinfo
and query-string credentials parsed with urllib (the plugin's regex misses `https://token@host`); variable names
that name a credential (its keyword list, matched on names instead of assignments); and, to keep the entropy rule
usable on catalog values, a minimum length of 20 characters and the exemption of exact 40- and 64-digit hex
strings (git commits and sha256 digests pin revisions; GitHub's own tokens have prefixes the GitHub plugin finds).
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from dataclasses import dataclass

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.high_entropy_strings import (
    Base64HighEntropyString,
    HexHighEntropyString,
    HighEntropyStringsPlugin,
)
from detect_secrets.plugins.keyword import DENYLIST

#: Shortest token the entropy rule looks at: shorter random strings are ids and hashes, not credentials.
MIN_ENTROPY_LENGTH = 20
_DIGEST = re.compile(r"^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")
#: Regex plugins that are not credential shapes (a public IP address is not a secret).
_NOT_CREDENTIALS = {"Public IP (ipv4)"}
#: Query parameters that carry a credential (pre-signed URLs of S3, GCS and Azure; API keys and tokens).
CREDENTIAL_QUERY_PARAMETERS = frozenset(
    {
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "signature",
        "sig",
        "token",
        "access_token",
        "id_token",
        "auth",
        "key",
        "apikey",
        "api_key",
        "password",
        "secret",
        "client_secret",
    }
)
#: Names of variables that hold a credential: detect-secrets' keyword list, plus words it matches only in code
#: (`token` as the last word, DSNs and database URLs, which carry a password more often than not).
_CREDENTIAL_NAME = re.compile(
    r"(" + "|".join(DENYLIST) + r"|credentials?|access_?key|(^|_)token$|(^|_)dsn$|database_?url|connection_?string)",
    re.IGNORECASE,
)


class HuggingFaceTokenDetector(RegexBasedDetector):
    """Hugging Face user access tokens (`hf_` and 34 letters); detect-secrets has no plugin for them."""

    secret_type = "Hugging Face Token"
    denylist = [re.compile(r"(?<![A-Za-z0-9])(hf_[A-Za-z]{34})(?![A-Za-z0-9])")]


@dataclass(frozen=True)
class Finding:
    kind: str
    """What it looks like, e.g. 'URL with a password' or 'GitHub Token'."""
    secret: str
    """The matched text (for redaction only: never shown)."""


@functools.cache
def _shape_plugins() -> tuple[BasePlugin, ...]:
    plugins = [
        cls()
        for kind, cls in sorted(get_mapping_from_secret_type_to_class().items())
        if issubclass(cls, RegexBasedDetector) and kind not in _NOT_CREDENTIALS
    ]
    return (*plugins, HuggingFaceTokenDetector())


@functools.cache
def _entropy_plugins() -> tuple[HighEntropyStringsPlugin, ...]:
    return (Base64HighEntropyString(), HexHighEntropyString())


@functools.cache
def _plain_regexes() -> tuple[re.Pattern[str], ...]:
    """The regular expressions of the token-shape plugins that report exactly what their expressions find (the
    stock ``RegexBasedDetector``): a value none of them finds anything in gets nothing from those plugins."""
    return tuple(
        regex
        for plugin in _shape_plugins()
        if type(plugin).analyze_string is RegexBasedDetector.analyze_string
        and type(plugin).analyze_line is BasePlugin.analyze_line
        for regex in plugin.denylist
    )


@functools.cache
def _other_shape_plugins() -> tuple[BasePlugin, ...]:
    """The token-shape plugins that decide more than their expressions say (JSON Web Tokens are decoded)."""
    plain = set(_plain_regexes())
    return tuple(plugin for plugin in _shape_plugins() if not set(plugin.denylist) <= plain)


def _shapes(value: str) -> list[Finding]:
    # Almost no value matches any plugin's expression: those run the plugins with their own logic only (the same
    # findings, in the same order, for a fraction of the cost; a match runs every plugin).
    plugins = _shape_plugins() if any(r.search(value) for r in _plain_regexes()) else _other_shape_plugins()
    found = []
    for plugin in plugins:
        for secret in plugin.analyze_line(filename="catalog", line=value, line_number=1):
            found.append(Finding(secret.type, secret.secret_value or value))
    return found


def _entropy(value: str) -> list[Finding]:
    found = []
    for plugin in _entropy_plugins():
        # detect-secrets' ad-hoc mode: every run of the plugin's alphabet, not only quoted strings.
        with plugin.non_quoted_string_regex(is_exact_match=False):
            for token in plugin.analyze_string(value):
                token = token.strip("/")
                if len(token) < MIN_ENTROPY_LENGTH or _DIGEST.match(token) or token.isdigit():
                    continue
                if plugin.calculate_shannon_entropy(token) > plugin.entropy_limit:
                    found.append(Finding(plugin.secret_type.lower(), token))
    return found


def _url_parts(value: str) -> list[Finding]:
    """Credentials in a URL's userinfo or query string."""
    found: list[Finding] = []
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9+.-]*://\S+", value):
        if "@" not in match.group(0) and "?" not in match.group(0):
            continue  # no user information and no query: nothing below can be found
        try:
            parts = urllib.parse.urlsplit(match.group(0))
            password = parts.password
            username = parts.username
        except ValueError:
            continue
        if password:
            found.append(Finding("URL with a password", password))
        elif username:
            found.append(Finding("URL with a user name or token", username))
        for name, param in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
            if name.lower() in CREDENTIAL_QUERY_PARAMETERS and param:
                found.append(Finding(f"URL with a credential in its query, '{name}'", param))
    return found


def find_credentials(value: str, *, entropy: bool = True) -> list[Finding]:
    """Everything in ``value`` that looks like a credential (entropy=False: token shapes and URLs only, for
    values such as host names whose random-looking parts are ordinary)."""
    found = _url_parts(value) + _shapes(value)
    if entropy:
        found += _entropy(value)
    return found


@functools.lru_cache(maxsize=1 << 16)
def credential_kind(value: str, *, entropy: bool = True) -> str | None:
    """What the first credential in ``value`` looks like, or None (memoized: a catalog is checked once per stack,
    and a fleet repeats values)."""
    found = find_credentials(value, entropy=entropy)
    return found[0].kind if found else None


@functools.lru_cache(maxsize=1 << 12)
def is_credential_name(name: str) -> bool:
    """A variable or argument name that says it holds a credential (PGPASSWORD, DATABASE_URL, APIKEY, HF_TOKEN)."""
    return bool(_CREDENTIAL_NAME.search(name))


def redact(text: str, *, entropy: bool = False) -> str:
    """``text`` with everything that looks like a credential replaced by `[redacted]`: the last line of defence
    for messages that quote a value (token shapes and URL credentials only by default: a message's file paths
    and names must stay readable)."""
    found = find_credentials(text, entropy=entropy)
    secrets = sorted({f.secret for f in found if len(f.secret) >= 4}, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text
