"""The generator's fusion option: ``fusion="authors"`` sets every FusionLayer's param_str (the committed files keep
the paper's eq. 8 and cannot be overwritten with the authors' variant)."""
import json

import pytest
from caffe.proto import caffe_pb2
from google.protobuf import text_format

from prototxt import generate
from prototxt.netdef import build


def fusion_params(text):
    net = text_format.Parse(text, caffe_pb2.NetParameter())
    return [json.loads(ly.python_param.param_str) for ly in net.layer if ly.python_param.layer == "FusionLayer"]


def test_fusion_option(tmp_path):
    assert fusion_params(build("full", True, "train")) == [{"init": 1.0}] * 5
    assert fusion_params(build("full", True, "train", fusion="authors")) == [{"init": 1.0, "fusion": "authors"}] * 5
    written = generate.write_all(str(tmp_path), fusion="authors")
    assert len(written) == 9 and fusion_params((tmp_path / "lifting_h36m_small_train.prototxt").read_text()) == \
        [{"init": 1.0, "fusion": "authors"}]
    with pytest.raises(ValueError, match="committed prototxt files use the paper's fusion"):
        generate.write_all(fusion="authors")
    with pytest.raises(ValueError, match="fusion must be 'paper' or 'authors'"):
        build("small", True, "deploy", fusion="mean")
