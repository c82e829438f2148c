"""Remote URLs and credentials: which remotes we accept, the secrets we send, what we redact.

No dulwich here: `ccsync status` shows a redacted remote without paying for the git import.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from syncer.errors import ConfigError

_LOCAL_SCHEMES = {"file"}
_REMOTE_SCHEMES = {"http", "https", "ssh", "git+ssh", "git"}
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/\s]+)@)?(?P<host>[^:/\s]+):(?P<path>.*)$")
# Up to the last "@" of the URL: a token may hold an unencoded "/" or "@", and a URL parser
# (like git's) reads everything before the host's "@" as userinfo.
_URL_USERINFO = re.compile(r"(?i)\b(?P<scheme>[a-z][a-z0-9+.\-]*)://(?P<userinfo>[^\s@]*(?:@[^\s@]*)*)@")
_URL_QUERY = re.compile(r"(?i)\b(?P<url>[a-z][a-z0-9+.\-]*://[^\s?#]*)[?#][^\s]*")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def redact(text: str) -> str:
    """Strip credentials from every URL in `text`.

    http(s) userinfo is always a secret (`token@host` is how tokens are passed), so it all goes;
    elsewhere (`ssh://git@host`) only a password part is removed.
    """

    def _sub(match: re.Match[str]) -> str:
        scheme = match.group("scheme")
        userinfo = match.group("userinfo")
        if scheme.lower() in {"http", "https", "ftp", "ftps"}:
            return f"{scheme}://***@"
        if "/" in userinfo or "@" in userinfo:
            return f"{scheme}://***@"  # not a plain user name: all of it may be secret
        if ":" in userinfo:
            return f"{scheme}://{userinfo.split(':', 1)[0]}:***@"
        return match.group(0)

    # A query string is where some services take a token (`?access_token=`).
    return _URL_QUERY.sub(r"\g<url>?***", _URL_USERINFO.sub(_sub, text))


def is_local_path(url: str) -> bool:
    """git's rule: no scheme, and either no colon or a slash before the first colon."""
    if "://" in url:
        return False
    colon = url.find(":")
    if colon < 0:
        return True
    if os.name == "nt" and colon == 1 and url[0].isalpha():
        return True
    slash = url.find("/")
    return 0 <= slash < colon


def validate_remote(url: str) -> str:
    """Check and normalise a remote URL; credentials embedded in it are a ConfigError.

    Accepted: a local path (made absolute), file://, https://, http://, ssh://, user@host:path,
    git://. Tokens belong in the environment (CCSYNC_GIT_TOKEN), never in the URL, because the
    URL is stored in the config file and shown in status output.
    """
    url = url.strip()
    if not url:
        raise ConfigError("the remote URL is empty; give one with: ccsync init --remote URL")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ConfigError("the remote URL contains control characters; check it and run ccsync init --remote URL")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*::", url):
        raise ConfigError(f"remote {redact(url)} names a git transport helper, which ccsync does not run")
    fix = "; remove them and put the token in CCSYNC_GIT_TOKEN instead, then run: ccsync init --remote URL"
    if is_local_path(url):
        return os.path.abspath(os.path.expanduser(url))
    if "://" in url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if parts.query or parts.fragment:
            raise ConfigError(f"remote {redact(url)} has a query string or fragment{fix}")
        if scheme in _LOCAL_SCHEMES:
            if parts.netloc not in ("", "localhost"):
                raise ConfigError("the remote names a host in a file:// URL; use file:///absolute/path")
            if not parts.path.startswith("/"):
                raise ConfigError(f"remote {redact(url)} needs an absolute path: file:///absolute/path")
            return url
        if scheme not in _REMOTE_SCHEMES:
            raise ConfigError(
                f"remote {redact(url)} uses an unsupported scheme {scheme!r}; "
                "use a path, file://, https://, ssh://, user@host:path or git://"
            )
        host = parts.hostname or ""
        if not host or host.startswith("-"):
            raise ConfigError(f"remote {redact(url)} has no valid host name")
        after_scheme = url.split("://", 1)[1]
        if scheme in {"http", "https"} and (parts.username is not None or "@" in after_scheme):
            raise ConfigError(f"remote {redact(url)} embeds credentials{fix}")
        if parts.password is not None:
            raise ConfigError(f"remote {redact(url)} embeds a password{fix}")
        if scheme == "git" and parts.username is not None:
            raise ConfigError(f"remote {redact(url)}: git:// URLs take no user name")
        return url
    match = _SCP_LIKE.match(url)
    if match is None:
        raise ConfigError(f"remote {redact(url)} is not a path or URL git understands")
    user = match.group("user") or ""
    if ":" in user:
        shown = f"{user.split(':', 1)[0]}:***@{match.group('host')}:{match.group('path')}"
        raise ConfigError(f"remote {shown} embeds a password{fix}")
    if match.group("host").startswith("-") or user.startswith("-"):
        raise ConfigError(f"remote {redact(url)} has no valid host name")
    return url


def credentials_for(url: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    """Username and password for an https remote, from the environment or git's credential store.

    Order: CCSYNC_GIT_TOKEN (user CCSYNC_GIT_USERNAME, default "x-access-token"), GIT_TOKEN,
    GITHUB_TOKEN (only for github.com, so a GitHub token is never sent elsewhere), then the
    files of git's `store` credential helper ($HOME/.git-credentials,
    $XDG_CONFIG_HOME/git/credentials). dulwich 1.2.21 cannot run other credential helpers
    (osxkeychain, libsecret, manager) without shelling out to git, which ccsync does not do.
    Plain http gets credentials only on loopback: a token is never sent in clear text.
    """
    if "://" not in url:
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme != "https" and not (scheme == "http" and host in _LOOPBACK):
        return None
    username = env.get("CCSYNC_GIT_USERNAME") or "x-access-token"
    for name in ("CCSYNC_GIT_TOKEN", "GIT_TOKEN"):
        token = env.get(name)
        if token:
            return (username, token)
    token = env.get("GITHUB_TOKEN")
    if token and (host == "github.com" or host.endswith(".github.com")):
        return (username, token)
    return _credentials_from_store(scheme, host, parts.path, env)


def _credentials_from_store(scheme: str, host: str, path: str, env: Mapping[str, str]) -> tuple[str, str] | None:
    files: list[Path] = []
    if env.get("HOME"):
        files.append(Path(env["HOME"]) / ".git-credentials")
    xdg = env.get("XDG_CONFIG_HOME") or (str(Path(env["HOME"]) / ".config") if env.get("HOME") else "")
    if xdg:
        files.append(Path(xdg) / "git" / "credentials")
    for file in files:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for line in lines:
            entry = urlsplit(line.strip())
            if entry.scheme != scheme or (entry.hostname or "").lower() != host:
                continue
            if entry.path not in ("", "/") and not path.startswith(entry.path):
                continue
            if entry.username and entry.password:
                return (unquote(entry.username), unquote(entry.password))
    return None


class Scrubber:
    """Redacts URLs and also the literal secrets of this call, wherever dulwich put them."""

    def __init__(self, credentials: tuple[str, str] | None) -> None:
        self._secrets: list[str] = []
        if credentials is not None:
            user, password = credentials
            pair = f"{user}:{password}"
            for secret in (password, base64.b64encode(pair.encode()).decode(), pair):
                if len(secret) >= 4:
                    self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return redact(text)


def local_remote_path(remote: str) -> Path | None:
    """The folder of a remote that is a local path or a file:// URL; None for a network remote."""
    if is_local_path(remote):
        return Path(remote)
    parts = urlsplit(remote)
    if parts.scheme.lower() == "file":
        return Path(unquote(parts.path))
    return None
