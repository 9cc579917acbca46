package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{
		"0":         0,
		"1":         1,
		"1048576":   MiB,
		"512KiB":    512 * KiB,
		"8MiB":      8 * MiB,
		"8 MiB":     8 * MiB,
		" 8mib ":    8 * MiB,
		"1GiB":      GiB,
		"5GiB":      5 * GiB,
		"2TiB":      2 * TiB,
		"100B":      100,
		"8388608B":  8 * MiB,
		"8191TiB":   8191 * TiB,
		"007KiB":    7 * KiB,
		"5242880 b": 5 * MiB,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "-1MiB", "1.5MiB", "8MB", "8M", "8 mebibytes", "1e6", "0x10", "8388608TiB", "99999999999999999999"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		} else if !strings.Contains(err.Error(), "is not a size") {
			t.Errorf("ParseSize(%q): error %q does not say what a size is", in, err)
		}
	}
}

func TestSizeString(t *testing.T) {
	for s, want := range map[Size]string{
		0: "0B", 1: "1B", 1000: "1000B", KiB: "1KiB", 1536: "1536B", 3 * 512 * KiB: "1536KiB",
		8 * MiB: "8MiB", 5 * GiB: "5GiB", 2 * TiB: "2TiB",
	} {
		if got := s.String(); got != want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(s), got, want)
		}
		if back, err := ParseSize(s.String()); err != nil || back != s {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s.String(), back, err, s)
		}
	}
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"20s": 20 * time.Second, "1m30s": 90 * time.Second, "500ms": 500 * time.Millisecond, "0": 0, " 2h ": 2 * time.Hour,
	} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err != nil || d.Std() != want {
			t.Errorf("Duration %q = %v, %v; want %v", in, d, err, want)
		}
	}
	for _, in := range []string{"", "20", "soon", "1 minute"} {
		var d Duration
		if err := d.UnmarshalText([]byte(in)); err == nil || !strings.Contains(err.Error(), "is not a duration") {
			t.Errorf("Duration %q: error %v", in, err)
		}
	}
	if got := Duration(90 * time.Second).String(); got != "1m30s" {
		t.Errorf("String = %q", got)
	}
}
