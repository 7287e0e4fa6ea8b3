from setuptools import find_packages, setup

setup(
    name="lifting-from-the-deep",
    version="0.1.0",
    description="Reimplementation of 'Lifting from the Deep' (Tome, Russell, Agapito, CVPR 2017): "
    "CPM + probabilistic 3D pose layer in Caffe, offline 3D pose-model fitting",
    packages=find_packages(include=["lifting", "lifting.*", "caffe_layers", "caffe_layers.*", "model_fitting",
                                    "model_fitting.*", "tools", "tools.*", "prototxt", "prototxt.*", "lifting_cli",
                                    "lifting_cli.*"]),
    package_data={"lifting": ["data/*.h5", "data/*.json"], "prototxt": ["*.prototxt"]},
    python_requires=">=3.11",
    install_requires=["numpy>=2.0", "scipy>=1.11", "h5py>=3.9", "opencv-python-headless>=4.8", "pyceres>=2.0",
                      "tqdm>=4.60", "matplotlib>=3.7", "protobuf>=3.20", "scikit-image>=0.21", "six", "cdflib>=1.0",
                      "threadpoolctl>=3.1"],
    extras_require={"test": ["pytest>=7"]},
    entry_points={"console_scripts": ["lifting=lifting_cli.main:main"]},
)
