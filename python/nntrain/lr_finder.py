"""The learning-rate range test (Smith 2017, "Cyclical learning rates", section 3.3; fastai's lr_find;
pytorch-lr-finder): train for a few hundred steps while the rate grows exponentially from tiny to huge,
and watch the loss. Too small a rate and the loss does not move; too large and it blows up; in between it
falls fastest. The model, the optimiser and the loader are put back as they were afterwards.

    result = lr_find(model, optim.SGD(model.parameters(), lr=0.1), loader)
    result.suggestion          # a rate to train with
    result.plot("lr_find.png") # smoothed loss against rate, log scale, the suggestion marked

The loss of one batch is noisy, so it is smoothed with a bias-corrected exponential moving average
(fastai's, beta = 0.98). The test stops when the smoothed loss exceeds ``diverge`` (4) times its minimum,
or the loss becomes NaN or infinite.

The suggestion is the rate at which the smoothed loss falls fastest against log(rate) -- the steepest
descent -- capped by a tenth of the rate at the minimum of the loss. The minimum itself is already too
large (the loss is about to turn up there: a rate that reaches it in one step overshoots when held for a
whole run), and a tenth of it is the classic rule of thumb; the steepest point is where a step of the
rate buys the most progress. On smooth curves the two agree to within a factor of a few; on noisy ones
the steepest point can fall on a spike far to the left or right, which the cap and a gradient taken
over a window of points (not neighbours) keep in check. Both candidates are reported.
"""

from dataclasses import dataclass

import numpy as np

from .train import NonFiniteError, Trainer


@dataclass
class LRFinderResult:
    lrs: np.ndarray        # the rate of each step taken
    losses: np.ndarray     # each step's batch loss
    smoothed: np.ndarray   # the bias-corrected moving average of the losses
    steepest: float        # rate where the smoothed loss falls fastest against log(rate)
    min_over_10: float     # a tenth of the rate at the smoothed loss's minimum
    suggestion: float      # min(steepest, min_over_10)
    diverged: bool         # stopped because the loss blew up (not at end_lr)

    def plot(self, path):
        """Draws the smoothed loss against the rate (log scale) with the suggestion marked; returns False
        without matplotlib."""
        from .plots import plot_lr_find

        return plot_lr_find(self, path)


def _forever(data):
    """Batches of ``data`` (a DataLoader or any re-iterable of (x, y)) again and again."""
    while True:
        empty = True
        for batch in data:
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_find: the training data has no batches")


def lr_find(model, optimizer, train_data, loss_fn=None, start_lr=1e-7, end_lr=10.0, num_steps=100,
            beta=0.98, diverge=4.0, **trainer_options):
    """Runs the range test on ``model`` with ``optimizer`` over batches of ``train_data``; returns an
    LRFinderResult. ``trainer_options`` (penalties, clip_grad_norm...) go to the Trainer that takes the
    steps, so the test sees the training it stands for."""
    if not 0 < start_lr < end_lr:
        raise ValueError(f"lr_find: need 0 < start_lr < end_lr, got {start_lr} and {end_lr}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 10:
        raise ValueError(f"lr_find: num_steps must be an integer >= 10, got {num_steps!r}")
    if not 0 <= beta < 1:
        raise ValueError(f"lr_find: beta must be in [0, 1), got {beta}")
    if not diverge > 1:
        raise ValueError(f"lr_find: diverge must be > 1, got {diverge}")
    saved = {"model": {k: v.copy() for k, v in model.state_dict().items()}, "optimizer": optimizer.state_dict(),
             "training": model.training,
             "loader": train_data.state_dict() if hasattr(train_data, "state_dict") else None}
    trainer = Trainer(model, optimizer, loss_fn, **trainer_options)
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(num_steps) / (num_steps - 1))
    taken, losses, smoothed = [], [], []
    average, diverged = 0.0, False
    model.train()
    try:
        for i, (lr, (x, y)) in enumerate(zip(lrs, _forever(train_data))):
            for group in optimizer.param_groups:
                group["lr"] = float(lr)
            try:
                loss, _ = trainer.train_step(x, y, step=i + 1)
            except NonFiniteError:
                diverged = True
                break
            average = beta * average + (1 - beta) * loss
            taken.append(lr)
            losses.append(loss)
            smoothed.append(average / (1 - beta ** (i + 1)))
            if i > 0 and smoothed[-1] > diverge * min(smoothed):
                diverged = True
                break
    finally:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        model.train(saved["training"])
        if saved["loader"] is not None:
            train_data.load_state_dict(saved["loader"])
    lrs, losses, smoothed = np.array(taken), np.array(losses), np.array(smoothed)
    steepest, min_over_10 = suggest(lrs, smoothed)
    return LRFinderResult(lrs, losses, smoothed, steepest, min_over_10, min(steepest, min_over_10), diverged)


def suggest(lrs, smoothed):
    """(steepest, min_over_10) of a range test's rates and smoothed losses."""
    if len(lrs) < 5:
        raise ValueError(f"lr_find: the loss diverged after {len(lrs)} steps; lower start_lr")
    lowest = int(np.argmin(smoothed))
    min_over_10 = float(lrs[lowest]) / 10
    # Slope over a window of points (a tenth of the run, at least 2 steps each side): neighbours' slopes
    # are dominated by batch noise. Only points up to the minimum count -- after it the loss rises.
    half = max(2, len(lrs) // 20)
    log_lr = np.log(lrs)
    ends = np.arange(half, max(lowest, half + 1))
    ends = ends[ends + half < len(lrs)]
    if not len(ends):
        return min_over_10, min_over_10
    slopes = (smoothed[ends + half] - smoothed[ends - half]) / (log_lr[ends + half] - log_lr[ends - half])
    return float(lrs[ends[int(np.argmin(slopes))]]), min_over_10
