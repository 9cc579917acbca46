// Package s3test finds the real S3-compatible server the tests run against
// and hands each test its own corner of the bucket.
//
// The server is named by SHOAL_TEST_S3_ENDPOINT, SHOAL_TEST_S3_BUCKET,
// SHOAL_TEST_S3_ACCESS_KEY and SHOAL_TEST_S3_SECRET_KEY (scripts/test starts
// a MinIO on loopback and sets them). Without them the S3 tests skip with
// one message, unless SHOAL_TEST_S3_REQUIRED=1, which makes that a failure.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/shoalstream/shoal/internal/objstore/s3"
)

// SkipMessage is what a test without a server says.
const SkipMessage = "S3 tests need SHOAL_TEST_S3_ENDPOINT, SHOAL_TEST_S3_BUCKET, SHOAL_TEST_S3_ACCESS_KEY and SHOAL_TEST_S3_SECRET_KEY; scripts/test starts a server and sets them"

// Options returns backend options for the test server with a prefix of
// the test's own, creating the bucket if it does not exist. It skips (or
// fails, with SHOAL_TEST_S3_REQUIRED=1) when no server is configured.
func Options(t testing.TB) s3.Options {
	t.Helper()
	ep, bucket := os.Getenv("SHOAL_TEST_S3_ENDPOINT"), os.Getenv("SHOAL_TEST_S3_BUCKET")
	key, secret := os.Getenv("SHOAL_TEST_S3_ACCESS_KEY"), os.Getenv("SHOAL_TEST_S3_SECRET_KEY")
	if ep == "" || bucket == "" || key == "" || secret == "" {
		if os.Getenv("SHOAL_TEST_S3_REQUIRED") == "1" {
			t.Fatal(SkipMessage)
		}
		t.Skip(SkipMessage)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	o := s3.Options{
		Endpoint: ep, Bucket: bucket, Region: "us-east-1", PathStyle: true,
		Prefix:      "test-" + hex.EncodeToString(rnd[:]),
		Credentials: s3.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		MaxAttempts: 5,
	}
	cli := Client(o)
	_, err := cli.CreateBucket(context.Background(), &s3sdk.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		t.Fatalf("create bucket %s at %s: %v", bucket, ep, err)
	}
	return o
}

// Client is a plain SDK client for the server of o, for checks that go
// around the backend and for baselines.
func Client(o s3.Options) *s3sdk.Client {
	return s3sdk.New(s3sdk.Options{
		Region: o.Region, UsePathStyle: true, BaseEndpoint: aws.String(o.Endpoint),
		Credentials:                credentials.NewStaticCredentialsProvider(o.Credentials.AccessKeyID, o.Credentials.SecretAccessKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}
