package app

import (
	"errors"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/sync/engine"
)

// TestCountsFollowTheStatus: a count is made again when the status moved on, at once when
// the state changed, else at most every countEvery; a failed count keeps the last one.
func TestCountsFollowTheStatus(t *testing.T) {
	var c counts
	reads, n := 0, 10
	var fail error
	count := func() (int, error) { reads++; return n, fail }
	t0 := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	busy := engine.Status{ID: "a", State: engine.StateUploading, Done: 1, Total: 50}
	steps := []struct {
		name      string
		s         engine.Status
		at        time.Duration
		n         int
		fail      error
		want      int
		wantReads int
	}{
		{"first", busy, 0, 10, nil, 10, 1},
		{"same status", busy, time.Second, 11, nil, 10, 1},
		{"moved on, too soon", engine.Status{ID: "a", State: engine.StateUploading, Done: 2, Total: 50}, 2 * time.Second, 12, nil, 10, 1},
		{"moved on, later", engine.Status{ID: "a", State: engine.StateUploading, Done: 9, Total: 50}, 6 * time.Second, 19, nil, 19, 2},
		{"run ends", engine.Status{ID: "a", State: engine.StateIdle}, 7 * time.Second, 60, nil, 60, 3},
		{"store fails", engine.Status{ID: "a", State: engine.StatePaused}, 8 * time.Second, 0, errors.New("disk"), 60, 4},
	}
	for _, st := range steps {
		n, fail = st.n, st.fail
		got, ok := c.get(st.s, t0.Add(st.at), count)
		if !ok || got != st.want || reads != st.wantReads {
			t.Fatalf("%s: got %d (%v) after %d reads, want %d after %d", st.name, got, ok, reads, st.want, st.wantReads)
		}
	}
	if _, ok := c.get(engine.Status{ID: "b"}, t0, func() (int, error) { return 0, errors.New("disk") }); ok {
		t.Fatal("a connection never counted has a count")
	}
}
