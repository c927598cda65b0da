"""The search index: Chinese analysis, backends behind one Protocol, reindexing."""
