"""Running many simulations: experiment files, runs, executors, resumable results."""
