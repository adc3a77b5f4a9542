//go:build !unix

package layout

// syncDir is a no-op where directories cannot be synced.
func syncDir(string) error { return nil }
