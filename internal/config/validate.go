package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validate reports every invalid value in c, each as a *KeyError, joined.
// It looks at nothing but c: no file or directory is read or created.
func (c Config) Validate() error { return errors.Join(c.validate()...) }

func (c Config) validate() []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, k := range table() {
		add(k.check(&c))
	}

	if c.Storage.Kind == StorageFS && c.DataDir == "" {
		add(keyErr("data_dir", "must not be empty when storage.kind is fs"))
	}
	if strings.ContainsRune(c.DataDir, 0) {
		add(keyErr("data_dir", "%q contains a NUL byte", c.DataDir))
	}
	if (c.TCP.TLSCert == "") != (c.TCP.TLSKey == "") {
		add(keyErr("tcp.tls_cert", "tls_cert and tls_key must be set together"))
	}
	if n := len(c.Users.RootUsername); n < 3 || n > 50 {
		add(keyErr("users.root_username", "must be 3 to 50 bytes"))
	}
	if n := len(c.Users.RootPassword); n < 3 || n > 100 {
		add(keyErr("users.root_password", "must be 3 to 100 bytes"))
	}
	if msg := checkListenAddress(c.TCP.Address); msg != "" {
		add(keyErr("tcp.address", "%q %s", c.TCP.Address, msg))
	}

	s3 := c.Storage.S3
	if msg := checkEndpoint(s3.Endpoint); msg != "" {
		add(keyErr("storage.s3.endpoint", "%q %s", s3.Endpoint, msg))
	}
	switch {
	case s3.Bucket == "" && c.Storage.Kind == StorageS3:
		add(keyErr("storage.s3.bucket", "is required when storage.kind is s3"))
	case s3.Bucket != "":
		if msg := checkBucket(s3.Bucket); msg != "" {
			add(keyErr("storage.s3.bucket", "%q %s", s3.Bucket, msg))
		}
	}
	if msg := checkPrefix(s3.Prefix); msg != "" {
		add(keyErr("storage.s3.prefix", "%q %s", s3.Prefix, msg))
	}
	if s3.Region == "" || strings.ContainsFunc(s3.Region, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		add(keyErr("storage.s3.region", "%q is not a region name (e.g. \"us-east-1\"; S3-compatible servers usually accept us-east-1)", s3.Region))
	}
	switch {
	case s3.AccessKeyID != "" && s3.SecretAccessKey == "":
		add(keyErr("storage.s3.secret_access_key", "is required when storage.s3.access_key_id is set (set both or neither)"))
	case s3.AccessKeyID == "" && s3.SecretAccessKey != "":
		add(keyErr("storage.s3.access_key_id", "is required when storage.s3.secret_access_key is set (set both or neither)"))
	}
	if s3.SessionToken != "" && (s3.AccessKeyID == "" || s3.SecretAccessKey == "") {
		add(keyErr("storage.s3.session_token", "is set, but needs storage.s3.access_key_id and storage.s3.secret_access_key too"))
	}
	return errs
}

// keyErr reports an invalid value of the key at the dotted path name.
func keyErr(name, format string, args ...any) error {
	return &KeyError{Key: name, Env: EnvName(name), Msg: fmt.Sprintf(format, args...)}
}

// checkListenAddress returns why addr is not host:port with a numeric port
// in 1..65535 or 0 (any free port), or "".
func checkListenAddress(addr string) string {
	const want = `is not host:port (e.g. "127.0.0.1:8090", "[::1]:8090", ":8090" for all interfaces)`
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return want
	}
	if strings.ContainsFunc(host, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' }) {
		return want
	}
	if port == "0" {
		return ""
	}
	if msg := checkPort(port); msg != "" {
		return msg + ", or 0 for any free port"
	}
	return ""
}

// checkPort returns why port is not a number in 1..65535, or "".
func checkPort(port string) string {
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 || port[0] == '+' {
		return fmt.Sprintf("has port %q; allowed: a number 1-65535", port)
	}
	return ""
}

// checkEndpoint returns why endpoint is neither empty nor an http(s) URL of
// a host, or "".
func checkEndpoint(endpoint string) string {
	if endpoint == "" {
		return ""
	}
	const want = `is not an http:// or https:// URL of a host, like "http://127.0.0.1:9000" or "https://s3.example.com" (empty means AWS)`
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return want
	}
	if u.User != nil {
		return "must not carry credentials; use storage.s3.access_key_id and storage.s3.secret_access_key"
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "must not have a path, query or fragment (put the bucket in storage.s3.bucket and a key prefix in storage.s3.prefix)"
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		if msg := checkPort(p); msg != "" {
			return msg
		}
	}
	return ""
}

// checkBucket returns why name breaks the S3 bucket naming rules, or "".
func checkBucket(name string) string {
	if len(name) < 3 || len(name) > 63 {
		return "is not 3-63 characters long"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return "may only contain lowercase letters, digits, '.' and '-'"
		}
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return "must start and end with a lowercase letter or digit"
	}
	if strings.Contains(name, "..") {
		return "must not contain two adjacent periods"
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return "must not be formatted as an IP address"
	}
	if strings.HasPrefix(name, "xn--") || strings.HasPrefix(name, "sthree-") ||
		strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3") {
		return "uses a prefix or suffix S3 reserves (xn--, sthree-, -s3alias, --ol-s3)"
	}
	return ""
}

// checkPrefix returns why prefix cannot start object keys, or "".
func checkPrefix(prefix string) string {
	if prefix == "" {
		return ""
	}
	switch {
	case !utf8.ValidString(prefix):
		return "is not valid UTF-8"
	case prefix[0] == '/':
		return "must not start with '/'"
	case strings.ContainsFunc(prefix, unicode.IsControl):
		return "must not contain control characters"
	case len(prefix) > 512:
		return "is longer than 512 bytes"
	}
	for seg := range strings.SplitSeq(strings.TrimSuffix(prefix, "/"), "/") {
		switch seg {
		case "":
			return "must not contain an empty path segment (\"//\")"
		case ".", "..":
			return "must not contain a '.' or '..' path segment"
		}
	}
	return ""
}
