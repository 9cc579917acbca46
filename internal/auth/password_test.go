package auth

import (
	"errors"
	"strings"
	"testing"
)

// cheapParams keep the tests fast; the encoding is the same.
func cheapParams() PasswordParams {
	return PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

func TestPasswordRoundTrip(t *testing.T) {
	for _, pw := range []string{"iggy", "", "pässwörd with spaces", strings.Repeat("x", 255)} {
		enc, err := cheapParams().Hash(pw)
		if err != nil {
			t.Fatalf("Hash(%q): %v", pw, err)
		}
		ok, err := VerifyPassword(enc, pw)
		if err != nil || !ok {
			t.Errorf("VerifyPassword(Hash(%q)) = %v, %v; want true, nil", pw, ok, err)
		}
		for _, wrong := range []string{pw + "x", strings.ToUpper(pw) + "!", "iggy2"} {
			ok, err := VerifyPassword(enc, wrong)
			if err != nil || ok {
				t.Errorf("VerifyPassword(Hash(%q), %q) = %v, %v; want false, nil", pw, wrong, ok, err)
			}
		}
	}
}

func TestHashPasswordDefaults(t *testing.T) {
	enc, err := HashPassword("iggy")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("default encoding %q", enc)
	}
	if ok, err := VerifyPassword(enc, "iggy"); err != nil || !ok {
		t.Errorf("VerifyPassword = %v, %v", ok, err)
	}
}

func TestPasswordEncoding(t *testing.T) {
	p := PasswordParams{Memory: 256, Time: 3, Threads: 2, SaltLen: 8, KeyLen: 16}
	enc, err := p.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(enc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=256,t=3,p=2" {
		t.Fatalf("encoding %q", enc)
	}
	// 8 and 16 bytes in unpadded base64.
	if len(parts[4]) != 11 || len(parts[5]) != 22 {
		t.Errorf("salt %q, hash %q: wrong lengths", parts[4], parts[5])
	}
	got, salt, key, err := decodeHash(enc)
	if err != nil || got != p || len(salt) != 8 || len(key) != 16 {
		t.Errorf("decodeHash = %+v, %d-byte salt, %d-byte key, %v", got, len(salt), len(key), err)
	}
}

// TestPasswordKnownAnswer verifies hashes made by the argon2 reference
// implementation (its command-line encoder), so hashes written by other
// implementations in the same PHC format, the reference server's included,
// verify here.
func TestPasswordKnownAnswer(t *testing.T) {
	vectors := []struct{ enc, password string }{
		{"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$JGMB7FyX+qH8OdSiR76JInSqQ0kehKjWk7F7t6SkE6g", "iggy"},
		// The default parameters.
		{"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$k846gcvmkibk2EvTa8j2Y4xGMEu+ZruM5Ih4ktGc3mM", "iggy"},
		// Two lanes, a 16-byte hash, a non-ASCII password.
		{"$argon2id$v=19$m=256,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$bg6pxi2dV3KUrLYlcZtXwg", "pässwörd"},
		// Parameters in another order are read the same way.
		{"$argon2id$v=19$p=1,t=1,m=64$c29tZXNhbHRzb21lc2FsdA$JGMB7FyX+qH8OdSiR76JInSqQ0kehKjWk7F7t6SkE6g", "iggy"},
	}
	for _, v := range vectors {
		if ok, err := VerifyPassword(v.enc, v.password); err != nil || !ok {
			t.Errorf("VerifyPassword(%q, %q) = %v, %v; want true, nil", v.enc, v.password, ok, err)
		}
		if ok, err := VerifyPassword(v.enc, v.password+"!"); err != nil || ok {
			t.Errorf("VerifyPassword(%q, %q) = %v, %v; want false, nil", v.enc, v.password+"!", ok, err)
		}
	}
}

func TestPasswordDistinctSalts(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		enc, err := cheapParams().Hash("same password")
		if err != nil {
			t.Fatal(err)
		}
		salt := strings.Split(enc, "$")[4]
		if seen[salt] {
			t.Fatalf("salt %q repeated", salt)
		}
		seen[salt] = true
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good, err := cheapParams().Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, hash := parts[4], parts[5]
	with := func(alg, version, params, salt, hash string) string {
		return strings.Join([]string{"", alg, version, params, salt, hash}, "$")
	}
	cases := map[string]string{
		"empty":                "",
		"plaintext":            "iggy",
		"no leading dollar":    strings.TrimPrefix(good, "$"),
		"missing hash":         strings.Join(parts[:5], "$"),
		"extra field":          good + "$x",
		"argon2i":              with("argon2i", "v=19", "m=64,t=1,p=1", salt, hash),
		"bcrypt":               "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"no version":           strings.Join([]string{"", "argon2id", "m=64,t=1,p=1", salt, hash}, "$"),
		"version 16":           with("argon2id", "v=16", "m=64,t=1,p=1", salt, hash),
		"missing p":            with("argon2id", "v=19", "m=64,t=1", salt, hash),
		"repeated m":           with("argon2id", "v=19", "m=64,m=64,t=1,p=1", salt, hash),
		"unknown param":        with("argon2id", "v=19", "m=64,t=1,p=1,keyid=abc", salt, hash),
		"param without value":  with("argon2id", "v=19", "m,t=1,p=1", salt, hash),
		"negative time":        with("argon2id", "v=19", "m=64,t=-1,p=1", salt, hash),
		"zero time":            with("argon2id", "v=19", "m=64,t=0,p=1", salt, hash),
		"zero threads":         with("argon2id", "v=19", "m=64,t=1,p=0", salt, hash),
		"threads over 255":     with("argon2id", "v=19", "m=64,t=1,p=256", salt, hash),
		"memory too small":     with("argon2id", "v=19", "m=8,t=1,p=2", salt, hash),
		"memory too large":     with("argon2id", "v=19", "m=4294967295,t=1,p=1", salt, hash),
		"time too large":       with("argon2id", "v=19", "m=64,t=1000,p=1", salt, hash),
		"memory not a number":  with("argon2id", "v=19", "m=lots,t=1,p=1", salt, hash),
		"salt not base64":      with("argon2id", "v=19", "m=64,t=1,p=1", "!!!!", hash),
		"padded salt":          with("argon2id", "v=19", "m=64,t=1,p=1", salt+"==", hash),
		"hash not base64":      with("argon2id", "v=19", "m=64,t=1,p=1", salt, "#"+hash),
		"salt too short":       with("argon2id", "v=19", "m=64,t=1,p=1", "c2FsdA", hash),
		"hash too short":       with("argon2id", "v=19", "m=64,t=1,p=1", salt, "c2FsdA"),
		"empty hash":           with("argon2id", "v=19", "m=64,t=1,p=1", salt, ""),
		"huge":                 good + strings.Repeat("A", 10000),
		"non-canonical base64": with("argon2id", "v=19", "m=64,t=1,p=1", salt[:len(salt)-1]+"B", hash),
	}
	for name, enc := range cases {
		ok, err := VerifyPassword(enc, "pw")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: VerifyPassword(%q) = %v, %v; want false, ErrMalformedHash", name, enc, ok, err)
		}
	}
}

func TestPasswordParamsValidate(t *testing.T) {
	if err := DefaultPasswordParams().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if err := cheapParams().Validate(); err != nil {
		t.Errorf("cheap: %v", err)
	}
	bad := map[string]func(*PasswordParams){
		"zero time":     func(p *PasswordParams) { p.Time = 0 },
		"huge time":     func(p *PasswordParams) { p.Time = MaxPasswordTime + 1 },
		"zero threads":  func(p *PasswordParams) { p.Threads = 0 },
		"tiny memory":   func(p *PasswordParams) { p.Memory, p.Threads = 15, 2 },
		"huge memory":   func(p *PasswordParams) { p.Memory = MaxPasswordMemoryKiB + 1 },
		"short salt":    func(p *PasswordParams) { p.SaltLen = MinSaltLen - 1 },
		"long salt":     func(p *PasswordParams) { p.SaltLen = MaxSaltLen + 1 },
		"short key":     func(p *PasswordParams) { p.KeyLen = MinKeyLen - 1 },
		"long key":      func(p *PasswordParams) { p.KeyLen = MaxKeyLen + 1 },
		"all zero (!)":  func(p *PasswordParams) { *p = PasswordParams{} },
		"zero key only": func(p *PasswordParams) { p.KeyLen = 0 },
	}
	for name, mutate := range bad {
		p := cheapParams()
		mutate(&p)
		if err := p.Validate(); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("%s: Validate = %v, want ErrInvalidParams", name, err)
		}
		if enc, err := p.Hash("pw"); enc != "" || !errors.Is(err, ErrInvalidParams) {
			t.Errorf("%s: Hash = %q, %v; want ErrInvalidParams", name, enc, err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	enc, err := HashPassword("iggy")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := VerifyPassword(enc, "iggy"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
