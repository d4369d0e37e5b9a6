"""Argument types shared by the commands."""


def split_dirs(value):
    """`"a,b,"` -> `["a", "b"]`: a comma-separated list of folders.

    Example:
    >>> split_dirs("data/sfa,data/hgr,")
    ['data/sfa', 'data/hgr']
    """
    return [part for part in value.split(",") if part]
