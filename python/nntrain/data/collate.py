"""Putting examples together into a batch, as PyTorch's ``default_collate`` does, with NumPy arrays."""

import numbers

import numpy as np


def default_collate(batch):
    """One batch from a list of examples of the same structure.

    Arrays (and NumPy scalars) are stacked along a new first axis, keeping their dtype; Python ints become
    an int64 array and floats a float64 array; tuples, lists and dicts are collated field by field (a
    dataset returning ``(image, label)`` gives ``(images, labels)``); strings stay a list.
    """
    if not batch:
        raise ValueError("default_collate: empty batch")
    first = batch[0]
    if isinstance(first, np.ndarray) or isinstance(first, np.generic):
        shapes = {np.shape(b) for b in batch}
        if len(shapes) > 1:
            i = next(i for i, b in enumerate(batch) if np.shape(b) != np.shape(first))
            raise ValueError(f"default_collate: examples in a batch differ in shape: {np.shape(first)} "
                             f"(position 0) and {np.shape(batch[i])} (position {i})")
        return np.stack(batch)
    if isinstance(first, bool):
        return np.array(batch, dtype=bool)
    if isinstance(first, numbers.Integral):
        return np.array(batch, dtype=np.int64)
    if isinstance(first, numbers.Real):
        return np.array(batch, dtype=np.float64)
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise ValueError("default_collate: examples in a batch have different numbers of fields")
        fields = [default_collate(list(column)) for column in zip(*batch)]
        if isinstance(first, tuple) and hasattr(first, "_fields"):  # a namedtuple keeps its type
            return type(first)(*fields)
        return tuple(fields) if isinstance(first, tuple) else fields
    hint = " (add transforms.ToArray() to the data set's transform)" if type(first).__module__.startswith("PIL") \
        else ""
    raise TypeError(f"default_collate: cannot batch examples of type {type(first).__name__}{hint}")
