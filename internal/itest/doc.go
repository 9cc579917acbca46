// Package itest holds shoal's end-to-end tests: each test starts a real
// server in-process (a broker over a store, the TCP server on a free
// loopback port) and drives it through the public client package, over
// TCP, exactly as an application would. Every test runs on the local
// filesystem backend and on the S3 backend (the S3 runs skip, with one
// message, when no S3-compatible server is configured; see s3test), each
// on storage of its own.
//
// What the suite covers: the success path of every command; every error
// the protocol documents, matched by code with errors.Is; permission
// denials for users with limited permissions; restarts and crashes in the
// middle of a workload, after which every stream, topic, user, token,
// group, consumer offset and message must be back; consumer-group
// rebalancing with several members; polling with every strategy at its
// boundaries; messages near the frame limit; and a live server fed
// garbage frames that must go on serving.
//
// The package has no non-test code besides this file.
package itest
