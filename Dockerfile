FROM python:3.12-slim

RUN useradd --create-home --uid 10001 mockmail \
    && mkdir -p /var/lib/mockmail && chown mockmail /var/lib/mockmail
WORKDIR /opt/mockmail
COPY pyproject.toml README.md LICENSE openapi.yaml constraints.txt ./
COPY mockmail ./mockmail
COPY api ./api
RUN pip install --no-cache-dir -c constraints.txt '.[postgresql]' && rm -rf /root/.cache

# Runs as an unprivileged user; the data dir is a volume, so tenants, mail and fault plans survive.
USER mockmail
ENV MOCKMAIL_HOST=0.0.0.0 \
    MOCKMAIL_API_PORT=8025 \
    MOCKMAIL_PORT_RANGE=20000-20099 \
    MOCKMAIL_DATA_DIR=/var/lib/mockmail
VOLUME ["/var/lib/mockmail"]
# The API and the web page; tenants whose ports are left 0 get theirs from MOCKMAIL_PORT_RANGE.
EXPOSE 8025 20000-20099
# Ready, not just alive: the API answers and every tenant's listeners are up.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8025/api/v1/ready', timeout=2)"]
# An open API beyond loopback is refused: give MOCKMAIL_ADMIN_TOKEN (or MOCKMAIL_INSECURE=1 on a workstation).
CMD ["mockmail", "serve"]
