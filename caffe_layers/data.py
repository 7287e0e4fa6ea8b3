"""H36MDataLayer: the data layer of training on a prepared Human3.6M dataset, the equivalent of the authors'
``CPMData`` layer; a thin adapter over :class:`caffe_layers.batches.BatchLoader`.

Tops: ``data (B, 4, crop, crop)`` (BGR as ``(v - 128) / 256`` and the centre map), ``label (B, 18, crop/8, crop/8)``
(CPM's Gaussians and the background), and optionally ``camera (B, 9)`` (row-major E of each sample, turned with its
image). No bottoms, no backward.

``param_str`` JSON: ``source`` (the dataset folder, required), ``batch_size`` (8), ``crop`` (368), ``workers`` (2),
``prefetch`` (4), ``seed`` (0), ``shuffle`` (true), ``augment`` (``"authors"``, the default: no augmentation, as the
authors' code ran; ``"prototxt"``: scale and rotation with the prototxt's values in the TRAIN phase, none in TEST; see
:data:`lifting.cpm.AUGMENT_CHOICES`),
``rank`` and ``world_size`` (0 and 1; one solver process per GPU), ``augmentation`` (a dict of
:class:`lifting.cpm.Augmentation` fields overriding the authors' values).

A trainer that restores a snapshot at iteration ``k`` calls :meth:`H36MDataLayer.seek` with ``k`` so that the
resumed run sees the batches of an uninterrupted one.
"""

import caffe

from lifting.cpm import Augmentation

from .batches import NUM_MAPS, BatchLoader
from .params import read_param_str

_KEYS = {"source", "batch_size", "crop", "workers", "prefetch", "seed", "shuffle", "augment", "rank", "world_size",
         "augmentation"}


class H36MDataLayer(caffe.Layer):
    def setup(self, bottom, top):
        p = read_param_str(self, _KEYS)
        if "source" not in p:
            raise ValueError("H36MDataLayer: param_str needs 'source' (a dataset made by `lifting h36m-prepare`)")
        if len(bottom) != 0 or len(top) not in (2, 3):
            raise ValueError("H36MDataLayer takes no bottom and tops (data, label[, camera])")
        try:
            aug = Augmentation.from_dict({**p.get("augmentation", {}), "crop": int(p.get("crop", 368))})
            augment = Augmentation.augments(p.get("augment", "authors"), self.phase == caffe.TRAIN)
            self.loader = BatchLoader(p["source"], int(p.get("batch_size", 8)), aug, seed=int(p.get("seed", 0)),
                                      rank=int(p.get("rank", 0)), world_size=int(p.get("world_size", 1)),
                                      workers=int(p.get("workers", 2)), prefetch=int(p.get("prefetch", 4)),
                                      augment=augment,
                                      shuffle=bool(p.get("shuffle", True)))
        except ValueError as e:
            raise ValueError(f"H36MDataLayer: {e}") from None
        self.batch_size, self.crop = int(p.get("batch_size", 8)), aug.crop

    def reshape(self, bottom, top):
        top[0].reshape(self.batch_size, 4, self.crop, self.crop)
        top[1].reshape(self.batch_size, NUM_MAPS, self.crop // 8, self.crop // 8)
        if len(top) > 2:
            top[2].reshape(self.batch_size, 9)

    def forward(self, bottom, top):
        self.loader.next_into(top[0].data, top[1].data, top[2].data if len(top) > 2 else None)

    def backward(self, top, propagate_down, bottom):
        pass

    def seek(self, batch_index):
        """The next forward delivers batch ``batch_index`` (= the solver's iteration)."""
        self.loader.seek(batch_index)
