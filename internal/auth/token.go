package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
)

// TokenLength is the length of a personal access token minted by NewToken,
// as in the reference server.
const TokenLength = 50

// tokenAlphabet is the set NewToken draws from: 62 characters.
const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// tokenByteLimit is the largest multiple of len(tokenAlphabet) that fits in
// a byte (248): a random byte below it, taken modulo 62, picks every
// character with the same probability; bytes at or above it are discarded.
const tokenByteLimit = 256 / len(tokenAlphabet) * len(tokenAlphabet)

// NewToken mints a personal access token: TokenLength characters drawn
// uniformly and independently from [A-Za-z0-9] with crypto/rand, about 297
// bits of entropy. The raw token is shown to its owner once; store only
// HashToken of it.
func NewToken() (string, error) {
	out := make([]byte, 0, TokenLength)
	// Each byte is kept with probability 248/256, so a batch of 64 almost
	// always yields 50 characters; loop for the rare short batch.
	var buf [64]byte
	for len(out) < TokenLength {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("auth: reading random token bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) >= tokenByteLimit {
				continue
			}
			out = append(out, tokenAlphabet[int(b)%len(tokenAlphabet)])
			if len(out) == TokenLength {
				break
			}
		}
	}
	return string(out), nil
}

// HashToken returns the lowercase hex SHA-256 of token, the form a token is
// stored and looked up in. Tokens carry ~297 random bits, so a fast hash is
// enough: nothing can be brute-forced, and the hash only keeps a leaked
// store from yielding usable tokens. (The reference stores BLAKE3 hashes;
// the stored form is internal and never crosses the wire.)
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenMatches reports whether token hashes to storedHash, comparing the
// hashes in constant time (only their lengths, which are public, may show).
func TokenMatches(storedHash, token string) bool {
	return subtle.ConstantTimeCompare([]byte(HashToken(token)), []byte(storedHash)) == 1
}
