"""Removes what names an outlet from an article, so a model learns from the writing, not the masthead.

Two things go: the outlet names themselves (given by the training data, e.g. AllSides' ``source``
column, and saved with the model so prediction scrubs the same way), and boilerplate that
outlets attach to their stories: bylines, "X contributed to this report", newsletter and social
media prompts, copyright lines, photo credits and wire-service datelines.

>>> scrub = OutletScrubber(["The Daily Planet (Web News)"])
>>> scrub("WASHINGTON (AP) — The Daily Planet learned the vote failed. Sign up for our newsletter.")
'WASHINGTON — learned the vote failed.'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# A sentence matching any of these is outlet boilerplate and is dropped whole.
BOILERPLATE = re.compile(
    "|".join(
        [
            r"\bcontributed (?:reporting )?to this (?:report|story|article)",
            r"\bsign(?:ing)?[ -]up\b",  # newsletter and alert prompts
            r"\bnewsletters?\b",
            r"\b(?:follow|like) (?:us|him|her|them|@\w+) on (?:twitter|facebook|instagram|x)\b",
            r"\bclick here\b",
            r"\b(?:image|photo|video) (?:copyright|caption|credit)\b",
            r"(?:©|\bcopyright\b)\s*(?:©\s*)?\d{4}",
            r"\ball rights reserved\b",
            r"\bthis (?:article|story) (?:originally )?(?:appeared|was published)",
        ]
    ),
    re.IGNORECASE,
)
# Every sentence BOILERPLATE matches holds one of these once folded by _as_ignorecase_reads. Most articles hold none,
# and substring tests are far cheaper than the regex, so only the lines of an article that hold one are split into
# sentences and searched.
BOILERPLATE_WORDS = (
    "contributed",
    "sign up",
    "sign-up",
    "signing up",
    "signing-up",
    "newsletter",
    " on twitter",
    " on facebook",
    " on instagram",
    " on x",
    "click here",
    "image caption",
    "photo caption",
    "video caption",
    "image credit",
    "photo credit",
    "video credit",
    "copyright",
    "©",
    "all rights reserved",
    "this article",
    "this story",
)
BYLINE = re.compile(r"^\s*by\s+[A-Z][\w.'’-]*(?:\s+(?:and\s+)?[A-Z][\w.'’-]*){0,5}\s*(?:,.{0,80})?$", re.IGNORECASE)
WIRE_SERVICES = ("AP", "Reuters", "AFP", "UPI", "CNN")
WIRE_DATELINE = re.compile(rf"\s*\((?:{'|'.join(WIRE_SERVICES)})\)")  # "WASHINGTON (AP) —"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
SENTENCE_GAP = re.compile(r"(?<=[.!?])[^\S\n]+")  # SENTENCE_END within a line: the gaps a line's sentences join at
SPACE_RUN = re.compile(r"[ \t]{2,}")
SPACE_BEFORE_PUNCTUATION = re.compile(r" +([.,;:!?])")
BLANK_LINES = re.compile(r"\n{3,}")
_SUFFIXES = re.compile(r"\s*(?:\([^)]*\)|-\s*(?:news|opinion)|(?:online|web)\s+news|news\s+online)\s*$", re.I)


def _trie(words: Iterable[str]) -> dict[str, Any]:
    """The words as a prefix tree of characters; ``""`` marks where a word ends."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return root


def _trie_regex(node: dict[str, Any]) -> str:
    """A regex matching the words below ``node``, factored by common prefixes (much faster than a flat alternation)."""
    ends = "" in node
    branches = [re.escape(char) + _trie_regex(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if ends else body


def _names_regex(variants: Iterable[str]) -> str:
    r"""A regex matching any of the names, "The "/"the " before it and "'s" after it included, as whole words.

    It means ``(?<!\w)(?:[Tt]he\s+)?NAME(?:['’]s)?(?!\w)``, written so that each alternative starts with one
    literal character and checks what stands before the match only after it: ``re`` then looks for those
    characters alone, instead of trying the whole pattern at every position (twice as fast on news articles).
    """
    trie = _trie(variants)
    any_name = _trie_regex(trie)
    nothing_before = r"(?<!\w[\s\S])"  # after the match's first character: no word character before that one
    alternatives = [rf"{the[0]}{nothing_before}{the[1:]}\s+{any_name}" for the in ("The", "the")]
    alternatives += [re.escape(char) + nothing_before + _trie_regex(child) for char, child in sorted(trie.items())]
    return rf"(?:{'|'.join(alternatives)})(?:['’]s)?(?!\w)"


def name_variants(name: str) -> set[str]:
    """A name as written in text: without descriptors like "(Web News)" or " - News", with and without "The"."""
    variants = {name.strip()}
    core = name.strip()
    while True:
        shorter = _SUFFIXES.sub("", core).strip()
        if shorter == core:
            break
        core = shorter
        variants.add(core)
    for variant in list(variants):
        # "The Hill" must not become "Hill" (Capitol Hill), but "The Washington Times" may lose its "The"
        if variant.lower().startswith("the ") and " " in variant[4:].strip():
            variants.add(variant[4:])
    return {variant for variant in variants if len(variant) >= 3}


class OutletScrubber:
    """Callable that scrubs outlet names and boilerplate from a text.

    Args:
        names: outlet names (as in the data); variants are derived with :func:`name_variants`.
    """

    def __init__(self, names: Iterable[str] = ()) -> None:
        self.names = sorted({str(name) for name in names if name and str(name).strip()})
        # case-sensitive (plus ALL CAPS): "Reason" and "Time" are outlets, "reason" and "time" are not
        variants = {v for name in self.names for v in name_variants(name)}
        variants |= {v.upper() for v in variants}
        self._names = re.compile(_names_regex(variants)) if variants else None

    def __call__(self, text: str) -> str:
        folded = _as_ignorecase_reads(text)
        words = [word for word in BOILERPLATE_WORDS if word in folded]
        lines = [_without_boilerplate(line, words) for line in text.split("\n") if not BYLINE.match(line)]
        text = SENTENCE_GAP.sub(" ", "\n".join(lines))
        if any(f"({service})" in text for service in WIRE_SERVICES):
            text = WIRE_DATELINE.sub("", text)
        if self._names is not None:
            text = self._names.sub("", text)
        text = SPACE_RUN.sub(" ", text)
        if any(f" {mark}" in text for mark in ".,;:!?"):
            text = SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
        return (BLANK_LINES.sub("\n\n", text) if "\n\n\n" in text else text).strip()


def _without_boilerplate(line: str, words: list[str]) -> str:
    """The line without its boilerplate sentences, when it holds one of the article's boilerplate ``words``."""
    if not words:
        return line
    folded = _as_ignorecase_reads(line)
    if not any(word in folded for word in words):
        return line
    return " ".join(sentence for sentence in SENTENCE_END.split(line) if not BOILERPLATE.search(sentence))


def _as_ignorecase_reads(text: str) -> str:
    """The text casefolded, and its dotless i and dotted capital I made plain i's: ``re.IGNORECASE`` takes both for
    an i, and they are the only letters it matches to an ASCII letter that casefolding maps elsewhere."""
    return text.casefold().replace("ı", "i").replace("i\u0307", "i")
