FROM python:3.12-slim

RUN useradd --create-home --uid 10001 mockmail \
    && mkdir -p /var/lib/mockmail && chown mockmail /var/lib/mockmail
WORKDIR /opt/mockmail
COPY pyproject.toml README.md openapi.yaml constraints.txt ./
COPY mockmail ./mockmail
COPY api ./api
RUN pip install --no-cache-dir -c constraints.txt . && rm -rf /root/.cache

USER mockmail
ENV MOCKMAIL_HOST=0.0.0.0 \
    MOCKMAIL_API_PORT=8025
EXPOSE 8025
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8025/api/v1/health', timeout=2)"]
# An open API beyond loopback is refused: give MOCKMAIL_ADMIN_TOKEN (or MOCKMAIL_INSECURE=1 on a workstation).
CMD ["mockmail", "serve", "--host", "0.0.0.0"]
