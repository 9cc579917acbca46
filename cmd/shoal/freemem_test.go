package main

import (
	"slices"
	"testing"
)

func TestLazyFreeEnviron(t *testing.T) {
	for _, c := range []struct {
		name    string
		goos    string
		environ []string
		want    []string // nil: no restart
	}{
		{"no GODEBUG", "linux", []string{"A=1"}, []string{"A=1", "GODEBUG=madvdontneed=0"}},
		{"empty GODEBUG", "linux", []string{"GODEBUG=", "A=1"}, []string{"GODEBUG=madvdontneed=0", "A=1"}},
		{"other settings kept", "linux", []string{"GODEBUG=disablethp=1"}, []string{"GODEBUG=disablethp=1,madvdontneed=0"}},
		{"the user's choice stands", "linux", []string{"GODEBUG=madvdontneed=1"}, nil},
		{"set already", "linux", []string{"GODEBUG=gctrace=1,madvdontneed=0"}, nil},
		{"the first GODEBUG is the one in force", "linux", []string{"GODEBUG=gctrace=1", "GODEBUG=madvdontneed=1"},
			[]string{"GODEBUG=gctrace=1,madvdontneed=0", "GODEBUG=madvdontneed=1"}},
		{"not Linux", "darwin", []string{"A=1"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := slices.Clone(c.environ)
			got, ok := lazyFreeEnviron(c.goos, in)
			if ok != (c.want != nil) || !slices.Equal(got, c.want) {
				t.Errorf("lazyFreeEnviron(%q, %q) = %q, %v; want %q", c.goos, c.environ, got, ok, c.want)
			}
			if !slices.Equal(in, c.environ) {
				t.Errorf("the environment passed in was changed: %q", in)
			}
		})
	}
}

func TestFreedMemory(t *testing.T) {
	for _, c := range []struct {
		goos, godebug, want string
	}{
		{"linux", "", "at once (MADV_DONTNEED)"},
		{"linux", "madvdontneed=0", "lazily (MADV_FREE)"},
		{"linux", "madvdontneed=0,madvdontneed=1", "at once (MADV_DONTNEED)"},
		{"linux", "gctrace=1, madvdontneed=0", "lazily (MADV_FREE)"},
		{"darwin", "madvdontneed=0", "os default"},
	} {
		if got := freedMemory(c.goos, c.godebug); got != c.want {
			t.Errorf("freedMemory(%q, %q) = %q, want %q", c.goos, c.godebug, got, c.want)
		}
	}
}
