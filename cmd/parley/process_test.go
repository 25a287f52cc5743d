package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-audio/parley/internal/testenv"
	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/signaling/client"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// parleyBinary builds the parley command once per test run. It builds with
// -race, like the tests, so that the packages come from the build cache.
func parleyBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "parley")
		out, err := exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build parley: %v", buildErr)
	}
	return binPath
}

// proc is a running parley process.
type proc struct {
	cmd     *exec.Cmd
	baseURL string
	logs    *testenv.Buffer
	exited  chan error
}

var urlInLog = regexp.MustCompile(`url=(https?://[^ ]+)`)

// startProcess runs `parley serve` with args, in dir, with env, and waits
// for it to say where it listens.
func startProcess(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(parleyBinary(t), append([]string{"serve"}, args...)...)
	cmd.Dir, cmd.Env = dir, env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &testenv.Buffer{}, exited: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.logs.Write([]byte(line + "\n"))
			if m := urlInLog.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("parley log:\n%s", tail(p.logs.String(), 100))
		}
	})
	select {
	case p.baseURL = <-found:
	case err := <-p.exited:
		t.Fatalf("parley exited before listening: %v\n%s", err, p.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("parley did not start in 60 s\n%s", p.logs)
	}
	return p
}

// waitExit waits for the process to end and returns its exit code.
func (p *proc) waitExit(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case err := <-p.exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		return 0
	case <-time.After(within):
		t.Fatalf("parley did not exit within %v of the signal", within)
		return -1
	}
}

// On SIGTERM or SIGINT the server tells its clients, closes their media and
// exits 0 within its shutdown bound.
func TestSignalShutsDownGracefully(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			p := startProcess(t, t.TempDir(), os.Environ(),
				"--http-addr", "127.0.0.1:0", "--udp-port", "0", "--rtc-loopback-only", "--dev-sign-in",
				"--data-dir", t.TempDir(), "--shutdown-timeout", "5s")
			ts := &testServer{listening: listening{BaseURL: p.baseURL}}
			speaker := ts.signIn(t, ctx, "Speaker")
			room, err := speaker.api.CreateRoom(ctx, "Closing time", "")
			if err != nil {
				t.Fatal(err)
			}
			speaker.connect(t, ctx, ts, room.ID, true)
			listener := ts.signIn(t, ctx, "Listener")
			listener.connect(t, ctx, ts, room.ID, false)

			start := time.Now()
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for _, who := range []*person{speaker, listener} {
				env, err := who.sess.WaitFor(ctx, func(e signaling.Envelope) bool { return e.Type == signaling.TypeGoodbye })
				if err != nil {
					t.Fatalf("%s got no goodbye: %v", who.name, err)
				}
				var g signaling.GoodbyePayload
				_ = json.Unmarshal(env.Payload, &g)
				if g.Reason != signaling.ReasonServerShutdown {
					t.Errorf("%s: goodbye reason %q, want %q", who.name, g.Reason, signaling.ReasonServerShutdown)
				}
				_, err = who.sess.WaitFor(ctx, func(signaling.Envelope) bool { return false })
				if websocket.CloseStatus(errors.Unwrap(err)) != websocket.StatusGoingAway {
					t.Errorf("%s: connection ended with %v, want close code 1001", who.name, err)
				}
			}
			if code := p.waitExit(t, 10*time.Second); code != 0 {
				t.Fatalf("exit code %d, want 0", code)
			}
			t.Logf("%v: clients told and process exited in %v", sig, time.Since(start).Round(time.Millisecond))
			if !strings.Contains(p.logs.String(), "stopped") {
				t.Error("the log does not say the server stopped")
			}
		})
	}
}

// On a fresh machine, `parley serve` with no flags and no PARLEY_ variables
// (what `make run` does) listens on 127.0.0.1:8080, keeps its data in
// ./data, and the README's tour works: the first person signs up and is
// the admin, makes an invite link, the second signs up with it; a room is
// created, listed, joined twice, and the speaker heard. The development
// sign-in is off.
func TestDefaultsServeTheREADMETour(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:8080"} {
		if ln, err := net.Listen("tcp", addr); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is taken, so the defaults cannot be tested: %v", addr, err)
			}
			t.Skipf("SKIPPED LOUDLY: %s is taken (is `make run` running?), so the defaults cannot be tested: %v", addr, err)
		} else {
			ln.Close()
		}
	}
	if c, err := net.ListenPacket("udp", ":7882"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("UDP 7882 is taken: %v", err)
		}
		t.Skipf("SKIPPED LOUDLY: UDP port 7882 is taken (is `make run` running?): %v", err)
	} else {
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	p := startProcess(t, dir, env)
	if p.baseURL != "http://127.0.0.1:8080" {
		t.Fatalf("listening on %s, want http://127.0.0.1:8080", p.baseURL)
	}
	ts := &testServer{listening: listening{BaseURL: p.baseURL}}

	// The page is there.
	page, err := ts.httpGet(ctx, "/")
	if err != nil || !strings.Contains(page, "<html") {
		t.Fatalf("GET / did not return the web client: %v", err)
	}
	if _, err := (&client.API{BaseURL: ts.BaseURL}).DevSignIn(ctx, "Dev"); !client.IsCode(err, "not_found") {
		t.Fatalf("the development sign-in by default: %v, want not_found (off)", err)
	}
	ann := &person{name: "Ann", api: &client.API{BaseURL: ts.BaseURL}, rec: newRecorder()}
	first, err := ann.api.SignUp(ctx, "ann", tourPassword, "Ann", "")
	if err != nil || !first.Member.Admin {
		t.Fatalf("the first sign-up: %+v, %v; want an admin", first.Member, err)
	}
	ann.id = first.Member.ID
	inv, err := ann.api.CreateInvite(ctx)
	if err != nil || !strings.HasPrefix(inv.Link, "http://127.0.0.1:8080/join?invite=pinv_") {
		t.Fatalf("invite link %q, %v", inv.Link, err)
	}
	code := strings.TrimPrefix(inv.Link, "http://127.0.0.1:8080/join?invite=")
	bob := &person{name: "Bob", api: &client.API{BaseURL: ts.BaseURL}, rec: newRecorder()}
	second, err := bob.api.SignUp(ctx, "bob", tourPassword, "Bob", code)
	if err != nil || second.Member.Status != "active" {
		t.Fatalf("sign-up with the invite: %+v, %v", second.Member, err)
	}
	bob.id = second.Member.ID
	room, err := ann.api.CreateRoom(ctx, "Fresh clone", "the README tour")
	if err != nil {
		t.Fatal(err)
	}
	// Real interfaces, not loopback: the defaults are for real use.
	connect := func(who *person, publish bool) {
		s, err := client.Dial(ctx, ts.BaseURL, who.api.Token, client.Options{OnTrack: who.rec.onTrack})
		if err != nil {
			t.Fatal(err)
		}
		who.sess = s
		t.Cleanup(func() { _ = s.Close() })
		if _, err := s.Join(ctx, string(room.ID)); err != nil {
			t.Fatal(err)
		}
		if err := s.StartMedia(ctx, client.MediaOptions{Publish: publish}); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitConnected(ctx); err != nil {
			t.Fatalf("%s: media did not connect over the machine's interfaces: %v", who.name, err)
		}
	}
	connect(ann, true)
	connect(bob, false)
	list, err := bob.api.LiveRooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Rooms) != 1 || list.Rooms[0].SpeakerCount != 1 || list.Rooms[0].ListenerCount != 1 {
		t.Fatalf("live rooms = %+v, want the one room with 1 speaker and 1 listener", list.Rooms)
	}
	w, err := ann.sess.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	warmUp(t, ctx, ann, w, []*person{bob})

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.waitExit(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	for _, f := range []string{"data/parley.db", "data/members.db", "data/token-secret"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("default data directory: %v", err)
		}
	}
}

func (ts *testServer) httpGet(ctx context.Context, path string) (string, error) {
	c := &client.API{BaseURL: ts.BaseURL}
	return c.GetText(ctx, path)
}
