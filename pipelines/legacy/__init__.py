"""Import of closed paper dossiers: a scanned 卷宗 split by its own 卷内目录 into one record per 件."""
