# Martlet in a container: the Makefile's steps in a Swift 6.3 image, the binary and the
# Swift runtime in Debian slim. Build: docker build -t martlet .
# Run:   docker run -p 7777:7777 -v martlet-data:/var/lib/martlet martlet
FROM swift:6.3-bookworm AS build
WORKDIR /src
# `make deps`: libsecp256k1 from Debian.
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libsecp256k1-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY Package.swift Makefile ./
COPY Sources ./Sources
# `make run`'s build.
RUN swift build -c release --product martlet \
    && cp "$(swift build -c release --show-bin-path)/martlet" /martlet

FROM debian:bookworm-slim
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libsecp256k1-1 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/martlet --shell /usr/sbin/nologin martlet \
    && install -d -o martlet -g martlet -m 0700 /var/lib/martlet
# The Swift runtime and Foundation the binary links (found through its rpath).
COPY --from=build /usr/lib/swift/linux/*.so /usr/lib/swift/linux/
COPY --from=build /martlet /usr/local/bin/martlet
USER martlet
VOLUME /var/lib/martlet
EXPOSE 7777
ENTRYPOINT ["/usr/local/bin/martlet"]
CMD ["serve", "--host", "0.0.0.0", "--port", "7777", "--data", "/var/lib/martlet"]
