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
# Every line with a sentence BOILERPLATE matches holds one of these once casefolded (IGNORECASE matches no letter
# that casefold does not map to the keyword's, but the dotless i): most lines hold none, and a substring test is
# far cheaper than the regex, so only the rest are searched.
BOILERPLATE_WORDS = (
    "contributed",
    "sign",
    "newsletter",
    "follow",
    "like",
    "click here",
    "copyright",
    "caption",
    "credit",
    "©",
    "all rights reserved",
    "appeared",
    "published",
)
BYLINE = re.compile(r"^\s*by\s+[A-Z][\w.'’-]*(?:\s+(?:and\s+)?[A-Z][\w.'’-]*){0,5}\s*(?:,.{0,80})?$", re.IGNORECASE)
WIRE_DATELINE = re.compile(r"\s*\((?:AP|Reuters|AFP|UPI|CNN)\)")  # "WASHINGTON (AP) —"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SUFFIXES = re.compile(r"\s*(?:\([^)]*\)|-\s*(?:news|opinion)|(?:online|web)\s+news|news\s+online)\s*$", re.I)


def _trie_pattern(words: list[str]) -> str:
    """A regex matching any of ``words``, factored by common prefixes (much faster than a flat alternation)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return build(trie)


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
        pattern = _trie_pattern(sorted(variants))
        self._names = re.compile(rf"(?<!\w)(?:[Tt]he\s+)?{pattern}(?:['’]s)?(?!\w)") if variants else None

    def __call__(self, text: str) -> str:
        lines = []
        for line in text.split("\n"):
            if BYLINE.match(line):
                continue
            sentences = SENTENCE_END.split(line)
            folded = line.casefold().replace("ı", "i")  # IGNORECASE also takes a dotless i for an i
            if any(word in folded for word in BOILERPLATE_WORDS):
                sentences = [s for s in sentences if not BOILERPLATE.search(s)]
            lines.append(" ".join(sentences))
        text = WIRE_DATELINE.sub("", "\n".join(lines))
        if self._names is not None:
            text = self._names.sub("", text)
        text = re.sub(r"[ \t]{2,}", " ", text)
        text = re.sub(r" +([.,;:!?])", r"\1", text)
        return re.sub(r"\n{3,}", "\n\n", text).strip()
