"""Reports: Markdown and HTML documents with plots of a run, sweep or check folder.

The only package that imports matplotlib. May import every room but the CLI.
"""
