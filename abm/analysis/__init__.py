"""Reading result files: comparisons with intervals, figures."""
