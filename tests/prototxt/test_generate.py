"""The committed prototxt files are what the one definition generates.

Compared as parsed messages, not as text: protobuf's text printer orders a message's fields differently from one
release to the next (4.25, which MediaPipe needs, by field number; 7.x by declaration), and Caffe reads either."""
import os

from caffe.proto import caffe_pb2  # set-up builds Caffe: a missing one must fail, never skip
from google.protobuf import text_format

from prototxt import generate


def parsed(name, text):
    msg = caffe_pb2.SolverParameter() if name.endswith("_solver.prototxt") else caffe_pb2.NetParameter()
    return text_format.Parse(text, msg)


def test_committed_prototxt_files_are_up_to_date():
    files = generate.files()
    assert len(files) == 9
    for name, text in files.items():
        path = os.path.join(generate.HERE, name)
        assert os.path.exists(path), f"{name} is not committed; run `lifting prototxt`"
        with open(path) as f:
            assert parsed(name, f.read()) == parsed(name, text), f"{name} differs from the definition; run " \
                                                                 "`lifting prototxt`"


def test_the_comparison_sees_a_changed_value_and_ignores_field_order():
    text = generate.files()["lifting_h36m_small_deploy.prototxt"]
    assert "kernel_size: 3" in text
    assert parsed("x", text.replace("kernel_size: 3", "kernel_size: 5", 1)) != parsed("x", text)
    swapped = text.replace("slice_point: 3\n    axis: 1", "axis: 1\n    slice_point: 3")
    swapped = swapped.replace("axis: 1\n    slice_point: 3", "slice_point: 3\n    axis: 1") if swapped == text \
        else swapped
    assert swapped != text and parsed("x", swapped) == parsed("x", text)
