// Package check holds the tests that check Chatterly's deployment artifacts
// with the tools their formats come from: the compose file with
// compose-go's own loader, the Kubernetes manifests rendered by kustomize
// and decoded strictly into the Kubernetes API types, the images' build
// command by building the binaries as the Dockerfiles do and reading their
// ELF headers, and the Prometheus rules with promtool.
//
// It is a module of its own so that none of those large, deployment-only
// dependencies enter the product's go.mod. make test and make lint run it
// (deploy/local/test.sh, the Makefile).
package check
