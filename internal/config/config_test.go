package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env is a fake environment for Load.
type env map[string]string

func (e env) lookup(name string) (string, bool) {
	v, ok := e[name]
	return v, ok
}

func (e env) list() []string {
	var l []string
	for k, v := range e {
		l = append(l, k+"="+v)
	}
	return l
}

// load calls Load with the environment e.
func (e env) load(t *testing.T, path string) (Config, []string, error) {
	t.Helper()
	return Load(path, e.lookup, e.list())
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shoal.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefaults(t *testing.T) {
	c, warnings, err := env{}.load(t, "")
	if err != nil {
		t.Fatalf("Load with nothing set: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Load with nothing set = %v, want the defaults %v", c, Default())
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("defaults are invalid: %v", err)
	}
	want := map[string]string{
		"data_dir":                      "./data",
		"tcp.address":                   "127.0.0.1:8090",
		"log.level":                     "info",
		"log.format":                    "text",
		"storage.kind":                  "fs",
		"storage.s3.region":             "us-east-1",
		"storage.s3.addressing":         "auto",
		"storage.s3.part_size":          "8MiB",
		"storage.s3.upload_concurrency": "4",
		"storage.s3.max_attempts":       "10",
		"storage.s3.max_backoff":        "20s",
		"storage.s3.request_timeout":    "30s",
		"storage.s3.bucket":             "",
	}
	for _, k := range Keys() {
		if w, ok := want[k.Name]; ok && k.Default != w {
			t.Errorf("default of %s = %q, want %q", k.Name, k.Default, w)
		}
	}
	if got := Default().Storage.S3.PartSize.Bytes(); got != 8<<20 {
		t.Errorf("default part size = %d bytes", got)
	}
	if got := Default().Storage.S3.MaxBackoff.Std(); got != 20*time.Second {
		t.Errorf("default max backoff = %v", got)
	}
}

func TestKeysTable(t *testing.T) {
	keys := Keys()
	if len(keys) < 18 {
		t.Fatalf("only %d keys", len(keys))
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.Name] {
			t.Errorf("key %s listed twice", k.Name)
		}
		seen[k.Name] = true
		if want := "SHOAL_" + strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_")); k.Env != want {
			t.Errorf("key %s: env %s, want %s", k.Name, k.Env, want)
		}
		if k.Doc == "" || k.Type == "" {
			t.Errorf("key %s: no doc or type", k.Name)
		}
	}
	if got := keys[0].Name; got != "data_dir" {
		t.Errorf("first key %s, want data_dir (struct order)", got)
	}
	keys[0].Name = "changed"
	if Keys()[0].Name != "data_dir" {
		t.Error("Keys returned the table itself, not a copy")
	}
	var secrets []string
	for _, k := range keys {
		if k.Secret {
			secrets = append(secrets, k.Name)
		}
	}
	if want := []string{"users.root_password", "storage.s3.secret_access_key", "storage.s3.session_token"}; !reflect.DeepEqual(secrets, want) {
		t.Errorf("secret keys %q, want %q", secrets, want)
	}
}

func TestFile(t *testing.T) {
	path := writeFile(t, `
data_dir = "/var/lib/shoal"
[tcp]
address = "0.0.0.0:9090"
[log]
level = "debug"
format = "json"
[storage]
kind = "s3"
[storage.s3]
endpoint = "http://127.0.0.1:9000"
bucket = "shoal-data"
prefix = "prod/"
region = "eu-west-1"
addressing = "path"
access_key_id = "AKID"
secret_access_key = "s3cr3t"
session_token = "tok"
part_size = 16777216
upload_concurrency = 8
max_attempts = 3
max_backoff = "1m30s"
request_timeout = "500ms"
`)
	c, _, err := env{}.load(t, path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Config{
		DataDir: "/var/lib/shoal",
		TCP: func() TCPConfig {
			c := Default().TCP
			c.Address = "0.0.0.0:9090"
			return c
		}(),
		Users: Default().Users,
		Log:   LogConfig{Level: "debug", Format: "json"},
		Storage: StorageConfig{Kind: "s3", S3: S3Config{
			Endpoint: "http://127.0.0.1:9000", Bucket: "shoal-data", Prefix: "prod/",
			Region: "eu-west-1", Addressing: "path",
			AccessKeyID: "AKID", SecretAccessKey: "s3cr3t", SessionToken: "tok",
			PartSize: 16 * MiB, UploadConcurrency: 8, MaxAttempts: 3,
			MaxBackoff: Duration(90 * time.Second), RequestTimeout: Duration(500 * time.Millisecond),
		}},
		Journal: Default().Journal, // not in the file: defaults
		Segment: Default().Segment,
	}
	if !reflect.DeepEqual(c.Redacted(), want.Redacted()) || c.Storage.S3.SecretAccessKey != "s3cr3t" || c.Storage.S3.SessionToken != "tok" {
		t.Errorf("Load = %v\nwant   %v", c, want)
	}
}

func TestFilePartial(t *testing.T) {
	// Keys the file leaves out keep their defaults.
	c, _, err := env{}.load(t, writeFile(t, "[storage.s3]\nmax_attempts = 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Storage.S3.MaxAttempts = 2
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load = %v, want %v", c, want)
	}
}

// validEnvValue returns a valid value of key k, different from its default,
// written as the environment would give it.
func validEnvValue(t *testing.T, k Key) string {
	t.Helper()
	special := map[string]string{
		"data_dir":                     "/srv/shoal-data",
		"tcp.address":                  "[::1]:9999",
		"tcp.tls_cert":                 "/etc/shoal/cert.pem",
		"tcp.tls_key":                  "/etc/shoal/key.pem",
		"tcp.max_frame_size":           "1MiB",
		"tcp.idle_timeout":             "30s",
		"tcp.read_timeout":             "5s",
		"users.root_username":          "admin",
		"users.root_password":          "s3cret-root",
		"storage.s3.endpoint":          "https://s3.example.com:8443",
		"storage.s3.bucket":            "my.bucket-1",
		"storage.s3.prefix":            "a/b/",
		"storage.s3.region":            "eu-central-1",
		"storage.s3.access_key_id":     "AKIAEXAMPLE",
		"storage.s3.secret_access_key": "secret-from-env",
		"storage.s3.session_token":     "token-from-env",
		"storage.s3.part_size":         "64 MiB",
		"storage.s3.max_backoff":       "1m30s",
		"storage.s3.request_timeout":   "250ms",
		"journal.flush_bytes":          "1MiB",
		"journal.min_flush_interval":   "20ms",
		"journal.lazy_flush_interval":  "250ms",
		"journal.send_timeout":         "5s",
		"journal.checkpoint_interval":  "10s",
		"segments.bytes":               "1MiB",
		"segments.max_age":             "30s",
		"segments.block_cache":         "8MiB",
		"segments.tail_cache":          "16MiB",
		"segments.linked_max_age":      "1h",
	}
	if v, ok := special[k.Name]; ok {
		return v
	}
	for _, e := range k.enum {
		if e != k.Default {
			return e
		}
	}
	if k.Type == "integer" && k.minimum != nil {
		if v := fmt.Sprint(k.minimum.n); v != k.Default {
			return v
		}
		return fmt.Sprint(k.minimum.n + 1)
	}
	if k.Type == "boolean" {
		if k.Default == "true" {
			return "false"
		}
		return "true"
	}
	t.Fatalf("no test value for key %s: add one to validEnvValue", k.Name)
	return ""
}

func TestEnvOverridesEveryKey(t *testing.T) {
	e := env{}
	for _, k := range Keys() {
		e[k.Env] = validEnvValue(t, k)
	}
	c, warnings, err := e.load(t, "")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	def := Default()
	for _, k := range Keys() {
		want := reflect.New(k.field(&c).Type()).Elem()
		if err := parseInto(want, e[k.Env]); err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		got := k.field(&c)
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			t.Errorf("%s=%q: %s = %v, want %v", k.Env, e[k.Env], k.Name, got, want)
		}
		if reflect.DeepEqual(got.Interface(), k.field(&def).Interface()) {
			t.Errorf("%s: test value equals the default; the override is not tested", k.Name)
		}
	}
}

func TestEnvBeatsFile(t *testing.T) {
	path := writeFile(t, `
data_dir = "/from/file"
[log]
level = "debug"
[storage.s3]
upload_concurrency = 8
part_size = "16MiB"
`)
	e := env{"SHOAL_LOG_LEVEL": "error", "SHOAL_STORAGE_S3_PART_SIZE": "32MiB"}
	c, _, err := e.load(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "error" || c.Storage.S3.PartSize != 32*MiB {
		t.Errorf("environment did not win: level %q, part size %v", c.Log.Level, c.Storage.S3.PartSize)
	}
	if c.DataDir != "/from/file" || c.Storage.S3.UploadConcurrency != 8 {
		t.Errorf("file did not beat defaults: data_dir %q, upload_concurrency %d", c.DataDir, c.Storage.S3.UploadConcurrency)
	}
	// An empty variable is a value: it empties a string key.
	c, _, err = env{"SHOAL_STORAGE_S3_REGION": "x", "SHOAL_STORAGE_S3_PREFIX": ""}.load(t, writeFile(t, "[storage.s3]\nprefix = \"p/\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage.S3.Prefix != "" {
		t.Errorf("empty SHOAL_STORAGE_S3_PREFIX left prefix %q", c.Storage.S3.Prefix)
	}
}

func TestEnvBadSyntax(t *testing.T) {
	for env1, want := range map[string]string{
		"SHOAL_STORAGE_S3_UPLOAD_CONCURRENCY": `storage.s3.upload_concurrency (SHOAL_STORAGE_S3_UPLOAD_CONCURRENCY): environment value "four" is not an integer`,
		"SHOAL_STORAGE_S3_PART_SIZE":          `storage.s3.part_size (SHOAL_STORAGE_S3_PART_SIZE): environment value "four" is not a size`,
		"SHOAL_STORAGE_S3_MAX_BACKOFF":        `storage.s3.max_backoff (SHOAL_STORAGE_S3_MAX_BACKOFF): environment value "four" is not a duration`,
	} {
		_, _, err := env{env1: "four"}.load(t, "")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s=four: error %v, want it to contain %q", env1, err, want)
		}
	}
	// Every error is reported, not just the first.
	_, _, err := env{"SHOAL_STORAGE_S3_MAX_ATTEMPTS": "x", "SHOAL_STORAGE_KIND": "ftp", "SHOAL_LOG_FORMAT": "xml"}.load(t, "")
	for _, key := range []string{"storage.s3.max_attempts", "storage.kind", "log.format"} {
		if err == nil || !strings.Contains(err.Error(), key+" (") {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

func TestUnknownFileKey(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"[storage.s3]\nbucket_name = \"x\"\n", "unknown key storage.s3.bucket_name"},
		{"[storage]\nbucket = \"x\"\n", "unknown key storage.bucket (did you mean storage.s3.bucket?)"},
		{"[storage.s3]\nregoin = \"x\"\n", "unknown key storage.s3.regoin (did you mean storage.s3.region?)"},
		{"datadir = \"x\"\n", "unknown key datadir (did you mean data_dir?)"},
		{"[http]\naddress = \"x\"\nport = 1\n", "unknown table http"},
	} {
		path := writeFile(t, tc.file)
		_, _, err := env{}.load(t, path)
		if err == nil {
			t.Errorf("%q: no error", tc.file)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%q: error %q, want it to contain %q and the file name", tc.file, err, tc.want)
		}
		if strings.Contains(tc.want, "table") && strings.Contains(err.Error(), "http.port") {
			t.Errorf("%q: keys inside an unknown table reported too: %v", tc.file, err)
		}
	}
}

func TestBadTOML(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"data_dir = \"./data\"\n[tcp]\naddress = \"127.0.0.1:8090\n", "line 3"},
		{"[log]\nlevel = info\n", "line 2"},
		{"\n\n[storage.s3]\nupload_concurrency = \"four\"\n", "line 4"},
		{"[storage.s3]\npart_size = \"8MB\"\n", `line 2 (last key "storage.s3.part_size"): "8MB" is not a size`},
		{"[storage.s3]\nmax_backoff = 20\n", `"20" is not a duration`},
		{"tcp = 1\n", "line 1"},
	} {
		path := writeFile(t, tc.file)
		_, _, err := env{}.load(t, path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want it to name %s and contain %q", tc.file, err, path, tc.want)
		}
	}
	_, _, err := env{}.load(t, filepath.Join(t.TempDir(), "missing.toml"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.toml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestUnknownEnvWarns(t *testing.T) {
	e := env{
		"SHOAL_STORAGE_KINDD":   "s3",
		"SHOAL_BOGUS":           "1",
		"SHOAL_TEST_S3_BUCKET":  "x",
		"SHOAL_CONFIG":          "/etc/shoal.toml",
		"SHOAL_ADDRESS":         "127.0.0.1:8090",
		"SHOAL_USERNAME":        "iggy",
		"SHOAL_PASSWORD":        "iggy",
		"SHOAL_TOKEN":           "t",
		"SHOAL_CACHE_DIR":       "/tmp",
		"HOME":                  "/root",
		"SHOALSTREAM_SOMETHING": "x",
	}
	c, warnings, err := e.load(t, "")
	if err != nil {
		t.Fatalf("unknown variables made an error: %v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("config changed: %v", c)
	}
	want := []string{
		"environment variable SHOAL_BOGUS is not a configuration key; ignored",
		"environment variable SHOAL_STORAGE_KINDD is not a configuration key; ignored (did you mean SHOAL_STORAGE_KIND?)",
	}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings:\n%q\nwant\n%q", warnings, want)
	}
	// Warnings come back with errors too.
	_, warnings, err = env{"SHOAL_BOGUS": "1", "SHOAL_STORAGE_KIND": "ftp"}.load(t, "")
	if err == nil || len(warnings) != 1 {
		t.Errorf("err %v, warnings %q", err, warnings)
	}
}

func TestUsePathStyle(t *testing.T) {
	for _, tc := range []struct {
		addressing, endpoint string
		want                 bool
	}{
		{"auto", "", false},
		{"auto", "http://127.0.0.1:9000", true},
		{"path", "", true},
		{"path", "http://minio:9000", true},
		{"virtual-host", "http://minio:9000", false},
		{"virtual-host", "", false},
	} {
		s := S3Config{Addressing: tc.addressing, Endpoint: tc.endpoint}
		if got := s.UsePathStyle(); got != tc.want {
			t.Errorf("addressing %q endpoint %q: UsePathStyle = %v", tc.addressing, tc.endpoint, got)
		}
	}
}

func TestSecretsRedacted(t *testing.T) {
	c := Default()
	c.Storage.S3.AccessKeyID = "AKIAVISIBLE"
	c.Storage.S3.SecretAccessKey = "very-secret-key"
	c.Storage.S3.SessionToken = "very-secret-token"

	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "config", c)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c, "s3", c.Storage.S3)
	out := buf.String() +
		fmt.Sprintf("%v %+v %s %v %+v", c, c, c, c.Storage.S3, c.Storage.S3) +
		fmt.Sprint(c.Redacted().Storage.S3.SecretAccessKey, c.Redacted().Storage.S3.SessionToken)
	for _, secret := range []string{"very-secret-key", "very-secret-token"} {
		if strings.Contains(out, secret) {
			t.Errorf("secret %q shown:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		"config.storage.s3.secret_access_key=REDACTED",
		"config.storage.s3.session_token=REDACTED",
		"config.storage.s3.access_key_id=AKIAVISIBLE",
		"config.storage.s3.part_size=8MiB",
		"config.storage.s3.upload_concurrency=4",
		`"max_backoff":"20s"`,
		`"secret_access_key":"REDACTED"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log does not contain %s:\n%s", want, out)
		}
	}
	// Redacted copies; the original keeps its secrets.
	if c.Storage.S3.SecretAccessKey != "very-secret-key" {
		t.Error("Redacted changed its receiver")
	}
	// Unset secrets stay empty, so logs tell set from unset.
	if r := Default().Redacted(); r.Storage.S3.SecretAccessKey != "" || r.Storage.S3.SessionToken != "" {
		t.Errorf("unset secrets redacted to %q, %q", r.Storage.S3.SecretAccessKey, r.Storage.S3.SessionToken)
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"region", "regoin", 2}, {"same", "same", 0}} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestFileAndEnvErrorsTogether(t *testing.T) {
	// Unknown keys in the file do not hide the other problems.
	_, _, err := env{"SHOAL_STORAGE_KIND": "ftp"}.load(t, writeFile(t, "bogus = 1\n[log]\nlevel = \"loud\"\n"))
	for _, want := range []string{"unknown key bogus", "storage.kind (SHOAL_STORAGE_KIND)", "log.level (SHOAL_LOG_LEVEL)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not contain %q", err, want)
		}
	}
}
