"""Issue 26 item 6: public entry points fed a wrong type, an empty array, NaNs, a wrong shape, labels out of range.

Each case should raise a ValueError naming the argument; prints each outcome and the count.

    python benchmarks/api_sweep.py
"""

import numpy as np, keras, kerasrecipes as kr
from kerasrecipes import presets
x = np.random.rand(16, 8, 8, 1).astype("float32"); y = np.arange(16) % 2
nan = x.copy(); nan[0,0,0,0] = np.nan
net = kr.models.vgg((8,8,1), 2, filters=(4,), convs_per_stage=1); net.compile("adam","sparse_categorical_crossentropy")
r = presets.fashion_mnist_fast(filters=(4,), convs_per_stage=1, epochs=1, batch_size=8, input_shape=(8,8,1), num_classes=2)
cases = {
 "Recipe.fit labels out of range": lambda: r.fit(x, y + 5),
 "Recipe.fit wrong type x": lambda: r.fit("images", y),
 "Recipe.fit empty": lambda: r.fit(x[:0], y[:0]),
 "Recipe.fit NaN images": lambda: r.fit(nan, y),
 "Recipe.fit wrong shape": lambda: r.fit(x[..., 0], y),
 "Recipe.fit length mismatch": lambda: r.fit(x, y[:5]),
 "lr_find labels out of range": lambda: kr.lr_find(net, x, y + 5, steps=3),
 "lr_find NaN": lambda: kr.lr_find(net, nan, y, steps=3),
 "tta_predict wrong shape": lambda: kr.data.tta_predict(net, x[..., 0]),
 "tta_predict empty": lambda: kr.data.tta_predict(net, x[:0]),
 "pipeline NaN": lambda: kr.data.pipeline(nan, y),
 "pipeline labels out of range": lambda: kr.data.pipeline(x, y + 5, num_classes=2),
 "train_val_split empty": lambda: kr.data.train_val_split(x[:0], y[:0], 0.1),
 "standardization empty": lambda: kr.data.standardization(x[:0]),
 "class_weights negative": lambda: kr.data.class_weights(y - 3),
 "ensembles.average empty": lambda: kr.ensembles.average([]),
 "ArrayBatches length mismatch": lambda: kr.data.ArrayBatches(x, y[:3], 4),
 "Augmented wrong net": lambda: kr.models.Augmented(3),
 "vgg bad input_shape": lambda: kr.models.vgg((8,), 2),
 "diagnose wrong type": lambda: kr.diagnose.diagnose(3),
 "babysit NaN": lambda: kr.babysit.sanity_check(net, nan, y),
 "RandomShift bad pad": lambda: kr.layers.RandomShift("2"),
 "one_hot out of range": lambda: kr.recipe.one_hot(y + 5, 2),
}
clean = 0
for name, f in cases.items():
    try:
        f(); print("NO ERROR ", name)
    except ValueError as e:
        clean += 1; print("ValueError", name, "|", str(e)[:90])
    except Exception as e:
        print("OTHER    ", name, type(e).__name__, str(e)[:90])
print(f"{clean} of {len(cases)} clean ValueErrors")
