package main

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/shoalstream/shoal/internal/config"
)

// hugeAdvised returns how many bytes of [start, start+size) lie in
// mappings of process pid advised for huge pages (VmFlags hg).
func hugeAdvised(t *testing.T, pid string, start, size uint64) uint64 {
	t.Helper()
	f, err := os.Open("/proc/" + pid + "/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lo, hi, advised uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			a, b, _ := strings.Cut(fields[0], "-")
			lo, _ = strconv.ParseUint(a, 16, 64)
			hi, _ = strconv.ParseUint(b, 16, 64)
			continue
		}
		flags, ok := strings.CutPrefix(line, "VmFlags:")
		if !ok || !strings.Contains(" "+flags+" ", " hg ") {
			continue
		}
		if l, h := max(lo, start), min(hi, start+size); l < h {
			advised += h - l
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return advised
}

func TestAdviseHeapRange(t *testing.T) {
	sys := readTHPSystem()
	if sys.enabled == "" || sys.pageSize == 0 {
		t.Skip("the kernel has no transparent huge pages")
	}
	const n = 64 << 20
	start, size, err := adviseHeapRange(n, sys.pageSize)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	if size < n-2*sys.pageSize || size > n || start%uint64(sys.pageSize) != 0 {
		t.Fatalf("advised %d bytes at %#x of %d, want whole huge pages of %d", size, start, n, sys.pageSize)
	}
	if got := hugeAdvised(t, "self", start, uint64(size)); got != uint64(size) {
		t.Errorf("%d of the %d bytes advised at %#x are in mappings advised for huge pages", got, size, start)
	}
}

// testServerHugePages starts the server binary with the default caches
// and checks that it advises its heap for huge pages as the machine
// allows, and logs it; and that GODEBUG=disablethp=1 turns that off.
func testServerHugePages(t *testing.T, bin string) {
	sys := readTHPSystem()
	want, why := planHugePages(config.Default(), "", sys)
	for _, c := range []struct {
		env  []string
		want int64
		why  string
	}{
		{nil, want, why},
		{[]string{"GODEBUG=disablethp=1"}, 0, "off (GODEBUG disablethp=1)"},
	} {
		if raceEnabled {
			// scripts/test runs this test without the race detector too.
			c.want, c.why = 0, "off (the race detector)"
		}
		dir := t.TempDir()
		env := append(childEnv(c.env...), "SHOAL_DATA_DIR="+filepath.Join(dir, "data"), "SHOAL_LOG_FORMAT=json")
		s := startServer(t, bin, dir, env)
		var start struct {
			HugePages string `json:"huge_pages"`
		}
		s.startLine(&start)
		s.waitLine("running")
		pid := strconv.Itoa(s.cmd.Process.Pid)
		if c.want == 0 {
			if start.HugePages != c.why {
				t.Errorf("with %q: huge_pages %q, want %q", c.env, start.HugePages, c.why)
			}
		} else {
			// The range advised is the plan, less a huge page when the
			// heap's allocation did not start on one.
			size, err := config.ParseSize(start.HugePages)
			if err != nil || (int64(size) != c.want && int64(size) != c.want-sys.pageSize) {
				t.Errorf("with %q: huge_pages %q, want %s", c.env, start.HugePages, config.Size(c.want))
			}
			if got := hugeAdvised(t, pid, 0, math.MaxUint64); got < uint64(size) {
				t.Errorf("with %q: the server logs %s advised, but only %d bytes of its mappings are", c.env, start.HugePages, got)
			}
		}
		s.stop()
	}
}
