//go:build unix

package main

import "syscall"

// oNoFollow makes open fail on a symlink in the last path element.
const oNoFollow = syscall.O_NOFOLLOW
