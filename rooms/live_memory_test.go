package rooms

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMemoryLiveContract(t *testing.T) {
	// Every room's bus goroutine ends with its bus.
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
	testLive(t, func(t *testing.T) (LiveStore, Bus) {
		bus := NewMemoryBus()
		t.Cleanup(func() {
			if err := bus.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return NewMemoryLive(bus), bus
	})
}
