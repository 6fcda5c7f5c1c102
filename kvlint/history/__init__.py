"""Secrets in git history: the lines each commit added, judged like the files of a tree."""
