"""Where a project's repository lives (its forge), and the one spelling each forge's names get
stored in, so that a webhook's `OWNER/NAME` finds its project whatever form was typed."""

import re
from enum import StrEnum
from urllib.parse import urlsplit


class ForgeKind(StrEnum):
    LOCAL = "local"  # a git repository on the server's disk (the embedded default)
    GITHUB = "github"  # GitHub or GitHub Enterprise (GITHUB_API_URL)


# GitHub's rules: an owner is 1-39 letters, digits and single hyphens; a name is 1-100 of
# letters, digits, '.', '_' and '-'.
_OWNER_AND_NAME = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/([A-Za-z0-9._-]{1,100})")


def github_repository(value: str) -> str:
    """`OWNER/NAME`, from that or from the repository's web or clone URL
    (`https://github.com/OWNER/NAME`, `…/NAME.git`, an Enterprise host). Raise `ValueError`
    saying what is accepted."""
    text = value.strip()
    if text.startswith(("https://", "http://")):
        path = urlsplit(text).path.strip("/")
        text = path.removesuffix(".git")
    if _OWNER_AND_NAME.fullmatch(text) is None or text.endswith((".", "/")):
        raise ValueError(
            "is not a GitHub repository: give OWNER/NAME or https://github.com/OWNER/NAME"
        )
    return text


def inferred_forge(repository: str) -> ForgeKind:
    """The forge a project means when it names none: a web address is GitHub's, anything
    else a path on this server (the behaviour before there was a choice)."""
    return ForgeKind.GITHUB if repository.strip().startswith("https://") else ForgeKind.LOCAL
