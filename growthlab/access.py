"""Who may change a workspace. With sign-in on, access is deny by default.

Configuration, under [growthlab] in Streamlit's secrets:
- `editors`: e-mails or `@domain` entries. Only they may write; everyone else signed in reads.
- `viewers`: e-mails or `@domain` entries that may never write (they win over `editors`).
  Without `editors`, a `viewers` list keeps its older meaning: everyone signed in except the
  viewers may write.
- Neither: nobody may write until editors are listed.

Addresses are compared after normalising both sides (NFKC, invisible characters and spaces
removed, trailing dots dropped, lower case), so " Ceo@Example.com.\u200b" is ceo@example.com.
A signed-in e-mail that still holds anything but letters, digits and . _ % + - around one @
(a combining grapheme joiner, a Hangul filler, a blank braille cell) matches no list and only
reads: such characters hide one address inside another.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from growthlab.errors import GrowthLabError

EXAMPLE = '[growthlab]\neditors = ["maya@example.com", "@example.com"]'


class AccessConfigError(GrowthLabError):
    """The [growthlab] access lists in the secrets cannot be read as intended."""


class ReadOnlyError(GrowthLabError):
    """A change attempted by someone who may only read."""


# Letters that render as nothing; NFKC maps U+3164 and U+FFA0 to U+1160.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def normalise(address: str) -> str:
    """An e-mail or @domain as compared: NFKC, no spaces or invisible characters, no
    trailing dots, lower case (not casefold, which would make straße strasse)."""
    text = unicodedata.normalize("NFKC", address)
    text = "".join(ch for ch in text
                   if not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc"))
    return text.rstrip(".").lower()


def plain_email(normalised: str) -> bool:
    """One @ between a local part and a domain, of letters, digits and . _ % + - only."""
    local, at, domain = normalised.partition("@")
    return bool(local and at and domain) and all(
        ch in "._%+-" or ch not in BLANK_LETTERS and unicodedata.category(ch) in (
            "Lu", "Ll", "Lt", "Lm", "Lo", "Nd") for ch in local + domain)


def verified(identity: Mapping) -> bool:
    """Whether the provider vouches for the e-mail: a missing claim does (most providers
    send none), only True or the text "true" otherwise (Cognito sends "false" as text)."""
    if "email_verified" not in identity:
        return True
    claim = identity["email_verified"]
    return claim is True or isinstance(claim, str) and claim.strip().lower() == "true"


def _entries(section: Mapping, name: str) -> frozenset[str] | None:
    if name not in section:
        return None
    listed = section[name]
    if not isinstance(listed, list | tuple):
        raise AccessConfigError(
            f"[growthlab] {name} must be a list of e-mails, not {type(listed).__name__} "
            f"{listed!r}. Write it as a list, for example:\n{EXAMPLE}")
    entries = set()
    for position, entry in enumerate(listed, start=1):
        if not isinstance(entry, str):
            raise AccessConfigError(f"[growthlab] {name}: entry {position} ({entry!r}) is not "
                                    "text; list e-mails or @domain entries in quotes.")
        cleaned = normalise(entry)
        local, at, domain = cleaned.rpartition("@")
        if not at or not domain or "@" in local:
            raise AccessConfigError(f"[growthlab] {name}: entry {position} ({entry!r}) is "
                                    "neither an e-mail nor an @domain entry.")
        entries.add(cleaned)
    return frozenset(entries)


@dataclass(frozen=True)
class Access:
    """Who may write. `editors` None means everyone signed in (the older viewers-only form)."""

    sign_in: bool
    editors: frozenset[str] | None = frozenset()
    viewers: frozenset[str] = frozenset()

    def may_write(self, email: str | None) -> bool:
        if not self.sign_in:
            return True
        who = normalise(email or "")
        if not plain_email(who) or _listed(who, self.viewers):
            return False
        return self.editors is None or _listed(who, self.editors)

    def check_writer(self, identity: Mapping, *, local: str = "local") -> str:
        """The actor to record for a change, or ReadOnlyError before anything is written.

        `identity` is the signed-in user's claims; an e-mail the provider marks unverified
        counts as no e-mail.
        """
        if not self.sign_in:
            return local
        email = identity.get("email") if verified(identity) else None
        if isinstance(email, str) and self.may_write(email):
            return normalise(email)
        who = email if isinstance(email, str) and email.strip() else "a signed-in person " \
            "without an e-mail address"
        raise ReadOnlyError(f"{who} has read-only access here; ask an admin to add you to "
                            "the editors list to make changes.")

    def scorer(self, identity: Mapping, typed: str) -> str:
        """Whose ICE score a save writes: with sign-in the signed-in editor's own, so nobody
        overwrites a colleague's score by typing their name; locally the name typed."""
        return self.check_writer(identity) if self.sign_in else typed.strip()


def _listed(who: str, entries: frozenset[str]) -> bool:
    return who in entries or "@" + who.rpartition("@")[2] in entries


def from_config(section: Mapping | None, *, sign_in: bool) -> Access:
    """The access rules from the [growthlab] secrets section (checked even without sign-in)."""
    section = {} if section is None else section
    if not isinstance(section, Mapping):
        raise AccessConfigError(f"[growthlab] must be a table, not {type(section).__name__}.")
    editors, viewers = _entries(section, "editors"), _entries(section, "viewers")
    if editors is None:
        editors = None if viewers is not None else frozenset()
    return Access(sign_in, editors, viewers or frozenset())
