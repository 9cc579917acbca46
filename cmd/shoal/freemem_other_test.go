//go:build !linux

package main

import (
	"path/filepath"
	"testing"
)

// testServerFreedMemory checks that the server runs as it was started
// (only Linux's runtime has the choice) and says so.
func testServerFreedMemory(t *testing.T, bin string) {
	dir := t.TempDir()
	env := append(childEnv(), "SHOAL_DATA_DIR="+filepath.Join(dir, "data"), "SHOAL_LOG_FORMAT=json")
	s := startServer(t, bin, dir, env)
	var start struct {
		FreedMemory string `json:"freed_memory"`
	}
	s.startLine(&start)
	if start.FreedMemory != "os default" {
		t.Errorf("freed_memory %q, want %q", start.FreedMemory, "os default")
	}
	s.waitLine("running")
	s.stop()
}
