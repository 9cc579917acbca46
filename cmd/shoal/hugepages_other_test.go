//go:build !linux

package main

import "testing"

func testServerHugePages(t *testing.T, _ string) {
	t.Skip("huge pages are Linux's")
}
