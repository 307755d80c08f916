//go:build !unix

package main

// oNoFollow: not available here; writeOutput's Lstat check still refuses
// an existing symlink.
const oNoFollow = 0
