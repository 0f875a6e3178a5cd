package dropbox

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/onfact/onfact-dropbox/internal/dropboxemu"
)

// TestSessionsOpenedAhead: packs sent one after another, and side by side, share the
// sessions one start_batch opened, and every file still ends up committed as sent.
func TestSessionsOpenedAhead(t *testing.T) {
	e := newTestEnv(t, dropboxemu.Faults{})
	c := e.client()
	ctx := context.Background()
	const packs, perPack = 12, 5
	var wg sync.WaitGroup
	commits := make([]Commit, packs*perPack)
	datas := make([][]byte, len(commits))
	errs := make(chan error, packs)
	for p := range packs {
		wg.Go(func() {
			pack := make([][]byte, perPack)
			for i := range pack {
				pack[i] = []byte(fmt.Sprintf("factuur %d.%d", p, i))
			}
			ups, err := c.UploadContents(ctx, pack)
			if err != nil {
				errs <- err
				return
			}
			for i, u := range ups {
				k := p*perPack + i
				commits[k], datas[k] = Commit{SessionID: u.SessionID, Size: int64(len(pack[i])), Path: fmt.Sprintf("/f/%d", k)}, pack[i]
			}
		})
		if p%2 == 1 {
			wg.Wait() // half of them side by side, the other half after them
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// 4×5 sessions for the first pack, then twice as many each time: 20 + 40 for 60 files.
	if n := e.Srv.Calls("files/upload_session/start_batch"); n != 2 {
		t.Errorf("%d start_batch for %d packs of %d files, want 2", n, packs, perPack)
	}
	res, err := c.Commit(ctx, commits)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.File.Hash != hashOf(t, datas[i]) {
			t.Fatalf("%s: %+v %v", commits[i].Path, r.File, r.Err)
		}
	}
}

func TestSessionPool(t *testing.T) {
	var p sessionPool
	t0 := time.Now()
	if ids := p.take(1, t0); ids != nil {
		t.Fatalf("an empty pool gave %v", ids)
	}
	for _, tt := range []struct {
		name    string
		after   time.Duration // since the previous start_batch
		n, want int
	}{
		{"first: four times what is asked", 0, 5, 20},
		{"used up quickly: twice the last", time.Second, 5, 40},
		{"again", time.Second, 5, 80},
		{"never more than a start_batch opens", time.Second, 600, MaxBatch},
		{"after a pause: four times again", time.Minute, 5, 20},
		{"at least what is asked", time.Minute, 900, MaxBatch},
	} {
		t0 = t0.Add(tt.after)
		if got := p.toOpen(tt.n, t0); got != tt.want {
			t.Errorf("%s: toOpen(%d) = %d, want %d", tt.name, tt.n, got, tt.want)
		}
	}
	p.put([]string{"a", "b", "c"}, t0)
	if ids := p.take(4, t0); ids != nil {
		t.Errorf("took %v of 3 for 4", ids)
	}
	if ids := p.take(2, t0); len(ids) != 2 || ids[0] != "a" || ids[1] != "b" {
		t.Errorf("took %v, want the oldest two", ids)
	}
	if ids := p.take(1, t0.Add(sessionsFresh+time.Second)); ids != nil {
		t.Errorf("took %v, left unused for more than %v", ids, sessionsFresh)
	}
}
