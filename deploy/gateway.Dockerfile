# The gateway image: stateless, so run as many replicas as the load needs.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY agents ./agents
COPY gateway ./gateway
RUN pip install --no-cache-dir . && useradd --system --uid 10001 threadgate
USER threadgate
EXPOSE 8002
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8002/healthz')"
# uvicorn buffers a whole WebSocket message before the gateway's own size check: cap it
# near THREADGATE_MAX_BODY_BYTES (raise both together). Open streams close 3 s into a
# stop, so a rolling restart does not wait on them; their clients rejoin elsewhere.
CMD ["uvicorn", "gateway.main:app", "--factory", "--host", "0.0.0.0", "--port", "8002", "--ws-max-size", "1048576", "--timeout-graceful-shutdown", "3"]
