"""Argument types shared by the commands."""


def split_dirs(value):
    """`"a,b,"` -> `["a", "b"]`: a comma-separated list of folders.

    Example:
    >>> split_dirs("data/sfa,data/hgr,")
    ['data/sfa', 'data/hgr']
    """
    return [part for part in value.split(",") if part]


def split_names(value):
    """`"a,b"` -> `["a", "b"]`; `"none"` or `""` -> `[]`: a comma-separated list of names.

    Example:
    >>> split_names("all_skin,ycrcb"), split_names("none")
    (['all_skin', 'ycrcb'], [])
    """
    return [] if value.strip().lower() == "none" else split_dirs(value)
