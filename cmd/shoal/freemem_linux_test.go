package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// testServerFreedMemory starts the server binary and checks that it
// starts itself again with GODEBUG=madvdontneed=0 added to what GODEBUG
// held (the process keeps its pid), and logs it; and that a GODEBUG that
// sets madvdontneed is left alone.
func testServerFreedMemory(t *testing.T, bin string) {
	for _, c := range []struct {
		env         []string
		wantGODEBUG string // in the running process's environment
		want        string // freed_memory on the start line
	}{
		{nil, "madvdontneed=0", "lazily (MADV_FREE)"},
		{[]string{"GODEBUG=disablethp=1"}, "disablethp=1,madvdontneed=0", "lazily (MADV_FREE)"},
		{[]string{"GODEBUG=madvdontneed=1"}, "madvdontneed=1", "at once (MADV_DONTNEED)"},
	} {
		dir := t.TempDir()
		env := append(childEnv(c.env...), "SHOAL_DATA_DIR="+filepath.Join(dir, "data"), "SHOAL_LOG_FORMAT=json")
		s := startServer(t, bin, dir, env)
		var start struct {
			PID         int    `json:"pid"`
			FreedMemory string `json:"freed_memory"`
		}
		s.startLine(&start)
		s.waitLine("running")
		if start.FreedMemory != c.want {
			t.Errorf("with %q: freed_memory %q, want %q", c.env, start.FreedMemory, c.want)
		}
		if start.PID != s.cmd.Process.Pid {
			t.Errorf("with %q: the server logs pid %d, but was started as %d", c.env, start.PID, s.cmd.Process.Pid)
		}
		environ, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/environ")
		if err != nil {
			t.Fatal(err)
		}
		var godebugs []string
		for v := range bytes.SplitSeq(bytes.TrimRight(environ, "\x00"), []byte{0}) {
			if bytes.HasPrefix(v, []byte("GODEBUG=")) {
				godebugs = append(godebugs, string(v))
			}
		}
		if want := "GODEBUG=" + c.wantGODEBUG; !slices.Equal(godebugs, []string{want}) {
			t.Errorf("with %q: the running server's environment has %q, want %s", c.env, godebugs, want)
		}
		s.stop()
	}
}
