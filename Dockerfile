# One image for the worker and the registration service: `a2p worker` / `a2p service`.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY a2p ./a2p
COPY activities ./activities
COPY workflows ./workflows
COPY worker ./worker
COPY starter ./starter
COPY sandbox ./sandbox
RUN pip install . && useradd --create-home --uid 10001 a2p
USER a2p
ENTRYPOINT ["a2p"]
CMD ["worker"]
