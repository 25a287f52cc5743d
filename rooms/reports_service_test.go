package rooms

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReportsAreCheckedStoredAndListedNewestFirst(t *testing.T) {
	f := newDataFixture(t, nil)
	ann, bob := f.member(t, "Ann"), f.member(t, "Bob")
	r := f.room(t, bob, "Loud")
	for name, c := range map[string]struct {
		in     ReportInput
		fields []string
	}{
		"nothing":             {ReportInput{}, []string{"reason", "member_id"}},
		"no reason":           {ReportInput{Member: string(bob.ID), Reason: " "}, []string{"reason"}},
		"a reason too long":   {ReportInput{Member: string(bob.ID), Reason: strings.Repeat("x", MaxReasonLen+1)}, []string{"reason"}},
		"not a member ID":     {ReportInput{Member: "bob", Reason: "x"}, []string{"member_id"}},
		"an unknown member":   {ReportInput{Member: string(NewUserID()), Reason: "x"}, []string{"member_id"}},
		"oneself":             {ReportInput{Member: string(ann.ID), Reason: "x"}, []string{"member_id"}},
		"not a room ID":       {ReportInput{Room: "rm_?", Reason: "x"}, []string{"room_id"}},
		"an unknown room":     {ReportInput{Room: string(NewRoomID()), Reason: "x"}, []string{"room_id"}},
		"both wrong, no text": {ReportInput{Member: "x", Room: "y"}, []string{"reason", "member_id", "room_id"}},
	} {
		_, err := f.CreateReport(t.Context(), ann.ID, c.in)
		if !errors.Is(err, ErrInvalid) || !slices.Equal(fieldsOf(err), c.fields) {
			t.Errorf("%s: err = %v (fields %v), want fields %v", name, err, fieldsOf(err), c.fields)
		}
	}
	var made []ReportID
	for _, in := range []ReportInput{
		{Member: string(bob.ID), Reason: "spam"},
		{Room: string(r.ID), Reason: "off topic"},
		{Member: string(bob.ID), Room: string(r.ID), Reason: "shouting\nat everyone"},
	} {
		f.clock.Advance(time.Second)
		v, err := f.CreateReport(t.Context(), ann.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		j := v.JSON()
		if j.Reporter.DisplayName != "Ann" || (in.Member != "" && j.Member.DisplayName != "Bob") || (in.Room != "" && j.Room.Title != "Loud") ||
			(in.Member == "") != (j.Member == nil) || (in.Room == "") != (j.Room == nil) {
			t.Errorf("report %+v reads %+v", in, j)
		}
		made = append(made, v.ID)
	}
	slices.Reverse(made)
	var got []ReportID
	cursor := ""
	for {
		page, next, err := f.Reports(t.Context(), 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page {
			got = append(got, v.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if !slices.Equal(got, made) {
		t.Errorf("reports = %v, want %v (newest first)", got, made)
	}
}
