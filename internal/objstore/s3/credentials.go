package s3

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// containerHost is where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI points.
const containerHost = "http://169.254.170.2"

// refreshWindow: temporary credentials are fetched again this long before
// they expire.
const refreshWindow = 5 * time.Minute

// credentialSource is the provider the chain chose and its name.
type credentialSource struct {
	name     string
	provider aws.CredentialsProvider
}

// resolveCredentials picks the first credential source that is configured,
// in this order: static keys from the options; the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the
// shared credentials and config files (a profile with static keys);
// container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI or
// _RELATIVE_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN or _TOKEN_FILE);
// web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, through STS
// AssumeRoleWithWebIdentity); the EC2 instance metadata service (IMDSv2),
// unless AWS_EC2_METADATA_DISABLED=true. A source is chosen because it is
// configured, not tried and skipped on error: a broken configuration is an
// error, never a silent fall-through. Temporary credentials are cached and
// refreshed refreshWindow before they expire.
func resolveCredentials(ctx context.Context, opts Options, httpClient *http.Client) (credentialSource, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cache := func(name string, p aws.CredentialsProvider) credentialSource {
		return credentialSource{name: name, provider: aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) {
			o.ExpiryWindow = refreshWindow
		})}
	}
	c := opts.Credentials
	if c.AccessKeyID != "" || c.SecretAccessKey != "" {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return credentialSource{}, fmt.Errorf("s3 credentials: give both the access key id and the secret access key, or neither")
		}
		return credentialSource{"static keys from the configuration", credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}, nil
	}
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" || secret != "" {
		if id == "" || secret == "" {
			return credentialSource{}, fmt.Errorf("s3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together")
		}
		return credentialSource{"environment (AWS_ACCESS_KEY_ID)", credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))}, nil
	}
	if src, ok, err := sharedFileCredentials(ctx, getenv); err != nil || ok {
		return src, err
	}
	if full, rel := getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI"), getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); full != "" || rel != "" {
		endpoint := full
		if endpoint == "" {
			endpoint = containerHost + rel
		}
		token, tokenFile := getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"), getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
		p := endpointcreds.New(endpoint, func(o *endpointcreds.Options) {
			o.HTTPClient = httpClient
			o.AuthorizationToken = token
			if tokenFile != "" {
				o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
					b, err := os.ReadFile(tokenFile)
					if err != nil {
						return "", fmt.Errorf("read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %w", err)
					}
					return strings.TrimSpace(string(b)), nil
				})
			}
		})
		return cache("container credentials ("+endpoint+")", p), nil
	}
	if tokenFile, role := getenv("AWS_WEB_IDENTITY_TOKEN_FILE"), getenv("AWS_ROLE_ARN"); tokenFile != "" || role != "" {
		if tokenFile == "" || role == "" {
			return credentialSource{}, fmt.Errorf("s3 credentials: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN must be set together")
		}
		region := opts.Region
		if r := getenv("AWS_REGION"); r != "" {
			region = r
		}
		stsClient := sts.New(sts.Options{Region: region, HTTPClient: httpClient}, func(o *sts.Options) {
			if ep := getenv("AWS_ENDPOINT_URL_STS"); ep != "" {
				o.BaseEndpoint = aws.String(ep)
			}
		})
		p := stscreds.NewWebIdentityRoleProvider(stsClient, role, stscreds.IdentityTokenFile(tokenFile), func(o *stscreds.WebIdentityRoleOptions) {
			o.RoleSessionName = getenv("AWS_ROLE_SESSION_NAME")
			if o.RoleSessionName == "" {
				o.RoleSessionName = "shoal"
			}
		})
		return cache("web identity ("+role+")", p), nil
	}
	if strings.EqualFold(getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		return credentialSource{}, fmt.Errorf("s3 credentials: none found (tried: configuration, environment, shared files, container credentials, web identity; instance metadata is disabled)")
	}
	imdsOpts := imds.Options{HTTPClient: httpClient}
	if ep := getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"); ep != "" {
		imdsOpts.Endpoint = ep
	}
	p := ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = imds.New(imdsOpts) })
	return cache("instance metadata (IMDSv2)", p), nil
}

// sharedFileCredentials reads static keys from the shared files' profile,
// if the files exist and the profile has keys.
func sharedFileCredentials(ctx context.Context, getenv func(string) string) (credentialSource, bool, error) {
	home := getenv("HOME")
	credFile, confFile := getenv("AWS_SHARED_CREDENTIALS_FILE"), getenv("AWS_CONFIG_FILE")
	if credFile == "" && home != "" {
		credFile = filepath.Join(home, ".aws", "credentials")
	}
	if confFile == "" && home != "" {
		confFile = filepath.Join(home, ".aws", "config")
	}
	var files, confs []string
	for _, f := range []string{credFile} {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	for _, f := range []string{confFile} {
		if _, err := os.Stat(f); err == nil {
			confs = append(confs, f)
		}
	}
	if len(files) == 0 && len(confs) == 0 {
		return credentialSource{}, false, nil
	}
	profile := getenv("AWS_PROFILE")
	if profile == "" {
		profile = "default"
	}
	sc, err := config.LoadSharedConfigProfile(ctx, profile, func(o *config.LoadSharedConfigOptions) {
		o.CredentialsFiles = files
		o.ConfigFiles = confs
	})
	if err != nil {
		if _, missing := err.(config.SharedConfigProfileNotExistError); missing && getenv("AWS_PROFILE") == "" {
			return credentialSource{}, false, nil
		}
		return credentialSource{}, false, fmt.Errorf("s3 credentials: shared files, profile %q: %w", profile, err)
	}
	if !sc.Credentials.HasKeys() {
		if getenv("AWS_PROFILE") != "" {
			return credentialSource{}, false, fmt.Errorf("s3 credentials: profile %q has no static keys (only static keys are read from the shared files)", profile)
		}
		return credentialSource{}, false, nil
	}
	p := credentials.NewStaticCredentialsProvider(sc.Credentials.AccessKeyID, sc.Credentials.SecretAccessKey, sc.Credentials.SessionToken)
	return credentialSource{"shared files (profile " + profile + ")", p}, true, nil
}
