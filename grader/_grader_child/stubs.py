"""What must not run while grading, replaced where the student's code calls it:
training (``Model.fit`` and its kin return an empty history at once), saving
and loading weights, downloads (``keras.utils.get_file``, the Keras datasets),
``plot_model``, and ``tensorflow_datasets``. Each call is noted
(``training_skipped``) at the student's line, once per line.
"""

from __future__ import annotations

import os
import sys
import types

from .standins import StandInModule
from .tracer import Tracer

DATASET_SHAPES = {
    "cifar10": ((32, 32, 3), (1,), 10),
    "cifar100": ((32, 32, 3), (1,), 100),
    "mnist": ((28, 28), (), 10),
    "fashion_mnist": ((28, 28), (), 10),
    "boston_housing": ((13,), (), 0),
    "california_housing": ((8,), (), 0),
}


def install_stubs(tracer: Tracer):
    """Replace training, saving, downloads and datasets (see the module's docstring)."""
    import numpy as np
    import keras

    def note(what):
        # once per call and line: a training loop calling fit 30 times is one note
        tracer.note("training_skipped", (what,), call=what)

    def history(model, kwargs, args):
        h = keras.callbacks.History()
        epochs = int(kwargs.get("epochs", args[2] if len(args) > 2 and isinstance(args[2], int) else 1) or 1)
        epochs = max(1, min(epochs, 1000))
        names = ["loss"]
        try:
            for m in getattr(model, "_compile_metrics", None) and model.metrics_names or []:
                if m not in names:
                    names.append(m)
        except Exception:
            pass
        if "accuracy" not in names:
            names.append("accuracy")
        hist = {n: [0.0] * epochs for n in names}
        if kwargs.get("validation_data") is not None or kwargs.get("validation_split"):
            hist.update({"val_" + n: [0.0] * epochs for n in names})
        h.history = hist
        h.epoch = list(range(epochs))
        h.params = {"epochs": epochs, "verbose": 0}
        try:
            h.set_model(model)
        except Exception:
            pass
        return h

    def fit(self, *args, **kwargs):
        note("Model.fit")
        return history(self, kwargs, (None,) + args)

    def evaluate(self, *args, **kwargs):
        note("Model.evaluate")
        n = 1 + max(0, len(getattr(self, "metrics_names", []) or []) - 1)
        return 0.0 if n == 1 else [0.0] * n

    def predict(self, x=None, *args, **kwargs):
        note("Model.predict")
        try:
            n = len(x)
        except Exception:
            n = 1
        n = max(1, min(n, 64))
        outs = [np.zeros((n,) + tuple(d or 1 for d in o.shape[1:]), "float32") for o in self.outputs]
        return outs[0] if len(outs) == 1 else outs

    def on_batch(name):
        def f(self, *a, **k):
            note(f"Model.{name}")
            return 0.0

        return f

    def noop(name):
        def f(*a, **k):
            note(name)
            return None

        return f

    M = keras.Model
    M.fit = fit
    M.evaluate = evaluate
    M.predict = predict
    M.train_on_batch = on_batch("train_on_batch")
    M.test_on_batch = on_batch("test_on_batch")
    M.predict_on_batch = predict
    M.save = noop("Model.save")
    M.save_weights = noop("Model.save_weights")
    M.load_weights = noop("Model.load_weights")

    _stub_downloads(tracer, note)

    # Keras 2's generator spellings of the training calls (removed in Keras 3)
    for name, fn in (("fit_generator", fit), ("evaluate_generator", evaluate), ("predict_generator", predict)):
        def legacy_call(self, *a, _fn=fn, _name=name, **k):
            tracer.legacy("behaviour", f"Model.{_name}()", f"Model.{_name.split('_')[0]}()")
            return _fn(self, *a, **k)

        setattr(M, name, legacy_call)

    sys.modules["tensorflow_datasets"] = _tfds_standin(note)


def _stub_downloads(tracer: Tracer, note):
    """The Keras datasets' ``load_data`` (small zero arrays of the dataset's shapes),
    ``keras.utils.get_file`` (an empty folder) and ``plot_model`` (nothing), in
    every Keras and TensorFlow module that has them."""
    import numpy as np

    def make_load_data(name):
        xs, ys, k = DATASET_SHAPES.get(name, ((32, 32, 3), (1,), 10))

        def load_data(*a, **kw):
            note(f"keras.datasets.{name}.load_data")
            dtype = "uint8" if k else "float32"
            return (
                (np.zeros((16,) + xs, dtype), np.zeros((16,) + ys, "uint8" if k else "float32")),
                (np.zeros((8,) + xs, dtype), np.zeros((8,) + ys, "uint8" if k else "float32")),
            )

        return load_data

    def get_file(*a, **kw):
        note("keras.utils.get_file")
        path = os.path.join(os.getcwd(), ".grader_downloads")
        os.makedirs(path, exist_ok=True)
        return path

    def plot_model(*a, **kw):
        tracer.note("skipped", ("keras.utils.plot_model",), call="keras.utils.plot_model")
        return None

    for modname, mod in list(sys.modules.items()):
        if mod is None or not modname.startswith(("keras", "tensorflow")):
            continue
        leaf = modname.rsplit(".", 1)[-1]
        if leaf in DATASET_SHAPES and hasattr(mod, "load_data"):
            try:
                mod.load_data = make_load_data(leaf)
            except Exception:
                pass
        if leaf == "utils":
            for attr, fn in (("get_file", get_file), ("plot_model", plot_model)):
                if hasattr(mod, attr):
                    try:
                        setattr(mod, attr, fn)
                    except Exception:
                        pass


def _tfds_standin(note):
    """tensorflow_datasets: a stand-in module, whether or not the real one is installed.
    Eight small images per split, shaped like what tfds.load gives: (image, label)
    pairs with as_supervised=True, else {"image", "label"} dicts, so a student's
    preprocessing runs as it would on the real data."""
    import numpy as np

    tfds = StandInModule("tensorflow_datasets")

    def dataset(supervised):
        import tensorflow as tf

        images = np.zeros((8, 32, 32, 3), "uint8")
        labels = np.zeros((8,), "int64")
        if supervised:
            return tf.data.Dataset.from_tensor_slices((images, labels))
        return tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})

    def info():
        split = types.SimpleNamespace(num_examples=8, name="train")
        feats = {"label": types.SimpleNamespace(num_classes=10, names=[str(i) for i in range(10)]),
                 "image": types.SimpleNamespace(shape=(32, 32, 3), dtype="uint8")}
        return types.SimpleNamespace(features=feats, splits={"train": split, "test": split, "validation": split},
                                     name="stand-in")

    def tfds_load(name="", *a, **kw):
        note("tensorflow_datasets.load")
        sup = bool(kw.get("as_supervised"))
        split = kw.get("split")
        if isinstance(split, (list, tuple)):
            out = [dataset(sup) for _ in split]
        elif split:
            out = dataset(sup)
        else:
            out = {"train": dataset(sup), "test": dataset(sup)}
        return (out, info()) if kw.get("with_info") else out

    class Builder:
        def __init__(self, *a, **k):
            self.info = info()

        def download_and_prepare(self, *a, **k):
            note("tensorflow_datasets.builder.download_and_prepare")

        def as_dataset(self, split=None, as_supervised=False, **k):
            return tfds_load(split=split, as_supervised=as_supervised)

    def as_numpy(ds, *a, **k):
        try:
            return ds.as_numpy_iterator()
        except AttributeError:
            return ds

    tfds.load = tfds_load
    tfds.builder = Builder
    tfds.as_numpy = as_numpy
    tfds.__path__ = []
    tfds._grader_provided = True  # the grader's own stand-in, whether or not tfds is installed
    return tfds
