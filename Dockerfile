# One image for the worker and the registration service: `a2p worker` / `a2p service`.
# Reproducible: the dependencies are the hashed pins of requirements.lock (regenerate with
#   uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock),
# then the project itself without resolving anything. Lean: no `temporal` CLI (the `local`
# extra) and no Twilio sandbox — production talks to Temporal and Twilio.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY a2p ./a2p
COPY infra ./infra
COPY activities ./activities
COPY workflows ./workflows
COPY worker ./worker
COPY starter ./starter
RUN pip install --no-deps . && useradd --create-home --uid 10001 a2p
USER a2p
ENTRYPOINT ["a2p"]
CMD ["worker"]
