package members

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/parley-audio/parley/internal/ratelimit"
	"github.com/parley-audio/parley/rooms"
)

// Config tunes the Service. DefaultConfig gives the documented defaults;
// a zero field is not valid (NewService refuses it).
type Config struct {
	// InviteQuota is how many invites a member holds at a time: used
	// ones count for good, unused ones while they can still be used.
	InviteQuota int
	// InviteTTL is how long an invite code can be used.
	InviteTTL time.Duration
	// AccessTTL is how long the API's access tokens live. The Service
	// issues none itself, but must remember a revoked session at least
	// that long, since tokens issued before the revocation stay
	// well-formed until they expire.
	AccessTTL time.Duration
	// DevTokenTTL is how long the development sign-in's tokens live. The
	// Service issues none, but must remember a deleted account at least
	// that long, since such a token names only its member.
	DevTokenTTL time.Duration
	// RefreshTTL is how long a refresh token can be used. Each use gives
	// a new one with a new RefreshTTL, so a session that is used lives on.
	RefreshTTL time.Duration
	// Password is argon2id's cost for new passwords.
	Password PasswordParams
	// SignInPerUser bounds sign-in attempts per username, and
	// SignInPerAddress per client address (see SignIn).
	SignInPerUser    ratelimit.Rate
	SignInPerAddress ratelimit.Rate
	// RevocationSync is how often the revocation cache reads the
	// sessions other processes revoked: the most a revoked session's
	// access token is still accepted by another process sharing the
	// database (plus one query). Run drives it.
	RevocationSync time.Duration
	// RevocationStale is how old the last successful read may be before
	// session tokens are refused with ErrUnavailable: past it, the cache
	// cannot promise what RevocationSync says.
	RevocationStale time.Duration
}

// DefaultConfig returns the defaults documented in the README.
func DefaultConfig() Config {
	return Config{
		InviteQuota:      5,
		InviteTTL:        7 * 24 * time.Hour,
		AccessTTL:        15 * time.Minute,
		DevTokenTTL:      12 * time.Hour,
		RefreshTTL:       30 * 24 * time.Hour,
		Password:         DefaultPasswordParams(),
		SignInPerUser:    ratelimit.Rate{N: 5, Per: 5 * time.Minute},
		SignInPerAddress: ratelimit.Rate{N: 20, Per: time.Minute},
		RevocationSync:   2 * time.Second,
		RevocationStale:  30 * time.Second,
	}
}

func (c Config) validate() error {
	var errs []error
	if c.InviteQuota < 0 {
		errs = append(errs, errors.New("invite quota is negative"))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"invite TTL", c.InviteTTL}, {"access TTL", c.AccessTTL}, {"development token TTL", c.DevTokenTTL}, {"refresh TTL", c.RefreshTTL},
		{"revocation sync", c.RevocationSync}, {"revocation staleness", c.RevocationStale}} {
		if d.d <= 0 {
			errs = append(errs, fmt.Errorf("%s %v is not positive", d.name, d.d))
		}
	}
	if c.Password.Memory < 8 || c.Password.Time < 1 || c.Password.Threads < 1 {
		errs = append(errs, errors.New("password parameters are below argon2's minimum"))
	}
	for _, r := range []struct {
		name string
		r    ratelimit.Rate
	}{{"sign-in rate per user", c.SignInPerUser}, {"sign-in rate per address", c.SignInPerAddress}} {
		if err := r.r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.name, err))
		}
	}
	return errors.Join(errs...)
}

// ServiceParams are NewService's dependencies. Store is required.
type ServiceParams struct {
	Store  Store
	Config Config
	// UserLimiter and AddressLimiter count sign-in attempts (see SignIn).
	// nil means an in-process limiter at the configured rate; a cluster
	// passes limiters that share their counts (ratelimit.NewRedis).
	UserLimiter    Limiter
	AddressLimiter Limiter
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is what members decides: sign-up with an invite or onto the
// waitlist, invites and their quota, the waitlist, sign-in, sessions and
// their revocation. Its zero value is not usable; call NewService. It is
// safe for concurrent use.
type Service struct {
	store   Store
	cfg     Config
	now     func() time.Time
	log     *slog.Logger
	users   Limiter
	addrs   Limiter
	revoked *revocations
	// dummy is a password hash made with the configured costs, checked
	// when a username has no password to check, so that a sign-in takes
	// as long whether the account exists or not. Made on first use.
	dummyOnce sync.Once
	dummy     string
}

// NewService returns a Service over p.Store.
func NewService(p ServiceParams) (*Service, error) {
	if p.Store == nil {
		return nil, errors.New("members: NewService needs a Store")
	}
	if err := p.Config.validate(); err != nil {
		return nil, fmt.Errorf("members config: %w", err)
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	users, addrs := p.UserLimiter, p.AddressLimiter
	if users == nil {
		users = ratelimit.NewMemory(p.Config.SignInPerUser)
	}
	if addrs == nil {
		addrs = ratelimit.NewMemory(p.Config.SignInPerAddress)
	}
	return &Service{
		store: p.Store, cfg: p.Config, now: now, log: log, users: users, addrs: addrs,
		revoked: newRevocations(p.Store, p.Config),
	}, nil
}

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// clock returns now in UTC at the stores' precision, so that what is
// returned equals what is read back later.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// SignUpResult is what SignUp did: the account, and a signed-in session
// when the account is active (an invite, or the instance's first account).
type SignUpResult struct {
	Account Account
	// Grant is nil for an account that waits on the waitlist.
	Grant *Grant
}

// SignUp creates an account. With an invite code the account is active
// and signed in at once; without one it joins the waitlist, holding its
// username, and cannot sign in until an admin approves it or a member
// lets it in. The instance's first account is an active admin either way.
// Errors: a *ValidationError naming every wrong field; ErrInviteInvalid,
// ErrInviteUsed, ErrInviteExpired, ErrInviteRevoked; ErrUsernameTaken; a
// *RateLimitError when req.From has made too many attempts.
func (s *Service) SignUp(ctx context.Context, req SignUpRequest) (SignUpResult, error) {
	req, err := req.validate()
	if err != nil {
		return SignUpResult{}, err
	}
	if req.From != "" {
		if err := take(ctx, s.addrs, req.From, s.now()); err != nil {
			return SignUpResult{}, fmt.Errorf("sign up from %s: %w", req.From, err)
		}
	}
	n := NewAccount{Mode: JoinWaitlist}
	if req.InviteCode != "" {
		code, err := ParseInviteCode(req.InviteCode)
		if err != nil {
			return SignUpResult{}, err
		}
		n.Mode, n.InviteHash = JoinInvite, hashSecret(code)
	}
	a, err := s.create(ctx, req, n)
	if err != nil {
		return SignUpResult{}, err
	}
	s.log.InfoContext(ctx, "account created", "user", a.ID, "status", a.Status, "admin", a.Admin, "invited_by", a.InvitedBy)
	if a.Status != StatusActive {
		return SignUpResult{Account: a}, nil
	}
	g, err := s.openSession(ctx, a)
	if err != nil {
		// The account exists; the person signs in instead.
		return SignUpResult{Account: a}, err
	}
	return SignUpResult{Account: a, Grant: &g}, nil
}

// CreateAdmin creates an active admin account, invite or not: the
// `parley admin create` command, run by whoever holds the database.
func (s *Service) CreateAdmin(ctx context.Context, req SignUpRequest) (Account, error) {
	req.InviteCode = ""
	req, err := req.validate()
	if err != nil {
		return Account{}, err
	}
	a, err := s.create(ctx, req, NewAccount{Mode: JoinDirect, Account: Account{Admin: true}})
	if err != nil {
		return Account{}, err
	}
	s.log.InfoContext(ctx, "admin account created", "user", a.ID)
	return a, nil
}

// create hashes the password and stores the account.
func (s *Service) create(ctx context.Context, req SignUpRequest, n NewAccount) (Account, error) {
	n.Account.ID = rooms.NewUserID()
	n.Account.Username = req.Username
	n.Account.DisplayName = req.DisplayName
	n.Account.CreatedAt = s.clock()
	n.PasswordHash = hashPassword(req.Password, s.cfg.Password)
	a, err := s.store.CreateAccount(ctx, n)
	if err != nil {
		return Account{}, fmt.Errorf("sign up %q: %w", req.Username, err)
	}
	return a, nil
}

// Account returns one account.
func (s *Service) Account(ctx context.Context, id rooms.UserID) (Account, error) {
	return s.store.Account(ctx, id)
}

// requireAdmin returns ErrForbidden unless actor is an active admin.
func (s *Service) requireAdmin(ctx context.Context, actor rooms.UserID) error {
	a, err := s.store.Account(ctx, actor)
	if errors.Is(err, ErrAccountNotFound) {
		return fmt.Errorf("%s is not an admin: %w", actor, ErrForbidden)
	}
	if err != nil {
		return err
	}
	if !a.Admin || a.Status != StatusActive {
		return fmt.Errorf("%s is not an admin: %w", actor, ErrForbidden)
	}
	return nil
}
