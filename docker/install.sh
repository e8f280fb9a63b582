#!/bin/sh
# The image's two install steps, kept here so that tests/deploy runs exactly what the
# Dockerfile runs, in a fresh virtual environment, without a Docker daemon.
#
#   install.sh wheels  SRC_DIR WHEEL_DIR   builder stage: the project and every runtime
#                                          dependency as wheels (needs the package index)
#   install.sh runtime WHEEL_DIR VENV_DIR  final stage: a venv holding the project and its
#                                          runtime dependencies only, installed offline from
#                                          WHEEL_DIR; the venv gets no pip of its own
#
# PYTHON names the interpreter (default: python3).
set -eu

python=${PYTHON:-python3}

usage() {
    echo "usage: install.sh wheels SRC_DIR WHEEL_DIR | install.sh runtime WHEEL_DIR VENV_DIR" >&2
    exit 2
}

[ "$#" -eq 3 ] || usage

case "$1" in
wheels)
    # No extras: [demo] and [test] never reach the wheel directory, so they cannot reach the image.
    "$python" -m pip wheel --no-cache-dir --wheel-dir "$3" "$2"
    ;;
runtime)
    # --without-pip: the running image cannot install anything; the outer pip (--python) fills it.
    "$python" -m venv --without-pip "$3"
    "$python" -m pip --python "$3/bin/python" install --no-cache-dir --no-index --find-links "$2" \
        eks-iam-authenticator
    # Fail the build here, not at the first TokenReview, when a dependency is missing.
    "$3/bin/eks-iam-authenticator" version
    ;;
*)
    usage
    ;;
esac
