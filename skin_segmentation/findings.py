"""The paper's four findings, checked on a replication's Table I.

Codella et al. 2018 draw four conclusions from Table I. `table1_findings` decides
each on a Table I frame (`tables.make_table1`): shown ("yes"), shown for some
networks or pairs only ("partly"), not shown ("no"), or not decidable from the cells
present ("n/a"), with the figures it decided on. It compares the pooled Jaccard
indices, the scores that stand beside the paper's; a cell marked degenerate
(`metrics.degeneracy`: all skin, no skin, or a score within a small margin of
calling every pixel skin) is named beside its figure, because its score only says
that the network did not learn.
"""

import itertools

import numpy as np

FINDINGS = {
    "F1": "Fine-tuning beats direct training and direct transfer for every network",
    "F2": "Direct training on the target's images beats direct transfer",
    "F3": "In direct transfer the Dense Residual U-Net beats both U-Nets",
    "F4": "After fine-tuning all networks are within 0.01 Jaccard of each other",
}
FINE_TUNING_SPREAD = 0.01
DENSE = "dense_residual_unet"


def _is_true(value):
    return not (value is None or (isinstance(value, float) and np.isnan(value))) and bool(value)


def _verdict(outcomes):
    if not outcomes:
        return "n/a"
    return "yes" if all(outcomes) else "partly" if any(outcomes) else "no"


class _Cells:
    """Pooled Jaccard and degeneracy of each (preset, scenario) of a Table I frame."""

    def __init__(self, table):
        # Baseline rows (colour rules, "all skin") are for scale; the findings are the networks'.
        self.rows = {row["preset"]: row for _, row in table.iterrows()
                     if not _is_true(row.get("baseline", False))}

    def score(self, preset, scenario):
        row = self.rows.get(preset)
        value = np.nan if row is None else row.get(f"{scenario}_pooled_jaccard", np.nan)
        return float(value) if value is not None and not np.isnan(value) else None

    def text(self, preset, scenario):
        degenerate = self.rows[preset].get(f"{scenario}_degenerate")
        mark = f" [degenerate: {degenerate}]" if isinstance(degenerate, str) and degenerate else ""
        return f"{self.score(preset, scenario):.3f}{mark}"

    def presets_with(self, *scenarios):
        return [p for p in self.rows if all(self.score(p, s) is not None for s in scenarios)]


def _beats(cells, scenario, others):
    outcomes, figures = [], []
    for preset in cells.presets_with(scenario, *others):
        mine = cells.score(preset, scenario)
        outcomes.append(all(mine > cells.score(preset, other) for other in others))
        against = ", ".join(f"{other.replace('_', ' ')} {cells.text(preset, other)}" for other in others)
        figures.append(f"{preset}: {scenario.replace('_', ' ')} {cells.text(preset, scenario)} vs {against}")
    return outcomes, figures


def _dense_beats_unets(cells):
    if cells.score(DENSE, "direct_transfer") is None:
        return [], []
    unets = [p for p in cells.presets_with("direct_transfer") if p != DENSE]
    dense = cells.score(DENSE, "direct_transfer")
    outcomes = [dense > cells.score(p, "direct_transfer") for p in unets]
    figures = [f"{DENSE} {cells.text(DENSE, 'direct_transfer')} vs "
               + ", ".join(f"{p} {cells.text(p, 'direct_transfer')}" for p in unets)] if unets else []
    return outcomes, figures


def _fine_tuned_together(cells):
    presets = cells.presets_with("fine_tuning")
    scores = {p: cells.score(p, "fine_tuning") for p in presets}
    outcomes = [abs(scores[a] - scores[b]) <= FINE_TUNING_SPREAD + 1e-12
                for a, b in itertools.combinations(presets, 2)]
    if not outcomes:
        return [], []
    spread = max(scores.values()) - min(scores.values())
    listed = ", ".join(f"{p} {cells.text(p, 'fine_tuning')}" for p in presets)
    return outcomes, [f"spread {spread:.3f}: {listed}"]


def table1_findings(table):
    """Decide the paper's four findings on a Table I frame.

    Args:
        table: a DataFrame as `tables.make_table1` returns (columns
            `preset`, `<scenario>_pooled_jaccard`, `<scenario>_degenerate`).

    Returns:
        A list of four dicts, `finding` (`"F1"`...), `statement`, `shown`
        (`"yes"`, `"partly"`, `"no"` or `"n/a"`) and `figures` (the pooled
        Jaccards compared, degenerate cells marked).

    Example:
    >>> import pandas as pd
    >>> table = pd.DataFrame([{"preset": "unet", "direct_transfer_pooled_jaccard": 0.44,
    ...     "direct_training_pooled_jaccard": 0.79, "fine_tuning_pooled_jaccard": 0.89}])
    >>> [(row["finding"], row["shown"]) for row in table1_findings(table)]
    [('F1', 'yes'), ('F2', 'yes'), ('F3', 'n/a'), ('F4', 'n/a')]
    """
    cells = _Cells(table)
    decided = {
        "F1": _beats(cells, "fine_tuning", ("direct_training", "direct_transfer")),
        "F2": _beats(cells, "direct_training", ("direct_transfer",)),
        "F3": _dense_beats_unets(cells),
        "F4": _fine_tuned_together(cells),
    }
    return [
        {"finding": key, "statement": FINDINGS[key], "shown": _verdict(outcomes),
         "figures": "; ".join(figures)}
        for key, (outcomes, figures) in decided.items()
    ]


def findings_markdown(rows):
    """Markdown lines of `table1_findings`' rows, one per finding.

    Example:
    >>> findings_markdown([{"finding": "F2", "statement": "Direct training beats direct transfer",
    ...                     "shown": "no", "figures": "unet: 0.62 vs 0.63"}])
    ['- F2. Direct training beats direct transfer: **no** (unet: 0.62 vs 0.63)']
    """
    lines = []
    for row in rows:
        figures = f" ({row['figures']})" if row["figures"] else ""
        lines.append(f"- {row['finding']}. {row['statement']}: **{row['shown']}**{figures}")
    return lines
