# syntax=docker/dockerfile:1
# Tessera: one static-ish binary on a slim Debian base.
#   docker build -t tessera .
#   docker run -p 8080:8080 -e TESSERA_MASTER_KEY="$(openssl rand -base64 32)" tessera

FROM rust:1.95-bookworm AS build
# SAML signatures: libxmlsec1 with OpenSSL, libxml2, and libclang for the bindings.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libclang-dev libxmlsec1-dev libxml2-dev libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin tessera \
 && cp target/release/tessera /usr/local/bin/tessera

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libxmlsec1 libxmlsec1-openssl libxml2 libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/tessera --shell /usr/sbin/nologin tessera \
 && mkdir -p /var/lib/tessera \
 && chown tessera:tessera /var/lib/tessera
COPY --from=build /usr/local/bin/tessera /usr/local/bin/tessera
USER tessera
ENV TESSERA_LISTEN=0.0.0.0:8080 \
    TESSERA_DATA_DIR=/var/lib/tessera \
    TESSERA_LOG_FORMAT=json
VOLUME ["/var/lib/tessera"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["tessera", "healthcheck"]
ENTRYPOINT ["tessera"]
CMD ["serve"]
