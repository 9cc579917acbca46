package auth

import (
	"math"
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != TokenLength {
			t.Fatalf("token %q has %d characters, want %d", tok, len(tok), TokenLength)
		}
		for _, c := range tok {
			if !strings.ContainsRune(tokenAlphabet, c) {
				t.Fatalf("token %q has %q, not alphanumeric", tok, c)
			}
		}
		if seen[tok] {
			t.Fatalf("token %q minted twice", tok)
		}
		seen[tok] = true
	}
}

// TestNewTokenUniform checks, with a chi-squared test over 2,000 tokens
// (100,000 characters), that every character of the alphabet is drawn with
// the same probability: a modulo bias (bytes 248..255 folded onto the first
// 8 characters) would give those characters 1.25 times their share and a
// statistic far above the bound.
func TestNewTokenUniform(t *testing.T) {
	if len(tokenAlphabet) != 62 || tokenByteLimit != 248 {
		t.Fatalf("alphabet of %d, byte limit %d", len(tokenAlphabet), tokenByteLimit)
	}
	counts := map[rune]int{}
	const tokens = 2000
	for range tokens {
		tok, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range tok {
			counts[c]++
		}
	}
	n := float64(tokens * TokenLength)
	expected := n / float64(len(tokenAlphabet))
	var chi2 float64
	for _, c := range tokenAlphabet {
		d := float64(counts[c]) - expected
		chi2 += d * d / expected
	}
	// 61 degrees of freedom: the 99.9999th percentile is about 129, so a
	// fair generator fails once in a million runs; the modulo bias above
	// would give about 660.
	if chi2 > 130 || math.IsNaN(chi2) {
		t.Errorf("chi-squared %.1f over 61 degrees of freedom: characters not uniform: %v", chi2, counts)
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256 known answers.
	if got, want := HashToken(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("HashToken(\"\") = %s, want %s", got, want)
	}
	if got, want := HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("HashToken(abc) = %s, want %s", got, want)
	}
	tok, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	h := HashToken(tok)
	if len(h) != 64 || h != strings.ToLower(h) {
		t.Errorf("HashToken = %q, want 64 lowercase hex digits", h)
	}
	if HashToken(tok) != h {
		t.Error("HashToken is not deterministic")
	}
}

func TestTokenMatches(t *testing.T) {
	tok, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	stored := HashToken(tok)
	tests := []struct {
		name   string
		stored string
		token  string
		want   bool
	}{
		{"same token", stored, tok, true},
		{"one character changed", stored, tok[:TokenLength-1] + string(rune(tok[TokenLength-1])^1), false},
		{"prefix", stored, tok[:TokenLength-1], false},
		{"empty token", stored, "", false},
		{"empty stored hash", "", tok, false},
		{"uppercase stored hash", strings.ToUpper(stored), tok, false},
		{"raw token as stored hash", tok, tok, false},
	}
	for _, tt := range tests {
		if got := TokenMatches(tt.stored, tt.token); got != tt.want {
			t.Errorf("%s: TokenMatches = %v, want %v", tt.name, got, tt.want)
		}
	}
}
