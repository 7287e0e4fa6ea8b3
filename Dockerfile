# CUDA reproduction image: official BVLC Caffe (CUDA kernels, NCCL for multi-GPU training) with Python layers + this
# project, built by the same scripts as on a CPU machine and as scripts/check_cuda_build.sh: the CUDA toolkit from the
# pinned PyPI wheels of scripts/cuda-wheels.txt (scripts/cuda_toolkit.sh), then scripts/build_caffe.sh --cuda.
#   docker build -t lifting-from-the-deep .
#   docker run --gpus all --rm lifting-from-the-deep            # runs the test suite (CPU and GPU)
#   docker run --gpus all --rm -v $PWD/weights:/weights lifting-from-the-deep lifting estimate ...
# Debian 12 as on the CPU path (Python 3.11, Boost.Python 3.11, protobuf 3.21); the GPU driver comes from the host
# through the NVIDIA container toolkit (--gpus), so no nvidia/cuda base image is needed.
FROM debian:12

ENV DEBIAN_FRONTEND=noninteractive \
    LIFTING_CAFFE_CACHE=/opt/caffe \
    PIP_NO_CACHE_DIR=1 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    CAFFE_CUDA_ARCH="75 80 90"
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates python3.11 python3.11-dev \
       python3.11-venv build-essential cmake patch libboost-system-dev libboost-thread-dev libboost-filesystem-dev \
       libboost-python-dev libprotobuf-dev protobuf-compiler libgoogle-glog-dev libgflags-dev libhdf5-dev \
       libopenblas-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /workspace/lifting
COPY requirements.txt requirements-detector.txt setup.py ./
RUN python3.11 -m venv .venv && .venv/bin/pip install -q --upgrade pip && .venv/bin/pip install -q -r requirements.txt \
    && .venv/bin/pip install -q --no-deps -r requirements-detector.txt
COPY scripts/cuda-wheels.txt scripts/cuda_toolkit.sh scripts/
RUN mkdir -p /opt/cuda && PYTHON=.venv/bin/python scripts/cuda_toolkit.sh /opt/cuda | tail -n 2 > /opt/cuda/env
COPY . .
RUN .venv/bin/pip install -q --no-deps -e . \
    && set -a && . /opt/cuda/env && set +a \
    && PYTHON=.venv/bin/python scripts/build_caffe.sh --cuda | tail -n 1 \
       > "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/pycaffe.pth" \
    && .venv/bin/python -c "import caffe; assert 'Python' in caffe.layer_type_list() and caffe.has_nccl()"
ENV PATH=/workspace/lifting/.venv/bin:$PATH
CMD ["python", "-m", "pytest", "-q", "tests"]
