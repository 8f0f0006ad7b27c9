# ib-stream-server in a container (README "Install"): Debian 12, two stages.
#
#   docker build -t ib-stream .
#   docker run --rm -p 127.0.0.1:8000:8000 ib-stream --simulate
#
# build:   Debian 12 with Node.js 20 (node:20-bookworm: the /docs page and the
#          dashboard are built from npm packages of package-lock.json, and
#          @redocly/cli needs Node >= 20.19, newer than Debian 12's), the -dev
#          packages of scripts/install-deps.sh that the programs link (no
#          GoogleTest, Google Benchmark or clang: -DIBS_BUILD_TESTS=OFF), and
#          only the four executables (target `executables`).
# runtime: debian:bookworm-slim with their shared libraries, tzdata (trading
#          hours) and curl (the health check); runs as the unprivileged user
#          ib-stream, listens on 0.0.0.0:8000, keeps the record in the volume
#          /var/lib/ib-stream. Arguments go to ib-stream-server; settings are
#          IB_STREAM_* environment variables (docker-compose.example.yml).
FROM node:20-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
      libcli11-dev libspdlog-dev libfmt-dev libvalijson-dev libsqlite3-dev libnats-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIBS_BUILD_TESTS=OFF \
 && cmake --build /build -j"$(nproc)" --target executables \
 && DESTDIR=/staging cmake --install /build --prefix /usr/local --strip

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libsqlite3-0 libboost-json1.81.0 libboost-url1.81.0 libspdlog1.10 libfmt9 libnats3.4 \
      tzdata curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --uid 10001 --home-dir /var/lib/ib-stream --no-create-home \
      --shell /usr/sbin/nologin ib-stream \
 && install -d -o ib-stream -g ib-stream -m 0750 /var/lib/ib-stream
COPY --from=build /staging/usr/local/bin/ /usr/local/bin/
COPY --from=build /staging/usr/local/share/doc/ib-stream/ /usr/local/share/doc/ib-stream/
ENV IB_STREAM_LISTEN=0.0.0.0:8000 \
    IB_STREAM_DATA_DIR=/var/lib/ib-stream
USER ib-stream
WORKDIR /var/lib/ib-stream
VOLUME /var/lib/ib-stream
EXPOSE 8000
# /health answers 200 while the server serves, TWS connected or not (its
# `status` says which); the port is the one of IB_STREAM_LISTEN.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${IB_STREAM_LISTEN##*:}/health" || exit 1
ENTRYPOINT ["ib-stream-server"]
