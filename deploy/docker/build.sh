#!/bin/sh
# build.sh PACKAGE OUTPUT: the one command that builds a Chatterly binary for
# the images. deploy/docker/Dockerfile runs it, and deploy/check's
# TestImageBinariesAreStatic runs it too, so the binaries checked there are
# built exactly as the images build them. VERSION (the Dockerfile's build
# argument) is stamped into shared/buildinfo, which --version and the
# chatterly_build_info metric read; -buildvcs=false keeps the build the
# same with or without a .git in the build context (the revision then
# reads "unknown").
set -eu
CGO_ENABLED=0 exec go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X github.com/chatterly/chatterly/shared/buildinfo.version=${VERSION:-dev}" -o "$2" "./$1"
