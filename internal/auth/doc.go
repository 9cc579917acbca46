// Package auth owns shoal's credentials and authorization rules: password
// hashing (argon2id, PHC strings), personal access tokens (minting and
// hashing), the permissions domain model, and the matrix that decides which
// permission grants which operation. It is pure code: no wire bytes, no
// sockets, no storage, no state. The broker stores what this package
// produces and asks it before every guarded operation; the server maps a
// denial to the protocol's Unauthorized (41).
//
// # Passwords
//
// HashPassword hashes with argon2id under DefaultPasswordParams (m = 19 MiB,
// t = 2, p = 1: the reference server's parameters) and returns a PHC string,
// "$argon2id$v=19$m=…,t=…,p=…$salt$hash", so hashes made by the reference
// verify here. PasswordParams.Hash hashes under other parameters; tests use
// it with cheap ones. VerifyPassword reads the parameters from the string,
// bounds them before it allocates, and compares in constant time; a string
// it cannot read is an error matching ErrMalformedHash.
//
// # Personal access tokens
//
// NewToken mints TokenLength (50) characters uniformly from [A-Za-z0-9].
// Only HashToken (SHA-256, hex) of a token is stored; TokenMatches compares
// in constant time. Tokens belong to the user that created them; listing,
// creating and deleting one's own tokens needs only an authenticated
// session, so there is no Action for them.
//
// # Authorization
//
// Allowed(p, root, action, stream, topic) answers for one user. Root
// (RootUserID, 0) may do everything. Anyone else needs one of the flags
// below: a global flag, a flag in Streams[stream], or a flag in
// Streams[stream].Topics[topic]. Stream ids and topic ids are the resolved
// numeric ids; the reference resolves them first and answers a missing
// stream or topic with its not-found error before it checks permissions, and
// callers should do the same. The matrix is the reference server's
// permissioner; flag names are those of the wire's permissions blob.
//
//	Action                Commands                        Global flags           Stream flags           Topic flags
//	--------------------  ------------------------------  ---------------------  ---------------------  -------------------
//	ReadServers           GetStats, GetClients,           manage_servers,        -                      -
//	                      GetClient, GetSnapshot          read_servers
//	ManageServers         (none yet)                      manage_servers         -                      -
//	ReadUsers             GetUsers, GetUser (another)     manage_users,          -                      -
//	                                                      read_users
//	ManageUsers           CreateUser, UpdateUser,         manage_users           -                      -
//	                      DeleteUser, UpdatePermissions,
//	                      ChangePassword (another)
//	ListStreams           GetStreams                      manage_streams,        -                      -
//	                                                      read_streams
//	CreateStream          CreateStream                    manage_streams         -                      -
//	ReadStream            GetStream                       manage_streams,        manage_stream,         -
//	                                                      read_streams           read_stream
//	UpdateStream,         UpdateStream, DeleteStream,     manage_streams         manage_stream          -
//	DeleteStream,         PurgeStream
//	PurgeStream
//	ListTopics            GetTopics                       RT                     rt                     -
//	CreateTopic           CreateTopic                     MT                     mt                     -
//	ReadTopic             GetTopic                        RT                     rt                     manage_topic,
//	                                                                                                    read_topic
//	UpdateTopic,          UpdateTopic, DeleteTopic,       MT                     mt                     manage_topic
//	DeleteTopic,          PurgeTopic, CreatePartitions,
//	PurgeTopic,           DeletePartitions,
//	ManagePartitions,     DeleteSegments
//	DeleteSegments
//	ReadConsumerGroup     GetConsumerGroup(s)             RT                     rt                     manage_topic,
//	ManageConsumerGroup   Create/DeleteConsumerGroup                                                    read_topic
//	JoinConsumerGroup     Join/Leave/SyncConsumerGroup
//	SendMessages          SendMessages                    MT, send_messages      mt, send_messages      manage_topic,
//	                                                                                                    send_messages
//	PollMessages,         PollMessages,                   RT, poll_messages      rt, poll_messages      manage_topic,
//	ReadConsumerOffset,   GetConsumerOffset,                                                            read_topic,
//	StoreConsumerOffset,  StoreConsumerOffset,                                                          poll_messages
//	DeleteConsumerOffset  DeleteConsumerOffset
//
//	MT = manage_streams, manage_topics      mt = manage_stream, manage_topics
//	RT = MT + read_streams, read_topics     rt = mt + read_stream, read_topics
//
// Read across, the inheritance rules are:
//
//   - Manage implies read at every level: manage_servers grants what
//     read_servers does, manage_users what read_users does, manage_streams
//     what read_streams does, and so on down to manage_topic and read_topic.
//   - Streams contain topics: manage_streams grants every topic action on
//     every stream (stream manage_stream on that stream), and read_streams
//     grants every topic read (stream read_stream likewise).
//   - A global flag covers every stream, a stream flag every topic of that
//     stream, a topic flag only that topic: stream send_messages lets the
//     user send to every topic of the stream, topic poll_messages to poll
//     one topic.
//   - Whoever may read a topic may poll it, read and change its consumer
//     offsets, and use its consumer groups; whoever may manage a topic may
//     also send to it. Reading never grants sending.
//
// Quirks kept for compatibility with the reference:
//
//   - ListStreams (GetStreams) needs a global flag: stream flags do not
//     grant it, even though they grant GetStream on that stream.
//   - manage_topics and read_topics (global or stream) grant GetTopics but
//     not GetStream or GetStreams.
//   - Consumer groups need a read-topic flag: poll_messages alone allows
//     polling with a plain consumer but not joining a group, and creating or
//     deleting a group needs no manage flag.
//   - poll_messages and send_messages grant no read: such a user cannot
//     GetTopic the topic it polls or sends to.
//   - The reference leaves SyncConsumerGroup ungated (it returns only the
//     caller's own assignment); gating it with JoinConsumerGroup differs only
//     after the caller's grant has been revoked.
//
// Every user may read themselves (GetUser on their own id, and GetMe) and
// change their own password: MayReadUser and MayChangePassword add these
// exceptions to ReadUsers and ManageUsers. The root user cannot be deleted
// and its permissions cannot be changed, whoever asks; that is the broker's
// rule, not an authorization one.
//
// Commands that need only an authenticated session: GetMe, GetClusterMetadata,
// DescribeOptions, Logout and the personal access token commands. Ping and
// the login commands need none.
package auth
