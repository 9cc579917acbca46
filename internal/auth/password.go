package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash is returned (wrapped, with what is wrong) by
// VerifyPassword for an encoded hash it cannot read.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// ErrInvalidParams is returned (wrapped) by PasswordParams.Validate and
// PasswordParams.Hash for parameters outside the Min and Max bounds.
var ErrInvalidParams = errors.New("auth: invalid password hash parameters")

// Bounds on argon2id parameters, checked when hashing and when decoding a
// stored hash, so that a corrupt record cannot make a login allocate
// gigabytes or spin for minutes.
const (
	MaxPasswordMemoryKiB = 256 << 10 // 256 MiB
	MaxPasswordTime      = 32
	MinSaltLen           = 8
	MaxSaltLen           = 64
	MinKeyLen            = 16
	MaxKeyLen            = 64
)

// argon2Version is the only argon2 version golang.org/x/crypto implements
// (0x13), written as "v=19" in the encoding.
const argon2Version = argon2.Version

// PasswordParams are the argon2id cost parameters used to hash a password.
// They are written into the encoded hash, so VerifyPassword always uses the
// parameters a hash was made with, and changing them affects new hashes only.
type PasswordParams struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism (lanes).
	Threads uint8
	// SaltLen is the number of random salt bytes.
	SaltLen uint32
	// KeyLen is the length of the derived hash in bytes.
	KeyLen uint32
}

// DefaultPasswordParams returns the parameters HashPassword uses: m = 19 MiB,
// t = 2, p = 1, a 16-byte salt and a 32-byte hash. These are OWASP's argon2id
// baseline and the defaults of the argon2 crate the reference server uses;
// one hash (and so one verification) took about 22 ms on a 2-core amd64
// machine. One lane keeps a burst of logins from taking every core at once.
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Validate reports whether p is within the Min and Max bounds. The error matches
// ErrInvalidParams.
func (p PasswordParams) Validate() error {
	if msg := p.check(); msg != "" {
		return fmt.Errorf("%w: %s", ErrInvalidParams, msg)
	}
	return nil
}

// check says what is out of bounds in p, or "".
func (p PasswordParams) check() string {
	switch {
	case p.Time < 1 || p.Time > MaxPasswordTime:
		return fmt.Sprintf("time %d not in [1, %d]", p.Time, MaxPasswordTime)
	case p.Threads < 1:
		return "threads must be at least 1"
	case p.Memory < 8*uint32(p.Threads) || p.Memory > MaxPasswordMemoryKiB:
		return fmt.Sprintf("memory %d KiB not in [%d, %d]", p.Memory, 8*uint32(p.Threads), MaxPasswordMemoryKiB)
	case p.SaltLen < MinSaltLen || p.SaltLen > MaxSaltLen:
		return fmt.Sprintf("salt length %d not in [%d, %d]", p.SaltLen, MinSaltLen, MaxSaltLen)
	case p.KeyLen < MinKeyLen || p.KeyLen > MaxKeyLen:
		return fmt.Sprintf("key length %d not in [%d, %d]", p.KeyLen, MinKeyLen, MaxKeyLen)
	}
	return ""
}

// Hash hashes password with argon2id under p and a fresh random salt, and
// returns it in PHC string format:
//
//	$argon2id$v=19$m=<memory KiB>,t=<time>,p=<threads>$<salt>$<hash>
//
// with salt and hash in unpadded standard base64. The reference server
// writes the same format, so its stored hashes verify here.
func (p PasswordParams) Hash(password string) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: reading salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// HashPassword hashes password with DefaultPasswordParams. Callers that need
// other costs (tests want cheap ones) call PasswordParams.Hash.
func HashPassword(password string) (string, error) {
	return DefaultPasswordParams().Hash(password)
}

// VerifyPassword reports whether password matches encoded, a hash made by
// PasswordParams.Hash (or any argon2id v=19 PHC string within the bounds
// above). The derived keys are compared in constant time; the cost is that
// of the parameters in encoded. A wrong password is (false, nil); an
// encoding it cannot read is (false, err) with err matching
// ErrMalformedHash.
func VerifyPassword(encoded, password string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

var b64 = base64.RawStdEncoding.Strict()

// maxEncodedLen bounds an encoded hash before it is parsed: the prefix with
// the largest parameters plus the longest salt and hash in base64 fit well
// within it.
const maxEncodedLen = 512

// decodeHash parses a PHC argon2id string. The m, t and p parameters may
// come in any order but each exactly once; nothing else is accepted.
func decodeHash(encoded string) (PasswordParams, []byte, []byte, error) {
	var p PasswordParams
	malformed := func(format string, args ...any) (PasswordParams, []byte, []byte, error) {
		return p, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
	}
	if len(encoded) > maxEncodedLen {
		return malformed("%d bytes, longer than any hash within bounds", len(encoded))
	}
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[0] != "" {
		return malformed("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	if parts[1] != "argon2id" {
		return malformed("algorithm %q, want argon2id", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2Version) {
		return malformed("version %q, want v=%d", parts[2], argon2Version)
	}
	var seen [3]bool
	for kv := range strings.SplitSeq(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return malformed("parameter %q is not key=value", kv)
		}
		i := strings.Index("mtp", k)
		if len(k) != 1 || i < 0 {
			return malformed("unknown parameter %q", k)
		}
		if seen[i] {
			return malformed("parameter %q repeated", k)
		}
		seen[i] = true
		bits := 32
		if k == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			return malformed("parameter %s=%q is not a %d-bit number", k, v, bits)
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			p.Threads = uint8(n)
		}
	}
	if seen != [3]bool{true, true, true} {
		return malformed("want parameters m, t and p")
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return malformed("salt: %v", err)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return malformed("hash: %v", err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if msg := p.check(); msg != "" {
		return malformed("%s", msg)
	}
	return p, salt, key, nil
}
