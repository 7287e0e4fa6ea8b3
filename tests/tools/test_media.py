"""Inputs of `lifting estimate` (tools/media.py): --recursive, a.jpg and a.png side by side, animated GIFs."""
import numpy as np
import pytest
from PIL import Image

from tools.media import InputError, collect_inputs, is_video, open_video, video_frames


def _img(path, n=1, size=(40, 30)):
    frames = [Image.fromarray(np.full((size[1], size[0], 3), 40 * k, np.uint8)) for k in range(n)]
    if n > 1:
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    else:
        frames[0].save(path)


def test_same_stem_other_extension_both_estimated(tmp_path):
    _img(tmp_path / "a.jpg")
    _img(tmp_path / "a.png")
    _img(tmp_path / "b.png")
    out = collect_inputs([tmp_path])
    assert [(p.split("/")[-1], s) for p, s in out] == [("a.jpg", "a.jpg"), ("a.png", "a.png"), ("b.png", "b")]
    with pytest.raises(InputError, match="would both write b.png.json"):
        collect_inputs([tmp_path / "b.png", tmp_path / "b.png"])


def test_recursive_keeps_subfolders_and_skips_hidden(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    _img(tmp_path / "sub" / "x.jpg")
    _img(tmp_path / "sub" / "deeper" / "x.jpg")
    _img(tmp_path / ".hidden" / "y.jpg")
    with pytest.raises(InputError, match="--recursive searches its subfolders"):
        collect_inputs([tmp_path])
    out = collect_inputs([tmp_path], recursive=True)
    assert [s for _, s in out] == ["sub/x", "sub/deeper/x"]


def test_an_animated_gif_is_a_video_read_frame_by_frame(tmp_path):
    _img(tmp_path / "still.gif")
    _img(tmp_path / "anim.gif", n=3)
    assert not is_video(str(tmp_path / "still.gif"))
    assert is_video(str(tmp_path / "anim.gif")) and is_video("clip.MP4")
    cap, fps, count = open_video(str(tmp_path / "anim.gif"))
    assert (fps, count) == (20.0, 3)  # 50 ms a frame
    frames = []
    ok, bgr = cap.read()
    while ok:
        frames.append(bgr)
        ok, bgr = cap.read()
    cap.release()
    assert [f[0, 0, 0] for f in frames] == [0, 40, 80] and frames[0].shape == (30, 40, 3)


def test_video_frames_are_rgb_in_order(tmp_path):
    # a GIF of red, green, blue frames and an MP4 of the same: RGB out, in order; a missing file is named
    import cv2

    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.fromarray(np.tile(np.array(c, np.uint8), (32, 48, 1))) for c in colours]
    frames[0].save(tmp_path / "rgb.gif", save_all=True, append_images=frames[1:], duration=50, loop=0)
    out = list(video_frames(str(tmp_path / "rgb.gif")))
    assert [tuple(f[5, 5]) for f in out] == colours and out[0].shape == (32, 48, 3)
    w = cv2.VideoWriter(str(tmp_path / "rgb.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, (48, 32))
    for f in frames:
        w.write(np.ascontiguousarray(np.asarray(f)[:, :, ::-1]))
    w.release()
    out = list(video_frames(str(tmp_path / "rgb.mp4")))
    assert len(out) == 3
    for f, c in zip(out, colours):  # lossy: within a few levels of the colour
        assert np.abs(f[16, 24].astype(int) - c).max() < 30
    with pytest.raises(InputError, match="no such video file"):
        list(video_frames(str(tmp_path / "none.mp4")))


def test_output_paths_name_every_file_estimate_writes(tmp_path):
    """The files of one input: a photo's json (+ png), a video's npz and json (+ mp4), the csv/html exports, and the
    per-person BVH files an earlier run left (they are what --bvh may replace)."""
    from tools.media import output_paths

    out = str(tmp_path)
    assert output_paths(out, "a.jpg", video=False) == [f"{out}/a.jpg.json", f"{out}/a.jpg.png"]
    assert output_paths(out, "clip", video=True, plot=False, exports=("csv",)) == [
        f"{out}/clip.npz", f"{out}/clip.json", f"{out}/clip.csv"]
    (tmp_path / "clip.person2.bvh").write_text("")
    (tmp_path / "clip.person10.bvh").write_text("")
    (tmp_path / "clipper.person1.bvh").write_text("")  # another input's
    assert output_paths(out, "clip", video=True, exports=("bvh", "html")) == [
        f"{out}/clip.npz", f"{out}/clip.json", f"{out}/clip.mp4", f"{out}/clip.html", f"{out}/clip.person10.bvh",
        f"{out}/clip.person2.bvh"]
