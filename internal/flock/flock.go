// Package flock takes an exclusive lock on a file, shared between
// processes, waiting with a deadline (the caller's context).
package flock

import "time"

// maxWait is the longest pause between two attempts to take a lock.
const maxWait = 50 * time.Millisecond
