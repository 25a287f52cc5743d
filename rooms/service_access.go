package rooms

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Who may see and join a room (docs/api.md, "Visibility"):
//
//   - its hosts (the creator, and the moderators in it), everyone on its
//     stage, and whoever is in it (who may come back within the grace),
//     always;
//   - nobody a host blocks;
//   - then, in an open room, every member; in a social room, the
//     followers of a host and the invitees; in a closed room, the
//     invitees;
//   - a guest, an open room, when the instance allows guests.
//
// Whoever may not see a room is told that it does not exist.

// access decides whether viewer, who is in the room in (or none), may see
// r, whose live stage is l (zero for an ended room); rel knows, or finds
// out, how viewer stands to hosts. It returns nil or errHidden.
func (s *Service) access(ctx context.Context, r Room, l Lineup, viewer UserID, in RoomID, rel *relations) error {
	if viewer.IsGuest() {
		if s.guests && r.Visibility == VisibilityOpen && r.Live() {
			return nil
		}
		return errHidden(r.ID)
	}
	if viewer == r.CreatedBy || (in == r.ID && r.Live()) {
		return nil
	}
	for _, p := range l.OnStage {
		if p.UserID == viewer {
			return nil
		}
	}
	hosts := hostsOf(r, l)
	blocked, err := rel.blockedBy(ctx, hosts)
	if err != nil {
		return fmt.Errorf("room %s: who blocks %s: %w", r.ID, viewer, err)
	}
	if blocked {
		return errHidden(r.ID)
	}
	switch r.Visibility {
	case VisibilityOpen, "":
		return nil
	case VisibilitySocial:
		follows, err := rel.followsAny(ctx, hosts)
		if err != nil {
			return fmt.Errorf("room %s: whom %s follows: %w", r.ID, viewer, err)
		}
		if follows {
			return nil
		}
	}
	invited, err := s.rooms.IsInvitee(ctx, r.ID, viewer)
	if err != nil {
		return fmt.Errorf("room %s: is %s invited: %w", r.ID, viewer, err)
	}
	if invited {
		return nil
	}
	return errHidden(r.ID)
}

// hostsOf returns a room's hosts: its creator and the moderators on its
// stage now.
func hostsOf(r Room, l Lineup) []UserID {
	hosts := []UserID{r.CreatedBy}
	for _, p := range l.OnStage {
		if p.Role == RoleModerator && p.UserID != r.CreatedBy {
			hosts = append(hosts, p.UserID)
		}
	}
	return hosts
}

// relations is how one viewer stands to the hosts of the rooms a request
// looks at: asked of the Audience once for a whole page of rooms, then
// answered from memory.
type relations struct {
	aud     Audience
	viewer  UserID
	blocks  map[UserID]bool // host -> blocks the viewer, for the hosts asked about
	follows map[UserID]bool // host -> the viewer follows them, likewise
}

func (s *Service) relationsOf(viewer UserID) *relations {
	return &relations{aud: s.audience, viewer: viewer, blocks: map[UserID]bool{}, follows: map[UserID]bool{}}
}

// learn asks about the hosts not known yet: who of them blocks the viewer,
// and, with follows, whom of them the viewer follows.
func (r *relations) learn(ctx context.Context, hosts []UserID, follows bool) error {
	if r.aud == nil {
		return nil
	}
	var newBlocks, newFollows []UserID
	for _, h := range hosts {
		if _, ok := r.blocks[h]; !ok && !slices.Contains(newBlocks, h) {
			newBlocks = append(newBlocks, h)
		}
		if _, ok := r.follows[h]; follows && !ok && !slices.Contains(newFollows, h) {
			newFollows = append(newFollows, h)
		}
	}
	if len(newBlocks) > 0 {
		got, err := r.aud.Blockers(ctx, r.viewer, newBlocks)
		if err != nil {
			return err
		}
		for _, h := range newBlocks {
			r.blocks[h] = slices.Contains(got, h)
		}
	}
	if len(newFollows) > 0 {
		got, err := r.aud.Followed(ctx, r.viewer, newFollows)
		if err != nil {
			return err
		}
		for _, h := range newFollows {
			r.follows[h] = slices.Contains(got, h)
		}
	}
	return nil
}

func (r *relations) blockedBy(ctx context.Context, hosts []UserID) (bool, error) {
	if err := r.learn(ctx, hosts, false); err != nil {
		return false, err
	}
	return slices.ContainsFunc(hosts, func(h UserID) bool { return r.blocks[h] }), nil
}

func (r *relations) followsAny(ctx context.Context, hosts []UserID) (bool, error) {
	if err := r.learn(ctx, hosts, true); err != nil {
		return false, err
	}
	return slices.ContainsFunc(hosts, func(h UserID) bool { return r.follows[h] }), nil
}

// lineup reads the live stage of r (nothing for an ended room).
func (s *Service) lineup(ctx context.Context, r Room) (Lineup, error) {
	if !r.Live() {
		return Lineup{}, nil
	}
	l, err := s.live.Lineup(ctx, r.ID)
	if err != nil {
		return Lineup{}, fmt.Errorf("lineup of %s: %w", r.ID, err)
	}
	return l, nil
}

// whereabouts returns the room a member is in, for access: guests have
// none.
func (s *Service) whereabouts(ctx context.Context, viewer UserID) (RoomID, error) {
	if viewer.IsGuest() {
		return "", nil
	}
	w, err := s.live.Presence(ctx, viewer, s.now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return "", fmt.Errorf("whereabouts of %s: %w", viewer, err)
	}
	return w.Room, nil
}

// mayEnterLive is access with the stage and the viewer's whereabouts read
// first.
func (s *Service) mayEnterLive(ctx context.Context, r Room, viewer UserID) error {
	l, err := s.lineup(ctx, r)
	if err != nil {
		return err
	}
	in, err := s.whereabouts(ctx, viewer)
	if err != nil {
		return err
	}
	return s.access(ctx, r, l, viewer, in, s.relationsOf(viewer))
}

// RoomFor returns one room, live or ended, with its head counts, as viewer
// may see it: a room viewer may not see is ErrRoomNotFound.
func (s *Service) RoomFor(ctx context.Context, viewer UserID, id RoomID) (RoomView, error) {
	r, err := s.room(ctx, id)
	if err != nil {
		return RoomView{}, fmt.Errorf("get room %s: %w", id, err)
	}
	l, err := s.lineup(ctx, r)
	if err != nil {
		return RoomView{}, err
	}
	in, err := s.whereabouts(ctx, viewer)
	if err != nil {
		return RoomView{}, err
	}
	if err := s.access(ctx, r, l, viewer, in, s.relationsOf(viewer)); err != nil {
		return RoomView{}, err
	}
	return RoomView{Room: r, Counts: l.Counts}, nil
}

// visibleScan bounds the rooms one page of VisibleRooms looks at, per room
// asked for: the work of a page stays bounded however many rooms a viewer
// may not see; the page is then short, and next_cursor goes on from the
// last room looked at.
const visibleScan = 4

// VisibleRooms returns a page of the live rooms viewer may see, newest
// first, and the cursor of the next page ("" when there is none). A page
// may hold fewer rooms than limit, even none, and still have a next page.
func (s *Service) VisibleRooms(ctx context.Context, viewer UserID, limit int, cursor string) ([]RoomView, string, error) {
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, "", &ValidationError{Field: "limit", Reason: fmt.Sprintf("must be between 1 and %d", MaxPageSize)}
	}
	var q ListQuery
	if cursor != "" {
		t, id, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		q.AfterTime, q.AfterRoomID = t, id
	}
	budget := visibleScan*limit + 10
	q.Limit = min(budget, MaxPageSize+1)
	in, err := s.whereabouts(ctx, viewer)
	if err != nil {
		return nil, "", err
	}
	out := make([]RoomView, 0, limit)
	names := make(map[UserID]string)
	rel := s.relationsOf(viewer)
	var last Room
	for budget > 0 {
		q.Limit = min(q.Limit, budget)
		list, err := s.rooms.LiveRooms(ctx, q)
		if err != nil {
			return nil, "", fmt.Errorf("list live rooms: %w", err)
		}
		// The stages of the whole batch first, then one question to the
		// Audience about all their hosts, rather than one per room.
		lineups := make([]Lineup, len(list))
		var hosts []UserID
		social := false
		for i, r := range list {
			if lineups[i], err = s.lineup(ctx, r); err != nil {
				return nil, "", err
			}
			hosts = append(hosts, hostsOf(r, lineups[i])...)
			social = social || r.Visibility == VisibilitySocial
		}
		if !viewer.IsGuest() {
			if err := rel.learn(ctx, hosts, social); err != nil {
				return nil, "", fmt.Errorf("list live rooms: %w", err)
			}
		}
		for i, r := range list {
			budget--
			l := lineups[i]
			err = s.access(ctx, r, l, viewer, in, rel)
			if errors.Is(err, ErrRoomNotFound) {
				last = r
				continue
			}
			if err != nil {
				return nil, "", err
			}
			if len(out) == limit {
				// One more visible room: there is a next page, which
				// starts after the last room of this one.
				p := out[limit-1]
				return out, encodeCursor(p.CreatedAt, p.ID), nil
			}
			if r, err = s.withHost(ctx, r, names); err != nil {
				return nil, "", err
			}
			out = append(out, RoomView{Room: r, Counts: l.Counts})
			last = r
		}
		if len(list) < q.Limit {
			return out, "", nil // no more rooms
		}
		q.AfterTime, q.AfterRoomID = last.CreatedAt, last.ID
	}
	// Out of budget with rooms left: go on from the last one looked at.
	return out, encodeCursor(last.CreatedAt, last.ID), nil
}

// isHost reports whether actor may manage r: its creator, from anywhere,
// or a moderator in it.
func (s *Service) isHost(ctx context.Context, r Room, actor UserID) (bool, error) {
	if r.CreatedBy == actor {
		return true, nil
	}
	l, err := s.lineup(ctx, r)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(l.OnStage, func(p Participant) bool { return p.UserID == actor && p.Role == RoleModerator }), nil
}

// hostRoom reads a live room that actor manages. Someone who may not see
// it is told it does not exist; one who may but is no host, ErrForbidden.
func (s *Service) hostRoom(ctx context.Context, actor UserID, id RoomID, what string) (Room, error) {
	r, err := s.room(ctx, id)
	if err != nil {
		return Room{}, fmt.Errorf("%s: %w", what, err)
	}
	host, err := s.isHost(ctx, r, actor)
	if err != nil {
		return Room{}, fmt.Errorf("%s: %w", what, err)
	}
	if !host {
		if err := s.mayEnterLive(ctx, r, actor); err != nil {
			return Room{}, fmt.Errorf("%s: %w", what, err)
		}
		return Room{}, fmt.Errorf("%s: only the room's creator or a moderator in it may: %w", what, ErrForbidden)
	}
	if !r.Live() {
		return Room{}, fmt.Errorf("%s: %w", what, ErrRoomEnded)
	}
	return r, nil
}

// SetVisibility changes who may see and join a live room, from now on:
// whoever is in it stays. Its creator may, and any moderator in it.
func (s *Service) SetVisibility(ctx context.Context, actor UserID, id RoomID, v Visibility) (RoomView, error) {
	if !v.Valid() {
		return RoomView{}, &ValidationError{Field: "visibility", Reason: "must be open, social or closed"}
	}
	r, err := s.hostRoom(ctx, actor, id, "set visibility of "+string(id))
	if err != nil {
		return RoomView{}, err
	}
	if err := s.rooms.SetVisibility(ctx, id, v); err != nil {
		return RoomView{}, fmt.Errorf("set visibility of %s: %w", id, err)
	}
	r.Visibility = v
	s.log.InfoContext(ctx, "room visibility set", "room", id, "user", actor, "visibility", v)
	return s.view(ctx, r)
}

// InviteeView is an invitee with their display name.
type InviteeView struct {
	Invitee
	Name string
}

// InviteToRoom lets member into a live room whatever its visibility: the
// way in to a closed room. The room's creator may, and any moderator in
// it. Inviting again changes nothing.
func (s *Service) InviteToRoom(ctx context.Context, actor UserID, id RoomID, member UserID) (InviteeView, error) {
	r, err := s.hostRoom(ctx, actor, id, "invite to "+string(id))
	if err != nil {
		return InviteeView{}, err
	}
	m, err := s.members.Member(ctx, member)
	if errors.Is(err, ErrMemberNotFound) {
		return InviteeView{}, fmt.Errorf("invite %s to %s: %w", member, id, ErrNoSuchMember)
	}
	if err != nil {
		return InviteeView{}, fmt.Errorf("invite %s to %s: %w", member, id, err)
	}
	inv := Invitee{Room: r.ID, Member: member, InvitedBy: actor, At: s.now().UTC().Truncate(time.Millisecond)}
	if err := s.rooms.AddInvitee(ctx, inv); err != nil {
		return InviteeView{}, fmt.Errorf("invite %s to %s: %w", member, id, err)
	}
	s.log.InfoContext(ctx, "member invited to room", "room", id, "user", actor, "invitee", member)
	return InviteeView{Invitee: inv, Name: m.DisplayName}, nil
}

// UninviteFromRoom withdraws an invitation to a live room. Whoever is in
// the room stays in it. Withdrawing none changes nothing.
func (s *Service) UninviteFromRoom(ctx context.Context, actor UserID, id RoomID, member UserID) error {
	if _, err := s.hostRoom(ctx, actor, id, "uninvite from "+string(id)); err != nil {
		return err
	}
	if err := s.rooms.RemoveInvitee(ctx, id, member); err != nil {
		return fmt.Errorf("uninvite %s from %s: %w", member, id, err)
	}
	return nil
}

// RoomInvitees returns a page of a live room's invitees, newest first, and
// the next page's cursor. Its hosts may read it.
func (s *Service) RoomInvitees(ctx context.Context, actor UserID, id RoomID, limit int, cursor string) ([]InviteeView, string, error) {
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, "", &ValidationError{Field: "limit", Reason: fmt.Sprintf("must be between 1 and %d", MaxPageSize)}
	}
	after, err := decodeInviteeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.hostRoom(ctx, actor, id, "invitees of "+string(id)); err != nil {
		return nil, "", err
	}
	list, err := s.rooms.Invitees(ctx, id, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("invitees of %s: %w", id, err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		next = encodeInviteeCursor(last.At, string(last.Member))
	}
	out := make([]InviteeView, len(list))
	for i, inv := range list {
		out[i] = InviteeView{Invitee: inv}
		m, err := s.members.Member(ctx, inv.Member)
		switch {
		case errors.Is(err, ErrMemberNotFound):
		case err != nil:
			return nil, "", fmt.Errorf("invitee %s: %w", inv.Member, err)
		default:
			out[i].Name = m.DisplayName
		}
	}
	return out, next, nil
}

func encodeInviteeCursor(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMilli(), 10) + "|" + id))
}

func decodeInviteeCursor(c string) (InviteeCursor, error) {
	if c == "" {
		return InviteeCursor{}, nil
	}
	bad := &ValidationError{Field: "cursor", Reason: "is not a cursor this server issued"}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return InviteeCursor{}, bad
	}
	ms, id, ok := strings.Cut(string(raw), "|")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return InviteeCursor{}, bad
	}
	if _, err := ParseUserID(id); err != nil {
		return InviteeCursor{}, bad
	}
	return InviteeCursor{At: time.UnixMilli(n).UTC(), ID: id}, nil
}

// GuestPass admits a guest to a live open room, when the instance allows
// guests: it returns the room and a fresh guest ID, for a pass the caller
// signs. A room that is not open does not exist, to a guest.
func (s *Service) GuestPass(ctx context.Context, id RoomID) (Room, UserID, error) {
	if !s.guests {
		return Room{}, "", fmt.Errorf("guest pass: %w", ErrGuestsDisabled)
	}
	r, err := s.room(ctx, id)
	if err != nil {
		return Room{}, "", fmt.Errorf("guest pass: %w", err)
	}
	if r.Visibility != VisibilityOpen {
		return Room{}, "", fmt.Errorf("guest pass: %w", errHidden(id))
	}
	if !r.Live() {
		return Room{}, "", fmt.Errorf("guest pass: %w", ErrRoomEnded)
	}
	return r, NewGuestID(), nil
}

// GuestsAllowed reports whether the instance lets guests listen.
func (s *Service) GuestsAllowed() bool { return s.guests }
