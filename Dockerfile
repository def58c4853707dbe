# The jitflow worker image: the jitflow package installed with pip, running `jitflow worker`.
#
# Build:  docker build -t jitflow .
# Run:    docker compose up   (see docker-compose.yml), or give it TEMPORAL_ADDRESS,
#         TEMPORAL_NAMESPACE, JITFLOW_CONFIG (a folder of sym_* .tf files mounted into the
#         container), JITFLOW_DATABASE_URL, AWS credentials/region and APTIBLE_AUTH_ROOT_URL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# Only what the package is built from (see [tool.setuptools] in pyproject.toml); the tests,
# examples and development files stay out of the image.
COPY pyproject.toml README.md worker.py ./
COPY jitflow ./jitflow
COPY workflows ./workflows
COPY activities ./activities
COPY reducers ./reducers
RUN pip install . \
    && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent jitflow \
    && mkdir /config

# Never run as root: the worker needs no privilege inside the container.
USER jitflow
WORKDIR /config
ENV JITFLOW_CONFIG=/config

ENTRYPOINT ["jitflow"]
CMD ["worker"]
