"""Matching: which segments share text, how, in which direction, and whether it is credited.

Pure algorithm, no storage: ``tokens`` (words and shingles), ``signatures`` (MinHash,
datasketch's scheme), ``lsh`` (band keys and candidate scoring), ``align`` (passages
and scores of one pair), ``lineage`` (labels, direction, credit, clusters), ``pairs``
(one pair compared).
Over SQLite: ``index`` (the LSH buckets), ``segments`` (segments as the matcher reads
them), ``update`` (``update_matches``, ``rebuild_lineage``), ``search`` (the check
page's ``find_sources``); ``budget`` (a caller's limits, looked at inside long loops) and
``isolated`` (such work in a worker process of its own).
"""
