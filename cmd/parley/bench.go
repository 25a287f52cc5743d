package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/signaling/client"
)

// benchConfig is what `parley bench` was asked to do.
type benchConfig struct {
	URL        string   // the first node: rooms and speakers
	URLs       []string // every node (bench_nodes.go)
	Rooms      int
	Speakers   int // per room, the creator included
	Listeners  int // per room
	JoinRate   float64
	Duration   time.Duration
	JSON       bool
	ServerPIDs []int
	Plot       string
	DTX        bool
	Client     string // "lean" or "pion"
	Recording  string
	Sockets    int // lean listeners' shared sockets
	MaxJoining int // joins in flight at once
}

func parseBenchFlags(args []string, stderr io.Writer) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("parley bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	urls := fs.String("url", "http://127.0.0.1:8080", "base URL of the Parley server to load (loopback only); several, comma-separated, spread the listeners over the nodes of a cluster")
	fs.IntVar(&c.Rooms, "rooms", 1, "rooms to open")
	fs.IntVar(&c.Speakers, "speakers", 3, "speakers on stage in each room, the room's creator included")
	fs.IntVar(&c.Listeners, "listeners", 10, "listeners in each room")
	fs.Float64Var(&c.JoinRate, "join-rate", 50, "listener joins per second, over all rooms")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, "how long to measure once every listener has joined")
	fs.BoolVar(&c.JSON, "json", false, "print the summary as JSON")
	pids := fs.String("server-pid", "", "read the server's CPU and memory from /proc/<pid> (else from its /metrics); with several --url, one pid per node, comma-separated")
	fs.StringVar(&c.Plot, "plot", "", "write an SVG chart of packets per second, loss and server CPU to this file")
	fs.BoolVar(&c.DTX, "dtx", false, "speakers stop sending in silences, as Opus DTX does (one frame every 400 ms)")
	fs.StringVar(&c.Client, "client", "lean", "listener implementation: lean (shared sockets, batched reads) or pion (a PeerConnection each)")
	fs.StringVar(&c.Recording, "recording", "testdata/speech.opus", "Ogg Opus speech the speakers loop; the WAV of the same name gives the levels")
	fs.IntVar(&c.Sockets, "sockets", 2, "UDP sockets (and reader goroutines) the lean listeners share")
	fs.IntVar(&c.MaxJoining, "max-joining", 64, "listener joins in flight at once")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.Rooms < 1 || c.Speakers < 1 || c.Listeners < 0:
		return c, errors.New("--rooms and --speakers must be at least 1, --listeners at least 0")
	case c.JoinRate <= 0 || c.Duration <= 0:
		return c, errors.New("--join-rate and --duration must be positive")
	case c.Client != "lean" && c.Client != "pion":
		return c, fmt.Errorf("--client %q: want lean or pion", c.Client)
	case c.Sockets < 1 || c.MaxJoining < 1:
		return c, errors.New("--sockets and --max-joining must be at least 1")
	}
	var err error
	if c.URLs, err = parseNodeURLs(*urls); err != nil {
		return c, err
	}
	c.URL = c.URLs[0]
	if c.ServerPIDs, err = parsePIDs(*pids); err != nil {
		return c, err
	}
	return c, nil
}

// runBench is `parley bench`.
func runBench(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseBenchFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "parley bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "parley bench:", err)
		return 1
	}
	if cfg.Plot != "" {
		if err := os.WriteFile(cfg.Plot, []byte(plotSVG(res)), 0o644); err != nil {
			fmt.Fprintln(stderr, "parley bench: plot:", err)
			return 1
		}
	}
	if cfg.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return 1
		}
		return 0
	}
	printSummary(stdout, res)
	return 0
}

// benchRoom is one room of the run and its speakers.
type benchRoom struct {
	id       rooms.RoomID
	speakers []*benchSpeaker
}

// benchSpeaker is one speaker on stage, sending the recording.
type benchSpeaker struct {
	sess *client.Session
	w    *rtpSender
	tx   *speakerTx
	log  *sendLog
}

// rtpSender writes 20 ms Opus frames to a published track with the audio
// level, like client.Sender, and can also skip a frame (DTX): the
// timestamp advances, the sequence number does not.
type rtpSender struct {
	track   *webrtc.TrackLocalStaticRTP
	levelID uint8
	pkt     rtp.Packet
	ext     [1]byte
}

func newRTPSender(s *client.Session) (*rtpSender, error) {
	if s.Track() == nil {
		return nil, errors.New("speaker has no published track")
	}
	w := &rtpSender{track: s.Track(), levelID: s.AudioLevelID()}
	w.pkt.Header = rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32()}
	return w, nil
}

// NextSeq is the sequence number of the next packet sent.
func (w *rtpSender) NextSeq() uint16 { return w.pkt.SequenceNumber }

// Skip lets one frame's time pass without a packet.
func (w *rtpSender) Skip() { w.pkt.Timestamp += client.FrameSamples }

// Send sends one frame with its RFC 6464 level.
func (w *rtpSender) Send(payload []byte, level uint8) error {
	h := &w.pkt.Header
	h.Extension, h.Extensions = false, h.Extensions[:0]
	if w.levelID != 0 {
		w.ext[0] = level & 0x7f
		if level < 127 {
			w.ext[0] |= 0x80 // voice activity
		}
		if err := h.SetExtension(w.levelID, w.ext[:]); err != nil {
			return err
		}
	}
	w.pkt.Payload = payload
	err := w.track.WriteRTP(&w.pkt)
	h.SequenceNumber++
	h.Timestamp += client.FrameSamples
	return err
}

// benchListener is one connected listener, of either implementation.
type benchListener interface {
	Close() error
}

// bench runs the whole load and returns its figures.
func bench(ctx context.Context, cfg benchConfig, progress io.Writer) (*benchResult, error) {
	rec, err := client.LoadRecording(cfg.Recording, strings.TrimSuffix(cfg.Recording, filepath.Ext(cfg.Recording))+".wav")
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	probe := newProbes(cfg, hc)

	r := &runner{cfg: cfg, rec: rec, hc: hc, probe: probe, progress: progress}
	defer r.close()
	if err := r.openRooms(ctx); err != nil {
		return nil, err
	}
	r.startSpeaking()
	base := probe.sample(ctx)
	r.res.Base = base.rssBytes

	if err := r.joinListeners(ctx); err != nil {
		return nil, err
	}
	if err := r.measure(ctx); err != nil {
		return nil, err
	}
	return r.finish(ctx), nil
}

// runner holds one run's state.
type runner struct {
	cfg      benchConfig
	rec      *client.Recording
	hc       *http.Client
	probe    probes
	progress io.Writer
	lean     *leanPool // nil with --client pion

	rooms     []*benchRoom
	speakers  []*speakerTx
	listeners []*listenerRx

	mu     sync.Mutex // guards conns
	conns  []benchListener
	speech sync.WaitGroup
	quiet  chan struct{} // closed to stop the speakers

	res     benchResult
	samples []timePoint
	marks   []windowMark // the streams at the window's start
}

func (r *runner) close() {
	r.stopSpeaking()
	r.mu.Lock()
	conns := r.conns
	r.conns = nil
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Close() }()
	}
	wg.Wait()
	for _, rm := range r.rooms {
		for _, sp := range rm.speakers {
			_ = sp.sess.Close()
		}
	}
	if r.lean != nil {
		_ = r.lean.Close()
	}
}

// openRooms creates the rooms and puts their speakers on stage: the
// creator is a moderator; the others join as listeners and are invited.
func (r *runner) openRooms(ctx context.Context) error {
	for i := range r.cfg.Rooms {
		creator := &client.API{BaseURL: r.cfg.URL, HTTP: r.hc}
		if _, err := creator.DevSignIn(ctx, fmt.Sprintf("Bench host %d", i+1)); err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
		room, err := creator.CreateRoom(ctx, fmt.Sprintf("Bench room %d", i+1), "parley bench")
		if err != nil {
			return fmt.Errorf("create room: %w", err)
		}
		br := &benchRoom{id: room.ID}
		r.rooms = append(r.rooms, br)
		host, err := r.speaker(ctx, creator, room.ID, nil)
		if err != nil {
			return err
		}
		br.speakers = append(br.speakers, host)
		for j := 1; j < r.cfg.Speakers; j++ {
			a := &client.API{BaseURL: r.cfg.URL, HTTP: r.hc}
			if _, err := a.DevSignIn(ctx, fmt.Sprintf("Bench speaker %d.%d", i+1, j+1)); err != nil {
				return fmt.Errorf("sign in: %w", err)
			}
			sp, err := r.speaker(ctx, a, room.ID, host.sess)
			if err != nil {
				return err
			}
			br.speakers = append(br.speakers, sp)
		}
	}
	return nil
}

// speaker connects one speaker. With a host, the speaker joins as a
// listener and goes on stage through the protocol: the host invites, the
// speaker accepts and publishes on the same PeerConnection.
func (r *runner) speaker(ctx context.Context, a *client.API, room rooms.RoomID, host *client.Session) (*benchSpeaker, error) {
	s, err := client.Dial(ctx, r.cfg.URL, a.Token, client.Options{Loopback: true, HTTPClient: r.hc})
	if err != nil {
		return nil, fmt.Errorf("speaker dial: %w", err)
	}
	sp := &benchSpeaker{sess: s}
	if err := r.stage(ctx, sp, room, host); err != nil {
		_ = s.Close()
		return nil, err
	}
	w, err := newRTPSender(s)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	sp.w = w
	sp.tx = &speakerTx{id: string(s.Welcome.User.ID), firstSeq: w.NextSeq()}
	sp.log = &sendLog{}
	r.speakers = append(r.speakers, sp.tx)
	return sp, nil
}

func (r *runner) stage(ctx context.Context, sp *benchSpeaker, room rooms.RoomID, host *client.Session) error {
	s := sp.sess
	if _, err := s.Join(ctx, string(room)); err != nil {
		return fmt.Errorf("speaker join: %w", err)
	}
	if err := s.StartMedia(ctx, client.MediaOptions{Publish: host == nil}); err != nil {
		return fmt.Errorf("speaker media: %w", err)
	}
	if err := s.WaitConnected(ctx); err != nil {
		return fmt.Errorf("speaker media: %w", err)
	}
	if host == nil {
		return nil
	}
	if err := host.Act(ctx, string(rooms.ActInvite), map[string]string{"user_id": string(s.Welcome.User.ID)}); err != nil {
		return fmt.Errorf("invite speaker: %w", err)
	}
	if err := s.Act(ctx, string(rooms.ActAcceptInvite), nil); err != nil {
		return fmt.Errorf("accept invitation: %w", err)
	}
	if err := s.Publish(ctx); err != nil {
		return fmt.Errorf("speaker publish: %w", err)
	}
	return nil
}

// sendLog records when a speaker's packet counts passed points in time,
// so that loss can be charged only for packets sent after a listener was
// up. Appended by the speaker's goroutine, read after it stops.
type sendLog struct {
	mu     sync.Mutex
	points []sendPoint
}

type sendPoint struct {
	at   time.Time
	sent uint64
}

// startSpeaking starts one goroutine per speaker, sending a 20 ms frame
// of the looped recording on every tick.
func (r *runner) startSpeaking() {
	r.quiet = make(chan struct{})
	for _, rm := range r.rooms {
		for k, sp := range rm.speakers {
			r.speech.Add(1)
			go func() {
				defer r.speech.Done()
				r.speak(sp, k)
			}()
		}
	}
}

func (r *runner) stopSpeaking() {
	if r.quiet == nil {
		return
	}
	select {
	case <-r.quiet:
	default:
		close(r.quiet)
	}
	r.speech.Wait()
}

func (r *runner) speak(sp *benchSpeaker, offset int) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	n := len(r.rec.Packets)
	// Speakers start at different places in the recording, so that they
	// do not all pause together.
	i := (offset * n / max(1, r.cfg.Speakers)) % n
	silentRun := 0
	for {
		select {
		case <-r.quiet:
			return
		case <-t.C:
		}
		pkt, level := r.rec.Packets[i], r.rec.Levels[i]
		i = (i + 1) % n
		if r.cfg.DTX && level >= dtxLevel {
			// Opus DTX: in silence, one frame every 400 ms.
			silentRun++
			if silentRun%20 != 1 {
				sp.w.Skip()
				continue
			}
		} else {
			silentRun = 0
		}
		if err := sp.w.Send(pkt, level); err != nil {
			continue
		}
		sent := sp.tx.sent.Add(1)
		sp.log.mu.Lock()
		if len(sp.log.points) == 0 || time.Since(sp.log.points[len(sp.log.points)-1].at) >= 100*time.Millisecond {
			sp.log.points = append(sp.log.points, sendPoint{at: time.Now(), sent: sent})
		}
		sp.log.mu.Unlock()
	}
}

// dtxLevel is the audio level (-dBov) at and above which a frame counts
// as silence for --dtx.
const dtxLevel = 70

// sentAt returns how many packets sp had sent by time at.
func (r *runner) sentAt(tx *speakerTx, at time.Time) uint64 {
	for _, rm := range r.rooms {
		for _, sp := range rm.speakers {
			if sp.tx != tx {
				continue
			}
			sp.log.mu.Lock()
			defer sp.log.mu.Unlock()
			var n uint64
			for _, p := range sp.log.points {
				if p.at.After(at) {
					break
				}
				n = p.sent
			}
			return n
		}
	}
	return 0
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback()
	}
	return false
}
