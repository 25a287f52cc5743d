package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-audio/parley/api"
	"github.com/parley-audio/parley/members"
	"github.com/parley-audio/parley/rooms"
	"github.com/parley-audio/parley/sfu"
	"github.com/parley-audio/parley/signaling"
	"github.com/parley-audio/parley/web"
)

// listening is what a started server reports, so that tests (and logs)
// know the real addresses when ports were chosen by the kernel.
type listening struct {
	HTTP    net.Addr
	UDP     *net.UDPAddr
	BaseURL string
	// Media is the running SFU, whose counters tests read.
	Media *sfu.SFU
}

// serve runs the server until ctx ends, then shuts down gracefully within
// cfg.ShutdownTimeout. It sends the bound addresses on started, if not nil.
func serve(ctx context.Context, cfg serveConfig, log *slog.Logger, started chan<- listening) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	store, err := openDurable(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer store.close()

	secret, err := tokenSecret(cfg)
	if err != nil {
		return err
	}
	tokens, err := api.NewTokens(secret, cfg.TokenTTL, nil, api.WithAccessTTL(cfg.AccessTokenTTL))
	if err != nil {
		return err
	}
	guestPasses, err := api.NewGuestTokens(secret, nil)
	if err != nil {
		return err
	}

	live, bus, redisClient, closeLive, err := openLive(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeLive()
	limits := openLimiters(cfg, redisClient)
	social := members.NewSocial(members.SocialParams{
		Store: store.members, Directory: limits.directory, Logger: log.With("component", "members"),
	})
	accounts, err := newAccounts(cfg, store.members, limits, log.With("component", "members"))
	if err != nil {
		return err
	}
	// Session tokens are refused until the revocations have been read.
	if err := accounts.SyncRevocations(ctx); err != nil {
		return err
	}
	svc := rooms.NewService(rooms.ServiceParams{
		Rooms: store.rooms, Members: store.members, Live: live, Bus: bus,
		Data: store.rooms, ChatLimiter: limits.chat,
		Limits: rooms.Limits{
			StageCap: cfg.StageCap, ReconnectGrace: cfg.ReconnectGrace,
			EmptyStageGrace: cfg.EmptyStageGrace, LeaseTTL: cfg.LeaseTTL,
		},
		Logger:   log.With("component", "rooms"),
		Audience: social, JoinLimiter: limits.joins, Guests: cfg.Social.GuestListening,
	})
	if err := svc.Recover(ctx); err != nil {
		return err
	}

	mets := newMetrics(log.With("component", "metrics"))
	sfuCfg := sfu.DefaultConfig()
	sfuCfg.UDPPort, sfuCfg.UDPAddr, sfuCfg.PublicIPs, sfuCfg.LoopbackOnly = cfg.UDPPort, cfg.UDPAddr, cfg.PublicIPs, cfg.LoopbackOnly
	sfuCfg.OnFirstAudio = mets.observeFirstAudio
	sfuCfg.LoudestN = cfg.LoudestN
	media, err := sfu.New(sfuCfg, log.With("component", "sfu"))
	if err != nil {
		return fmt.Errorf("start media: %w", err)
	}
	defer media.Close()
	mets.attach(svc, media)

	node, err := openCluster(ctx, cfg, log.With("component", "cluster"))
	if err != nil {
		return err
	}
	cl := clusterParams(node, cfg, secret)
	sigCfg := signaling.DefaultConfig()
	sigCfg.AllowedOrigins = cfg.AllowedOrigins
	sig, err := signaling.NewServer(signaling.Params{
		Config: sigCfg, Rooms: svc, Media: media,
		Auth:   memberOrGuest{members: tokenAuth{api.NewAuthenticator(tokens, accounts, cfg.DevSignIn)}, guests: guestPasses},
		Logger: log.With("component", "signaling"), Cluster: cl.cluster, ClusterConfig: cl.config,
	})
	if err != nil {
		return err
	}
	// A signed-out session's open connections close too, here at once and
	// on the other nodes with their next revocation sync.
	accounts.OnSignOut(func(ids []members.SessionID) {
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = string(id)
		}
		sig.SignedOut(names...)
	})
	// A deleted account's connections close too, whatever their tokens.
	accounts.OnAccountDeleted(func(ids []rooms.UserID) { sig.AccountsDeleted(ids...) })
	if node != nil {
		cl.relay = sig.RelayHandler()
	}

	exporter, err := newExporter(store, svc.FlushHistory)
	if err != nil {
		return err
	}
	deleter, err := newDeleter(store, accounts, svc, log.With("component", "members"))
	if err != nil {
		return err
	}

	var stopping atomic.Bool
	handler := api.NewHandler(api.Params{
		Rooms: svc, Members: accounts, Tokens: tokens, DevSignIn: cfg.DevSignIn, Signal: sig, Web: web.Handler(), Metrics: mets.Handler(),
		Admins: memberAdmins{store.members},
		Export: exporter, Deletion: deleter, Relay: cl.relay, Nodes: cl.nodes,
		Social: social, Guests: guestPasses, GuestLimiter: limits.guests,
		Logger: log.With("component", "http"),
		Ready: func(context.Context) error {
			if stopping.Load() {
				return errors.New("shutting down")
			}
			return nil
		},
	})
	srv := &http.Server{
		Handler: handler,
		// No ReadTimeout or WriteTimeout: they would cut the long-lived
		// WebSockets. Bodies are bounded by the API, and slow headers here.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	}
	addrs := listening{HTTP: ln.Addr(), UDP: media.UDPAddr(), BaseURL: scheme + "://" + browserHost(ln.Addr()), Media: media}
	log.Info("parley listening", "url", addrs.BaseURL, "media_udp", addrs.UDP.String(), "data_dir", cfg.DataDir, "postgres", cfg.DatabaseURL != "")

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	// The janitor ends rooms left with an empty stage and takes out
	// participants whose connection is gone for longer than the grace.
	janitorCtx, stopJanitor := context.WithCancel(ctx)
	janitorDone := make(chan struct{})
	go func() {
		defer close(janitorDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		svc.Run(janitorCtx, t.C)
	}()
	// The revocation cache reads what other processes signed out.
	revocationsDone := make(chan struct{})
	go func() {
		defer close(revocationsDone)
		t := time.NewTicker(accounts.Config().RevocationSync)
		defer t.Stop()
		accounts.Run(janitorCtx, t.C)
	}()
	// Deletions that failed half way, and each deletion's final erasure,
	// are finished in the background.
	erasuresDone := make(chan struct{})
	go func() {
		defer close(erasuresDone)
		if _, err := deleter.FinishPending(janitorCtx); err != nil && janitorCtx.Err() == nil {
			log.Warn("finish pending erasures", "err", err)
		}
		t := time.NewTicker(erasureSweep)
		defer t.Stop()
		deleter.Run(janitorCtx, t.C)
	}()
	defer func() { stopJanitor(); <-janitorDone; <-revocationsDone; <-erasuresDone }()
	leave, err := joinCluster(ctx, node, cfg, addrs.BaseURL, media, sig, svc)
	if err != nil {
		_ = srv.Close()
		return err
	}
	defer leave()
	if cfg.DebugAddr != "" {
		_, stopDebug, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			_ = srv.Close()
			return err
		}
		defer stopDebug()
	}
	if started != nil {
		started <- addrs
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}

	// Shut down in order: refuse new work, tell clients and close their
	// media, then stop HTTP. http.Server.Shutdown does not wait for
	// WebSockets (they are hijacked), so signaling drains them itself.
	stopping.Store(true)
	drain(ctx, node, cfg, media, sig, log)
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var sigErr, httpErr error
	wg.Add(2)
	go func() { defer wg.Done(); sigErr = sig.Shutdown(sctx) }()
	go func() { defer wg.Done(); httpErr = srv.Shutdown(sctx) }()
	wg.Wait()
	if httpErr != nil {
		_ = srv.Close()
	}
	if err := media.Close(); err != nil {
		log.Warn("close media", "err", err)
	}
	if err := errors.Join(sigErr, httpErr); err != nil {
		log.Warn("shutdown cut connections", "err", err)
	}
	log.Info("stopped")
	return nil
}

// openLive chooses where live state and events live: in this process (the
// default, for one machine) or in Redis, shared by every process that
// points at it. This is the one place that chooses. The Redis client is
// returned too (nil without Redis), for what else is shared through it.
func openLive(ctx context.Context, cfg serveConfig) (rooms.LiveStore, rooms.Bus, *redis.Client, func(), error) {
	if cfg.RedisURL == "" {
		bus := rooms.NewMemoryBus()
		return rooms.NewMemoryLive(bus), bus, nil, func() { _ = bus.Close() }, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("redis url: %w", err)
	}
	client := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		_ = client.Close()
		return nil, nil, nil, nil, fmt.Errorf("redis at %s: %w", opts.Addr, err)
	}
	live := rooms.NewRedisLive(client, cfg.RedisPrefix)
	return live, live, client, func() { _ = live.Close(); _ = client.Close() }, nil
}

// newAccounts builds the members service, counting sign-in attempts on
// the limiters openLimiters chose.
func newAccounts(cfg serveConfig, store members.Store, limits limiters, log *slog.Logger) (*members.Service, error) {
	mc := members.DefaultConfig()
	mc.InviteQuota, mc.InviteTTL = cfg.InviteQuota, cfg.InviteTTL
	mc.AccessTTL, mc.RefreshTTL, mc.DevTokenTTL = cfg.AccessTokenTTL, cfg.RefreshTokenTTL, cfg.TokenTTL
	mc.SignInPerUser, mc.SignInPerAddress = cfg.SignInPerUser, cfg.SignInPerAddr
	return members.NewService(members.ServiceParams{
		Store: store, Config: mc, Logger: log,
		UserLimiter: limits.signInUser, AddressLimiter: limits.signInAddr,
	})
}

// browserHost turns a listening address into a host:port a browser can
// open: a wildcard address becomes localhost, which browsers treat as a
// secure origin (the microphone needs one).
func browserHost(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// tokenSecret returns the configured secret, or the one kept in the data
// directory, creating it on first start so that tokens survive restarts.
func tokenSecret(cfg serveConfig) ([]byte, error) {
	if cfg.TokenSecret != "" {
		return []byte(cfg.TokenSecret), nil
	}
	path := filepath.Join(cfg.DataDir, "token-secret")
	if b, err := os.ReadFile(path); err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return nil, fmt.Errorf("%s: secret is shorter than 32 bytes", path)
		}
		return []byte(s), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read token secret: %w", err)
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	s := hex.EncodeToString(b[:])
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write token secret: %w", err)
	}
	return []byte(s), nil
}

// tokenAuth lets signaling check the API's tokens, revoked sessions
// included, without importing api.
type tokenAuth struct{ auth *api.Authenticator }

func (a tokenAuth) Authenticate(token string) (signaling.Identity, error) {
	p, err := a.auth.Authenticate(token)
	if errors.Is(err, api.ErrTokenExpired) {
		return signaling.Identity{}, fmt.Errorf("%w: %w", signaling.ErrTokenExpired, err)
	}
	if err != nil {
		return signaling.Identity{}, err
	}
	return signaling.Identity{User: p.UserID, Name: p.DisplayName, Session: string(p.SessionID)}, nil
}
