package server

import (
	"encoding/binary"
	"slices"

	"github.com/OneOfOne/xxhash"

	"github.com/shoalstream/shoal/internal/broker"
	"github.com/shoalstream/shoal/internal/wire"
)

// nonReplicated serves reads and other OpNonReplicated commands of a
// logged-in session.
func (c *conn) nonReplicated(req wire.Request, body []byte) {
	b := c.s.b
	s := c.sess
	switch req.Code {
	case wire.CmdPing:
		c.ok(req, nil)
	case wire.CmdGetStats:
		c.stats(req)
	case wire.CmdGetSnapshot:
		c.snapshot(req, body)
	case wire.CmdGetClusterMetadata:
		c.clusterMetadata(req)
	case wire.CmdDescribeOptions:
		var r wire.DescribeOptionsRequest
		if !c.decode(req, body, &r) {
			return
		}
		var ds []wire.OptionDescription
		switch r.Scope {
		case wire.ScopeTopic:
			for _, o := range broker.TopicOptionCatalog() {
				ds = append(ds, wire.OptionDescription{Key: o.Key, Kind: o.Kind, Default: o.Default, Description: o.Description})
			}
		case wire.ScopeStream, wire.ScopeUser:
		default:
			c.status(req, wire.CodeInvalidCommand)
			return
		}
		c.ok(req, wire.AppendOptionDescriptions(nil, ds))
	case wire.CmdGetMe:
		d := wireClient(b.Me(s))
		c.ok(req, d.AppendTo(nil))
	case wire.CmdGetClient:
		var r wire.GetClientRequest
		if !c.decode(req, body, &r) {
			return
		}
		ci, err := b.Client(s, r.ClientID)
		if err != nil {
			c.fail(req, err)
			return
		}
		d := wireClient(ci)
		c.ok(req, d.AppendTo(nil))
	case wire.CmdGetClients:
		cs, err := b.Clients(s)
		if err != nil {
			c.fail(req, err)
			return
		}
		out := make([]wire.ClientInfo, 0, len(cs))
		for _, ci := range cs {
			out = append(out, wireClient(ci).ClientInfo)
		}
		c.ok(req, wire.AppendClients(nil, out))
	case wire.CmdGetUser:
		var r wire.GetUserRequest
		if !c.decode(req, body, &r) {
			return
		}
		u, err := b.GetUser(s, ident(r.User))
		if broker.KindOf(err) == broker.KindNotFound {
			c.ok(req, nil) // empty body: not found
			return
		}
		if err != nil {
			c.fail(req, err)
			return
		}
		d := wireUserDetails(u)
		c.ok(req, d.AppendTo(nil))
	case wire.CmdGetUsers:
		us, err := b.Users(s)
		if err != nil {
			c.fail(req, err)
			return
		}
		out := make([]wire.User, 0, len(us))
		for _, u := range us {
			out = append(out, wireUser(u))
		}
		c.ok(req, wire.AppendUsers(nil, out))
	case wire.CmdGetPersonalAccessTokens:
		ps, err := b.PATs(s)
		if err != nil {
			c.fail(req, err)
			return
		}
		out := make([]wire.PATInfo, 0, len(ps))
		for _, p := range ps {
			out = append(out, wire.PATInfo{Name: p.Name, ExpiryAt: p.ExpiryAt})
		}
		c.ok(req, wire.AppendPATs(nil, out))
	case wire.CmdPollMessages:
		c.poll(req, body)
	case wire.CmdFlushUnsavedBuffer:
		var r wire.FlushUnsavedBufferRequest
		if !c.decode(req, body, &r) {
			return
		}
		// Every acknowledged message is already durable (or, with
		// ack = received, becomes so within one flush): answer once the
		// partition is known.
		t, err := b.GetTopic(s, ident(r.Stream), ident(r.Topic))
		if err != nil {
			c.fail(req, err)
			return
		}
		if r.Partition >= t.PartsN {
			c.status(req, wire.CodePartitionNotFound)
			return
		}
		c.ok(req, nil)
	case wire.CmdGetConsumerOffset:
		var r wire.GetConsumerOffsetRequest
		if !c.decode(req, body, &r) {
			return
		}
		info, ok, err := b.GetOffset(s, consumer(r.Consumer), ident(r.Stream), ident(r.Topic), r.Partition.ID)
		if err != nil {
			c.fail(req, err)
			return
		}
		if !ok {
			c.ok(req, nil)
			return
		}
		o := wire.ConsumerOffsetInfo{PartitionID: info.Partition, CurrentOffset: info.Current, StoredOffset: info.Stored}
		c.ok(req, o.AppendTo(nil))
	case wire.CmdGetStream:
		var r wire.GetStreamRequest
		if !c.decode(req, body, &r) {
			return
		}
		st, err := b.GetStream(s, ident(r.Stream))
		if broker.KindOf(err) == broker.KindStreamNotFound {
			c.ok(req, nil)
			return
		}
		if err != nil {
			c.fail(req, err)
			return
		}
		d := wireStreamDetails(st)
		c.ok(req, d.AppendTo(nil))
	case wire.CmdGetStreams:
		ss, err := b.Streams(s)
		if err != nil {
			c.fail(req, err)
			return
		}
		out := make([]wire.Stream, 0, len(ss))
		for _, st := range ss {
			out = append(out, wireStream(st))
		}
		c.ok(req, wire.AppendStreams(nil, out))
	case wire.CmdGetTopic:
		var r wire.GetTopicRequest
		if !c.decode(req, body, &r) {
			return
		}
		t, err := b.GetTopic(s, ident(r.Stream), ident(r.Topic))
		if k := broker.KindOf(err); k == broker.KindStreamNotFound || k == broker.KindTopicNotFound {
			c.ok(req, nil)
			return
		}
		if err != nil {
			c.fail(req, err)
			return
		}
		d := wireTopicDetails(t)
		c.ok(req, d.AppendTo(nil))
	case wire.CmdGetTopics:
		var r wire.GetTopicsRequest
		if !c.decode(req, body, &r) {
			return
		}
		ts, err := b.Topics(s, ident(r.Stream))
		if err != nil && broker.KindOf(err) != broker.KindStreamNotFound {
			c.fail(req, err)
			return
		}
		out := make([]wire.TopicHeader, 0, len(ts))
		for _, t := range ts {
			out = append(out, wireTopicHeader(t))
		}
		c.ok(req, wire.AppendTopics(nil, out))
	case wire.CmdGetConsumerGroup:
		var r wire.GetConsumerGroupRequest
		if !c.decode(req, body, &r) {
			return
		}
		g, err := b.GetGroup(s, ident(r.Stream), ident(r.Topic), ident(r.Group))
		if broker.KindOf(err) == broker.KindGroupNotFound {
			c.ok(req, nil)
			return
		}
		if err != nil {
			c.fail(req, err)
			return
		}
		d := wireGroupDetails(g)
		c.ok(req, d.AppendTo(nil))
	case wire.CmdGetConsumerGroups:
		var r wire.GetConsumerGroupsRequest
		if !c.decode(req, body, &r) {
			return
		}
		gs, err := b.Groups(s, ident(r.Stream), ident(r.Topic))
		if err != nil {
			c.fail(req, err)
			return
		}
		out := make([]wire.Group, 0, len(gs))
		for _, g := range gs {
			out = append(out, wireGroup(g))
		}
		c.ok(req, wire.AppendGroups(nil, out))
	case wire.CmdSyncConsumerGroup:
		var r wire.SyncConsumerGroupRequest
		if !c.decode(req, body, &r) {
			return
		}
		a, member, err := b.SyncGroup(s, ident(r.Stream), ident(r.Topic), ident(r.Group))
		if err != nil {
			c.fail(req, err)
			return
		}
		if !member {
			c.ok(req, nil)
			return
		}
		wa := wire.Assignment{Generation: a.Generation, Partitions: a.Partitions}
		c.ok(req, wa.AppendTo(nil))
	default:
		c.status(req, wire.CodeInvalidCommand)
	}
}

// replicated serves the commands with an operation of their own.
func (c *conn) replicated(req wire.Request, body []byte) {
	b := c.s.b
	s := c.sess
	ctx := c.ctx
	switch req.Operation {
	case wire.OpSendMessages:
		c.send(req, body)
	case wire.OpStoreConsumerOffset:
		var r wire.StoreConsumerOffsetRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.StoreOffset(ctx, s, consumer(r.Consumer), ident(r.Stream), ident(r.Topic), r.Partition.ID, r.Partition.Set, r.Offset))
	case wire.OpDeleteConsumerOffset:
		var r wire.DeleteConsumerOffsetRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.DeleteOffset(ctx, s, consumer(r.Consumer), ident(r.Stream), ident(r.Topic), r.Partition.ID, r.Partition.Set))
	case wire.OpCreateStream:
		var r wire.CreateStreamRequest
		if !c.decode(req, body, &r) {
			return
		}
		if len(r.Options) > 0 {
			c.status(req, wire.CodeUnsupportedOptionKey)
			return
		}
		st, err := b.CreateStream(ctx, s, r.Name)
		if err != nil {
			c.fail(req, err)
			return
		}
		d := wireStreamDetails(st)
		c.ok(req, d.AppendTo(nil))
	case wire.OpUpdateStream:
		var r wire.UpdateStreamRequest
		if !c.decode(req, body, &r) {
			return
		}
		if len(r.Options) > 0 {
			c.status(req, wire.CodeUnsupportedOptionKey)
			return
		}
		c.done(req, b.UpdateStream(ctx, s, ident(r.Stream), r.Name))
	case wire.OpDeleteStream:
		var r wire.DeleteStreamRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.DeleteStream(ctx, s, ident(r.Stream)))
	case wire.OpPurgeStream:
		var r wire.PurgeStreamRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.PurgeStream(ctx, s, ident(r.Stream)))
	case wire.OpCreateTopic:
		var r wire.CreateTopicRequest
		if !c.decode(req, body, &r) {
			return
		}
		t, err := b.CreateTopic(ctx, s, ident(r.Stream), r.Name, r.PartitionsCount, options(r.Options))
		if err != nil {
			c.fail(req, err)
			return
		}
		d := wireTopicDetails(t)
		c.ok(req, d.AppendTo(nil))
	case wire.OpUpdateTopic:
		var r wire.UpdateTopicRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.UpdateTopic(ctx, s, ident(r.Stream), ident(r.Topic), r.Name, options(r.Options)))
	case wire.OpDeleteTopic:
		var r wire.DeleteTopicRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.DeleteTopic(ctx, s, ident(r.Stream), ident(r.Topic)))
	case wire.OpPurgeTopic:
		var r wire.PurgeTopicRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.PurgeTopic(ctx, s, ident(r.Stream), ident(r.Topic)))
	case wire.OpCreatePartitions:
		var r wire.CreatePartitionsRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.CreatePartitions(ctx, s, ident(r.Stream), ident(r.Topic), r.Count))
	case wire.OpDeletePartitions:
		var r wire.DeletePartitionsRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.DeletePartitions(ctx, s, ident(r.Stream), ident(r.Topic), r.Count))
	case wire.OpDeleteSegments:
		var r wire.DeleteSegmentsRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.DeleteSegments(ctx, s, ident(r.Stream), ident(r.Topic), r.Partition, r.Count))
	case wire.OpCreateConsumerGroup:
		var r wire.CreateConsumerGroupRequest
		if !c.decode(req, body, &r) {
			return
		}
		g, err := b.CreateGroup(ctx, s, ident(r.Stream), ident(r.Topic), r.Name)
		if err != nil {
			c.fail(req, err)
			return
		}
		d := wireGroupDetails(g)
		c.ok(req, d.AppendTo(nil))
	case wire.OpDeleteConsumerGroup:
		var r wire.DeleteConsumerGroupRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.DeleteGroup(ctx, s, ident(r.Stream), ident(r.Topic), ident(r.Group)))
	case wire.OpJoinConsumerGroup:
		var r wire.JoinConsumerGroupRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.JoinGroup(s, ident(r.Stream), ident(r.Topic), ident(r.Group)))
	case wire.OpLeaveConsumerGroup:
		var r wire.LeaveConsumerGroupRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.LeaveGroup(s, ident(r.Stream), ident(r.Topic), ident(r.Group)))
	case wire.OpCreateUser:
		var r wire.CreateUserRequest
		if !c.decode(req, body, &r) {
			return
		}
		if len(r.Options) > 0 {
			c.status(req, wire.CodeUnsupportedOptionKey)
			return
		}
		u, err := b.CreateUser(ctx, s, r.Username, r.Password, r.Status, authPerms(r.Permissions))
		if err != nil {
			c.fail(req, err)
			return
		}
		d := wireUserDetails(u)
		c.ok(req, d.AppendTo(nil))
	case wire.OpUpdateUser:
		var r wire.UpdateUserRequest
		if !c.decode(req, body, &r) {
			return
		}
		if len(r.Options) > 0 {
			c.status(req, wire.CodeUnsupportedOptionKey)
			return
		}
		c.done(req, b.UpdateUser(ctx, s, ident(r.User), r.Username, r.Status))
	case wire.OpDeleteUser:
		var r wire.DeleteUserRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.DeleteUser(ctx, s, ident(r.User)))
	case wire.OpChangePassword:
		var r wire.ChangePasswordRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.ChangePassword(ctx, s, ident(r.User), r.Current, r.New))
	case wire.OpUpdatePermissions:
		var r wire.UpdatePermissionsRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.UpdatePermissions(ctx, s, ident(r.User), authPerms(r.Permissions)))
	case wire.OpCreatePersonalAccessToken:
		var r wire.CreatePATRequest
		if !c.decode(req, body, &r) {
			return
		}
		tok, err := b.CreatePAT(ctx, s, r.Name, r.Expiry)
		if err != nil {
			c.fail(req, err)
			return
		}
		p := wire.RawPAT{Token: tok}
		c.ok(req, p.AppendTo(nil))
	case wire.OpDeletePersonalAccessToken:
		var r wire.DeletePATRequest
		if !c.decode(req, body, &r) {
			return
		}
		c.done(req, b.DeletePAT(ctx, s, r.Name))
	default:
		c.evict(wire.EvictInvalidRequestOperation)
	}
}

// done answers an operation without a payload.
func (c *conn) done(req wire.Request, err error) {
	if err != nil {
		c.fail(req, err)
		return
	}
	c.ok(req, nil)
}

// send serves SendMessages (messages.md §1): namespace failures are 20,
// a bad batch gets its own code (the reference stays silent).
func (c *conn) send(req wire.Request, body []byte) {
	var r wire.SendMessagesRequest
	if err := r.Decode(body); err != nil {
		code := wire.CodeOf(err)
		c.status(req, code)
		return
	}
	p := broker.Partitioning{Kind: r.Partitioning.Kind}
	switch r.Partitioning.Kind {
	case wire.PartitionByID:
		p.ID = r.Partitioning.ID()
	case wire.PartitionByMessageKey:
		p.KeyHash = xxhash.Checksum32(r.Partitioning.Value) // the protocol's key hash (messages.md §1.2)
	}
	// A large batch is handed over with its buffer: the broker may keep it
	// where it arrived (Broker.Send), and the next request is read into
	// another, made ready meanwhile. A small one is copied.
	buf := c.big
	if buf != nil {
		c.big = nil
		c.prepareNext(len(buf.Bytes()))
	}
	conf, err := c.s.b.Send(c.ctx, c.sess, ident(r.Stream), ident(r.Topic), p, r.Batch, buf, r.MessagesCount)
	if err != nil {
		c.fail(req, err)
		return
	}
	c.ok(req, wire.AppendSendConfirmations(nil, []wire.SendConfirmation{{
		Stream: conf.Stream, Topic: conf.Topic, Partition: conf.Partition, BaseOffset: conf.BaseOffset,
	}}))
}

// poll serves PollMessages (messages.md §2).
func (c *conn) poll(req wire.Request, body []byte) {
	var r wire.PollMessagesRequest
	if !c.decode(req, body, &r) {
		return
	}
	res, err := c.s.b.Poll(c.ctx, c.sess, broker.PollRequest{
		Consumer: consumer(r.Consumer), Stream: ident(r.Stream), Topic: ident(r.Topic),
		Partition: r.Partition.ID, HasPart: r.Partition.Set, Strategy: r.Strategy.Kind, Value: r.Strategy.Value,
		Count: r.Count, AutoCommit: r.AutoCommit,
	})
	if err != nil {
		c.fail(req, err)
		return
	}
	defer res.Release() // copied into the reply below
	size := wire.HeaderSize + wire.PollPrefixSize
	for _, bt := range res.Batches {
		size += len(bt)
	}
	c.out = slices.Grow(c.out, size) // one allocation, not one per doubling
	start := len(c.out)
	c.out = wire.AppendReplyHeader(c.out, req, req.Operation, 0, 0)
	bodyStart := len(c.out)
	c.out = wire.AppendPollPrefix(c.out, res.Partition, res.Current, 0)
	var n uint32
	if res.Count > 0 {
		last := res.From + uint64(res.Count) - 1
		for _, bt := range res.Batches {
			var k uint32
			c.out, k, err = wire.SliceBatch(c.out, bt, res.From, last)
			if err != nil {
				c.out = c.out[:start]
				c.fail(req, err)
				return
			}
			n += k
		}
	}
	// Patch the message count and the frame size.
	binary.LittleEndian.PutUint32(c.out[bodyStart+12:], n)
	binary.LittleEndian.PutUint32(c.out[start+48:], uint32(len(c.out)-start))
}
