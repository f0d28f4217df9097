// Package local holds the tests of the scripts behind make run, make test
// and make migrate (deploy/local/*.sh): they start the scripts as a
// developer does and check what the scripts promise.
package local
