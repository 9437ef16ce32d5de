"""Test-time augmentation: average a model's outputs over fixed views."""

import numpy as np

from kerasrecipes.data._checks import check_array, check_bool, check_choice, check_positive_int

_CROPS = (None, "five", "ten")


def _corner_views(x, size, pad):
    """The four corner crops and the centre crop of `size`, zero-padding first when needed."""
    h, w = size
    if x.shape[1] == h and x.shape[2] == w:
        # Same size as the model: corners of the zero-padded image are the
        # +-pad shifts that pad-and-crop training produced.
        x = np.pad(x, [(0, 0), (pad, pad), (pad, pad), (0, 0)])
    big_h, big_w = x.shape[1], x.shape[2]
    top, left = (big_h - h) // 2, (big_w - w) // 2
    starts = [(0, 0), (0, big_w - w), (big_h - h, 0), (big_h - h, big_w - w), (top, left)]
    return [x[:, r: r + h, c: c + w] for r, c in starts]


def views(x, flips=True, crops=None, crop_size=None, pad=4):
    """The list of arrays `tta_predict` averages over (see there)."""
    check_bool(flips, "flips")
    check_choice(crops, "crops", _CROPS)
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"pad must be a non-negative integer of pixels. Received pad={pad!r}")
    if crop_size is not None:
        try:
            ok = len(crop_size) == 2 and all(int(s) == s and s > 0 for s in crop_size)
        except TypeError:
            ok = False
        if not ok:
            raise ValueError(f"crop_size must be None or a (height, width) pair of positive integers. "
                             f"Received crop_size={crop_size!r}")
    if crops is None:
        base = [x]
    else:
        base = _corner_views(x, crop_size or x.shape[1:3], pad)
    if flips or crops == "ten":
        base = base + [v[:, :, ::-1] for v in base]
    return base


def tta_predict(model, x, flips=True, crops=None, crop_size=None, pad=4, batch_size=128):
    """Predict with test-time augmentation: the mean output over a fixed set of views.

    The ResNet evaluation recipe. `crops=None` with `flips=True` averages the
    image and its mirror; `"five"` takes the four corner crops and the centre crop
    (of `crop_size`, by default the model's input size; an image of exactly that
    size is zero-padded by `pad` first, so the corners are the +-`pad` pixel
    shifts that pad-and-crop training shows); `"ten"` adds their mirrors (as does
    `"five"` with `flips=True`). Average probabilities: give it a softmax model.

    Args:
        model: A Keras model returning class probabilities.
        x: Images `(N, H, W, C)`, preprocessed as for `model.predict`.
        flips: Add horizontally mirrored views. Defaults to `True` (turn off for
            digits and text).
        crops: `None`, `"five"` or `"ten"`. Defaults to `None`.
        crop_size: `(h, w)` of the crops. Defaults to the model's input size, or
            the image size when the model accepts any.
        pad: Zero padding in pixels for same-size crops. Defaults to `4`.
        batch_size: Passed to `model.predict`. Defaults to `128`.

    Returns:
        A numpy array `(N, num_classes)`: the average over the views.

    Example:
    >>> probs = tta_predict(model, x_test, flips=True, crops="five")
    >>> accuracy = (probs.argmax(-1) == y_test).mean()
    """
    x = check_array(x, "x", ranks=(4,))
    check_choice(crops, "crops", _CROPS)
    batch_size = check_positive_int(batch_size, "batch_size")
    if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
        raise ValueError(f"pad must be a non-negative integer of pixels. Received pad={pad!r}")
    if crop_size is None:
        model_hw = tuple(getattr(model, "input_shape", (None, None, None))[1:3])
        crop_size = model_hw if None not in model_hw and len(model_hw) == 2 else tuple(x.shape[1:3])
    crop_size = tuple(crop_size)
    if len(crop_size) != 2 or crop_size[0] > x.shape[1] + 2 * pad or crop_size[1] > x.shape[2] + 2 * pad:
        raise ValueError(
            f"crop_size must be (h, w) no larger than the images {x.shape[1:3]}. Received crop_size={crop_size!r}"
        )
    if crops is None and crop_size != tuple(x.shape[1:3]):
        raise ValueError(
            f"the images are {x.shape[1:3]} but the model takes {crop_size}; pass crops='five' "
            "or resize the images"
        )
    x = x.astype("float32") if x.dtype.kind != "f" else x
    total = None
    all_views = views(x, flips=flips, crops=crops, crop_size=crop_size, pad=pad)
    for view in all_views:
        probs = np.asarray(model.predict(np.ascontiguousarray(view), batch_size=batch_size, verbose=0),
                           dtype=np.float64)
        total = probs if total is None else total + probs
    return (total / len(all_views)).astype("float32")
