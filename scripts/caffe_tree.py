"""Content hash of Caffe's build tree, used by build_caffe.sh (standard library only).

    python3 scripts/caffe_tree.py hash TARBALL_OR_DIR   -> one line: the SHA-256 of the build tree

The build tree is every regular file and symlink under CMakeLists.txt, Makefile, cmake/, include/, src/, python/ and
tools/ (a tarball's one top folder, if it has one, is dropped). Its hash is the SHA-256 of the sorted lines
"<sha256 of the file's bytes, or 'link:' + target>  <path>". BVLC's documentation-only commits between 99bd997 (the
Debian orig tarball) and 9b89154 touch none of these files, so BVLC's GitHub archive of 9b89154 has the same build
tree hash as Debian's tarball; a directory prepared from either plus scripts/caffe-patches/ has the patched hash that
build_caffe.sh writes into its stamp.
"""
import hashlib
import os
import sys
import tarfile

PARTS = ("CMakeLists.txt", "Makefile", "cmake", "include", "src", "python", "tools")
# What a finished build adds under python/caffe (the proto module and the _caffe.so link); not source.
BUILD_OUTPUTS = ("python/caffe/proto/", "python/caffe/_caffe.so")


def _wanted(path):
    first = path.split("/", 1)[0]
    return first in PARTS and not any(path == o or path.startswith(o) for o in BUILD_OUTPUTS)


def top_folder(names):
    """The one folder every member of a tarball lies in (GitHub's archives have one), or '' (Debian's has none)."""
    names = [n for n in names if n not in (".", "./")]
    firsts = {n.split("/", 1)[0] for n in names}
    if len(firsts) == 1 and any("/" in n.rstrip("/") for n in names):
        return firsts.pop()
    return ""


def _line(digest, path):
    return f"{digest}  {path}\n"


def tree_lines(source):
    """Sorted (path, digest) lines of the build tree of a tarball (top folder dropped) or of a directory."""
    lines = []
    if os.path.isdir(source):
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames[:] = [d for d in dirnames if not (dirpath == source and d == "build")]
            for name in filenames:
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, source).replace(os.sep, "/")
                if not _wanted(rel):
                    continue
                if os.path.islink(full):
                    lines.append(_line("link:" + os.readlink(full), rel))
                else:
                    with open(full, "rb") as f:
                        lines.append(_line(hashlib.sha256(f.read()).hexdigest(), rel))
    else:
        with tarfile.open(source) as tar:
            members = tar.getmembers()
            top = top_folder([m.name for m in members])
            for m in members:
                name = m.name[len(top) + 1:] if top else m.name
                if name.startswith("./"):
                    name = name[2:]
                if not _wanted(name):
                    continue
                if m.issym():
                    lines.append(_line("link:" + m.linkname, name))
                elif m.isfile():
                    lines.append(_line(hashlib.sha256(tar.extractfile(m).read()).hexdigest(), name))
    return sorted(lines, key=lambda s: s.split("  ", 1)[1])


def tree_hash(source):
    return hashlib.sha256("".join(tree_lines(source)).encode()).hexdigest()


def main(argv):
    if len(argv) != 3 or argv[1] != "hash":
        print("usage: caffe_tree.py hash TARBALL_OR_DIR", file=sys.stderr)
        return 2
    if not os.path.exists(argv[2]):
        print(f"caffe_tree.py: {argv[2]}: no such file or folder", file=sys.stderr)
        return 2
    try:
        print(tree_hash(argv[2]))
    except (tarfile.TarError, OSError) as e:
        print(f"caffe_tree.py: {argv[2]}: not a readable tarball or folder ({e})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
