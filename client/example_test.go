package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/shoalstream/shoal/client"
)

// Connect, log in, create a stream and a topic, send and poll.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{Address: "127.0.0.1:8090", Username: "iggy", Password: "iggy"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	stream, err := c.CreateStream(ctx, "orders")
	if errors.Is(err, client.ErrStreamNameAlreadyExists) {
		stream, err = c.GetStream(ctx, client.NamedID("orders"))
	}
	if err != nil {
		log.Fatal(err)
	}
	sid := client.NumericID(stream.ID)
	topic, err := c.CreateTopic(ctx, sid, "events", 3, client.TopicSettings{MessageExpiry: client.ExpiryNever})
	if err != nil {
		log.Fatal(err)
	}
	tid := client.NumericID(topic.ID)

	msg := client.NewMessage([]byte(`{"order":1001}`),
		client.NewHeader("content-type", client.StringValue("application/json")),
		client.NewHeader("attempt", client.Uint32Value(1)))
	confs, err := c.SendMessages(ctx, sid, tid, client.MessagesKeyString("customer-42"), []client.Message{msg})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sent to partition", confs[0].Partition, "at offset", confs[0].BaseOffset)

	res, err := c.PollMessages(ctx, client.PollRequest{
		Consumer:  client.DefaultConsumer(),
		Stream:    sid,
		Topic:     tid,
		Partition: client.InPartition(confs[0].Partition),
		Strategy:  client.OffsetStrategy(confs[0].BaseOffset),
		Count:     10,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range res.Messages {
		fmt.Println(m.Offset, string(m.Payload), m.Headers)
	}
}

// A consumer group polled without a partition: the client joins the group
// and reads its assigned partitions in turn, committing as it goes.
func ExampleClient_PollMessages_consumerGroup() {
	ctx := context.Background()
	c, err := client.Dial(ctx, client.Options{Username: "iggy", Password: "iggy"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	stream, topic, group := client.NamedID("orders"), client.NamedID("events"), client.NamedID("billing")
	if _, err := c.CreateConsumerGroup(ctx, stream, topic, "billing"); err != nil && !errors.Is(err, client.ErrConsumerGroupNameAlreadyExists) {
		log.Fatal(err)
	}
	for range 10 {
		res, err := c.PollMessages(ctx, client.PollRequest{
			Consumer:   client.GroupConsumer(group),
			Stream:     stream,
			Topic:      topic,
			Strategy:   client.NextStrategy(),
			Count:      100,
			AutoCommit: true,
		})
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range res.Messages {
			fmt.Println(res.PartitionID, m.Offset, len(m.Payload))
		}
	}
}
