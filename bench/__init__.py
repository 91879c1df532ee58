"""nntrain's benchmark suite: `python -m bench` prints every measurement side by side with its peers,
all measured in the same run (timings on a shared machine are noisy; ratios within a run are not)."""
