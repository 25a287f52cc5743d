package rooms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis bus's timing. None of it paces normal delivery.
const (
	// redisSubscribeWait bounds how long Subscribe waits for Redis to
	// confirm a new room's subscription when Redis cannot be reached.
	redisSubscribeWait = 5 * time.Second
	// After redisHealthInterval without a message the reader pings, and a
	// ping unanswered within redisHealthTimeout means the connection is
	// dead (a half-open TCP connection delivers nothing, silently): go-redis
	// then reconnects and subscribes to every channel again.
	redisHealthInterval = 15 * time.Second
	redisHealthTimeout  = 5 * time.Second
	// While Redis is unreachable the reader retries with a backoff.
	redisBackoffMin = 50 * time.Millisecond
	redisBackoffMax = 2 * time.Second
)

// redisBus delivers the events on the rooms' channels to this process's
// subscribers. One PubSub connection carries every room with a local
// subscriber: a room's first subscriber subscribes its channel, its last
// one unsubscribes it. Two goroutines share the work: the reader reads the
// connection and queues events; the deliverer runs the handlers, one event
// at a time, in the order Redis sent them, which for a room is seq order.
// They are two so that Subscribe, which waits for the reader to see Redis
// confirm, never waits on a handler, and a handler may subscribe.
type redisBus struct {
	ps      *redis.PubSub
	channel func(RoomID) string
	roomOf  func(channel string) RoomID
	log     *slog.Logger

	// subMu orders SUBSCRIBE and UNSUBSCRIBE on the connection as the
	// topic changes that call for them are ordered. It is held only while
	// writing them, never while waiting for a reply.
	subMu sync.Mutex

	mu     sync.Mutex // guards topics, pongs, queue, next and closed
	topics map[RoomID]*redisTopic
	// pongs are the pings sent after a SUBSCRIBE, by payload: the pong
	// comes after Redis has made the subscription.
	pongs  map[string]*redisTopic
	queue  []redisDelivery
	next   uint64
	closed bool

	wake chan struct{} // capacity 1: the queue has events
	done chan struct{} // closed by close
	stop context.CancelFunc
	wg   sync.WaitGroup // the reader and the deliverer
}

type redisSub struct {
	id uint64
	fn func(Event)
}

// redisTopic is one room's local subscribers.
type redisTopic struct {
	subs  []redisSub    // copy-on-write: the deliverer reads it unlocked
	ready chan struct{} // closed when Redis confirmed the subscription
	token string        // the payload of the ping that confirms it
}

type redisDelivery struct {
	room RoomID
	ev   Event
}

func newRedisBus(client redis.UniversalClient, channel func(RoomID) string, roomOf func(string) RoomID) *redisBus {
	ctx, stop := context.WithCancel(context.Background())
	b := &redisBus{
		// No channel yet: the connection is made when the reader first
		// reads, and rooms are added as they gain subscribers.
		ps:      client.Subscribe(ctx),
		channel: channel, roomOf: roomOf,
		log:    slog.Default().With("component", "rooms.RedisLive"),
		topics: make(map[RoomID]*redisTopic), pongs: make(map[string]*redisTopic),
		wake: make(chan struct{}, 1), done: make(chan struct{}), stop: stop,
	}
	b.wg.Add(2)
	go func() { defer b.wg.Done(); b.read(ctx) }()
	go func() { defer b.wg.Done(); b.deliver() }()
	return b
}

func (b *redisBus) subscribe(room RoomID, fn func(Event)) func() {
	b.subMu.Lock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.subMu.Unlock()
		return func() {}
	}
	b.next++
	id := b.next
	t := b.topics[room]
	first := t == nil
	if first {
		t = &redisTopic{ready: make(chan struct{}), token: "sub:" + strconv.FormatUint(id, 10)}
		b.topics[room] = t
		b.pongs[t.token] = t
	}
	t.subs = append(slices.Clip(t.subs), redisSub{id: id, fn: fn})
	b.mu.Unlock()
	if first {
		// Redis runs one connection's commands in order, so the pong to a
		// ping sent after SUBSCRIBE says the subscription is made.
		ctx, cancel := context.WithTimeout(context.Background(), redisSubscribeWait)
		err := b.ps.Subscribe(ctx, b.channel(room))
		if err == nil {
			err = b.ps.Ping(ctx, t.token)
		}
		cancel()
		if err != nil {
			// go-redis keeps the channel and subscribes on reconnecting;
			// the reader pings again then.
			b.log.Warn("subscribe to room events", "room", room, "err", err)
		}
	}
	b.subMu.Unlock()

	// A later subscriber of a room whose subscription is still being made
	// waits for it too.
	wait := time.NewTimer(redisSubscribeWait)
	select {
	case <-t.ready:
	case <-b.done:
	case <-wait.C:
		b.log.Warn("subscribe to room events: no confirmation from Redis", "room", room, "waited", redisSubscribeWait)
	}
	wait.Stop()
	var once sync.Once
	return func() { once.Do(func() { b.unsubscribe(room, t, id) }) }
}

func (b *redisBus) unsubscribe(room RoomID, t *redisTopic, id uint64) {
	b.subMu.Lock()
	defer b.subMu.Unlock()
	b.mu.Lock()
	t.subs = slices.DeleteFunc(slices.Clone(t.subs), func(s redisSub) bool { return s.id == id })
	last := len(t.subs) == 0 && b.topics[room] == t && !b.closed
	if last {
		delete(b.topics, room)
		delete(b.pongs, t.token)
	}
	b.mu.Unlock()
	if !last {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), redisSubscribeWait)
	defer cancel()
	// On failure go-redis has still forgotten the channel, so a reconnection
	// does not subscribe it again.
	if err := b.ps.Unsubscribe(ctx, b.channel(room)); err != nil {
		b.log.Warn("unsubscribe from room events", "room", room, "err", err)
	}
}

// read reads the pub/sub connection until close.
func (b *redisBus) read(ctx context.Context) {
	backoff := redisBackoffMin
	pinged, failing := false, false
	for {
		var msg any
		var err error
		if pinged {
			// A timeout now is not allowed (go-redis sees a bad connection
			// and replaces it).
			hctx, cancel := context.WithTimeout(ctx, redisHealthTimeout)
			msg, err = b.ps.Receive(hctx)
			cancel()
		} else {
			msg, err = b.ps.ReceiveTimeout(ctx, redisHealthInterval)
		}
		if b.isClosed() {
			return
		}
		if err != nil {
			if !pinged && isNetTimeout(err) {
				if err = b.ps.Ping(ctx); err == nil {
					pinged = true
					continue
				}
			}
			pinged = false
			if !failing {
				failing = true
				b.log.Warn("room events: lost the Redis connection; events published until it is back are lost", "err", err)
			}
			select {
			case <-b.done:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, redisBackoffMax)
			b.repingPending(ctx)
			continue
		}
		pinged, backoff = false, redisBackoffMin
		if failing {
			failing = false
			b.log.Info("room events: Redis connection back")
		}
		switch m := msg.(type) {
		case *redis.Message:
			b.queueMessage(m)
		case *redis.Pong:
			b.confirm(m.Payload)
		}
	}
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// repingPending pings again for every subscription not yet confirmed: the
// first ping may have been lost with the connection. The new connection
// subscribes to every channel before the ping goes out.
func (b *redisBus) repingPending(ctx context.Context) {
	b.mu.Lock()
	tokens := make([]string, 0, len(b.pongs))
	for tok := range b.pongs {
		tokens = append(tokens, tok)
	}
	b.mu.Unlock()
	for _, tok := range tokens {
		if err := b.ps.Ping(ctx, tok); err != nil {
			return // still down; the next round tries again
		}
	}
}

func (b *redisBus) confirm(token string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.pongs[token]; t != nil {
		delete(b.pongs, token)
		close(t.ready)
	}
}

func (b *redisBus) queueMessage(m *redis.Message) {
	ev, err := decodeEvent([]byte(m.Payload))
	if err != nil {
		b.log.Warn("room events: dropped an event that does not decode", "channel", m.Channel, "err", err)
		return
	}
	b.mu.Lock()
	b.queue = append(b.queue, redisDelivery{room: b.roomOf(m.Channel), ev: ev})
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// deliver runs the handlers until close.
func (b *redisBus) deliver() {
	for {
		select {
		case <-b.done:
			return
		case <-b.wake:
		}
		for {
			b.mu.Lock()
			q := b.queue
			b.queue = nil
			b.mu.Unlock()
			if len(q) == 0 {
				break
			}
			for _, d := range q {
				b.mu.Lock()
				var subs []redisSub
				if t := b.topics[d.room]; t != nil && !b.closed {
					subs = t.subs
				}
				b.mu.Unlock()
				for _, s := range subs {
					s.fn(d.ev)
				}
			}
		}
	}
}

func (b *redisBus) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// close stops delivery and waits for the goroutines. Idempotent.
func (b *redisBus) close() error {
	b.mu.Lock()
	already := b.closed
	b.closed = true
	clear(b.topics)
	b.mu.Unlock()
	var err error
	if !already {
		close(b.done)
		b.stop()
		if cerr := b.ps.Close(); cerr != nil {
			err = fmt.Errorf("close redis pub/sub: %w", cerr)
		}
	}
	b.wg.Wait()
	return err
}
