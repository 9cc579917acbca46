package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// syntaxError is a value that does not parse as its key's type.
type syntaxError struct {
	input    string
	expected string // finishes `"input" is not `
}

func (e syntaxError) Error() string { return fmt.Sprintf("%q is not %s", e.input, e.expected) }

// Size is a number of bytes. In the file and the environment it is written
// as a whole number of bytes ("1048576") or with a binary unit ("512KiB",
// "8MiB", "1GiB"; "8 MiB" is fine too). Decimal units (MB) are refused
// rather than guessed at.
type Size int64

// Binary size units.
const (
	B   Size = 1
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
	TiB Size = 1 << 40
)

var sizeUnits = []struct {
	name string
	size Size
}{{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}, {"B", B}}

const sizeSyntax = `a size (a whole number of bytes, optionally followed by KiB, MiB, GiB or TiB, e.g. "8MiB")`

// ParseSize parses a size such as "8MiB".
func ParseSize(s string) (Size, error) {
	bad := syntaxError{input: s, expected: sizeSyntax}
	t := strings.TrimSpace(s)
	digits := len(t) - len(strings.TrimLeft(t, "0123456789"))
	if digits == 0 {
		return 0, bad
	}
	n, err := strconv.ParseInt(t[:digits], 10, 64)
	if err != nil {
		return 0, bad
	}
	unit := strings.TrimSpace(t[digits:])
	mult := B
	if unit != "" {
		mult = 0
		for _, u := range sizeUnits {
			if strings.EqualFold(unit, u.name) {
				mult = u.size
			}
		}
		if mult == 0 {
			return 0, bad
		}
	}
	if n > math.MaxInt64/int64(mult) {
		return 0, syntaxError{input: s, expected: "a size that fits in 63 bits"}
	}
	return Size(n) * mult, nil
}

// String formats s with the largest unit that divides it ("8MiB"), or in
// bytes ("1000B").
func (s Size) String() string {
	for _, u := range sizeUnits {
		if s != 0 && s%u.size == 0 {
			return strconv.FormatInt(int64(s/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// Bytes returns s as a number of bytes.
func (s Size) Bytes() int64 { return int64(s) }

// MarshalText implements encoding.TextMarshaler.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. A TOML integer is taken
// as a number of bytes.
func (s *Size) UnmarshalText(text []byte) error {
	v, err := ParseSize(string(text))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Duration is a time.Duration written as Go writes durations: "20s",
// "1m30s", "500ms".
type Duration time.Duration

const durationSyntax = `a duration (e.g. "20s", "1m30s", "500ms")`

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(text)))
	if err != nil {
		return syntaxError{input: string(text), expected: durationSyntax}
	}
	*d = Duration(v)
	return nil
}
