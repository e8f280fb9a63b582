# syntax=docker/dockerfile:1
# eks-iam-authenticator: the TokenReview webhook (and the token plugin) in one image.
#
#   docker build -t eks-iam-authenticator:0.1.0 .
#   docker run --read-only -v state:/var/eks-iam-authenticator \
#     -v "$PWD/config.yaml:/etc/eks-iam-authenticator/config.yaml:ro" eks-iam-authenticator:0.1.0
#
# Both install steps live in docker/install.sh; tests/deploy runs them in a fresh venv.

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: the project and its runtime dependencies as wheels ---------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY docker/install.sh /usr/local/bin/eks-install
COPY pyproject.toml README.md ./
COPY authenticator ./authenticator
COPY client_plugin ./client_plugin
RUN ["/usr/local/bin/eks-install", "wheels", "/src", "/wheels"]

# --- final: the interpreter, a venv of runtime wheels, nothing else --------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="eks-iam-authenticator" \
      org.opencontainers.image.description="Amazon EKS-style IAM authentication webhook for Kubernetes" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/eks-iam-authenticator \
    PATH=/opt/eks-iam-authenticator/bin:$PATH
# The wheels are bind-mounted from the builder, so they never become a layer of this image.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    --mount=type=bind,source=docker/install.sh,target=/tmp/eks-install \
    ["/bin/sh", "/tmp/eks-install", "runtime", "/wheels", "/opt/eks-iam-authenticator"]
# A numeric, unprivileged user; the state directory (cert.pem, key.pem, the webhook
# kubeconfig) is the only place the server writes, and it is a volume.
RUN groupadd --system --gid 10000 eks-iam-authenticator \
    && useradd --system --uid 10000 --gid 10000 --home-dir /var/eks-iam-authenticator \
        --no-create-home --shell /usr/sbin/nologin eks-iam-authenticator \
    && install -d -o 10000 -g 10000 -m 0700 /var/eks-iam-authenticator \
    && install -d -m 0755 /etc/eks-iam-authenticator
COPY docker/healthcheck.py /usr/local/lib/eks-iam-authenticator/healthcheck.py
VOLUME ["/var/eks-iam-authenticator"]
USER 10000:10000
WORKDIR /var/eks-iam-authenticator
EXPOSE 21362
# Kubernetes ignores HEALTHCHECK (the manifests use probes); docker and podman use it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "/usr/local/lib/eks-iam-authenticator/healthcheck.py"]
ENTRYPOINT ["eks-iam-authenticator"]
CMD ["server", "--config", "/etc/eks-iam-authenticator/config.yaml"]
