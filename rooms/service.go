package rooms

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Service is the one authority over rooms: it validates input, decides who
// may do what, changes state in the stores and publishes the events.
// Its zero value is not usable; call NewService.
type Service struct {
	rooms   RoomRecords
	members MemberRecords
	live    LiveStore
	bus     Bus
	limits  Limits
	now     func() time.Time
	log     *slog.Logger
	// data is what happens around rooms: events, history, chat, the
	// moderation log and reports (data_service.go).
	data roomData

	// Who may enter rooms, and how often (service_access.go).
	audience Audience
	joins    RateLimiter
	guests   bool
}

// ServiceParams are NewService's dependencies. Live and Bus are usually
// one object (the live store emits on its bus). Limits, Now and Logger are
// optional: zero Limits are DefaultLimits.
type ServiceParams struct {
	Rooms   RoomRecords
	Members MemberRecords
	Live    LiveStore
	Bus     Bus
	Limits  Limits
	Now     func() time.Time
	Logger  *slog.Logger
	// Data holds events, history, chat, the moderation log and reports
	// (see data_service.go); nil leaves them out. ChatLimiter limits chat
	// messages per member; nil means one in this process at ChatRate
	// (DefaultChatRate when zero).
	Data        DataRecords
	ChatLimiter RateLimiter
	ChatRate    ChatRate
	// Audience tells who follows and who blocks whom, for visibility. nil
	// means nobody follows or blocks anyone: social rooms are then for
	// their hosts and invitees only.
	Audience Audience
	// JoinLimiter limits joins per member (a join of the room one is in
	// already is free). nil means no limit.
	JoinLimiter RateLimiter
	// Guests lets people without an account listen to open rooms.
	Guests bool
}

// NewService returns a Service over the given stores.
func NewService(p ServiceParams) *Service {
	s := &Service{
		rooms: p.Rooms, members: p.Members, live: p.Live, bus: p.Bus, limits: p.Limits, now: p.Now, log: p.Logger,
		audience: p.Audience, joins: p.JoinLimiter, guests: p.Guests,
	}
	if s.limits == (Limits{}) {
		s.limits = DefaultLimits()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.data = newRoomData(p)
	return s
}

// CreateMember creates a member with a display name. It backs the
// development sign-in until accounts arrive.
func (s *Service) CreateMember(ctx context.Context, displayName string) (Member, error) {
	name, err := CleanDisplayName(displayName)
	if err != nil {
		return Member{}, err
	}
	m := Member{ID: NewUserID(), DisplayName: name, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if err := s.members.CreateMember(ctx, m); err != nil {
		return Member{}, fmt.Errorf("create member: %w", err)
	}
	return m, nil
}

// Member returns one member.
func (s *Service) Member(ctx context.Context, id UserID) (Member, error) {
	m, err := s.members.Member(ctx, id)
	if err != nil {
		return Member{}, fmt.Errorf("get member %s: %w", id, err)
	}
	return m, nil
}

// NewRoom is what a member gives to open a room. Fields added later keep
// their zero value's meaning: the instance's default.
type NewRoom struct {
	Title       string
	Description string
	// LoudestN is how many speakers the room forwards at once, the
	// loudest by audio level: 0 the server's default, -1 every speaker.
	LoudestN int
	// Visibility says who may see and join the room; "" means open
	// (visibility.go).
	Visibility Visibility
}

// MaxLoudestN bounds NewRoom.LoudestN: more than a stage can hold means
// nothing.
const MaxLoudestN = 1000

// CreateRoom opens a live room whose creator will be its first moderator.
func (s *Service) CreateRoom(ctx context.Context, creator UserID, n NewRoom) (Room, error) {
	t, err := cleanText("title", n.Title, 1, MaxTitleLen, false)
	if err != nil {
		return Room{}, err
	}
	d, err := cleanText("description", n.Description, 0, MaxDescriptionLen, true)
	if err != nil {
		return Room{}, err
	}
	if n.LoudestN < -1 || n.LoudestN > MaxLoudestN {
		return Room{}, &ValidationError{Field: "loudest_n", Reason: fmt.Sprintf("must be -1 (every speaker), 0 (the server's default) or up to %d", MaxLoudestN)}
	}
	v, err := ParseVisibility(string(n.Visibility))
	if err != nil {
		return Room{}, err
	}
	host, err := s.members.Member(ctx, creator)
	if err != nil {
		return Room{}, fmt.Errorf("create room: creator %s: %w", creator, err)
	}
	r := Room{
		ID: NewRoomID(), Title: t, Description: d, CreatedBy: creator, HostName: host.DisplayName,
		CreatedAt: s.now().UTC().Truncate(time.Millisecond), LoudestN: n.LoudestN, Visibility: v,
	}
	if err := s.rooms.CreateRoom(ctx, r); err != nil {
		return Room{}, fmt.Errorf("create room: %w", err)
	}
	if err := s.live.Open(ctx, r.ID, creator, nil, r.CreatedAt, s.limits); err != nil {
		return Room{}, fmt.Errorf("create room: live state: %w", err)
	}
	s.log.InfoContext(ctx, "room created", "room", r.ID, "user", creator)
	return r, nil
}

// Room returns one room, live or ended, with its head counts.
func (s *Service) Room(ctx context.Context, id RoomID) (RoomView, error) {
	r, err := s.room(ctx, id)
	if err != nil {
		return RoomView{}, fmt.Errorf("get room %s: %w", id, err)
	}
	return s.view(ctx, r)
}

// room reads a room's record with its host's name.
func (s *Service) room(ctx context.Context, id RoomID) (Room, error) {
	r, err := s.rooms.Room(ctx, id)
	if err != nil {
		return Room{}, err
	}
	return s.withHost(ctx, r, nil)
}

// withHost fills in the name of the room's creator, which the members
// store keeps. A creator it no longer knows leaves the name empty. names,
// when not nil, remembers names across the rooms of one page.
func (s *Service) withHost(ctx context.Context, r Room, names map[UserID]string) (Room, error) {
	if name, ok := names[r.CreatedBy]; ok {
		r.HostName = name
		return r, nil
	}
	m, err := s.members.Member(ctx, r.CreatedBy)
	switch {
	case errors.Is(err, ErrMemberNotFound):
	case err != nil:
		return Room{}, fmt.Errorf("host of room %s: %w", r.ID, err)
	default:
		r.HostName = m.DisplayName
	}
	if names != nil {
		names[r.CreatedBy] = r.HostName
	}
	return r, nil
}

func (s *Service) view(ctx context.Context, r Room) (RoomView, error) {
	v := RoomView{Room: r}
	if !r.Live() {
		return v, nil
	}
	c, err := s.live.Counts(ctx, r.ID)
	if err != nil {
		return RoomView{}, fmt.Errorf("count room %s: %w", r.ID, err)
	}
	v.Counts = c
	return v, nil
}

// Participants returns who is in a live room, in join order, and the
// room's sequence number.
func (s *Service) Participants(ctx context.Context, id RoomID) ([]Participant, uint64, error) {
	snap, err := s.live.Snapshot(ctx, id)
	if errors.Is(err, ErrRoomNotFound) || errors.Is(err, ErrRoomEnded) {
		return nil, 0, nil // an ended room, or one from before a restart, has no one in it
	}
	if err != nil {
		return nil, 0, fmt.Errorf("participants of %s: %w", id, err)
	}
	return snap.Participants, snap.Seq, nil
}

// Default and maximum page sizes of LiveRooms.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// LiveRooms returns a page of live rooms, newest first, and the cursor of
// the next page ("" when this is the last page).
func (s *Service) LiveRooms(ctx context.Context, limit int, cursor string) ([]RoomView, string, error) {
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, "", &ValidationError{Field: "limit", Reason: fmt.Sprintf("must be between 1 and %d", MaxPageSize)}
	}
	q := ListQuery{Limit: limit + 1}
	if cursor != "" {
		t, id, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		q.AfterTime, q.AfterRoomID = t, id
	}
	list, err := s.rooms.LiveRooms(ctx, q)
	if err != nil {
		return nil, "", fmt.Errorf("list live rooms: %w", err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		next = encodeCursor(last.CreatedAt, last.ID)
	}
	out := make([]RoomView, 0, len(list))
	names := make(map[UserID]string)
	for _, r := range list {
		r, err := s.withHost(ctx, r, names)
		if err != nil {
			return nil, "", err
		}
		v, err := s.view(ctx, r)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, next, nil
}

func encodeCursor(t time.Time, id RoomID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + string(id)))
}

func decodeCursor(c string) (time.Time, RoomID, error) {
	bad := &ValidationError{Field: "cursor", Reason: "is not a cursor this server issued"}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", bad
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return time.Time{}, "", bad
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, "", bad
	}
	rid, err := ParseRoomID(id)
	if err != nil {
		return time.Time{}, "", bad
	}
	return t, rid, nil
}

// pinger is implemented by stores that can tell whether they are reachable.
type pinger interface{ Ping(context.Context) error }

// Ready reports whether every store answers.
func (s *Service) Ready(ctx context.Context) error {
	var errs []error
	for _, st := range []any{s.rooms, s.members, s.live, s.bus} {
		if p, ok := st.(pinger); ok {
			if err := p.Ping(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}
