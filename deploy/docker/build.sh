#!/bin/sh
# build.sh PACKAGE OUTPUT: the one command that builds a Chatterly binary for
# the images. deploy/docker/Dockerfile runs it, and deploy/check's
# TestImageBinariesAreStatic runs it too, so the binaries checked there are
# built exactly as the images build them. VERSION (the Dockerfile's build
# argument) is stamped with -X main.version.
set -eu
CGO_ENABLED=0 exec go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X main.version=${VERSION:-dev}" -o "$2" "./$1"
