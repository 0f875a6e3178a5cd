package watcher

import (
	"math/rand/v2"
	"path"
	"slices"
	"testing"
	"time"
)

// sim drives an aggregator on a virtual clock with a fake file system, since the aggregator
// is decision logic: it takes the time and the stat from its caller.
type sim struct {
	t     *testing.T
	a     *aggregator
	start time.Time
	files map[string]snapshot
}

func newSim(t *testing.T, limit int) *sim {
	return &sim{
		t:     t,
		a:     newAggregator(100*time.Millisecond, 25*time.Millisecond, time.Second, limit),
		start: time.Unix(1_700_000_000, 0),
		files: make(map[string]snapshot),
	}
}

func (s *sim) at(ms int) time.Time { return s.start.Add(time.Duration(ms) * time.Millisecond) }

// touch records an event at ms, like a write that also changed the file.
func (s *sim) touch(ms int, p string) { s.a.touch(p, s.at(ms)) }

func (s *sim) file(p string, size int64) {
	s.files[p] = snapshot{exists: true, size: size, mtime: s.start}
}

func (s *sim) dir(p string) { s.files[p] = snapshot{exists: true, dir: true, mtime: s.start} }

// check runs a check at ms and returns what is ready, delivering it.
func (s *sim) check(ms int) []string {
	s.a.check(s.at(ms), func(p string) snapshot { return s.files[p] })
	b := s.a.batch()
	if b != nil {
		s.a.delivered()
	}
	return b
}

func (s *sim) want(ms int, want ...string) {
	s.t.Helper()
	if got := s.check(ms); !slices.Equal(got, want) {
		s.t.Errorf("check at %d ms: got %q, want %q", ms, got, want)
	}
}

func TestAggregator(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		run   func(s *sim)
	}{
		{"quiet and stable file settles after two stats", 100, func(s *sim) {
			s.file("a.pdf", 10)
			s.touch(0, "a.pdf")
			s.want(50)           // not quiet yet
			s.want(100)          // first stat
			s.want(125, "a.pdf") // second stat agrees
			s.want(500)          // reported once
		}},
		{"an event restarts the quiet time", 100, func(s *sim) {
			s.file("a.pdf", 10)
			s.touch(0, "a.pdf")
			s.touch(90, "a.pdf")
			s.want(100)
			s.want(190)
			s.want(215, "a.pdf")
		}},
		{"a file growing without events waits", 100, func(s *sim) {
			s.file("a.pdf", 10)
			s.touch(0, "a.pdf")
			s.want(100)
			s.file("a.pdf", 20)
			s.want(125)
			s.file("a.pdf", 30)
			s.want(150)
			s.want(175, "a.pdf")
		}},
		{"max delay releases a file that never stops", 100, func(s *sim) {
			s.file("log.txt", 0)
			for ms := 0; ms < 1000; ms += 50 {
				s.touch(ms, "log.txt")
				s.want(ms + 25)
			}
			s.want(1000, "log.txt")
		}},
		{"deleted path settles as gone", 100, func(s *sim) {
			s.touch(0, "old.pdf")
			s.want(100)
			s.want(125, "old.pdf")
		}},
		{"paths are sorted and deduplicated", 100, func(s *sim) {
			s.file("b", 1)
			s.file("a", 1)
			s.touch(0, "b")
			s.touch(1, "a")
			s.touch(2, "b")
			s.want(102)
			s.want(127, "a", "b")
		}},
		{"a directory waits for a file below it", 100, func(s *sim) {
			s.dir("new")
			s.file("new/a.pdf", 1)
			s.touch(0, "new")
			s.touch(0, "new/a.pdf")
			s.want(100)
			s.file("new/a.pdf", 2) // still growing: the directory is stable but held
			s.want(125)
			s.want(150, "new", "new/a.pdf")
		}},
		{"a ready path that changes again is held back", 100, func(s *sim) {
			s.file("a.pdf", 1)
			s.touch(0, "a.pdf")
			s.a.check(s.at(100), func(string) snapshot { return s.files["a.pdf"] })
			s.a.check(s.at(125), func(string) snapshot { return s.files["a.pdf"] })
			if b := s.a.batch(); !slices.Equal(b, []string{"a.pdf"}) {
				t.Fatalf("ready = %q, want a.pdf", b)
			}
			s.touch(130, "a.pdf") // not yet received, written again
			if b := s.a.batch(); b != nil {
				t.Fatalf("ready after new event = %q, want nothing", b)
			}
			s.want(230)
			s.want(255, "a.pdf")
		}},
		{"a ready directory is held back when its subtree changes", 100, func(s *sim) {
			s.dir("d")
			s.touch(0, "d")
			s.a.check(s.at(100), func(p string) snapshot { return s.files[p] })
			s.a.check(s.at(125), func(p string) snapshot { return s.files[p] })
			s.file("d/x.pdf", 1)
			s.touch(130, "d/x.pdf")
			if b := s.a.batch(); b != nil {
				t.Fatalf("ready = %q, want nothing", b)
			}
			s.want(230)
			s.want(255, "d", "d/x.pdf")
		}},
		{"a full rescan swallows the rest and waits for quiet", 100, func(s *sim) {
			s.dir(".")
			s.file("a", 1)
			s.touch(0, "a")
			s.touch(10, ".")
			s.touch(50, "b")
			s.want(110)
			s.want(150)
			s.want(175, ".")
		}},
		{"too many paths collapse into a full rescan", 3, func(s *sim) {
			s.dir(".")
			for _, p := range []string{"a", "b", "c", "d", "e"} {
				s.file(p, 1)
				s.touch(0, p)
			}
			s.want(100)
			s.want(125, ".")
		}},
		{"a receiver far behind gets a full rescan", 2, func(s *sim) {
			s.dir(".")
			for i, p := range []string{"a", "b", "c"} {
				s.file(p, 1)
				s.touch(i*200, p)
				s.a.check(s.at(i*200+100), func(p string) snapshot { return s.files[p] })
				s.a.check(s.at(i*200+125), func(p string) snapshot { return s.files[p] })
			}
			// a and b were ready and never received; c collapsed everything
			s.want(625)
			s.want(650, ".")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(newSim(t, tt.limit))
		})
	}
}

func TestAggregatorIdle(t *testing.T) {
	s := newSim(t, 100)
	if _, ok := s.a.next(); ok {
		t.Fatal("next check scheduled with nothing pending")
	}
	s.file("a", 1)
	s.touch(0, "a")
	if next, ok := s.a.next(); !ok || !next.Equal(s.at(100)) {
		t.Fatalf("next = %v, %v; want %v", next, ok, s.at(100))
	}
	s.check(100)
	s.check(125)
	if _, ok := s.a.next(); ok {
		t.Fatal("next check scheduled after everything settled")
	}
}

// TestAggregatorReportsEveryEvent checks the rule the engine relies on: an event for a path,
// whatever is pending, ready or just delivered at the time, leads to a later batch naming
// the path, one of its parents, or ".". Random events, writes, deletions, checks and
// deliveries run on the virtual clock, with room for every path and with a limit that
// collapses into ".".
func TestAggregatorReportsEveryEvent(t *testing.T) {
	paths := []string{"a", "d", "d/x", "d/y", "d/e", "d/e/z"}
	covers := func(b []string, p string) bool {
		for q := p; ; q = path.Dir(q) {
			if slices.Contains(b, q) {
				return true
			}
			if q == "." {
				return false
			}
		}
	}
	for _, limit := range []int{100, 3} {
		for seed := range uint64(200) {
			s := newSim(t, limit)
			s.dir(".")
			rng := rand.New(rand.NewPCG(seed, uint64(limit)))
			owed := make(map[string]int) // path -> time of its oldest event not yet covered
			deliver := func(ms int, b []string) {
				for p := range owed {
					if covers(b, p) {
						delete(owed, p)
					}
				}
			}
			ms := 0
			for range 300 {
				ms += rng.IntN(40)
				p := paths[rng.IntN(len(paths))]
				switch rng.IntN(5) {
				case 0, 1: // a write, or a new file or directory
					if p == "d" || p == "d/e" {
						s.dir(p)
					} else {
						s.file(p, int64(rng.IntN(1000)))
					}
					s.touch(ms, p)
					if _, ok := owed[p]; !ok {
						owed[p] = ms
					}
				case 2: // a deletion
					delete(s.files, p)
					s.touch(ms, p)
					if _, ok := owed[p]; !ok {
						owed[p] = ms
					}
				case 3: // a check; the receiver is busy
					s.a.check(s.at(ms), func(p string) snapshot { return s.files[p] })
				case 4: // a check and a delivery
					deliver(ms, s.check(ms))
				}
			}
			// Quiet from here on: everything owed must come out.
			for end := ms + 3000; ms < end; ms += 25 {
				deliver(ms, s.check(ms))
			}
			if len(owed) > 0 {
				t.Fatalf("limit %d, seed %d: never reported %v", limit, seed, owed)
			}
		}
	}
}

// TestAggregatorQuickForCompleteFiles: with a completeness check, a file whose content is
// complete is reported after the quick quiet time and two quick stats; one that is not
// waits the whole settle delay, as without the check.
func TestAggregatorQuickForCompleteFiles(t *testing.T) {
	s := newSim(t, 100)
	complete := map[string]bool{"done.pdf": true}
	s.a.complete, s.a.quick, s.a.quickPoll = func(p string) bool { return complete[p] }, 20*time.Millisecond, 10*time.Millisecond
	s.file("done.pdf", 10)
	s.file("half.pdf", 5)
	s.dir("map")
	s.touch(0, "done.pdf")
	s.touch(0, "half.pdf")
	s.touch(0, "map")
	s.want(20)             // the early look: done.pdf is complete and stated once
	s.want(30, "done.pdf") // its second stat agrees
	s.want(60)             // half.pdf and the folder wait for the settle delay
	s.want(100)            // first stat
	s.want(125, "half.pdf", "map")
	// A complete file written again restarts, and goes quickly again.
	s.touch(200, "done.pdf")
	s.want(220)
	s.want(230, "done.pdf")
}
