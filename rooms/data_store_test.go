package rooms

import "testing"

// roomDataRecords are the durable stores of what happens around rooms:
// events, history, chat, the moderation log and reports.
type roomDataRecords interface {
	EventRecords
}

// testRoomData runs the contract suites of roomDataRecords.
func testRoomData(t *testing.T, open func(t *testing.T) recordsUnderTest) {
	t.Run("events", func(t *testing.T) { testEventRecords(t, open) })
}
