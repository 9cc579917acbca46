package s3

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// env is a fake environment for the credential chain.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func resolve(t *testing.T, opts Options, e env) (credentialSource, error) {
	t.Helper()
	if _, ok := e["HOME"]; !ok {
		e["HOME"] = t.TempDir() // no ~/.aws of the machine's
	}
	opts.Getenv = e.get
	return resolveCredentials(t.Context(), opts, http.DefaultClient)
}

func retrieve(t *testing.T, src credentialSource) (id, secret, token string) {
	t.Helper()
	c, err := src.provider.Retrieve(t.Context())
	if err != nil {
		t.Fatalf("%s: %v", src.name, err)
	}
	return c.AccessKeyID, c.SecretAccessKey, c.SessionToken
}

func TestCredentialsStaticBeatsEverything(t *testing.T) {
	src, err := resolve(t, Options{Credentials: Credentials{AccessKeyID: "cfg", SecretAccessKey: "cfgsecret"}},
		env{"AWS_ACCESS_KEY_ID": "envid", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	if id, _, _ := retrieve(t, src); id != "cfg" || !strings.Contains(src.name, "configuration") {
		t.Fatalf("got %s from %s", id, src.name)
	}
	if _, err := resolve(t, Options{Credentials: Credentials{AccessKeyID: "only-id"}}, env{}); err == nil {
		t.Fatal("an access key without a secret was accepted")
	}
}

func TestCredentialsEnvironment(t *testing.T) {
	src, err := resolve(t, Options{}, env{"AWS_ACCESS_KEY_ID": "envid", "AWS_SECRET_ACCESS_KEY": "envsecret", "AWS_SESSION_TOKEN": "envtoken",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	if id, secret, token := retrieve(t, src); id != "envid" || secret != "envsecret" || token != "envtoken" {
		t.Fatalf("got %s/%s/%s from %s", id, secret, token, src.name)
	}
}

func TestCredentialsSharedFiles(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = fileid\naws_secret_access_key = filesecret\n\n[other]\naws_access_key_id = otherid\naws_secret_access_key = othersecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := env{"AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/"}
	src, err := resolve(t, Options{}, e)
	if err != nil {
		t.Fatal(err)
	}
	if id, _, _ := retrieve(t, src); id != "fileid" {
		t.Fatalf("got %s from %s", id, src.name)
	}
	e["AWS_PROFILE"] = "other"
	src, err = resolve(t, Options{}, e)
	if err != nil {
		t.Fatal(err)
	}
	if id, _, _ := retrieve(t, src); id != "otherid" {
		t.Fatalf("profile other: got %s", id)
	}
	e["AWS_PROFILE"] = "missing"
	if _, err := resolve(t, Options{}, e); err == nil {
		t.Fatal("a missing named profile was accepted")
	}
}

// credentialJSON is what the container endpoint answers.
func credentialJSON(id string, expires time.Time) string {
	return fmt.Sprintf(`{"AccessKeyId":%q,"SecretAccessKey":"s-%s","Token":"t-%s","Expiration":%q}`, id, id, id, expires.UTC().Format(time.RFC3339))
}

func TestCredentialsContainer(t *testing.T) {
	for _, variant := range []string{"token", "token file"} {
		t.Run(variant, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/creds" || r.Header.Get("Authorization") != "secret-token" {
					http.Error(w, "bad request: "+r.URL.Path+" auth "+r.Header.Get("Authorization"), http.StatusForbidden)
					return
				}
				n := hits.Add(1)
				// Expires inside the refresh window: every use fetches again.
				_, _ = fmt.Fprint(w, credentialJSON(fmt.Sprintf("container%d", n), time.Now().Add(refreshWindow/2)))
			}))
			defer srv.Close()
			e := env{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds", "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent", "AWS_ROLE_ARN": "arn:aws:iam::1:role/x"}
			if variant == "token" {
				e["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "secret-token"
			} else {
				f := filepath.Join(t.TempDir(), "token")
				if err := os.WriteFile(f, []byte("secret-token\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				e["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = f
			}
			src, err := resolve(t, Options{}, e)
			if err != nil {
				t.Fatal(err)
			}
			id, secret, token := retrieve(t, src)
			if id != "container1" || secret != "s-container1" || token != "t-container1" {
				t.Fatalf("got %s/%s/%s from %s", id, secret, token, src.name)
			}
			// Refresh before expiry.
			if id, _, _ := retrieve(t, src); id != "container2" || hits.Load() != 2 {
				t.Fatalf("second retrieval gave %s after %d fetches; want a refresh", id, hits.Load())
			}
		})
	}
}

func TestCredentialsContainerRelative(t *testing.T) {
	src, err := resolve(t, Options{}, env{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(src.name, "http://169.254.170.2/v2/credentials/abc") {
		t.Fatalf("relative URI resolved to %s", src.name)
	}
}

func TestCredentialsWebIdentity(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if r.Form.Get("Action") != "AssumeRoleWithWebIdentity" || r.Form.Get("WebIdentityToken") != "jwt-from-file" ||
			r.Form.Get("RoleArn") != "arn:aws:iam::123456789012:role/shoal" || r.Form.Get("RoleSessionName") != "shoal-test" {
			http.Error(w, "unexpected request: "+r.Form.Encode(), http.StatusBadRequest)
			return
		}
		n := hits.Add(1)
		_, _ = fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <AccessKeyId>web%d</AccessKeyId>
      <SecretAccessKey>websecret</SecretAccessKey>
      <SessionToken>webtoken</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`, n, time.Now().Add(refreshWindow/2).UTC().Format(time.RFC3339))
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "jwt")
	if err := os.WriteFile(tokenFile, []byte("jwt-from-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := resolve(t, Options{}, env{"AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/shoal",
		"AWS_ROLE_SESSION_NAME": "shoal-test", "AWS_ENDPOINT_URL_STS": srv.URL, "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if id, secret, token := retrieve(t, src); id != "web1" || secret != "websecret" || token != "webtoken" {
		t.Fatalf("got %s/%s/%s from %s", id, secret, token, src.name)
	}
	if id, _, _ := retrieve(t, src); id != "web2" {
		t.Fatalf("no refresh before expiry: %s", id)
	}
	if _, err := resolve(t, Options{}, env{"AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile}); err == nil {
		t.Fatal("a token file without a role was accepted")
	}
}

func TestCredentialsIMDSv2(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			if r.Header.Get("X-Aws-Ec2-Metadata-Token-Ttl-Seconds") == "" {
				http.Error(w, "no ttl", 400)
				return
			}
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
			_, _ = fmt.Fprint(w, "imds-session")
		case r.Header.Get("X-Aws-Ec2-Metadata-Token") != "imds-session":
			http.Error(w, "IMDSv1 refused", http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			_, _ = fmt.Fprint(w, "shoal-role")
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/shoal-role":
			n := hits.Add(1)
			_, _ = fmt.Fprintf(w, `{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"imds%d","SecretAccessKey":"imdssecret","Token":"imdstoken","Expiration":%q,"LastUpdated":%q}`,
				n, time.Now().Add(refreshWindow/2).UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	src, err := resolve(t, Options{}, env{"AWS_EC2_METADATA_SERVICE_ENDPOINT": srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if id, _, token := retrieve(t, src); id != "imds1" || token != "imdstoken" {
		t.Fatalf("got %s from %s", id, src.name)
	}
	// The SDK's instance-metadata provider stretches short expiries (its
	// "static stability"), so here the cache is what is checked: no second
	// fetch while the credentials are valid. Refresh before expiry is
	// checked with the container and web-identity sources.
	if id, _, _ := retrieve(t, src); id != "imds1" || hits.Load() != 1 {
		t.Fatalf("second retrieval %s after %d fetches; want the cached imds1", id, hits.Load())
	}
	if _, err := resolve(t, Options{}, env{"AWS_EC2_METADATA_DISABLED": "true"}); err == nil || !strings.Contains(err.Error(), "none found") {
		t.Fatalf("with nothing configured and IMDS disabled: %v", err)
	}
}
