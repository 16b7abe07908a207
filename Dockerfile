# A minimal image with the compiled binary as entrypoint, like mplatform/manifest-tool.
# Built by the release workflow per architecture from the binaries of that release:
#   docker buildx build --platform linux/arm64 --build-arg BINARY=dist/release/manifest-tool-linux-arm64 .
# The image has no shell and runs as a non-root user.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG BINARY=dist/release/manifest-tool-linux-amd64
COPY --chmod=0755 ${BINARY} /usr/local/bin/manifest-tool
USER nonroot
ENTRYPOINT ["/usr/local/bin/manifest-tool"]
CMD ["--help"]
