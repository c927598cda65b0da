"""Imported once by the parser pool's fork server (`pipelines.queue`): what every parser process
needs, loaded before the processes are forked from it, so that each starts with it in memory
(shared, copy-on-write) instead of loading it again (~2 s of imports, ~1 s for the segmenter,
~2 s for the name tagger)."""

from __future__ import annotations

import indexer.analysis
import pipelines.parsers
import pipelines.pii
import pipelines.process
import pipelines.queue  # the pool's task functions live there

indexer.analysis.warm_up()  # the segmenter that analyses each parsed document in its worker
pipelines.pii.warm_up_tagger()  # the name tagger that finds each parsed document's sensitive spans
