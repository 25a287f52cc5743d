package rooms

import "time"

// The JSON shapes of events, chat, history, the moderation log and
// reports, shared by the REST API and signaling (as wire.go's are).

// EventJSON is a scheduled room on the wire.
type EventJSON struct {
	ID          EventID     `json:"id"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	StartsAt    time.Time   `json:"starts_at"`
	Host        MemberRef   `json:"host"`
	Cohosts     []MemberRef `json:"cohosts"`
	Status      EventStatus `json:"status"`
	// RoomID is the room the event opened, null until it starts.
	RoomID      *RoomID    `json:"room_id"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	CancelledAt *time.Time `json:"cancelled_at"`
	StartedAt   *time.Time `json:"started_at"`
	RSVPCount   int        `json:"rsvp_count"`
	// RSVPed is whether the member asking RSVPed.
	RSVPed bool `json:"rsvped"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// JSON returns the wire shape of the event.
func (v EventView) JSON() EventJSON {
	j := EventJSON{
		ID: v.ID, Title: v.Title, Description: v.Description, StartsAt: v.StartsAt,
		Host:    MemberRef{ID: v.Host, DisplayName: v.Names[v.Host]},
		Cohosts: make([]MemberRef, len(v.Cohosts)), Status: v.Status(),
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		CancelledAt: timePtr(v.CancelledAt), StartedAt: timePtr(v.StartedAt),
		RSVPCount: v.RSVPs, RSVPed: v.RSVPed,
	}
	for i, c := range v.Cohosts {
		j.Cohosts[i] = MemberRef{ID: c, DisplayName: v.Names[c]}
	}
	if v.Room != "" {
		id := v.Room
		j.RoomID = &id
	}
	return j
}

// ChatMessageJSON is a chat message on the wire.
type ChatMessageJSON struct {
	ID     MessageID `json:"id"`
	RoomID RoomID    `json:"room_id"`
	Seq    uint64    `json:"seq"`
	// Author is null for a member whose account was deleted.
	Author    *MemberRef `json:"author"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
}

// JSON returns the wire shape of the message.
func (m ChatMessage) JSON() ChatMessageJSON {
	j := ChatMessageJSON{ID: m.ID, RoomID: m.Room, Seq: m.Seq, Body: m.Body, CreatedAt: m.CreatedAt}
	if m.Author != "" {
		j.Author = &MemberRef{ID: m.Author, DisplayName: m.AuthorName}
	}
	return j
}

// SpeakerJSON is someone who was on stage, in a room's history.
type SpeakerJSON struct {
	ID             UserID    `json:"id"`
	DisplayName    string    `json:"display_name"`
	FirstOnStageAt time.Time `json:"first_on_stage_at"`
}

// HistoryJSON is a room's history on the wire.
type HistoryJSON struct {
	RoomID        RoomID        `json:"room_id"`
	Title         string        `json:"title"`
	CreatedBy     MemberRef     `json:"created_by"`
	StartedAt     time.Time     `json:"started_at"`
	EndedAt       *time.Time    `json:"ended_at"`
	PeakListeners int           `json:"peak_listeners"`
	Speakers      []SpeakerJSON `json:"speakers"`
}

// HistoryJSON returns the wire shape of the history, with names.
func (h History) JSON(names map[UserID]string) HistoryJSON {
	j := HistoryJSON{
		RoomID: h.Room.ID, Title: h.Room.Title,
		CreatedBy: MemberRef{ID: h.Room.CreatedBy, DisplayName: names[h.Room.CreatedBy]},
		StartedAt: h.Room.CreatedAt, EndedAt: timePtr(h.Room.EndedAt), PeakListeners: h.PeakListeners,
		Speakers: make([]SpeakerJSON, len(h.Speakers)),
	}
	for i, p := range h.Speakers {
		j.Speakers[i] = SpeakerJSON{ID: p.User, DisplayName: names[p.User], FirstOnStageAt: p.OnStageAt}
	}
	return j
}

// ModActionJSON is an entry of the moderation log on the wire.
type ModActionJSON struct {
	ID     ModActionID `json:"id"`
	RoomID RoomID      `json:"room_id"`
	Action ModKind     `json:"action"`
	Actor  MemberRef   `json:"actor"`
	// Target is null for an action on the whole room.
	Target *MemberRef `json:"target"`
	Detail string     `json:"detail"`
	At     time.Time  `json:"at"`
}

// JSON returns the wire shape of the entry, with names.
func (a ModAction) JSON(names map[UserID]string) ModActionJSON {
	j := ModActionJSON{
		ID: a.ID, RoomID: a.Room, Action: a.Kind, Actor: MemberRef{ID: a.Actor, DisplayName: names[a.Actor]},
		Detail: a.Detail, At: a.At,
	}
	if a.Target != "" {
		j.Target = &MemberRef{ID: a.Target, DisplayName: names[a.Target]}
	}
	return j
}

// RoomRef is a room as a report names it.
type RoomRef struct {
	ID    RoomID `json:"id"`
	Title string `json:"title"`
}

// ReportJSON is a report on the wire.
type ReportJSON struct {
	ID        ReportID   `json:"id"`
	Reporter  MemberRef  `json:"reporter"`
	Member    *MemberRef `json:"member"`
	Room      *RoomRef   `json:"room"`
	Reason    string     `json:"reason"`
	CreatedAt time.Time  `json:"created_at"`
}

// JSON returns the wire shape of the report.
func (v ReportView) JSON() ReportJSON {
	j := ReportJSON{
		ID: v.ID, Reporter: MemberRef{ID: v.Reporter, DisplayName: v.Names[v.Reporter]},
		Reason: v.Reason, CreatedAt: v.CreatedAt,
	}
	if v.Member != "" {
		j.Member = &MemberRef{ID: v.Member, DisplayName: v.Names[v.Member]}
	}
	if v.Report.Room != "" {
		j.Room = &RoomRef{ID: v.Report.Room, Title: v.RoomTitle}
	}
	return j
}
