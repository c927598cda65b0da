"""User interfaces: the zh-CN web pages and the `archive` command line."""
