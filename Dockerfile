# CUDA reproduction image: official BVLC Caffe (CUDA kernels) with Python layers + this project.
#   docker build -t lifting-from-the-deep .
#   docker run --gpus all --rm lifting-from-the-deep            # runs the test suite (CPU and GPU)
#   docker run --gpus all --rm -v $PWD/weights:/weights lifting-from-the-deep lifting estimate ...
# Caffe is built by the same scripts/build_caffe.sh as on a CPU machine, with --cuda (see README, "GPU image").
FROM nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04

ENV DEBIAN_FRONTEND=noninteractive \
    LIFTING_CAFFE_CACHE=/opt/caffe \
    PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends software-properties-common \
    && add-apt-repository -y ppa:deadsnakes/ppa && apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3.11-dev python3.11-venv \
       build-essential cmake git libboost-system-dev libboost-thread-dev libboost-filesystem-dev \
       libboost-regex-dev libprotobuf-dev protobuf-compiler libgoogle-glog-dev libgflags-dev libhdf5-dev \
       libopenblas-dev libgtest-dev wget \
    && rm -rf /var/lib/apt/lists/*
# Ubuntu 22.04's Boost.Python is built for Python 3.10; build Boost.Python for 3.11 from Boost's sources.
RUN wget -q https://archives.boost.io/release/1.74.0/source/boost_1_74_0.tar.gz -O /tmp/boost.tgz \
    && tar xzf /tmp/boost.tgz -C /tmp && cd /tmp/boost_1_74_0 \
    && ./bootstrap.sh --with-libraries=python --with-python=python3.11 \
    && ./b2 -j"$(nproc)" link=shared variant=release install --prefix=/usr/local \
    && ln -sf /usr/local/lib/libboost_python311.so /usr/lib/x86_64-linux-gnu/libboost_python311.so \
    && rm -rf /tmp/boost*

WORKDIR /workspace/lifting
COPY requirements.txt requirements-detector.txt setup.py ./
RUN python3.11 -m venv .venv && .venv/bin/pip install -q --upgrade pip && .venv/bin/pip install -q -r requirements.txt \
    && .venv/bin/pip install -q --no-deps -r requirements-detector.txt
COPY . .
RUN .venv/bin/pip install -q --no-deps -e . \
    && PYTHON=.venv/bin/python scripts/build_caffe.sh --cuda | tail -n 1 \
       > "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/pycaffe.pth" \
    && .venv/bin/python -c "import caffe; assert 'Python' in caffe.layer_type_list()"
ENV PATH=/workspace/lifting/.venv/bin:$PATH
CMD ["python", "-m", "pytest", "-q", "tests"]
