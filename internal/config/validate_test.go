package config

import (
	"errors"
	"strings"
	"testing"
)

func TestInvalidValues(t *testing.T) {
	// Each case sets variables over the defaults; the error must name the
	// key with its variable and say what is wrong or allowed.
	for _, tc := range []struct {
		env  env
		key  string // the key the error names
		want string // and a part of its message
	}{
		{env{"SHOAL_STORAGE_KIND": "ftp"}, "storage.kind", `"ftp" is not one of fs, s3, memory`},
		{env{"SHOAL_LOG_LEVEL": "verbose"}, "log.level", "is not one of debug, info, warn, error"},
		{env{"SHOAL_LOG_FORMAT": "xml"}, "log.format", "is not one of text, json"},
		{env{"SHOAL_STORAGE_S3_ADDRESSING": "dns"}, "storage.s3.addressing", "is not one of auto, path, virtual-host"},
		{env{"SHOAL_DATA_DIR": ""}, "data_dir", "must not be empty when storage.kind is fs"},
		{env{"SHOAL_DATA_DIR": "a\x00b"}, "data_dir", "NUL"},
		{env{"SHOAL_TCP_ADDRESS": "127.0.0.1"}, "tcp.address", "is not host:port"},
		{env{"SHOAL_TCP_ADDRESS": ""}, "tcp.address", "is not host:port"},
		{env{"SHOAL_TCP_ADDRESS": "127.0.0.1:00x"}, "tcp.address", "allowed: a number 1-65535"},
		{env{"SHOAL_TCP_ADDRESS": "127.0.0.1:65536"}, "tcp.address", "allowed: a number 1-65535"},
		{env{"SHOAL_TCP_ADDRESS": "127.0.0.1:http"}, "tcp.address", "allowed: a number 1-65535"},
		{env{"SHOAL_TCP_ADDRESS": "localhost:-1"}, "tcp.address", "allowed: a number 1-65535"},
		{env{"SHOAL_STORAGE_S3_ENDPOINT": "127.0.0.1:9000"}, "storage.s3.endpoint", "is not an http:// or https:// URL"},
		{env{"SHOAL_STORAGE_S3_ENDPOINT": "ftp://host"}, "storage.s3.endpoint", "is not an http:// or https:// URL"},
		{env{"SHOAL_STORAGE_S3_ENDPOINT": "http://"}, "storage.s3.endpoint", "is not an http:// or https:// URL"},
		{env{"SHOAL_STORAGE_S3_ENDPOINT": "http://host/bucket"}, "storage.s3.endpoint", "must not have a path"},
		{env{"SHOAL_STORAGE_S3_ENDPOINT": "http://host:99999"}, "storage.s3.endpoint", "1-65535"},
		{env{"SHOAL_STORAGE_S3_ENDPOINT": "http://u:p@host"}, "storage.s3.endpoint", "must not carry credentials"},
		{env{"SHOAL_STORAGE_KIND": "s3"}, "storage.s3.bucket", "is required when storage.kind is s3"},
		{env{"SHOAL_STORAGE_S3_BUCKET": "ab"}, "storage.s3.bucket", "3-63 characters"},
		{env{"SHOAL_STORAGE_S3_BUCKET": strings.Repeat("a", 64)}, "storage.s3.bucket", "3-63 characters"},
		{env{"SHOAL_STORAGE_S3_BUCKET": "My_Bucket"}, "storage.s3.bucket", "lowercase letters, digits, '.' and '-'"},
		{env{"SHOAL_STORAGE_S3_BUCKET": "-bucket"}, "storage.s3.bucket", "start and end"},
		{env{"SHOAL_STORAGE_S3_BUCKET": "bucket."}, "storage.s3.bucket", "start and end"},
		{env{"SHOAL_STORAGE_S3_BUCKET": "a..b"}, "storage.s3.bucket", "two adjacent periods"},
		{env{"SHOAL_STORAGE_S3_BUCKET": "192.168.5.4"}, "storage.s3.bucket", "IP address"},
		{env{"SHOAL_STORAGE_S3_BUCKET": "xn--abc"}, "storage.s3.bucket", "reserves"},
		{env{"SHOAL_STORAGE_S3_PREFIX": "/abs"}, "storage.s3.prefix", "must not start with '/'"},
		{env{"SHOAL_STORAGE_S3_PREFIX": "a//b"}, "storage.s3.prefix", "empty path segment"},
		{env{"SHOAL_STORAGE_S3_PREFIX": "a/../b"}, "storage.s3.prefix", "'..'"},
		{env{"SHOAL_STORAGE_S3_PREFIX": "a\nb"}, "storage.s3.prefix", "control characters"},
		{env{"SHOAL_STORAGE_S3_REGION": ""}, "storage.s3.region", "is not a region name"},
		{env{"SHOAL_STORAGE_S3_ACCESS_KEY_ID": "AK"}, "storage.s3.secret_access_key", "set both or neither"},
		{env{"SHOAL_STORAGE_S3_SECRET_ACCESS_KEY": "SK"}, "storage.s3.access_key_id", "set both or neither"},
		{env{"SHOAL_STORAGE_S3_SESSION_TOKEN": "T"}, "storage.s3.session_token", "needs storage.s3.access_key_id"},
		{env{"SHOAL_STORAGE_S3_PART_SIZE": "4MiB"}, "storage.s3.part_size", "4MiB is out of range; allowed: 5MiB..5GiB"},
		{env{"SHOAL_STORAGE_S3_PART_SIZE": "6GiB"}, "storage.s3.part_size", "allowed: 5MiB..5GiB"},
		{env{"SHOAL_STORAGE_S3_PART_SIZE": "8MB"}, "storage.s3.part_size", `"8MB" is not a size`},
		{env{"SHOAL_STORAGE_S3_UPLOAD_CONCURRENCY": "0"}, "storage.s3.upload_concurrency", "0 is out of range; allowed: 1..64"},
		{env{"SHOAL_STORAGE_S3_UPLOAD_CONCURRENCY": "65"}, "storage.s3.upload_concurrency", "allowed: 1..64"},
		{env{"SHOAL_STORAGE_S3_MAX_ATTEMPTS": "0"}, "storage.s3.max_attempts", "allowed: 1..100"},
		{env{"SHOAL_STORAGE_S3_MAX_ATTEMPTS": "101"}, "storage.s3.max_attempts", "allowed: 1..100"},
		{env{"SHOAL_STORAGE_S3_MAX_BACKOFF": "0s"}, "storage.s3.max_backoff", "0s is out of range; allowed: > 0s"},
		{env{"SHOAL_STORAGE_S3_MAX_BACKOFF": "-1s"}, "storage.s3.max_backoff", "allowed: > 0s"},
		{env{"SHOAL_STORAGE_S3_REQUEST_TIMEOUT": "0"}, "storage.s3.request_timeout", "allowed: > 0s"},
		{env{"SHOAL_STORAGE_S3_REQUEST_TIMEOUT": "soon"}, "storage.s3.request_timeout", `"soon" is not a duration`},
	} {
		_, _, err := tc.env.load(t, "")
		if err == nil {
			t.Errorf("%v: no error", tc.env)
			continue
		}
		prefix := tc.key + " (" + EnvName(tc.key) + "): "
		if !strings.Contains(err.Error(), prefix) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error\n  %v\nwant it to contain %q and %q", tc.env, err, prefix, tc.want)
		}
		if strings.Count(err.Error(), "\n") != 0 {
			t.Errorf("%v: more than one error: %v", tc.env, err)
		}
		if !isKeyName(tc.key) {
			t.Errorf("%s is not a key", tc.key)
		}
	}
}

func isKeyName(name string) bool {
	for _, k := range Keys() {
		if k.Name == name {
			return true
		}
	}
	return false
}

func TestValidValues(t *testing.T) {
	for _, e := range []env{
		{"SHOAL_TCP_ADDRESS": ":8090"},
		{"SHOAL_TCP_ADDRESS": "[::]:1"},
		{"SHOAL_TCP_ADDRESS": "localhost:65535"},
		{"SHOAL_STORAGE_KIND": "memory", "SHOAL_DATA_DIR": ""},
		{"SHOAL_STORAGE_KIND": "s3", "SHOAL_DATA_DIR": "", "SHOAL_STORAGE_S3_BUCKET": "abc"},
		{"SHOAL_STORAGE_S3_ENDPOINT": "http://127.0.0.1:9000/"},
		{"SHOAL_STORAGE_S3_ENDPOINT": "https://[::1]:9000"},
		{"SHOAL_STORAGE_S3_BUCKET": "a.b-c." + strings.Repeat("d", 57)},
		{"SHOAL_STORAGE_S3_PREFIX": "shoal/prod/"},
		{"SHOAL_STORAGE_S3_PREFIX": "shoal"},
		{"SHOAL_STORAGE_S3_ACCESS_KEY_ID": "AK", "SHOAL_STORAGE_S3_SECRET_ACCESS_KEY": "SK", "SHOAL_STORAGE_S3_SESSION_TOKEN": "T"},
		{"SHOAL_STORAGE_S3_PART_SIZE": "5MiB"},
		{"SHOAL_STORAGE_S3_PART_SIZE": "5GiB"},
		{"SHOAL_STORAGE_S3_PART_SIZE": "5242880"},
		{"SHOAL_STORAGE_S3_UPLOAD_CONCURRENCY": "64", "SHOAL_STORAGE_S3_MAX_ATTEMPTS": "100"},
		{"SHOAL_STORAGE_S3_MAX_BACKOFF": "1ns", "SHOAL_STORAGE_S3_REQUEST_TIMEOUT": "1h"},
	} {
		if _, _, err := e.load(t, ""); err != nil {
			t.Errorf("%v: %v", e, err)
		}
	}
}

func TestValidateCollectsAll(t *testing.T) {
	c := Default()
	c.Storage.Kind = "ftp"
	c.Log.Level = "loud"
	c.TCP.Address = "nope"
	c.Storage.S3.UploadConcurrency = 0
	err := c.Validate()
	var ke *KeyError
	if !errors.As(err, &ke) {
		t.Fatalf("Validate = %v, not a *KeyError", err)
	}
	for _, key := range []string{"storage.kind", "log.level", "tcp.address", "storage.s3.upload_concurrency"} {
		if !strings.Contains(err.Error(), key+" (") {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 4 {
		t.Errorf("%d errors, want 4:\n%v", n, err)
	}
}
