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
# One uvicorn worker per core the container is given (THREADGATE_WORKERS to choose);
# WebSocket size cap and graceful-stop timeout are set in gateway/main.py `serve`.
CMD ["python", "-m", "gateway.main", "--host", "0.0.0.0", "--port", "8002"]
