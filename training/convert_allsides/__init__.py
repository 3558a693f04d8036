"""Convert the original AllSides "Article-Bias-Prediction" release to our format.

The public repository of Baly et al. (EMNLP 2020) stores one article per file in
``data/jsons/<ID>.json`` and its evaluation splits in
``data/splits/<kind>/{train,valid,test}.tsv`` (tab-separated, header ``ID<TAB>bias``).
This package turns that layout into the two files our configs read:

* ``articles.jsonl.gz``: one JSON object a line with the keys
  ``id, title, content, topic, bias, source, date, url``, sorted by ``id``.
  ``content`` is the untokenised body (``content_original``, or the tokenised
  ``content`` where that is missing or empty); ``bias`` is ``left``/``center``/
  ``right`` (``bias_text``, or the numeric ``bias`` mapped 0/1/2 -> left/center/right).
* ``splits.csv``: the columns ``id`` and ``<folder>_split`` for every split folder
  (``random`` and ``media`` always, plus any other folder under ``data/splits``),
  each cell ``train``, ``valid``, ``test`` or empty.

Usage::

    python -m training.convert_allsides \
        --source PATH/Article-Bias-Prediction --output data/allsides

This writes ``data/allsides/articles.jsonl.gz`` and ``data/allsides/splits.csv``.
If ``--output`` ends in ``.jsonl`` or ``.jsonl.gz`` it names the articles file
itself (plain JSONL for ``.jsonl``) and ``splits.csv`` goes next to it. Existing
outputs are only replaced with ``--overwrite``; both files are written to temporary
files in the output folder first and then moved into place (``os.replace``).
"""

from training.convert_allsides.conversion import convert_allsides, format_summary, main
from training.convert_allsides.release import ConversionError, SourceNotFoundError, read_article, read_articles

__all__ = [
    "ConversionError",
    "SourceNotFoundError",
    "convert_allsides",
    "format_summary",
    "main",
    "read_article",
    "read_articles",
]
