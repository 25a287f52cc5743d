package rooms

import (
	"context"
	"slices"
	"testing"
)

// roomDataRecords are the durable stores of what happens around rooms:
// events, history, chat, the moderation log and reports.
type roomDataRecords interface {
	EventRecords
	HistoryRecords
	ChatRecords
	ModLogRecords
	ReportRecords
}

// testRoomData runs the contract suites of roomDataRecords.
func testRoomData(t *testing.T, open func(t *testing.T) recordsUnderTest) {
	t.Run("events", func(t *testing.T) { testEventRecords(t, open) })
	t.Run("history", func(t *testing.T) { testHistoryRecords(t, open) })
	t.Run("chat", func(t *testing.T) { testChatRecords(t, open) })
	t.Run("moderation log", func(t *testing.T) { testModLogRecords(t, open) })
	t.Run("reports", func(t *testing.T) { testReportRecords(t, open) })
}

// walk reads every page of a list with pages of size, following the
// cursor of each page's last item, and returns the items in order.
func walk[T any](t *testing.T, size int, key func(T) Cursor, page func(ctx context.Context, after Cursor, limit int) ([]T, error)) []T {
	t.Helper()
	var out []T
	var after Cursor
	for n := 0; ; n++ {
		if n > 1000 {
			t.Fatal("paging does not end")
		}
		got, err := page(t.Context(), after, size)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > size {
			t.Fatalf("a page of %d items, over the limit %d", len(got), size)
		}
		out = append(out, got...)
		if len(got) < size {
			return out
		}
		after = key(got[len(got)-1])
	}
}

// idsOf maps a list to the IDs tests compare.
func idsOf[T any, ID any](list []T, id func(T) ID) []ID {
	out := make([]ID, len(list))
	for i, v := range list {
		out[i] = id(v)
	}
	return out
}

func checkIDs[ID comparable](t *testing.T, what string, got, want []ID) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
