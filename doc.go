// Package warroom is the root of the warroom module: a terminal console for
// the first hours after an AWS access key or account is compromised. The
// program is in cmd/warroom; ARCHITECTURE.md maps the packages. This package
// holds only the test that keeps the import boundaries.
package warroom
