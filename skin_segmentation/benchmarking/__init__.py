"""Benchmarking: what training and inference cost on this machine (`experiments/benchmark.py`).

`timing` describes the machine and times calls, `measure` produces the rows of
each table, and `report` chooses what to measure and prints and writes the tables.
"""

from skin_segmentation.benchmarking.measure import (
    measure_group,
    measure_overheads,
    measure_pipeline,
    paper_epoch,
    precision_effect,
)
from skin_segmentation.benchmarking.report import (
    configurations,
    fmt,
    mixed_precision_for,
    plan_for,
    print_report,
    print_table,
    write_csv,
    write_results,
)
from skin_segmentation.benchmarking.timing import (
    BATCH_SIZE,
    COMPUTE_DTYPE,
    IMAGE_SIZE,
    MatmulProbe,
    build_compiled,
    describe_machine,
    forward_flops,
    fresh_session,
    load,
    matmul_tflops,
    synthetic_batch,
    time_decoding,
    time_pipeline,
    timed,
)

__all__ = [
    "BATCH_SIZE",
    "COMPUTE_DTYPE",
    "IMAGE_SIZE",
    "MatmulProbe",
    "build_compiled",
    "configurations",
    "describe_machine",
    "fmt",
    "forward_flops",
    "fresh_session",
    "load",
    "matmul_tflops",
    "measure_group",
    "measure_overheads",
    "measure_pipeline",
    "mixed_precision_for",
    "paper_epoch",
    "plan_for",
    "precision_effect",
    "print_report",
    "print_table",
    "synthetic_batch",
    "time_decoding",
    "time_pipeline",
    "timed",
    "write_csv",
    "write_results",
]
